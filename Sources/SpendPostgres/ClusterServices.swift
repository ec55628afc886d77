import Logging
import PostgresNIO
import ServiceLifecycle
import SpendCore
import Synchronization

/// What a node knows of its place in the cluster; read by `/api/health`, the snapshot gate
/// and the leader-only work.
final class ClusterState: Sendable {
    struct Value {
        var leader = false
        var position: Int64 = 0
        var lastFollowed: Timestamp?
        var followProblem: String?
        var leaderProblem: String?
        var failingSince: Timestamp?
        /// While the ledger is rebuilt, this node takes no batch.
        var rebuilding = false
        /// Acknowledgements this node applied from another: not stored again.
        var appliedAcknowledgements: Set<String> = []
    }

    let value = Mutex(Value())
}

extension PostgresJournal {
    /// Whether this node holds the leader's lock right now.
    public var isLeader: Bool { cluster.value.withLock { $0.leader } }

    /// For `/api/health`.
    public func clusterStatus() -> ClusterStatus {
        cluster.value.withLock { value in
            ClusterStatus(
                node: node, database: location.description, leader: value.leader, position: value.position, lastFollowed: value.lastFollowed,
                problem: value.followProblem ?? value.leaderProblem, failingSince: value.failingSince)
        }
    }

    /// Why this node's numbers may be incomplete (it cannot follow the shared log); nil while
    /// it can.
    public var followProblem: String? { cluster.value.withLock { $0.followProblem } }

    func isApplied(_ event: AnomalyEvent) -> Bool {
        guard let ack = event.incident.acknowledgement else { return false }
        return cluster.value.withLock { $0.appliedAcknowledgements.remove("\(event.incident.id)@\(ack.at.millisecondsSinceEpoch)") != nil }
    }

    func markApplied(incident: String, at: Int64) {
        cluster.value.withLock { value in
            // Bounded: a mark is removed when its event is recorded; an incident this node does
            // not know makes no event, so old marks are dropped past a thousand.
            if value.appliedAcknowledgements.count > 1000 { value.appliedAcknowledgements.removeAll() }
            value.appliedAcknowledgements.insert("\(incident)@\(at)")
        }
    }

    func setRebuilding(_ rebuilding: Bool) {
        cluster.value.withLock { $0.rebuilding = rebuilding }
    }

    var isRebuilding: Bool { cluster.value.withLock { $0.rebuilding } }

    func recordFollowed(position: Int64, at now: Timestamp) {
        cluster.value.withLock { value in
            value.position = position
            value.lastFollowed = now
            value.followProblem = nil
            if value.leaderProblem == nil { value.failingSince = nil }
        }
    }

    /// Records a failure; true when it is a new one (worth a log line).
    func recordFollowFailure(_ problem: String, at now: Timestamp) -> Bool {
        cluster.value.withLock { value in
            let new = value.followProblem == nil
            value.followProblem = problem
            if value.failingSince == nil { value.failingSince = now }
            return new
        }
    }

    func setLeader(_ leader: Bool, problem: String?, at now: Timestamp) {
        cluster.value.withLock { value in
            value.leader = leader
            value.leaderProblem = problem
            if problem != nil, value.failingSince == nil { value.failingSince = now }
            if problem == nil, value.followProblem == nil { value.failingSince = nil }
        }
    }
}

/// Wakes a waiting task early (a notification arrived) or lets it sleep until a deadline.
final class Doorbell: Sendable {
    private struct State {
        var rung = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())

    func ring() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard let waiter = state.waiter else {
                state.rung = true
                return nil
            }
            state.waiter = nil
            return waiter
        }
        waiter?.resume()
    }

    /// Returns when rung (now, if it rang since the last wait) or after `timeout`.
    func wait(timeout: Duration) async {
        let timer = Task {
            // Only a timeout rings: a timer cancelled because the bell rang first must not ring
            // again, or the next wait would return at once (a busy loop of polls).
            do {
                try await Task.sleep(for: timeout)
            } catch {
                return
            }
            ring()
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let ready = state.withLock { state -> Bool in
                    if state.rung {
                        state.rung = false
                        return true
                    }
                    state.waiter = continuation
                    return false
                }
                if ready { continuation.resume() }
            }
        } onCancel: {
            ring()
        }
        timer.cancel()
        state.withLock { $0.rung = false }
    }
}

/// Keeps this node's ledger equal to the shared log: woken by `LISTEN spendboard_updates`
/// when any node commits, and polling every `pollInterval` in case a notification is missed
/// (a listening connection that dropped). Applies other nodes' acknowledgements too.
///
/// When the database is unreachable it retries every poll and reports the problem
/// (`/api/health` degraded; snapshots pause, so pages show the stale warning rather than
/// numbers missing the other nodes' updates). A node cut off for longer than the log keeps
/// raw rows rebuilds its ledger from the database when it reconnects.
public struct ClusterFollower: Service {
    let journal: PostgresJournal
    let store: UsageStore
    let pollInterval: Duration
    let logger: Logger
    let batch = 10_000
    /// Past this without following, the log may have been pruned past this node's position.
    static let rebuildAfter: Duration = .seconds(60 * 60)

    public init(journal: PostgresJournal, store: UsageStore, pollInterval: Duration = .seconds(1), logger: Logger) {
        self.journal = journal
        self.store = store
        self.pollInterval = pollInterval
        self.logger = logger
    }

    public func run() async throws {
        let doorbell = Doorbell()
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await listen(doorbell) }
                group.addTask { await follow(doorbell) }
                await group.next()
                group.cancelAll()
            }
        }
    }

    private func listen(_ doorbell: Doorbell) async {
        while !Task.isCancelled {
            do {
                let configuration = try journal.location.connectionConfiguration()
                let connection = try await PostgresConnection.connect(configuration: configuration, id: 1, logger: logger)
                do {
                    try await connection.listen(on: PostgresSchema.channel) { notifications in
                        // Whatever committed before LISTEN took effect is fetched by this ring.
                        doorbell.ring()
                        for try await _ in notifications { doorbell.ring() }
                    }
                } catch {
                    logger.debug("listening for commits stopped; polling meanwhile", metadata: ["error": "\(PostgresJournal.explain(error))"])
                }
                try? await connection.close()
            } catch {
                logger.debug("cannot listen for commits; polling meanwhile", metadata: ["error": "\(PostgresJournal.explain(error))"])
            }
            try? await Task.sleep(for: pollInterval)
        }
    }

    /// Where a follower is in the shared log and in the acknowledgements.
    struct Cursor {
        var log: Int64
        var acknowledgements: Int64 = 0
        var acknowledgementsRead: Timestamp?
    }

    /// Counts everything committed after `cursor` and applies other nodes' acknowledgements;
    /// moves the cursor past them.
    func catchUp(_ cursor: inout Cursor) async throws {
        while true {
            let (updates, next) = try await journal.follow(after: cursor.log, limit: batch)
            if !updates.isEmpty { await store.includeFollowed(updates) }
            cursor.log = next
            if updates.count < batch { break }
        }
        // Acknowledgements are rare: looked for once a second, not on every commit.
        let now = store.clock.now
        guard cursor.acknowledgementsRead.map({ $0.duration(to: now) >= .seconds(1) }) ?? true else { return }
        let page = try await journal.acknowledgements(after: cursor.acknowledgements)
        for ack in page.acknowledgements { await store.applyAcknowledgement(ack.incident, ack.acknowledgement) }
        cursor.acknowledgements = page.position
        cursor.acknowledgementsRead = now
    }

    private func follow(_ doorbell: Doorbell) async {
        var cursor = Cursor(log: journal.position)
        var lastSuccess = store.clock.now
        while !Task.isCancelled {
            do {
                if lastSuccess.duration(to: store.clock.now) > Self.rebuildAfter {
                    logger.warning("this node could not follow the shared log for over an hour; rebuilding from the database")
                    // This node's own batches are counted at ingest: none may commit between the
                    // restore and the replacement, or the new ledger would miss it.
                    journal.setRebuilding(true)
                    defer { journal.setRebuilding(false) }
                    let contents = try await journal.restore(now: store.clock.now)
                    await store.replace(with: contents)
                    cursor.log = journal.position
                }
                try await catchUp(&cursor)
                lastSuccess = store.clock.now
                if journal.followProblem != nil { logger.notice("following the shared log again", metadata: ["position": "\(cursor.log)"]) }
                journal.recordFollowed(position: cursor.log, at: lastSuccess)
            } catch {
                if journal.recordFollowFailure("\(error)", at: store.clock.now) {
                    logger.error("cannot follow the shared log; retrying", metadata: ["error": "\(error)"])
                }
            }
            await doorbell.wait(timeout: pollInterval)
        }
    }
}

/// Holds the leader's lock (a session advisory lock on a connection of its own) or tries to
/// take it every `retryInterval`. PostgreSQL releases the lock when the holder's session ends
/// (its process died, or its connection broke), so another node takes over within one retry
/// interval of the server noticing. The holder checks its connection every retry interval
/// and stops leading as soon as it fails.
public struct ClusterLeadership: Service {
    let journal: PostgresJournal
    let retryInterval: Duration
    let clock: any TimeSource
    let logger: Logger
    let onGain: @Sendable () -> Void

    /// - Parameter onGain: runs each time this node becomes the leader (the archive reads its
    ///   catalog again: the previous leader wrote to it).
    public init(
        journal: PostgresJournal, retryInterval: Duration, clock: any TimeSource, logger: Logger, onGain: @escaping @Sendable () -> Void = {}
    ) {
        self.journal = journal
        self.retryInterval = retryInterval
        self.clock = clock
        self.logger = logger
        self.onGain = onGain
    }

    public func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await hold()
                try await Task.sleep(for: retryInterval)
            }
        }
        journal.setLeader(false, problem: nil, at: clock.now)
    }

    /// One session: connect, try the lock until it is ours, hold it while the connection works.
    private func hold() async {
        let connection: PostgresConnection
        let (location, logger, limit) = (journal.location, logger, journal.operationTimeout)
        do {
            connection = try await withDeadline(limit, "PostgreSQL at \(location)") {
                try await PostgresConnection.connect(configuration: location.connectionConfiguration(), id: 2, logger: logger)
            }
        } catch {
            journal.setLeader(false, problem: "cannot reach the database: \(PostgresJournal.explain(error))", at: clock.now)
            return
        }
        var leading = false
        do {
            while !Task.isCancelled {
                // A query on a connection whose server died may never answer: a leader that
                // cannot check its lock within the deadline stops leading.
                if leading {
                    _ = try await withDeadline(limit, "PostgreSQL at \(location)") { try await connection.query("SELECT 1", logger: logger) }
                } else {
                    let taken = try await withDeadline(limit, "PostgreSQL at \(location)") {
                        var taken = false
                        for try await value in try await connection.query(
                            "SELECT pg_try_advisory_lock(\(PostgresSchema.LockKey.leader.rawValue))", logger: logger
                        ).decode(Bool.self) {
                            taken = value
                        }
                        return taken
                    }
                    journal.setLeader(taken, problem: nil, at: clock.now)
                    if taken {
                        leading = true
                        logger.notice("this node leads the cluster: it archives, prunes, records incidents and sends alerts")
                        onGain()
                    }
                }
                try await Task.sleep(for: retryInterval)
            }
        } catch {
            let stopping = Task.isCancelled
            if leading && !stopping {
                logger.error("lost the leader's lock: its connection failed", metadata: ["error": "\(PostgresJournal.explain(error))"])
            }
            journal.setLeader(false, problem: stopping ? nil : "leader's lock: \(PostgresJournal.explain(error))", at: clock.now)
        }
        // Closing ends the session, which releases the lock; not awaited past the deadline.
        do {
            try await withDeadline(limit, "closing") { try await connection.close() }
        } catch {
            logger.debug("the leader's connection did not close cleanly", metadata: ["error": "\(PostgresJournal.explain(error))"])
        }
    }
}
