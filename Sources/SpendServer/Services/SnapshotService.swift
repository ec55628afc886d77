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

    public init(
        store: UsageStore, board: SnapshotBoard, interval: Duration, clock: C, logger: Logger,
        pipeline: Pipeline? = nil
    ) {
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
