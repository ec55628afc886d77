import ArgumentParser
import Logging
import SpendCore
import SpendReport

/// Logs to standard error at `level`; returns the program's logger.
func bootstrapLogging(_ level: Logger.Level) -> Logger {
    LoggingSystem.bootstrap { label in
        var handler = StreamLogHandler.standardError(label: label)
        handler.logLevel = level
        return handler
    }
    return Logger(label: "spendboard")
}

/// The renderer with its templates loaded and checked, or exit code 2 with the reason: from
/// `templates` when given (it must exist), else from `./Templates`, else the built-in copies.
func makeRenderer(templates: String?, renderInterval: Duration, gaugeMax: Double, logger: Logger) throws -> ReportRenderer {
    do {
        return try ReportRenderer(
            configuration: .init(
                templatesDirectory: templates ?? "Templates", fallsBackToBundledTemplates: templates == nil,
                renderInterval: renderInterval, gaugeMaxMicros: Money.micros(fromDollars: gaugeMax)!
            ),
            logger: logger
        )
    } catch {
        logger.critical("cannot load the templates: \(error)")
        throw ExitCode(2)
    }
}
