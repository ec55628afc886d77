import ArgumentParser
import Logging
import SpendApp
import SpendCore
import SpendReport

struct Render: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Render one snapshot (of simulated history, or of a file of usage updates), validate every file and publish it, then exit.",
        discussion: """
            With --from FILE (NDJSON or a JSON array, - for standard input) the report shows the file's usage as of its \
            newest update. With --window (5m, 15m, 1h, 24h, 7d, 30d) or --from-time and --to-time (ISO-8601, epoch \
            milliseconds or Grafana-style now-6h, now/d, now-1d/d, counted from the report's time) it renders the report \
            of that range alone, as GET /report does: OUTPUT/index.html, stats.json and embed/. Exits non-zero, printing \
            every validation issue and leaving the output folder as it was, when a file does not validate, the input has \
            a bad line or the range cannot be shown. For cron jobs and CI.
            """
    )

    @OptionGroup(title: "Report")
    var report: ReportOptions

    @Option(help: "A file of usage updates (NDJSON or a JSON array; - for standard input) to report on instead of simulated history.")
    var from: String?

    @OptionGroup var pricing: PriceOptions

    @Option(help: "Render only the report of this window (5m, 15m, 1h, 24h, 7d, 30d) instead of the live site.")
    var window: String?

    @Option(name: .customLong("from-time"), help: "Render only the report of the range starting here (e.g. 2026-12-01, now-1d/d).")
    var fromTime: String?

    @Option(name: .customLong("to-time"), help: "The end of that range (default: the report's time; now-1d/d is the end of yesterday).")
    var toTime: String?

    @OptionGroup(title: "Simulator")
    var simulator: SimulatorOptions

    @Option(help: "Simulated history generated before the snapshot, up to 24h.")
    var backfill = DurationArgument(.seconds(86_400))

    @OptionGroup var logging: LoggingOptions

    @Option(help: "Also render and validate the snapshot this many more times and print the timings (median and maximum).")
    var measure = 0

    func validate() throws {
        try check { try simulator.settings(backfill: backfill.duration).validate(allowsNoBackfill: false) }
        guard measure >= 0 else { throw ValidationError("--measure must be 0 or more; got \(measure)") }
        if window != nil, fromTime != nil || toTime != nil {
            throw ValidationError("--window: give either --window or --from-time (and --to-time), not both")
        }
        if toTime != nil, fromTime == nil { throw ValidationError("--from-time: is required with --to-time") }
        // Spelling only, before minutes of history are built; the rest needs the report's time.
        if let window, TimeWindow.named(window) == nil {
            throw ValidationError("--window: must be one of \(TimeWindow.all.map(\.id).joined(separator: ", "))")
        }
        do {
            for (flag, text) in [("--from-time", fromTime), ("--to-time", toTime)] {
                if let text { _ = try TimeRangeQuery.time(text, parameter: flag, roundUp: false, now: WallClock().now) }
            }
        } catch {
            throw ValidationError(error.description)
        }
    }

    func run() async throws {
        let logger = logging.bootstrap()
        var configuration = RenderConfiguration()
        configuration.report = report.settings
        if let from {
            configuration.source = .file(name: from, bytes: try readInput(from), prices: pricing.prices)
        } else {
            configuration.source = .simulated(simulator.settings(backfill: backfill.duration))
        }
        if window != nil || fromTime != nil { configuration.range = .init(window: window, from: fromTime, to: toTime) }
        let job = try await exitingOnStartupFailure(logger) { try ReportJob(configuration, logger: logger) }
        let result: ReportJob.Result
        do {
            result = try await exitingOnStartupFailure(logger) { try await job.run() }
        } catch let error as ReportJob.InputError {
            printError(error.description)
            throw ExitCode.failure
        } catch let error as SnapshotPipeline.StepError where error.step == .validate {
            for issue in error.validationIssues { print(issue) }
            logger.error(
                "validation failed; nothing was published", metadata: ["issues": "\(error.validationIssues.count)", "output": "\(report.output)"])
            throw ExitCode.failure
        }
        let site = result.outcome.site
        if measure > 0 { try printTimings(renderer: job.renderer, content: result.content) }
        let timings = result.outcome.timings
        var shown: Logger.Metadata
        switch result.content {
        case .live(let snapshot): shown = ["generatedAt": "\(snapshot.generatedAt)"]
        case .range(let report): shown = ["from": "\(report.current.start)", "to": "\(report.current.end)"]
        }
        logger.info(
            "published \(result.content.isLive ? "snapshot" : "report")",
            metadata: shown.merging([
                "output": "\(report.output)", "updates": "\(result.accepted)",
                "files": "\(site.files.count)", "bytes": "\(site.files.reduce(0) { $0 + $1.bytes.count })",
                "render": "\(timings.render)", "validate": "\(timings.validate)", "publish": "\(timings.publish)",
            ]) { $1 }
        )
    }

    /// Steady-state timings of the whole site (or the range's report) and of each chart, for
    /// the benchmark notes.
    private func printTimings(renderer: ReportRenderer, content: ReportJob.Content) throws {
        let clock = ContinuousClock()
        let renderSite: () throws -> RenderedSite
        switch content {
        case .live(let snapshot): renderSite = { try renderer.render(snapshot) }
        case .range(let report): renderSite = { try renderer.reportSite(report) }
        }
        var render: [Duration] = [], validate: [Duration] = [], total: [Duration] = []
        for _ in 0..<measure {
            let start = clock.now
            let site = try renderSite()
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
        let site = try renderSite()
        print("runs: \(measure)")
        print("render:            \(summary(render))")
        print("validate:          \(summary(validate))")
        print("render + validate: \(summary(total))")
        for file in site.files {
            print("  \(file.path): \(file.bytes.count) bytes")
        }
        guard case .live(let snapshot) = content else { return }
        for chart in ReportRenderer.embedIDs {
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
