import Foundation
import SpendCore
import Synchronization
import Testing

@testable import SpendReport

/// The one pipeline every command runs: its steps, its order and where it runs.
struct PipelineTests {
    /// Records every site it is given and the thread it was given on.
    final class RecordingSink: SnapshotSink {
        let seen = Mutex<[(generatedAt: Timestamp, thread: String?)]>([])
        func accept(_ site: RenderedSite, of snapshot: Snapshot) {
            seen.withLock { $0.append((site.generatedAt, PipelineThread.current)) }
        }
    }

    /// `run` does the blocking work on the pipeline's own thread, not on the caller's (a
    /// thread of the cooperative pool); `runBlocking` on the caller's.
    @Test func stepsRunOnThePipelinesOwnThread() async throws {
        let sink = RecordingSink()
        let pipeline = SnapshotPipeline(renderer: try Fixtures.renderer(), publisher: nil, sinks: [sink])
        let outcome = try await pipeline.run(Fixtures.seededSnapshot)
        #expect(outcome.publication == nil)
        #expect(outcome.timings.render > .zero)
        _ = try pipeline.runBlocking(Fixtures.seededSnapshot)
        let seen = sink.seen.withLock { $0 }
        #expect(seen.map(\.thread) == ["spendboard.pipeline", nil])
        #expect(seen.allSatisfy { $0.generatedAt == Fixtures.seededSnapshot.generatedAt })
    }

    /// A site that does not validate stops before publishing and before the sinks.
    @Test func nothingAfterAFailedStepRuns() throws {
        let output = try Fixtures.temporaryDirectory()
        let sink = RecordingSink()
        let pipeline = SnapshotPipeline(
            renderer: try Fixtures.renderer(), publisher: Publisher(outputDirectory: output, durable: false, logger: Fixtures.logger), sinks: [sink]
        )
        var broken = try pipeline.renderer.render(Fixtures.seededSnapshot)
        broken.files[0].bytes += Array("<p>".utf8)
        let error = try #require(throws: SnapshotPipeline.StepError.self) { try pipeline.deliver(broken, of: Fixtures.seededSnapshot) }
        #expect(error.step == .validate)
        #expect(error.description.hasPrefix("validate failed"))
        #expect(sink.seen.withLock { $0.isEmpty })
        #expect(!FileManager.default.fileExists(atPath: output + "/index.html"))
    }
}
