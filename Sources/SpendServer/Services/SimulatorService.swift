import Logging
import ServiceLifecycle
import SpendCore

/// Feeds the simulator's updates into the store as simulated seconds end, through the same
/// ingest entry point as every other source.
public struct SimulatorService: Service {
    let simulator: Simulator
    let store: UsageStore
    let logger: Logger
    /// The first second not yet generated.
    private let start: Timestamp
    /// Whether this process simulates now: in a cluster only the leader does, so the simulated
    /// traffic is counted once.
    let isActive: @Sendable () -> Bool

    /// - Parameter start: where live generation begins (usually where the backfill ended).
    /// - Parameter isActive: asked every second; while false, the seconds pass unsimulated.
    public init(
        simulator: Simulator, store: UsageStore, start: Timestamp, logger: Logger, isActive: @escaping @Sendable () -> Bool = { true }
    ) {
        self.simulator = simulator
        self.store = store
        self.start = start.floored(to: .seconds(1))
        self.logger = logger
        self.isActive = isActive
    }

    /// Generates history for `[now - duration, now)` and ingests it; returns where live
    /// generation should continue. With `resumingAfter` (the newest stored update of an earlier
    /// run), only the seconds after it are generated: a restart continues the simulated history
    /// instead of backfilling it twice.
    public static func backfill(
        simulator: Simulator, store: UsageStore, duration: Duration, resumingAfter newest: Timestamp? = nil, logger: Logger
    ) async throws -> Timestamp {
        let end = store.clock.now.floored(to: .seconds(1))
        var from = end.advanced(by: .zero - duration)
        if let newest {
            // The simulator writes whole seconds in one transaction: the second holding the
            // newest update is complete.
            from = max(from, newest.floored(to: .seconds(1)).advanced(by: .seconds(1)))
        }
        var accepted = 0
        // One simulated hour at a time keeps the peak memory of a 24-hour backfill small.
        for batch in simulator.hourlyUpdates(from: from, to: end) {
            accepted += try await store.ingest(batch).accepted
        }
        logger.info(
            "backfilled simulated history",
            metadata: ["updates": "\(accepted)", "duration": "\(DurationText.format(duration))", "resumed": "\(newest != nil)"]
        )
        return max(end, from)
    }

    /// Ingests every whole second that ended between `next` and `now`; returns the new `next`.
    /// When the store cannot take them (disk full), nothing advances and the same seconds are
    /// tried again on the next step: simulated history has no gaps.
    public func step(from next: Timestamp, now: Timestamp) async -> Timestamp {
        let end = now.floored(to: .seconds(1))
        guard next < end else { return next }
        // After a long pause (a suspended laptop), generate at most the last hour.
        let from = max(next, end.advanced(by: .seconds(-3600)))
        do {
            try await store.ingest(simulator.updates(from: from, to: end))
            return end
        } catch {
            logger.error("simulated updates not stored; retrying", metadata: ["error": "\(error)"])
            return from
        }
    }

    public func run() async throws {
        var next = start
        let clock = ContinuousClock()
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let now = store.clock.now
            next = isActive() ? await step(from: next, now: now) : max(next, now.floored(to: .seconds(1)))
            // Wake just after the next second ends.
            let wait = store.clock.now.duration(to: next.advanced(by: .milliseconds(1010)))
            do {
                try await cancelWhenGracefulShutdown {
                    try await clock.sleep(for: max(.milliseconds(10), wait))
                }
            } catch {
                break
            }
        }
    }
}
