import ArgumentParser
import SpendApp
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

    @OptionGroup(title: "Report")
    var report: ReportOptions

    @Option(help: "A file of usage updates (NDJSON or a JSON array; - for standard input) to report on instead of simulated history.")
    var from: String?

    @OptionGroup var pricing: PriceOptions

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
        if measure > 0 { try printTimings(renderer: job.renderer, snapshot: result.snapshot) }
        let timings = result.outcome.timings
        logger.info(
            "published snapshot",
            metadata: [
                "output": "\(report.output)", "generatedAt": "\(result.snapshot.generatedAt)", "updates": "\(result.accepted)",
                "files": "\(site.files.count)", "bytes": "\(site.files.reduce(0) { $0 + $1.bytes.count })",
                "render": "\(timings.render)", "validate": "\(timings.validate)", "publish": "\(timings.publish)",
            ]
        )
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
