import Logging
import SpendCore
import SpendReport

/// The steps after aggregation, run once per snapshot: render → validate → publish to
/// `Output/` → serve from memory. Each failure is tagged with its step; nothing after a failed
/// step runs, so an invalid snapshot is never published and the previous one stays.
public struct DashboardPipeline: Sendable {
    /// A failure of one named step.
    public struct StepError: Error, CustomStringConvertible, Sendable {
        public var step: String
        public var underlying: any Error

        public var description: String { "\(step) failed: \(underlying)" }
    }

    let renderer: ReportRenderer
    let publisher: Publisher?
    let site: LiveSite
    let renderInterval: Duration
    let archive: SnapshotArchive?

    /// - Parameter publisher: writes each snapshot into the output folder; nil serves from
    ///   memory only.
    /// - Parameter archive: keeps a snapshot every `--archive-every` after it is published; its
    ///   failures are logged and shown by `/api/health`, never fail the tick.
    public init(renderer: ReportRenderer, publisher: Publisher?, site: LiveSite, renderInterval: Duration, archive: SnapshotArchive? = nil) {
        self.renderer = renderer
        self.publisher = publisher
        self.site = site
        self.renderInterval = renderInterval
        self.archive = archive
    }

    public func run(_ snapshot: Snapshot) throws(StepError) {
        let rendered = try step("render") { try renderer.render(snapshot) }
        try step("validate") {
            let issues = XMLValidator.validate(rendered)
            if !issues.isEmpty { throw ReportError.validationFailed(issues) }
        }
        var published: String?
        if let publisher {
            let id = try step("publish") { try publisher.publish(rendered) }
            // The archive links these files instead of copying them, if they are as durable.
            if publisher.durable || archive?.configuration.durable == false { published = publisher.folder(ofSnapshot: id) }
        }
        site.publish(rendered, expiresAt: snapshot.generatedAt.advanced(by: renderInterval))
        // Last, and never throwing: a full disk or an unwritable archive leaves the live pages alone.
        archive?.archiveIfDue(rendered, snapshot: snapshot, publishedIn: published)
    }

    private func step<T>(_ name: String, _ body: () throws -> T) throws(StepError) -> T {
        do {
            return try body()
        } catch {
            throw StepError(step: name, underlying: error)
        }
    }
}
