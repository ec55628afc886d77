import Foundation
import SpendCore
import Testing

@testable import SpendStorage

struct SQLiteJournalTests {
    let now = Timestamp(iso8601: "2026-11-29T14:00:02.000Z")!

    func temporaryDirectory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("spendboard-journal-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test func aRestoredLedgerMatchesTheOriginalToTheMicroDollar() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let simulator = Simulator(configuration: .init(seed: 21))
        // 75 minutes: the raw window, the 5-second tier and parts of three clock hours.
        let updates = simulator.updates(from: now.advanced(by: .seconds(-75 * 60)), to: now.floored(to: .seconds(1)))

        var original = UsageLedger()
        let journal = try SQLiteJournal(directory: directory)
        var start = 0
        while start < updates.count {  // batches, as producers send them
            let batch = Array(updates[start..<min(updates.count, start + 5000)])
            let fresh = try await journal.append(batch, now: now)
            #expect(fresh.count == batch.count)
            original.ingest(fresh, now: now)
            start += 5000
        }

        // A new process: open the same folder and rebuild.
        let reopened = try SQLiteJournal(directory: directory)
        let contents = try await reopened.restore(now: now)
        #expect(contents.newest == updates.last?.timestamp)
        var restored = UsageLedger()
        restored.restore(contents, now: now)

        let a = original.snapshot(at: now)
        let b = restored.snapshot(at: now)
        #expect(a.hour == b.hour)
        #expect(a.customers == b.customers)
        #expect(a.costByModel == b.costByModel)
        #expect(a.tokenUsage == b.tokenUsage)
        #expect(a.spendPerHour == b.spendPerHour)
        #expect(a.spendPerHour.reduce(Money.zero) { $0 + $1.cost } == updates.reduce(Money.zero) { $0 + $1.cost.total })
        #expect(original.status.rawUpdates == restored.status.rawUpdates)
        let since = RawCursor.after(timestamp: now.advanced(by: .seconds(-60)).millisecondsSinceEpoch)
        #expect(
            try original.rawPage(after: since, limit: 100_000, now: now).updates == restored.rawPage(after: since, limit: 100_000, now: now).updates)
    }

    @Test func anEventIdIsCountedOnceWithinABatchAndAcrossRetries() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let journal = try SQLiteJournal(directory: directory)
        func update(_ id: String?, cost: Int64 = 1_000_000) -> UsageUpdate {
            UsageUpdate(
                timestamp: now.advanced(by: .seconds(-5)), tenantId: "t", customerId: "c", model: "m", calls: 1, totalTokens: 10,
                cost: Money(micros: cost), avgLatencyMs: 10, eventId: id
            )
        }
        let batch = [update("a"), update("b"), update("a"), update(nil), update(nil)]
        #expect(try await journal.append(batch, now: now).map(\.eventId) == ["a", "b", nil, nil])
        // The retried batch adds nothing but the updates without an id.
        #expect(try await journal.append(batch, now: now).map(\.eventId) == [nil, nil])
        // 24 hours later the ids are forgotten.
        let later = now.advanced(by: .seconds(24 * 3600 + 1))
        try await journal.prune(now: later)
        #expect(try await journal.append([update("a")], now: later).count == 1)
    }

    @Test func pruningKeepsOnlyWhatTheTiersNeed() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let journal = try SQLiteJournal(directory: directory)
        let simulator = Simulator(configuration: .init(seed: 2))
        let updates = simulator.updates(from: now.advanced(by: .seconds(-80 * 60)), to: now)
        _ = try await journal.append(updates, now: now)
        try await journal.prune(now: now)
        let contents = try await journal.restore(now: now)
        #expect(contents.recent.allSatisfy { $0.timestamp >= now.advanced(by: .seconds(-70 * 60)) })
        #expect(contents.recent.first!.timestamp < now.advanced(by: .seconds(-69 * 60)))
        // One row per clock hour and series touched.
        let touched = Set(updates.map { "\($0.timestamp.floored(to: .seconds(3600)))|\($0.customerId)" })
        #expect(contents.hourBuckets.count == touched.count)
        #expect(contents.minuteBuckets.count == Set(updates.map { "\($0.timestamp.floored(to: .seconds(60)))|\($0.model)" }).count)
        // A month on, the hour rollups stay (the 30-day page's previous period, after a
        // restart too); two months on, nothing is left.
        let month = now.advanced(by: .seconds(31 * 86_400))
        try await journal.prune(now: month)
        let old = try await journal.restore(now: month)
        #expect(old.recent.isEmpty && old.minuteBuckets.isEmpty)
        #expect(old.hourBuckets.count == touched.count)
        let twoMonths = now.advanced(by: .seconds(61 * 86_400 + 3600))
        try await journal.prune(now: twoMonths)
        let empty = try await journal.restore(now: twoMonths)
        #expect(empty.recent.isEmpty && empty.hourBuckets.isEmpty && empty.minuteBuckets.isEmpty)
    }

    @Test func anUnwritableFolderIsAClearError() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = directory + "/not-a-folder"
        try #require(FileManager.default.createFile(atPath: file, contents: Data("x".utf8)))
        #expect(throws: JournalError.self) { try SQLiteJournal(directory: file) }
    }
}

/// Through the store: what it refuses is never written, so it cannot come back at a restart.
struct JournalAdmissionTests {
    let now = Timestamp(iso8601: "2026-11-29T14:00:02.000Z")!

    func update(customer: String, at timestamp: Timestamp? = nil, calls: Int64 = 1, cost: Int64 = 1_000) -> UsageUpdate {
        UsageUpdate(
            timestamp: timestamp ?? now.advanced(by: .seconds(-5)), tenantId: "t", customerId: customer, model: "m", calls: calls,
            totalTokens: 10, cost: Money(micros: cost), avgLatencyMs: 10
        )
    }

    @Test func aRefusedUpdateDoesNotComeBackAfterRestore() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("spendboard-journal-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let batch = [
            update(customer: "kept"),
            update(customer: "future", at: now.advanced(by: .seconds(3600))),
            update(customer: "too-old", at: now.advanced(by: .seconds(-31 * 86_400))),
            update(customer: "too-many-calls", calls: Int64(UInt32.max) + 1),
            update(customer: "negative-cost", cost: -5),
        ]
        let store = UsageStore(clock: ManualTimeSource(now), journal: try SQLiteJournal(directory: directory))
        let result = try await store.ingest(batch)
        #expect(result.accepted == 1)
        #expect(result.rejectedCount == 4)

        // A new process on the same folder, later (so the future update would be in range).
        let later = now.advanced(by: .seconds(3600))
        let journal = try SQLiteJournal(directory: directory)
        let contents = try await journal.restore(now: later)
        #expect(contents.recent.map(\.customerId) == ["kept"])
        #expect(Set(contents.hourBuckets.map(\.customer)) == ["kept"])
        #expect(contents.minuteBuckets.reduce(0) { $0 + $1.counters.updates } == 1)
        let restarted = UsageStore(clock: ManualTimeSource(later), journal: journal)
        try await restarted.restore()
        let snapshot = await restarted.snapshot()
        #expect(snapshot.spendPerHour.reduce(Money.zero) { $0 + $1.cost } == Money(micros: 1_000))
        #expect(await restarted.status.totalAccepted == 1)
    }
}
