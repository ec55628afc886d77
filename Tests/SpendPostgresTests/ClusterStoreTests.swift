import Foundation
import SpendCore
import Testing

@testable import SpendPostgres

/// Two nodes' stores on one real database, each following the shared log with the follower's
/// own step, on a manual clock: the same numbers on both, incidents stored and alerts due only
/// at the leader, and an acknowledgement made at the other node reaching the leader's outbox.
@Suite(.enabled(if: TestDatabase.available, "set SPENDBOARD_TEST_POSTGRES to a server's URL (scripts/postgres-test-server.sh)"))
struct ClusterStoreTests {
    let start = Timestamp(iso8601: "2026-11-29T14:00:00.000Z")!

    struct Node {
        var journal: PostgresJournal
        var store: UsageStore
        var follower: ClusterFollower
        var cursor: ClusterFollower.Cursor

        init(url: String, name: String, clock: ManualTimeSource) async throws {
            journal = try await PostgresJournal(location: PostgresLocation(url: url), node: name, connections: 2, logger: TestDatabase.logger)
            store = UsageStore(clock: clock, journal: journal, anomalyJournal: journal)
            try await store.restore()
            follower = ClusterFollower(journal: journal, store: store, logger: TestDatabase.logger)
            cursor = ClusterFollower.Cursor(log: journal.position)
        }

        mutating func catchUp() async throws {
            try await follower.catchUp(&cursor)
        }
    }

    /// The customers of `AnomalyJournalTests`: the largest runs away at four times its usage
    /// from 3 minutes after `start`.
    func simulator() -> Simulator {
        let reference = Simulator(configuration: .init(seed: 11, tenantCount: 2, customerCount: 6))
        let largest = reference.customers.max { reference.expectedDollarsPerHour($0) < reference.expectedDollarsPerHour($1) }!
        let runaway = Scenario(
            name: "runaway",
            effects: [
                .init(
                    target: .init(tenant: largest.tenantId, customer: largest.customerId), from: start.advanced(by: .seconds(180)),
                    until: start.advanced(by: .seconds(1380)), change: .usage(times: 4))
            ])
        return Simulator(configuration: .init(seed: 11, tenantCount: 2, customerCount: 6, scenarios: [runaway]))
    }

    @Test func twoNodesAgreeAndOnlyTheLeaderAlertsWhileEitherAcknowledges() async throws {
        let url = try await TestDatabase.make()
        let clock = ManualTimeSource(start)
        var leader = try await Node(url: url, name: "leader", clock: clock)
        var other = try await Node(url: url, name: "other", clock: clock)
        leader.journal.setLeader(true, problem: nil, at: clock.now)
        try await leader.journal.registerAlertTargets(["https://hooks.example.com/a"])
        let simulator = simulator()

        // 45 minutes of history, then 6 minutes in 5-second ticks; batches alternate between
        // the nodes, and each node counts only what it follows.
        var turn = 0
        for batch in simulator.hourlyUpdates(from: start.advanced(by: .seconds(-45 * 60)), to: start) {
            try await (turn % 2 == 0 ? leader : other).store.ingest(batch)
            turn += 1
        }
        var snapshots: (Snapshot, Snapshot)?
        while clock.now < start.advanced(by: .seconds(6 * 60)) {
            let from = clock.now
            clock.advance(by: .seconds(5))
            try await (turn % 2 == 0 ? leader : other).store.ingest(simulator.updates(from: from, to: clock.now))
            turn += 1
            try await leader.catchUp()
            try await other.catchUp()
            snapshots = (await leader.store.snapshot(), await other.store.snapshot())
            let (a, b) = try #require(snapshots)
            #expect(a.hour == b.hour, "the nodes differ at \(clock.now)")
            #expect(a.customers == b.customers)
        }
        let (atLeader, atOther) = try #require(snapshots)
        let open = try #require(atLeader.anomalies.first { $0.state == .open }, "the leader saw no anomaly")
        #expect(atOther.anomalies.contains { $0.id == open.id }, "the other node's detector differs: \(atOther.anomalies.map(\.id))")

        // Only the leader stored it, and only the leader has an alert due.
        #expect(try await TestDatabase.integer("SELECT count(*) FROM spendboard.incidents", on: url) >= 1)
        let opened = try await TestDatabase.integer("SELECT count(*) FROM spendboard.anomaly_events WHERE kind = 'anomaly.opened'", on: url)
        #expect(opened == Int64(atLeader.anomalies.count))
        #expect(try await other.journal.nextAlert(for: "https://hooks.example.com/a") == nil)
        #expect(try await leader.journal.nextAlert(for: "https://hooks.example.com/a")?.kind == .opened)

        // Acknowledged at the other node: stored at once, applied by the leader when it
        // follows, and recorded in the leader's outbox once.
        _ = try #require(try await other.store.acknowledge(open.id, reason: .expected, note: "price change"))
        #expect(try await TestDatabase.integer("SELECT count(*) FROM spendboard.acknowledgements", on: url) == 1)
        clock.advance(by: .seconds(1))  // acknowledgements are looked for once a second
        try await leader.catchUp()
        try await other.catchUp()
        #expect(await leader.store.incident(open.id)?.acknowledgement?.note == "price change")
        _ = await leader.store.snapshot()
        _ = await other.store.snapshot()
        #expect(
            try await TestDatabase.integer("SELECT count(*) FROM spendboard.anomaly_events WHERE kind = 'anomaly.acknowledged'", on: url) == 1)
        // Applying it did not store it again.
        #expect(try await TestDatabase.integer("SELECT count(*) FROM spendboard.acknowledgements", on: url) == 1)
    }
}
