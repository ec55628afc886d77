import ArgumentParser
import Logging
import SpendApp
import SpendCore
import SpendReport

/// `spendboard archive list|verify|prune`.
struct Archive: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List, verify or prune the snapshot archive (OUTPUT/archive).",
        subcommands: [List.self, Verify.self, Prune.self]
    )

    struct Common: ParsableArguments {
        @Option(help: "The output folder whose archive/ to use.")
        var output = "Output"

        @Option(help: "Log level: trace, debug, info, notice, warning, error or critical.")
        var logLevel: Logger.Level = .warning

        var directory: String { output + "/archive" }

        func logger() -> Logger {
            var logger = Logger(label: "spendboard") { StreamLogHandler.standardError(label: $0) }
            logger.logLevel = logLevel
            return logger
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List archived snapshots, newest first: time, folder, spend rate, top customer.")

        @OptionGroup var common: Common

        func run() throws {
            let catalog = ArchiveCatalog(directory: common.directory, logger: common.logger())
            if let error = catalog.status.lastError {
                printError("cannot list \(common.directory): \(error)")
                throw ExitCode.failure
            }
            let entries = catalog.entries
            for entry in entries {
                let top = entry.topCustomer.map { "\($0.customerId) (\($0.tenantId))" } ?? "-"
                print("\(entry.generatedAt.iso8601)  \(entry.folder)  \(entry.spendRatePerHour.headline)/h  \(top)")
            }
            print("\(entries.count) snapshot\(entries.count == 1 ? "" : "s") in \(common.directory)")
        }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check every archived snapshot against its manifest.",
            discussion: "Reports every missing, extra or altered file and exits 1 if there is any."
        )

        @OptionGroup var common: Common

        func run() throws {
            let report: ArchiveVerifier.Report
            do {
                report = try ArchiveVerifier.verify(directory: common.directory)
            } catch {
                printError("nothing was verified: \(error)")
                throw ExitCode.failure
            }
            for problem in report.problems { print(problem) }
            print(
                "\(report.snapshots) snapshots, \(report.files) files checked: \(report.problems.isEmpty ? "all intact" : "\(report.problems.count) problem\(report.problems.count == 1 ? "" : "s")")"
            )
            if !report.isClean { throw ExitCode.failure }
        }
    }

    struct Prune: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete archived snapshots beyond --keep or older than --max-age (never the newest), and rewrite the index pages.",
            discussion: "Stop the server first, or run it with the same retention flags instead: one process writes the archive at a time."
        )

        @OptionGroup var common: Common

        @Option(help: "Most snapshots kept.")
        var keep: Int?

        @Option(help: "Snapshots older than this (e.g. 30d) are deleted.")
        var maxAge: DurationArgument?

        @Option(help: "Folder of the Mustache templates. Without it: ./Templates when it exists, else the copies built into the binary.")
        var templates: String?

        func validate() throws {
            guard keep != nil || maxAge != nil else { throw ValidationError("give --keep N, --max-age DURATION or both") }
            if let keep, keep < 1 { throw ValidationError("--keep must be at least 1; got \(keep)") }
        }

        func run() throws {
            let logger = common.logger()
            var settings = ReportSettings()
            settings.templates = templates
            settings.output = common.output
            var retention = ArchiveSettings()
            retention.every = .zero
            retention.keep = keep
            retention.maxAge = maxAge?.duration
            let writer: ArchiveWriter
            do {
                writer = try ArchiveWriter.opening(retention, report: settings, logger: logger)
            } catch {
                logger.critical("\(error)")
                throw ExitCode(2)
            }
            let before = writer.catalog.entries.count
            let removed = try writer.prune()
            print("deleted \(removed) of \(before) snapshots; \(before - removed) kept")
        }
    }
}
