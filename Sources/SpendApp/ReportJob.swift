import Logging
import SpendCore
import SpendReport

/// `spendboard render`: one snapshot of simulated history or of a file, through the same
/// pipeline as the server (render → validate → publish), then done.
///
/// ```swift
/// var configuration = RenderConfiguration()
/// configuration.report.output = "/tmp/report"
/// let job = try ReportJob(configuration, logger: logger)
/// let result = try await job.run()   // throws SnapshotPipeline.StepError when a file does not validate
/// ```
public struct ReportJob: Sendable {
    /// Input that cannot be reported on: a bad line, or no usage at all. Nothing was rendered.
    public struct InputError: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// What was rendered.
    public enum Content: Sendable {
        /// The live site: every window, as `serve` publishes it.
        case live(Snapshot)
        /// The report of one range (`RenderConfiguration.range`): `index.html`, `stats.json`, `embed/`.
        case range(WindowReport)

        public var isLive: Bool {
            if case .live = self { true } else { false }
        }
    }

    public struct Result: Sendable {
        public var content: Content
        /// Updates the report counts.
        public var accepted: Int
        public var outcome: SnapshotPipeline.Outcome
    }

    public let configuration: RenderConfiguration
    public let renderer: ReportRenderer
    let logger: Logger

    public init(_ configuration: RenderConfiguration, logger: Logger) throws {
        try configuration.validate()
        self.configuration = configuration
        self.renderer = try Components.renderer(configuration.report, logger: logger)
        self.logger = logger
    }

    /// Builds the snapshot (or the range's report), then renders, validates and publishes it
    /// with a durable publisher into the output folder; the folder is left as it was when a
    /// step fails. A range the store cannot show is an `InputError` naming the flag.
    public func run() async throws -> Result {
        let (ledger, now, accepted) = try history()
        let pipeline = SnapshotPipeline(renderer: renderer, publisher: Publisher(outputDirectory: configuration.report.output, logger: logger))
        if let range = configuration.range {
            let report = try Self.report(range, of: ledger, at: now)
            let clock = ContinuousClock()
            let start = clock.now
            let site: RenderedSite
            do {
                site = try renderer.reportSite(report)
            } catch {
                throw SnapshotPipeline.StepError(step: .render, underlying: error)
            }
            let rendered = start.duration(to: clock.now)
            var outcome = try pipeline.publish(site)
            outcome.timings.render = rendered
            return Result(content: .range(report), accepted: accepted, outcome: outcome)
        }
        let snapshot = ledger.snapshot(at: now, windows: true)
        return Result(content: .live(snapshot), accepted: accepted, outcome: try await pipeline.run(snapshot))
    }

    /// The report of `range` as of `now`, or why there is none, naming the command line's flag.
    static func report(_ range: RenderConfiguration.RequestedRange, of ledger: UsageLedger, at now: Timestamp) throws(InputError) -> WindowReport {
        let flags = ["window": "--window", "from": "--from-time", "to": "--to-time"]
        let report: WindowReport?
        do {
            report = try ledger.report(window: range.window, from: range.from, to: range.to, at: now)
        } catch {
            throw InputError(description: "\(flags[error.parameter] ?? error.parameter): \(error.rule)")
        }
        guard let report else { throw InputError(description: "--window or --from-time: one is required for the report of a range") }
        return report
    }

    /// The ledger to report on, the time of the report and how many updates it counted.
    func history() throws -> (UsageLedger, Timestamp, Int) {
        switch configuration.source {
        case .simulated(let settings):
            return simulatedHistory(settings, now: WallClock().now)
        case .file(let name, let bytes, let prices):
            return try history(ofFile: name, bytes: bytes, prices: Components.prices(prices))
        }
    }

    /// `backfill` of simulated history ending `now`.
    func simulatedHistory(_ settings: SimulatorSettings, now: Timestamp) -> (UsageLedger, Timestamp, Int) {
        let end = now.floored(to: .seconds(1))
        let simulator = Simulator(configuration: settings.simulatorConfiguration)
        var ledger = UsageLedger()
        var accepted = 0
        for batch in simulator.hourlyUpdates(from: end.advanced(by: .zero - settings.backfill), to: end) {
            accepted += ledger.ingest(batch, now: now).accepted
        }
        return (ledger, now, accepted)
    }

    /// The usage of a file, as of the end of the 5-second bucket holding its newest update.
    func history(ofFile name: String, bytes: [UInt8], prices: PriceTable) throws -> (UsageLedger, Timestamp, Int) {
        // Any age is fine in a file: the report is placed at the file's own end.
        let century: Duration = .seconds(100 * 365 * 86_400)
        let decoder = UsageBatchDecoder(prices: prices, retention: century, maximumFuture: century)
        let updates: [UsageUpdate]
        do {
            updates = try UsageFileReader.read(bytes, decoder: decoder, now: WallClock().now)
        } catch {
            throw InputError(description: "\(name): \(error)\nnothing was rendered")
        }
        guard let newest = updates.lazy.map(\.timestamp).max() else {
            throw InputError(description: "\(name): holds no usage updates; nothing was rendered")
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
}
