import Logging
import ServiceLifecycle
import SpendCore

/// Computes and publishes one snapshot every `interval`, never two at once: a slow tick delays
/// the next one instead of piling up. Ends on graceful shutdown.
public struct SnapshotService<C: Clock>: Service where C.Duration == Duration {
    /// Work done with each new snapshot after it is computed (render, validate, publish).
    /// Throwing keeps the previous snapshot published and records the error.
    public typealias Pipeline = @Sendable (Snapshot) async throws -> Void

    let store: UsageStore
    let board: SnapshotBoard
    let interval: Duration
    let clock: C
    let logger: Logger
    let pipeline: Pipeline?
    /// Why no snapshot should be made now (a cluster node that cannot follow the shared log
    /// would show numbers missing the other nodes' updates); nil to go on.
    let pause: @Sendable () -> String?

    /// - Parameter pause: asked before each tick; a reason skips it and is shown by
    ///   `/api/health`, and the pages keep the last snapshot (their stale warning shows).
    public init(
        store: UsageStore, board: SnapshotBoard, interval: Duration, clock: C, logger: Logger,
        pipeline: Pipeline? = nil, pause: @escaping @Sendable () -> String? = { nil }
    ) {
        self.pause = pause
        self.store = store
        self.board = board
        self.interval = interval
        self.clock = clock
        self.logger = logger
        self.pipeline = pipeline
    }

    public func run() async throws {
        var deadline = clock.now
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            await tick()
            deadline = deadline.advanced(by: interval)
            let now = clock.now
            if deadline < now {
                // Never catch up with a burst of ticks: start counting again from now.
                deadline = now
            }
            let wakeUp = deadline
            do {
                try await cancelWhenGracefulShutdown {
                    try await clock.sleep(until: wakeUp, tolerance: nil)
                }
            } catch {
                break
            }
        }
    }

    /// One tick: aggregate, then the pipeline; the snapshot is published only when the whole
    /// pipeline succeeded, and a failure is logged and shown by `/api/health`.
    public func tick() async {
        if let reason = pause() {
            if board.lastError != reason { logger.warning("snapshots paused", metadata: ["reason": "\(reason)"]) }
            board.recordFailure(reason)
            return
        }
        let started = clock.now
        let snapshot = await store.snapshot()
        if let pipeline {
            do {
                try await pipeline(snapshot)
            } catch {
                logger.error("snapshot not published", metadata: ["error": "\(error)"])
                board.recordFailure("\(error)")
                return
            }
        }
        board.publish(snapshot)
        let elapsed = started.duration(to: clock.now)
        let metadata: Logger.Metadata = [
            "generatedAt": "\(snapshot.generatedAt)",
            "ms": "\((elapsed.secondsDouble * 1e5).rounded() / 100)",
        ]
        if elapsed > interval / 2 {
            logger.warning("snapshot took over half the render interval", metadata: metadata)
        } else {
            logger.info("snapshot published", metadata: metadata)
        }
    }
}
