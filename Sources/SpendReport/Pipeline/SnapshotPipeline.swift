import Dispatch
import Logging
import SpendCore
import Synchronization

/// Takes each snapshot's site once it is validated and published: the server's in-memory live
/// site, and whatever later steps need the rendered files. Runs on the pipeline's thread, in
/// the order given, before the archive; must not throw (a sink that can fail records it).
public protocol SnapshotSink: Sendable {
    func accept(_ site: RenderedSite, of snapshot: Snapshot)
}

/// The steps after aggregation, defined once for `serve`, `render`, `render --from` and the
/// tests: render → validate → publish into the output folder → sinks → archive. Each failure
/// is tagged with its step; nothing after a failed step runs, so an invalid snapshot is never
/// published and the previous one stays. The archive runs last and never fails the run (its
/// failures are kept in its catalog's status).
///
/// ```swift
/// let pipeline = SnapshotPipeline(renderer: renderer, publisher: Publisher(outputDirectory: "Output", logger: logger))
/// let outcome = try await pipeline.run(ledger.snapshot(at: now))   // on the pipeline's own thread
/// print(outcome.timings.render, outcome.publication?.id ?? "-")
/// ```
///
/// Every step blocks (Mustache, libxml2, fsync): ``run(_:)`` runs them on a thread of the
/// pipeline's own, off Swift's cooperative pool, so a slow disk never takes a thread that
/// serves requests. ``runBlocking(_:)`` runs them on the caller's thread.
public struct SnapshotPipeline: Sendable {
    public enum Step: String, Sendable {
        case render, validate, publish
    }

    /// A failure of one named step.
    public struct StepError: Error, CustomStringConvertible, Sendable {
        public var step: Step
        public var underlying: any Error

        /// The validation issues, when the validate step failed.
        public var validationIssues: [ValidationIssue] { (underlying as? ReportError)?.validationIssues ?? [] }

        public var description: String { "\(step.rawValue) failed: \(underlying)" }

        public init(step: Step, underlying: any Error) {
            self.step = step
            self.underlying = underlying
        }
    }

    /// How long each step took, for logs and `render --measure`.
    public struct Timings: Sendable {
        public var render: Duration = .zero
        public var validate: Duration = .zero
        public var publish: Duration = .zero
        public var archive: Duration = .zero

        public init() {}
    }

    /// What one run produced.
    public struct Outcome: Sendable {
        public var site: RenderedSite
        /// Nil without a publisher.
        public var publication: Publisher.Publication?
        /// Nil without an archive.
        public var archive: ArchiveWriter.Outcome?
        public var timings: Timings
    }

    public let renderer: ReportRenderer
    public let publisher: Publisher?
    public let sinks: [any SnapshotSink]
    public let archive: ArchiveWriter?
    /// Whether this process archives now: in a cluster only the leader does (one archive).
    let archives: @Sendable () -> Bool
    let thread: PipelineThread
    /// The last site that passed validation: long windows that have not moved keep its files.
    let lastValid = LastSite()

    /// - Parameter publisher: writes each snapshot into the output folder; nil keeps it in
    ///   memory (the sinks still get it).
    /// - Parameter archive: keeps a snapshot every so often after it is published.
    /// - Parameter archives: asked before each archive step; false skips it (a cluster node
    ///   that does not lead).
    public init(
        renderer: ReportRenderer, publisher: Publisher?, sinks: [any SnapshotSink] = [], archive: ArchiveWriter? = nil,
        archives: @escaping @Sendable () -> Bool = { true }
    ) {
        self.renderer = renderer
        self.publisher = publisher
        self.sinks = sinks
        self.archive = archive
        self.archives = archives
        self.thread = PipelineThread(label: "spendboard.pipeline")
    }

    /// Runs every step on the pipeline's thread; the caller suspends meanwhile.
    public func run(_ snapshot: Snapshot) async throws(StepError) -> Outcome {
        let result = await thread.run { [self] in Result { () throws(StepError) in try runBlocking(snapshot) } }
        return try result.get()
    }

    /// Runs every step on the calling thread.
    public func runBlocking(_ snapshot: Snapshot) throws(StepError) -> Outcome {
        let clock = ContinuousClock()
        let start = clock.now
        let site = try step(.render) { try renderer.render(snapshot, reusing: lastValid.site) }
        let rendered = start.duration(to: clock.now)
        var outcome = try deliver(site, of: snapshot)
        outcome.timings.render = rendered
        return outcome
    }

    /// Everything after rendering, for a site rendered elsewhere (tests, a re-published file).
    public func deliver(_ site: RenderedSite, of snapshot: Snapshot) throws(StepError) -> Outcome {
        var timings = Timings()
        let publication = try validateAndPublish(site, timings: &timings)
        lastValid.site = site
        let clock = ContinuousClock()
        for sink in sinks { sink.accept(site, of: snapshot) }
        let start = clock.now
        // Last, and never throwing: a full disk or an unwritable archive leaves the live pages alone.
        var archived: ArchiveWriter.Outcome?
        if let archive, archives() {
            // The archive links the published files instead of copying them when they are at
            // least as durable as the archive needs.
            var linkable: String?
            if let publication, let publisher, publisher.durable || !archive.configuration.durable { linkable = publication.folder }
            archived = archive.archiveIfDue(site, snapshot: snapshot, publishedIn: linkable)
        }
        timings.archive = start.duration(to: clock.now)
        return Outcome(site: site, publication: publication, archive: archived, timings: timings)
    }

    /// Validates and publishes a site that is no live snapshot (the report of a range, for
    /// `spendboard render --window`): no sinks, no archive, and nothing later renders reuse.
    public func publish(_ site: RenderedSite) throws(StepError) -> Outcome {
        var timings = Timings()
        let publication = try validateAndPublish(site, timings: &timings)
        return Outcome(site: site, publication: publication, archive: nil, timings: timings)
    }

    private func validateAndPublish(_ site: RenderedSite, timings: inout Timings) throws(StepError) -> Publisher.Publication? {
        let clock = ContinuousClock()
        var start = clock.now
        try step(.validate) {
            let issues = XMLValidator.validate(site)
            if !issues.isEmpty { throw ReportError.validationFailed(issues) }
        }
        timings.validate = start.duration(to: clock.now)
        start = clock.now
        var publication: Publisher.Publication?
        if let publisher {
            publication = try step(.publish) { try publisher.publish(site) }
        }
        timings.publish = start.duration(to: clock.now)
        return publication
    }

    private func step<T>(_ name: Step, _ body: () throws -> T) throws(StepError) -> T {
        do {
            return try body()
        } catch {
            throw StepError(step: name, underlying: error)
        }
    }
}

/// A serial queue of its own: libdispatch gives it a thread outside Swift's cooperative pool
/// (which has one thread per core), so blocking work there never starves request handling.
public final class PipelineThread: Sendable {
    /// Where reports asked on demand are rendered, apart from the snapshot pipeline's thread.
    public static let reports = PipelineThread(label: "spendboard.reports")

    let queue: DispatchQueue
    /// Set on `queue`, so tests can see where a step ran.
    static let key = DispatchSpecificKey<String>()

    public init(label: String) {
        queue = DispatchQueue(label: label)
        queue.setSpecific(key: Self.key, value: label)
    }

    public func run<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            queue.async { continuation.resume(returning: body()) }
        }
    }

    /// The label of the pipeline thread the caller runs on, nil elsewhere.
    static var current: String? { DispatchQueue.getSpecific(key: key) }
}

/// The pipeline's memory of its last valid site.
final class LastSite: Sendable {
    private let value = Mutex<RenderedSite?>(nil)

    var site: RenderedSite? {
        get { value.withLock { $0 } }
        set { value.withLock { $0 = newValue } }
    }
}
