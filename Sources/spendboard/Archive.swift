import ArgumentParser
import Logging
import SpendCore
import SpendReport

/// The archive flags of `serve`.
struct ArchiveOptions: ParsableArguments {
    @Option(help: "How often a published snapshot is kept under OUTPUT/archive/<UTC time>/; 0 turns archiving off.")
    var archiveEvery = DurationArgument(.seconds(300))

    @Option(help: "Most archived snapshots kept; the oldest are deleted after each archive. Unlimited without it.")
    var archiveKeep: Int?

    @Option(help: "Archived snapshots older than this (e.g. 30d) are deleted after each archive. Kept for ever without it.")
    var archiveMaxAge: DurationArgument?

    func validate() throws {
        guard archiveEvery.duration == .zero || archiveEvery.duration >= .seconds(1) else {
            throw ValidationError("--archive-every must be 0 (off) or at least 1s; got \(DurationText.format(archiveEvery.duration))")
        }
        if let archiveKeep, archiveKeep < 1 { throw ValidationError("--archive-keep must be at least 1 (the newest snapshot is always kept); got \(archiveKeep)") }
        if let archiveMaxAge, archiveMaxAge.duration <= .zero { throw ValidationError("--archive-max-age must be more than 0; got 0") }
    }

    var retention: ArchiveRetention { ArchiveRetention(keep: archiveKeep, maxAge: archiveMaxAge?.duration) }

    /// The archive of `output`, or exit 2 when its templates do not render valid pages.
    func makeArchive(output: String, renderer: ReportRenderer, logger: Logger) throws -> SnapshotArchive {
        let pages: ArchiveRenderer
        do {
            pages = try ArchiveRenderer(renderer: renderer)
        } catch {
            logger.critical("cannot render archive pages: \(error)")
            throw ExitCode(2)
        }
        let archive = SnapshotArchive(
            directory: output + "/archive", renderer: pages,
            configuration: .init(every: archiveEvery.duration, retention: retention), clock: WallClock(), logger: logger
        )
        logger.info(
            "archive", metadata: ["every": "\(DurationText.format(archiveEvery.duration))", "snapshots": "\(archive.entries.count)", "directory": "\(archive.directory)"]
        )
        return archive
    }
}

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
            let archive = SnapshotArchive(directory: common.directory, renderer: nil, clock: WallClock(), logger: common.logger())
            let entries = archive.entries
            for entry in entries {
                let top = entry.topCustomer.map { "\($0.customerId) (\($0.tenantId))" } ?? "-"
                print("\(entry.generatedAt.iso8601)  \(entry.folder)  \(Money.formatted(entry.spendRateMicrosPerHour, decimals: 0))/h  \(top)")
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
            let report = ArchiveVerifier.verify(directory: common.directory)
            for problem in report.problems { print(problem) }
            print("\(report.snapshots) snapshots, \(report.files) files checked: \(report.problems.isEmpty ? "all intact" : "\(report.problems.count) problem\(report.problems.count == 1 ? "" : "s")")")
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
            let renderer = try ReportRenderer(
                configuration: .init(templatesDirectory: templates ?? "Templates", fallsBackToBundledTemplates: templates == nil), logger: logger
            )
            let archive = SnapshotArchive(
                directory: common.directory, renderer: try ArchiveRenderer(renderer: renderer),
                configuration: .init(every: .zero, retention: ArchiveRetention(keep: keep, maxAge: maxAge?.duration)), clock: WallClock(), logger: logger
            )
            let before = archive.entries.count
            let removed = try archive.prune()
            print("deleted \(removed) of \(before) snapshots; \(before - removed) kept")
        }
    }
}
