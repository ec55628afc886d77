import Foundation
import Logging
import SpendCore
import SpendPostgres
import Testing

/// The PostgreSQL journal against a real server: schema migrations, exact money in the
/// rollups, event ids unique across nodes, and the shared log that nodes follow.
@Suite(.enabled(if: TestDatabase.available, "set SPENDBOARD_TEST_POSTGRES to a server's URL (scripts/postgres-test-server.sh)"))
struct PostgresJournalTests {
    let now = Timestamp(iso8601: "2026-11-29T14:00:02.000Z")!
    let logger = TestDatabase.logger

    func journal(_ url: String, node: String) async throws -> PostgresJournal {
        try await PostgresJournal(location: PostgresLocation(url: url), node: node, connections: 4, logger: logger)
    }

    func update(_ id: String?, at offset: Int = -30, customer: String = "c1", cost picodollars: Int128 = 1_250_000_000) -> UsageUpdate {
        UsageUpdate(
            timestamp: now.advanced(by: .seconds(offset)), tenantId: "t1", customerId: customer, model: "gpt-4", calls: 2, totalTokens: 300,
            inputTokens: 200, outputTokens: nil, cost: CostBreakdown.unattributed(Money(picodollars: picodollars)), avgLatencyMs: 41.5,
            eventId: id)
    }

    @Test func nodesStartingTogetherMigrateOnce() async throws {
        let url = try await TestDatabase.make()
        async let a = journal(url, node: "a")
        async let b = journal(url, node: "b")
        async let c = journal(url, node: "c")
        let journals = try await [a, b, c]
        #expect(journals.count == 3)
        #expect(try await TestDatabase.integer("SELECT count(*) FROM spendboard.schema_migrations", on: url) == 1)
        // A fourth start finds the schema up to date and changes nothing.
        _ = try await journal(url, node: "d")
        #expect(try await TestDatabase.integer("SELECT count(*) FROM spendboard.schema_migrations", on: url) == 1)
    }

    @Test func aSchemaNewerThanTheBinaryIsRefusedAtStart() async throws {
        let url = try await TestDatabase.make()
        _ = try await journal(url, node: "a")
        try await TestDatabase.execute("INSERT INTO spendboard.schema_migrations (version, name) VALUES (99, 'from the future')", on: url)
        let error = await #expect(throws: JournalError.self) { try await journal(url, node: "b") }
        #expect(error?.message.contains("version 99") == true, "\(String(describing: error))")
        #expect(error?.message.contains("upgrade this node") == true)
    }

    @Test func unreachableServersAndMissingDatabasesAreClearErrors() async throws {
        let url = try #require(TestDatabase.server)
        let location = try PostgresLocation(url: url)
        // Nothing listens on port 1.
        let refused = await #expect(throws: JournalError.self) {
            try await journal("postgres://spendboard@127.0.0.1:1/spendboard", node: "a")
        }
        #expect(refused?.message.contains("cannot connect to postgres://spendboard@127.0.0.1:1/spendboard") == true, "\(String(describing: refused))")
        let missing = await #expect(throws: JournalError.self) {
            try await journal("postgres://\(location.username)@\(location.host):\(location.port)/no_such_database", node: "a")
        }
        #expect(missing?.message.contains("no_such_database") == true, "\(String(describing: missing))")
        #expect(missing?.message.contains("3D000") == true, "\(String(describing: missing))")
    }

    @Test func aRetriedBatchCountsOnceWhicheverNodeItReaches() async throws {
        let url = try await TestDatabase.make()
        let a = try await journal(url, node: "a")
        let b = try await journal(url, node: "b")
        let first = try await a.append([update("e1"), update("e2"), update(nil), update("e2")], now: now)
        #expect(first.map(\.eventId) == ["e1", "e2", nil])
        // The same batch retried against the other node: only the update without an id is new.
        let retried = try await b.append([update("e1"), update("e2"), update(nil), update("e3")], now: now)
        #expect(retried.map(\.eventId) == [nil, "e3"])
        #expect(try await TestDatabase.integer("SELECT count(*) FROM spendboard.updates", on: url) == 5)
        #expect(try await TestDatabase.integer("SELECT sum(updates)::bigint FROM spendboard.rollup_hour", on: url) == 5)
    }

    /// Twenty updates of $1,000,000 each: their sum, 2 × 10¹⁹ picodollars, does not fit a
    /// 64-bit integer; the numeric rollups keep it exact, to the picodollar.
    @Test func rollupsKeepSumsPastSixtyFourBitsExactly() async throws {
        let url = try await TestDatabase.make()
        let a = try await journal(url, node: "a")
        let big = Int128(1_000_000) * 1_000_000_000_000
        var updates = (0..<20).map { update("big\($0)", cost: big) }
        updates.append(update("odd", cost: 7))
        _ = try await a.append(Array(updates[..<10]), now: now)
        _ = try await a.append(Array(updates[10...]), now: now)
        let restored = try await journal(url, node: "b").restore(now: now)
        let expected = updates.reduce(Money.zero) { $0 + $1.cost.total }
        #expect(expected.picodollars > Int128(Int64.max))
        #expect(restored.hourBuckets.reduce(Money.zero) { $0 + $1.counters.cost.total } == expected)
        #expect(restored.minuteBuckets.reduce(Money.zero) { $0 + $1.counters.cost.total } == expected)
        #expect(restored.recent.reduce(Money.zero) { $0 + $1.cost.total } == expected)
    }

    /// A restored ledger equals one that counted every update as it came, across nodes.
    @Test func aLedgerRestoredFromTheDatabaseMatchesOneThatCountedEveryUpdate() async throws {
        let url = try await TestDatabase.make()
        let simulator = Simulator(configuration: .init(seed: 21))
        // 75 minutes (the raw window and parts of three clock hours), one update in ten: enough
        // names and buckets, in seconds of a debug build.
        let all = simulator.updates(from: now.advanced(by: .seconds(-75 * 60)), to: now.floored(to: .seconds(1)))
        let updates = all.enumerated().filter { $0.offset % 10 == 0 || $0.offset == all.count - 1 }.map(\.element)
        let nodes = [try await journal(url, node: "a"), try await journal(url, node: "b")]
        var original = UsageLedger()
        var start = 0
        var turn = 0

        while start < updates.count {
            let batch = Array(updates[start..<min(updates.count, start + 4000)])
            let fresh = try await nodes[turn % 2].append(batch, now: now)
            #expect(fresh.count == batch.count)
            original.ingest(fresh, now: now)
            start += 4000
            turn += 1
        }
        let contents = try await journal(url, node: "c").restore(now: now)
        #expect(contents.newest == updates.last?.timestamp)
        var restored = UsageLedger()
        restored.restore(contents, now: now)
        let (x, y) = (original.snapshot(at: now), restored.snapshot(at: now))
        #expect(x.hour == y.hour)
        #expect(x.customers == y.customers)
        #expect(x.costByModel == y.costByModel)
        #expect(x.tokenUsage == y.tokenUsage)
        #expect(x.spendPerHour == y.spendPerHour)
        #expect(original.status.rawUpdates == restored.status.rawUpdates)
    }

    /// A node follows the log from its restore: it gets every other node's updates after that
    /// point, in commit order, never its own, and never one twice.
    @Test func followingTheLogBringsOtherNodesUpdatesOnce() async throws {
        let url = try await TestDatabase.make()
        let a = try await journal(url, node: "a")
        let b = try await journal(url, node: "b")
        _ = try await a.append([update("before")], now: now)
        _ = try await b.restore(now: now)
        var position = b.position
        #expect(position > 0)
        _ = try await a.append([update("a1", customer: "x"), update("a2", customer: "y")], now: now)
        _ = try await b.append([update("b1", customer: "own")], now: now)
        _ = try await a.append([update("a3", customer: "z")], now: now)

        let (first, next) = try await b.follow(after: position, limit: 2)
        #expect(first.map(\.customerId) == ["x", "y"])
        position = next
        let (second, last) = try await b.follow(after: position, limit: 2)
        #expect(second.map(\.customerId) == ["z"])
        let (none, same) = try await b.follow(after: last, limit: 2)
        #expect(none.isEmpty)
        #expect(same == last)
        // Followed updates carry what was stored, optional splits included.
        #expect(first[0].inputTokens == 200 && first[0].outputTokens == nil)
        #expect(first[0].cost == update(nil).cost)
    }
}

struct PostgresLocationTests {
    @Test func aURLNamesUserHostPortAndDatabase() throws {
        let location = try PostgresLocation(url: "postgres://spend:s3cret@db.internal:6432/board?sslmode=require", environment: [:])
        #expect(location.host == "db.internal")
        #expect(location.port == 6432)
        #expect(location.username == "spend")
        #expect(location.password == "s3cret")
        #expect(location.database == "board")
        #expect(location.tls == .require)
        // Logs never show the password.
        #expect(location.description == "postgres://spend@db.internal:6432/board?sslmode=require")
        let defaulted = try PostgresLocation(url: "postgresql://spend@localhost/board", environment: ["PGPASSWORD": "env"])
        #expect(defaulted.port == 5432)
        #expect(defaulted.password == "env")
        #expect(defaulted.tls == .disable)
    }

    @Test(arguments: [
        ("mysql://u@h/d", "must start with postgres://"),
        ("postgres://h/d", "names no user"),
        ("postgres://u@h", "names no database"),
        ("postgres://u@h/d?sslmode=maybe", "sslmode must be one of disable, prefer, require"),
        ("postgres://u@h/d?pool=3", "the parameter 'pool'"),
        ("postgres://u:hunter2@h:0/d", "has port 0, outside 1...65535"),
    ])
    func aWrongURLIsAClearError(url: String, message: String) {
        let error = #expect(throws: PostgresLocationError.self) { try PostgresLocation(url: url, environment: [:]) }
        #expect(error?.description.contains(message) == true, "\(String(describing: error))")
        #expect(error?.description.contains("hunter2") == false)
    }
}
