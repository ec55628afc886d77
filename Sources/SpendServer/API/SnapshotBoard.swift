import SpendCore
import Synchronization

/// The latest published snapshot, shared between the scheduler that writes it and the request
/// handlers that read it. Its JSON is encoded once per tick, not once per request.
public final class SnapshotBoard: Sendable {
    public struct Entry: Sendable {
        public var snapshot: Snapshot
        /// The `/api/stats` document.
        public var json: [UInt8]
    }

    private let state = Mutex<State>(State())

    private struct State {
        var latest: Entry?
        var lastError: String?
        var cleanupFailures = 0
        var lastCleanupError: String?
    }

    public init() {}

    public var latest: Entry? { state.withLock { $0.latest } }

    /// The last pipeline failure, cleared by the next success.
    public var lastError: String? { state.withLock { $0.lastError } }

    public func publish(_ snapshot: Snapshot) {
        let entry = Entry(snapshot: snapshot, json: snapshot.jsonBytes())
        state.withLock {
            $0.latest = entry
            $0.lastError = nil
        }
    }

    public func recordFailure(_ message: String) {
        state.withLock { $0.lastError = message }
    }

    /// Old snapshots the publisher could not delete, counted since start; the last error is
    /// cleared by a publish that cleans up completely.
    public var cleanup: (failures: Int, lastError: String?) { state.withLock { ($0.cleanupFailures, $0.lastCleanupError) } }

    /// What one publish's clean-up could not delete (nothing: it all went).
    public func recordCleanup(_ failures: [String]) {
        state.withLock {
            $0.cleanupFailures += failures.count
            $0.lastCleanupError = failures.last
        }
    }
}
