import Foundation
import GRDB
import SpendCore
import Testing

@testable import SpendStorage

/// A data folder written by the release before exact money (schema v1: micro-dollars, no token
/// classes) opens with this one and keeps its totals exactly.
///
/// `Fixtures/v1-data` was made by that release (commit 8a1d613): `spendboard import --data
/// v1-data updates.ndjson` with the `updates.ndjson` beside it, 60 updates priced by the
/// producer, by the built-in table and not at all, over two days.
struct MigrationTests {
    /// The fixture's updates lie before 02:00; its raw rows from 01:10 on.
    let now = Timestamp(iso8601: "2026-12-03T02:05:00Z")!

    func copyOfFixture() throws -> String {
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/v1-data/spendboard.sqlite").path
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("spendboard-v1-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: source, toPath: directory + "/spendboard.sqlite")
        return directory
    }

    /// What the v1 tables say, read with SQL before anything migrates them.
    struct V1Totals {
        var hourCost: [String: Int64] = [:]
        var minuteCost: Int64 = 0
        var rawCost: [Int64: Int64] = [:]
        var hourUpdates: Int64 = 0
    }

    func v1Totals(_ directory: String) throws -> V1Totals {
        let database = try DatabaseQueue(path: directory + "/spendboard.sqlite")
        defer { try? database.close() }
        return try database.read { db in
            var totals = V1Totals()
            #expect(try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations") == ["v1"])
            for row in try Row.fetchAll(db, sql: "SELECT bucket, tenant, customer, model, cost_micros, updates FROM rollup_hour") {
                let key = "\(row[0] as Int64)/\(row[1] as String)/\(row[2] as String)/\(row[3] as String)"
                totals.hourCost[key] = row[4]
                totals.hourUpdates += row[5] as Int64
            }
            // The minute tier keeps 24 hours: the restore reads those.
            let minuteFrom = (now.millisecondsSinceEpoch - UsageLedger.minuteRetention.milliseconds) / 60_000
            totals.minuteCost =
                try Int64.fetchOne(db, sql: "SELECT sum(cost_micros) FROM rollup_minute WHERE bucket >= ?", arguments: [minuteFrom]) ?? 0
            for row in try Row.fetchAll(db, sql: "SELECT seq, cost_micros FROM updates WHERE priced = 1") {
                totals.rawCost[row[0]] = row[1]
            }
            return totals
        }
    }

    @Test func aV1FolderKeepsEveryTotalToTheMicroDollar() async throws {
        let directory = try copyOfFixture()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let before = try v1Totals(directory)
        #expect(before.hourUpdates == 60)
        #expect(!before.rawCost.isEmpty)

        let journal = try SQLiteJournal(directory: directory)
        let contents = try await journal.restore(now: now)
        #expect(contents.hourBuckets.count == before.hourCost.count)
        for bucket in contents.hourBuckets {
            let key = "\(bucket.start.millisecondsSinceEpoch / 3_600_000)/\(bucket.tenant)/\(bucket.customer)/\(bucket.model)"
            let micros = try #require(before.hourCost[key], "\(key)")
            #expect(bucket.counters.cost == .unattributed(Money(micros: micros)), "\(key)")
        }
        let minuteCost = contents.minuteBuckets.reduce(Money.zero) { $0 + $1.counters.totalCost }
        #expect(minuteCost == Money(micros: before.minuteCost))
        let rawCost = contents.recent.reduce(Money.zero) { $0 + $1.cost.total }
        #expect(rawCost == Money(micros: before.rawCost.values.reduce(0, +)))
        #expect(contents.recent.allSatisfy { $0.cost == .unattributed($0.cost.total) })

        // The store rebuilt from it shows the same money, and keeps counting on the migrated rows.
        let store = UsageStore(clock: ManualTimeSource(now), journal: journal)
        try await store.restore()
        let hours = await store.snapshot().spendPerHour
        let v1Day = before.hourCost.filter { key, _ in
            Int64(key.prefix { $0 != "/" })! * 3_600_000 >= hours[0].start.millisecondsSinceEpoch
        }
        #expect(hours.reduce(Money.zero) { $0 + $1.cost } == Money(micros: v1Day.values.reduce(0, +)))
        let extra = UsageUpdate(
            timestamp: now.advanced(by: .seconds(-1)), tenantId: "tenant-0", customerId: "cust-00", model: "gpt-4", calls: 1,
            totalTokens: 10, cost: try #require(Money(decimal: "0.000000000001")), avgLatencyMs: 1)
        try await store.ingest([extra])
        let reopened = try await SQLiteJournal(directory: directory).restore(now: now)
        let total = reopened.hourBuckets.reduce(Money.zero) { $0 + $1.counters.totalCost }
        #expect(total == Money(micros: before.hourCost.values.reduce(0, +)) + Money(picodollars: 1))
    }
}
