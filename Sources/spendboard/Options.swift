import ArgumentParser
import Foundation
import Logging
import SpendApp
import SpendCore

/// The report flags of `serve` and `render`.
struct ReportOptions: ParsableArguments {
    @Option(help: "Folder the snapshot files are published into (the site appears at DIR/index.html).")
    var output = "Output"

    @Option(help: "Folder of the Mustache templates. Without it: ./Templates when it exists, else the copies built into the binary.")
    var templates: String?

    @Option(name: .customLong("gauge-max"), help: "The gauge's scale maximum in dollars per hour; a higher rate widens the scale.")
    var gaugeMax: Double = 250_000

    @Option(help: "How often a snapshot is rendered and published (the default page's refresh).")
    var renderInterval = DurationArgument(.seconds(5))

    var settings: ReportSettings {
        var settings = ReportSettings()
        settings.output = output
        settings.templates = templates
        settings.gaugeMax = gaugeMax
        settings.renderInterval = renderInterval.duration
        return settings
    }

    func validate() throws { try check { try settings.validate() } }
}

/// The simulator flags of `serve` and `render` (each has its own `--backfill` default).
struct SimulatorOptions: ParsableArguments {
    @Option(help: "Seed of the simulator: the same seed gives the same history.")
    var seed: UInt64 = 1

    @Option(help: "Multiplies the simulator's updates per second (1 is the reference rate, about 70/s).")
    var load: Double = 1

    func settings(backfill: Duration) -> SimulatorSettings {
        SimulatorSettings(seed: seed, load: load, backfill: backfill)
    }
}

/// `--prices`, for every command that prices updates sent without `totalCost`.
struct PriceOptions: ParsableArguments {
    @Option(
        help:
            "Price table (JSON, dollars per million tokens; docs/prices.example.json) for updates sent without totalCost; the reference prices are built in. serve reloads it on SIGHUP."
    )
    var prices: String?
}

/// The built-in reference prices, or those of a price file; a usage error when it cannot be read.
func loadPrices(_ path: String?) throws -> PriceTable {
    do {
        return try PriceTable.load(path)
    } catch {
        throw ValidationError("--prices: \(error)")
    }
}

/// The anomaly detector's gates (`AnomalySettings`; defaults in docs/operations.md).
struct AnomalyOptions: ParsableArguments {
    static let defaults = AnomalySettings()

    @Option(help: "A spike spends at least this many times the expected rate.")
    var anomalySpikeRatio = defaults.spikeRatio

    @Option(help: "A drop spends at most this fraction of the expected rate.")
    var anomalyDropRatio = defaults.dropRatio

    @Option(help: "With 30 minutes of history, an anomaly must also leave this many standard deviations around the expected rate.")
    var anomalyBandSigmas = defaults.bandSigmas

    @Option(help: "Least change in dollars per hour for the platform total.")
    var anomalyMinChangeTotal = defaults.minimumChangePerHour[.total]!

    @Option(help: "Least change in dollars per hour for a tenant.")
    var anomalyMinChangeTenant = defaults.minimumChangePerHour[.tenant]!

    @Option(help: "Least change in dollars per hour for a customer.")
    var anomalyMinChangeCustomer = defaults.minimumChangePerHour[.customer]!

    @Option(help: "Least change in dollars per hour for a model.")
    var anomalyMinChangeModel = defaults.minimumChangePerHour[.model]!

    @Option(help: "Real volume: a spike needs this many calls in its last minute, a drop this many expected per minute.")
    var anomalyMinCalls = defaults.minimumCallsPerMinute

    @Option(help: "How long an anomaly must hold before it opens.")
    var anomalyOpenAfter = DurationArgument(defaults.openAfter)

    @Option(help: "How long it must be gone before it resolves.")
    var anomalyResolveAfter = DurationArgument(defaults.resolveAfter)

    @Option(help: "An anomaly open this long is taken as the new normal level.")
    var anomalyAdaptAfter = DurationArgument(defaults.adaptAfter)

    var settings: AnomalySettings {
        var settings = AnomalySettings()
        settings.spikeRatio = anomalySpikeRatio
        settings.dropRatio = anomalyDropRatio
        settings.bandSigmas = anomalyBandSigmas
        settings.minimumChangePerHour = [
            .total: anomalyMinChangeTotal, .tenant: anomalyMinChangeTenant, .customer: anomalyMinChangeCustomer, .model: anomalyMinChangeModel,
        ]
        settings.minimumCallsPerMinute = anomalyMinCalls
        settings.openAfter = anomalyOpenAfter.duration
        settings.resolveAfter = anomalyResolveAfter.duration
        settings.adaptAfter = anomalyAdaptAfter.duration
        return settings
    }
}

extension Scenario.Name: ExpressibleByArgument {}
extension Incident.State: ExpressibleByArgument {}
extension Incident.Kind: ExpressibleByArgument {}
extension Incident.Acknowledgement.Reason: ExpressibleByArgument {}

/// `--log-level`.
struct LoggingOptions: ParsableArguments {
    @Option(help: "Log level: trace, debug, info, notice, warning, error or critical.")
    var logLevel: Logger.Level = .info

    /// Logs to standard error at the level; returns the program's logger.
    func bootstrap() -> Logger {
        let level = logLevel
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        return Logger(label: "spendboard")
    }
}

/// The archive flags of `serve`.
struct ArchiveOptions: ParsableArguments {
    @Option(help: "How often a published snapshot is kept under OUTPUT/archive/<UTC time>/; 0 turns archiving off.")
    var archiveEvery = DurationArgument(.seconds(300))

    @Option(help: "Most archived snapshots kept; the oldest are deleted after each archive. Unlimited without it.")
    var archiveKeep: Int?

    @Option(help: "Archived snapshots older than this (e.g. 30d) are deleted after each archive. Kept for ever without it.")
    var archiveMaxAge: DurationArgument?

    var settings: ArchiveSettings {
        var settings = ArchiveSettings()
        settings.every = archiveEvery.duration
        settings.keep = archiveKeep
        settings.maxAge = archiveMaxAge?.duration
        return settings
    }

    func validate() throws { try check { try settings.validate() } }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}

/// Runs a configuration check, turning its error into the command line's usage error.
func check(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as ConfigurationError {
        // Its message names the flag.
        throw ValidationError("\(error)")
    }
}

/// Runs a command's work; a start-up failure is logged and exits with code 2.
func exitingOnStartupFailure<T>(_ logger: Logger, _ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let error as StartupError {
        logger.critical("\(error)")
        throw ExitCode(2)
    } catch let error as ConfigurationError {
        // Its message names the flag.
        throw ValidationError("\(error)")
    }
}

/// Where anomalies are announced (`AlertSettings`; see docs/operations.md, "Alerts").
struct AlertOptions: ParsableArguments {
    @Option(
        name: .customLong("alert-webhook"),
        help: "A receiver of anomaly.opened, .resolved and .acknowledged, signed as Standard Webhooks says; repeat for more.")
    var webhooks: [String] = []

    @Option(help: "The webhook signing secret, whsec_<base64> (or SPENDBOARD_ALERT_SECRET); `spendboard anomalies secret` prints a new one.")
    var alertSecret: String?

    @Option(help: "An Alertmanager's address, such as http://127.0.0.1:9093: open anomalies are posted to its /api/v2/alerts.")
    var alertmanager: String?

    @Option(help: "How often open anomalies are posted to Alertmanager.")
    var alertmanagerInterval = DurationArgument(.seconds(30))

    @Option(help: "Longest wait between two attempts of a webhook delivery (the waits double from 5s up to this).")
    var alertRetryMax = DurationArgument(RetryPolicy().maximum)

    @Option(help: "A webhook delivery failing for this long is abandoned (logged and counted), and the next one goes on.")
    var alertGiveUpAfter = DurationArgument(RetryPolicy().giveUpAfter)

    var settings: AlertSettings {
        var settings = AlertSettings()
        settings.webhooks = webhooks
        settings.secret = alertSecret ?? ProcessInfo.processInfo.environment["SPENDBOARD_ALERT_SECRET"].flatMap { $0.isEmpty ? nil : $0 }
        settings.alertmanager = alertmanager
        settings.alertmanagerInterval = alertmanagerInterval.duration
        settings.retry.maximum = alertRetryMax.duration
        settings.retry.giveUpAfter = alertGiveUpAfter.duration
        return settings
    }
}
