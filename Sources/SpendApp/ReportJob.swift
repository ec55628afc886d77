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

    public struct Result: Sendable {
        public var snapshot: Snapshot
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

    /// Builds the snapshot, then runs the pipeline with a durable publisher into the output
    /// folder; the folder is left as it was when a step fails.
    public func run() async throws -> Result {
        let (ledger, now, accepted) = try history()
        let snapshot = ledger.snapshot(at: now, windows: true)
        let pipeline = SnapshotPipeline(renderer: renderer, publisher: Publisher(outputDirectory: configuration.report.output, logger: logger))
        let outcome = try await pipeline.run(snapshot)
        return Result(snapshot: snapshot, accepted: accepted, outcome: outcome)
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
