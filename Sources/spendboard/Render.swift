import ArgumentParser
import Logging
import SpendCore
import SpendReport

struct Render: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Render one snapshot (of simulated history, or of a file of usage updates), validate every file and publish it, then exit.",
        discussion: """
            With --from FILE (NDJSON or a JSON array, - for standard input) the report shows the file's usage as of its \
            newest update. Exits non-zero, printing every validation issue and leaving the output folder as it was, \
            when a file does not validate or the input has a bad line. For cron jobs and CI.
            """
    )

    @Option(help: "Folder to publish into (the site appears at DIR/index.html).")
    var output = "Output"

    @Option(help: "A file of usage updates (NDJSON or a JSON array; - for standard input) to report on instead of simulated history.")
    var from: String?

    @Option(help: "Price table (JSON) for updates in --from without totalCost; the reference prices are built in.")
    var prices: String?

    @Option(help: "Seed of the simulator: the same seed gives the same history.")
    var seed: UInt64 = 1

    @Option(help: "Multiplies the simulator's updates per second (1 is the reference rate, about 70/s).")
    var load: Double = 1

    @Option(help: "Simulated history generated before the snapshot, up to 24h.")
    var backfill = DurationArgument(.seconds(86_400))

    @Option(help: "Folder of the Mustache templates. Without it: ./Templates when it exists, else the copies built into the binary.")
    var templates: String?

    @Option(name: .customLong("gauge-max"), help: "The gauge's scale maximum in dollars per hour.")
    var gaugeMax: Double = 250_000

    @Option(help: "Refresh interval of the default page (index.html).")
    var renderInterval = DurationArgument(.seconds(5))

    @Option(help: "Log level: trace, debug, info, notice, warning, error or critical.")
    var logLevel: Logger.Level = .info

    @Option(help: "Also render and validate the snapshot this many more times and print the timings (median and maximum).")
    var measure = 0

    func validate() throws {
        guard load > 0, load <= 1000 else { throw ValidationError("--load must be greater than 0 and at most 1000; got \(load)") }
        guard backfill.duration > .zero, backfill.duration <= .seconds(86_400) else {
            throw ValidationError("--backfill must be more than 0 and at most 24h; got \(DurationText.format(backfill.duration))")
        }
        guard Money.micros(fromDollars: gaugeMax).map({ $0 > 0 }) == true else {
            throw ValidationError("--gauge-max must be a positive number of dollars; got \(gaugeMax)")
        }
        guard measure >= 0 else { throw ValidationError("--measure must be 0 or more; got \(measure)") }
        guard renderInterval.duration >= .milliseconds(100) else {
            throw ValidationError("--render-interval must be at least 100ms; got \(DurationText.format(renderInterval.duration))")
        }
    }

    func run() async throws {
        let logger = bootstrapLogging(logLevel)
        let renderer = try makeRenderer(templates: templates, renderInterval: renderInterval.duration, gaugeMax: gaugeMax, logger: logger)

        let (ledger, now, accepted) = try from.map { try history(fromFile: $0, logger: logger) } ?? simulatedHistory()
        let snapshot = ledger.snapshot(at: now)

        let clock = ContinuousClock()
        let started = clock.now
        let site = try renderer.render(snapshot)
        let rendered = clock.now
        let issues = XMLValidator.validate(site)
        let validated = clock.now
        guard issues.isEmpty else {
            for issue in issues { print(issue) }
            logger.error("validation failed; nothing was published", metadata: ["issues": "\(issues.count)", "output": "\(output)"])
            throw ExitCode.failure
        }
        try Publisher(outputDirectory: output, logger: logger).publish(site)
        let published = clock.now
        if measure > 0 { try printTimings(renderer: renderer, snapshot: snapshot) }
        logger.info(
            "published snapshot",
            metadata: [
                "output": "\(output)", "generatedAt": "\(snapshot.generatedAt)", "updates": "\(accepted)",
                "files": "\(site.files.count)", "bytes": "\(site.files.reduce(0) { $0 + $1.bytes.count })",
                "render": "\(rendered - started)", "validate": "\(validated - rendered)", "publish": "\(published - validated)",
            ]
        )
    }

    /// `--backfill` of simulated history ending now.
    func simulatedHistory() -> (UsageLedger, Timestamp, Int) {
        let now = WallClock().now
        let end = now.floored(to: .seconds(1))
        let simulator = Simulator(configuration: .init(seed: seed, load: load))
        var ledger = UsageLedger()
        var accepted = 0
        for batch in simulator.hourlyUpdates(from: end.advanced(by: .zero - backfill.duration), to: end) {
            accepted += ledger.ingest(batch, now: now).accepted
        }
        return (ledger, now, accepted)
    }

    /// The usage of a file, as of the end of the 5-second bucket holding its newest update.
    func history(fromFile path: String, logger: Logger) throws -> (UsageLedger, Timestamp, Int) {
        let bytes = try readInput(path)
        // Any age is fine in a file: the report is placed at the file's own end.
        let decoder = UsageBatchDecoder(prices: try loadPrices(prices), retention: .seconds(100 * 365 * 86_400), maximumFuture: .seconds(100 * 365 * 86_400))
        let updates: [UsageUpdate]
        do {
            updates = try UsageFileReader.read(bytes, decoder: decoder, now: WallClock().now)
        } catch {
            printError("\(path): \(error)\nnothing was rendered")
            throw ExitCode.failure
        }
        guard let newest = updates.lazy.map(\.timestamp).max() else {
            printError("\(path): holds no usage updates; nothing was rendered")
            throw ExitCode.failure
        }
        let now = newest.floored(to: UsageLedger.fineWidth).advanced(by: UsageLedger.fineWidth)
        var ledger = UsageLedger()
        let inOrder = zip(updates, updates.dropFirst()).allSatisfy { $0.timestamp <= $1.timestamp }
        let result = ledger.ingest(inOrder ? updates : updates.sorted { $0.timestamp < $1.timestamp }, now: now)
        if result.rejectedCount > 0 {
            logger.warning("updates older than 30 days before the newest were left out", metadata: ["count": "\(result.rejectedCount)"])
        }
        return (ledger, now, result.accepted)
    }

    /// Steady-state timings of the whole site and of each chart, for the benchmark notes.
    private func printTimings(renderer: ReportRenderer, snapshot: Snapshot) throws {
        let clock = ContinuousClock()
        var render: [Duration] = [], validate: [Duration] = [], total: [Duration] = []
        for _ in 0..<measure {
            let start = clock.now
            let site = try renderer.render(snapshot)
            let middle = clock.now
            let issues = XMLValidator.validate(site)
            let end = clock.now
            precondition(issues.isEmpty)
            render.append(middle - start)
            validate.append(end - middle)
            total.append(end - start)
        }
        func summary(_ values: [Duration]) -> String {
            let sorted = values.sorted()
            let ms = { (d: Duration) in String(Double(d.milliseconds) + Double(d.components.attoseconds % 1_000_000_000_000_000) / 1e15) }
            return "median \(ms(sorted[sorted.count / 2])) ms, max \(ms(sorted[sorted.count - 1])) ms"
        }
        let site = try renderer.render(snapshot)
        print("runs: \(measure)")
        print("render:            \(summary(render))")
        print("validate:          \(summary(validate))")
        print("render + validate: \(summary(total))")
        for file in site.files {
            print("  \(file.path): \(file.bytes.count) bytes")
        }
        for chart in ReportRenderer.chartIDs {
            var times: [Duration] = []
            for _ in 0..<measure {
                let start = clock.now
                _ = try renderer.renderChart(chart, of: snapshot)
                times.append(clock.now - start)
            }
            print("chart \(chart): \(summary(times))")
        }
    }
}
