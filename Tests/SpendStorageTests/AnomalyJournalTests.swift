import Foundation
import GRDB
import SpendCore
import Testing

@testable import SpendStorage

/// Incidents and their events through a real store and a real SQLite journal: a process that
/// stops without a word (as after `kill -9`: every write is committed when it returns) comes
/// back with the same incidents, acknowledgement included, and goes on without opening them again.
@Suite("Anomalies in the journal")
struct AnomalyJournalTests {
    let start = Timestamp(iso8601: "2026-11-29T14:00:00.000Z")!

    func temporaryDirectory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("spendboard-anomalies-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Six customers of the reference traffic, the largest of which runs away at four times its
    /// usage from 3 minutes after `start`, for 20 minutes.
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

    /// A store over the folder, restored, as `buildApplication` makes it.
    func openStore(_ directory: String, clock: ManualTimeSource) async throws -> (UsageStore, SQLiteJournal) {
        let journal = try SQLiteJournal(directory: directory)
        let store = UsageStore(clock: clock, journal: journal, anomalyJournal: journal)
        try await store.restore()
        return (store, journal)
    }

    /// Ingests every 5 seconds until `end` and takes a snapshot after each, as the server does.
    func run(_ store: UsageStore, _ simulator: Simulator, clock: ManualTimeSource, until end: Timestamp) async throws -> Snapshot? {
        var last: Snapshot?
        while clock.now < end {
            let from = clock.now
            clock.advance(by: .seconds(5))
            try await store.ingest(simulator.updates(from: from, to: clock.now))
            last = await store.snapshot()
        }
        return last
    }

    @Test("an open, acknowledged incident survives a crash and resolves once, with its events in the outbox")
    func survivesACrash() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let simulator = simulator()
        let clock = ManualTimeSource(start)
        var (store, _) = try await openStore(directory, clock: clock)
        for batch in simulator.hourlyUpdates(from: start.advanced(by: .seconds(-45 * 60)), to: start) { try await store.ingest(batch) }
        let snapshot = try await run(store, simulator, clock: clock, until: start.advanced(by: .seconds(6 * 60)))
        let open = try #require(snapshot?.anomalies.first)
        #expect(
            open.state == .open && open.kind == .spike && open.subject.scope == .customer,
            "\(snapshot?.anomalies.map { "\($0.subject) \($0.start) \($0.openedAt)" } ?? [])")
        #expect(open.openedAt.duration(since: start.advanced(by: .seconds(180))) <= .seconds(120))
        let acknowledged = try await store.acknowledge(open.id, reason: .investigating, note: "looking <now>")
        #expect(acknowledged?.acknowledgement?.reason == .investigating)
        #expect(try await store.acknowledge("spike-total-1-0000000000000000", reason: .expected, note: nil) == nil)

        // The process is gone; a new one opens the same folder.
        (store, _) = try await openStore(directory, clock: clock)
        let restored = await store.incident(open.id)
        #expect(restored?.state == .open)
        #expect(restored?.acknowledgement?.note == "looking <now>")
        #expect(restored?.baseline == open.baseline)
        let after = try await run(store, simulator, clock: clock, until: start.advanced(by: .seconds(30 * 60)))
        let resolved = try #require(after?.anomalies.first { $0.id == open.id })
        #expect(resolved.state == .resolved)
        #expect(after?.anomalies.count == 1, "no second incident after the restart: \(after?.anomalies.map(\.id) ?? [])")

        let journal = try SQLiteJournal(directory: directory)
        let events = try await journal.database.read { db in
            try Row.fetchAll(db, sql: "SELECT event_id, kind, body FROM anomaly_events ORDER BY seq").map {
                ($0["kind"] as String, $0["event_id"] as String)
            }
        }
        #expect(events.map(\.0) == ["anomaly.opened", "anomaly.acknowledged", "anomaly.resolved"])
        #expect(Set(events.map(\.1)).count == 3)
        let stored = try await journal.incidents(now: clock.now, retention: .seconds(86_400))
        // Stored as the API writes it: rates to 4 places, the rest exactly.
        #expect(stored.map(\.id) == [open.id])
        #expect(stored.first?.state == .resolved && stored.first?.end == resolved.end && stored.first?.spent == resolved.spent)
        #expect(stored.first?.acknowledgement == resolved.acknowledgement)
        #expect(abs((stored.first?.impact ?? 0) - resolved.impact) < 0.0001)
    }

    @Test("an older write never replaces a newer state")
    func revisionsOrderWrites() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let journal = try SQLiteJournal(directory: directory)
        var incident = Incident(
            id: "spike-tenant-1-0000000000000001", kind: .spike, subject: .tenant("acme"), state: .open, start: start, openedAt: start,
            lastSeen: start, end: nil, expectedPerHour: 10, actualPerHour: 40, peakActualPerHour: 40, peakExpectedPerHour: 10, impact: 1.5,
            spent: Money(picodollars: 123_456_789_012_345),
            contributors: [.init(subject: .customer("acme", "c\"1"), actualPerHour: 30, expectedPerHour: 5)],
            acknowledgement: nil, baseline: .init(meanPerMinute: 0.1, deviationPerMinute: 0.01, callsPerMinute: 50), adapted: false,
            points: [.init(end: start, actualPerHour: 40, expectedPerHour: 10, lowerPerHour: 2.5, upperPerHour: 15)])
        try await journal.record([incident], revision: 10, events: [])
        var newer = incident
        newer.acknowledgement = .init(at: start, reason: .expected, note: "planned")
        try await journal.record([newer], revision: 12, events: [])
        incident.impact = 99
        try await journal.record([incident], revision: 11, events: [])
        #expect(try await journal.incidents(now: start, retention: .seconds(86_400)) == [newer])
    }
}
