import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle
import SpendCore
import Synchronization

/// The durable record of usage in a PostgreSQL database that several Spendboard nodes share.
///
/// It keeps what `SQLiteJournal` keeps, in the schema `spendboard` (`PostgresSchema`), and
/// one thing more: `updates` is the cluster's log. Every batch any node accepts is one
/// transaction that
/// 1. takes the ingest advisory lock (batches commit one at a time, in `seq` order),
/// 2. inserts its event ids with `ON CONFLICT DO NOTHING RETURNING`: an id another node (or
///    this one) accepted before is a duplicate, whichever node the retry reaches,
/// 3. appends the new updates to `updates`, tagged with the node that took them,
/// 4. adds the batch's sums to the rollup rows (`ON CONFLICT … DO UPDATE`, exact numerics),
/// 5. notifies `spendboard_updates`, and commits. Only then does the node answer 200.
///
/// Each node follows the log (`follow(after:limit:)`) from the position its restore saw, and
/// counts the other nodes' updates in its own in-memory ledger, so every node shows the same
/// numbers. Raw rows are kept 70 minutes after they were accepted (and while their timestamp
/// is that recent): a restart rebuilds from the rollups and the recent raw updates, as with
/// SQLite.
///
/// It is a `Service`: the connection pool runs while the service group runs.
public final class PostgresJournal: UsageJournal, Service {
    public let location: PostgresLocation
    /// This process's name in the log: its own rows are skipped when it follows.
    public let node: String
    /// How long an operation may wait (for a connection, mostly) before it fails: while the
    /// server is down the pool keeps trying for a minute, and a producer must hear sooner.
    public let operationTimeout: Duration
    let client: PostgresClient
    let logger: Logger
    private let clientTask: Task<Void, Never>
    let cluster = ClusterState()
    /// The log position the last restore saw: following starts after it.
    private let restoredPosition = Mutex<Int64>(0)

    static let rawRetention: Duration = .seconds(70 * 60)
    static let eventRetention: Duration = .seconds(24 * 3600)
    static let minuteWidth = UsageLedger.minuteWidth.milliseconds
    static let hourWidth = UsageLedger.hourWidth.milliseconds

    /// Connects, checks the credentials and brings the schema up to date (under an advisory
    /// lock, safe when several nodes start at once), then opens the pool.
    ///
    /// - Throws: `JournalError` naming the server and the cause (refused, wrong password, no
    ///   such database, a schema newer than this binary) — never a crash.
    public init(
        location: PostgresLocation, node: String = PostgresJournal.newNodeName(), connections: Int = 8,
        operationTimeout: Duration = .seconds(5), logger: Logger
    ) async throws {
        self.location = location
        self.operationTimeout = operationTimeout
        self.node = node
        self.logger = logger
        let connection: PostgresConnection
        do {
            connection = try await PostgresConnection.connect(configuration: location.connectionConfiguration(), id: 0, logger: logger)
        } catch {
            throw JournalError(message: "cannot connect to \(location): \(Self.explain(error))")
        }
        do {
            _ = try await PostgresSchema.migrate(connection, logger: logger)
            try await connection.close()
        } catch {
            try? await connection.close()
            throw JournalError(message: "cannot prepare the schema in \(location): \(Self.explain(error))")
        }
        let client = PostgresClient(configuration: try location.clientConfiguration(connections: connections), backgroundLogger: logger)
        self.client = client
        clientTask = Task { await client.run() }
    }

    deinit {
        clientTask.cancel()
    }

    /// Runs until graceful shutdown, then closes the pool (requests in flight finish first:
    /// the store's callers are stopped before).
    public func run() async throws {
        try? await gracefulShutdown()
        clientTask.cancel()
    }

    /// A name unique to this process: host, process id and a random suffix.
    public static func newNodeName() -> String {
        let suffix = String(UInt32.random(in: 0...UInt32.max), radix: 16)
        return "\(ProcessInfo.processInfo.hostName)-\(ProcessInfo.processInfo.processIdentifier)-\(suffix)"
    }

    /// What a PostgreSQL error means for an operator: the server's own message and code when
    /// there is one (wrong password, missing database), else the connection failure.
    static func explain(_ error: any Error) -> String {
        if let error = error as? PSQLError {
            if let message = error.serverInfo?[.message] {
                let code = error.serverInfo?[.sqlState].map { " (SQLSTATE \($0))" } ?? ""
                return message + code
            }
            if let underlying = error.underlying { return "\(error.code): \(underlying)" }
            return "\(error.code)"
        }
        return "\(error)"
    }

    /// Leases a connection, failing after `operationTimeout` (the server is down, or every
    /// connection is busy), then runs `body` on it, failing after `operationTimeout` × 6 in all
    /// (a connection whose server died may never answer).
    func leased<Result: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> Result) async throws -> Result {
        let client = client
        return try await withDeadline(
            operationTimeout, extended: operationTimeout * 6, "PostgreSQL at \(location)",
            disarmable: { disarm in
                try await client.withConnection { connection in
                    disarm()
                    return try await body(connection)
                }
            })
    }

    // MARK: Ingest

    public func append(_ updates: [UsageUpdate], now: Timestamp) async throws -> [UsageUpdate] {
        let nowMs = now.millisecondsSinceEpoch
        guard !isRebuilding else {
            throw JournalError(message: "this node is rebuilding its ledger from the database; send the batch to another node or retry")
        }
        let ids = updates.compactMap(\.eventId)
        let logger = logger
        let node = node
        do {
            return try await leased { connection in
                try await connection.withTransaction(logger: logger) { connection in
                    try await connection.query("SELECT pg_advisory_xact_lock(\(PostgresSchema.LockKey.ingest.rawValue))", logger: logger)
                    var accepted = Set<String>()
                    if !ids.isEmpty {
                        let rows = try await connection.query(
                            """
                            INSERT INTO spendboard.events (event_id, accepted_at) SELECT unnest(\(ids)::text[]), \(nowMs)
                            ON CONFLICT (event_id) DO NOTHING RETURNING event_id
                            """, logger: logger)
                        for try await id in rows.decode(String.self) { accepted.insert(id) }
                    }
                    // An id is new once: the first update carrying it in this batch takes it.
                    var fresh: [UsageUpdate] = []
                    fresh.reserveCapacity(updates.count)
                    for update in updates {
                        if let id = update.eventId {
                            guard accepted.remove(id) != nil else { continue }
                        }
                        fresh.append(update)
                    }
                    guard !fresh.isEmpty else { return fresh }
                    try await connection.query(Self.insertUpdates(fresh, node: node, now: nowMs), logger: logger)
                    var rollups = BatchRollups()
                    for update in fresh { rollups.add(update) }
                    try await connection.query(Self.upsertMinutes(rollups.minutes), logger: logger)
                    try await connection.query(Self.upsertHours(rollups.hours), logger: logger)
                    try await connection.query("SELECT pg_notify(\(PostgresSchema.channel), '')", logger: logger)
                    return fresh
                }
            }
        } catch let error as JournalError {
            throw error
        } catch {
            throw JournalError(message: "PostgreSQL at \(location): \(Self.explain(error))")
        }
    }

    static func insertUpdates(_ updates: [UsageUpdate], node: String, now: Int64) -> PostgresQuery {
        var bindings = PostgresBindings(capacity: 20)
        bindings.append(node)
        bindings.append(now)
        // Absent token splits travel as -1 (no admitted count is negative) and are stored NULL.
        func column(_ value: (UsageUpdate) -> Int64) { bindings.append(updates.map(value)) }
        column { $0.timestamp.millisecondsSinceEpoch }
        bindings.append(updates.map(\.tenantId))
        bindings.append(updates.map(\.customerId))
        bindings.append(updates.map(\.model))
        column { $0.calls }
        column { $0.totalTokens }
        column { $0.inputTokens ?? -1 }
        column { $0.outputTokens ?? -1 }
        column { $0.cacheReadTokens ?? -1 }
        column { $0.cacheWriteTokens ?? -1 }
        column { $0.reasoningTokens ?? -1 }
        bindings.append(updates.map(\.isPriced))
        bindings.append(updates.map(\.avgLatencyMs))
        // Admitted: every class is 0...UsageUpdate.maximumCost picodollars, which fits Int64.
        for costClass in CostClass.allCases {
            column { $0.isPriced ? Int64($0.cost[costClass].picodollars) : 0 }
        }
        let costs = PostgresSchema.costColumns
        let types =
            ["bigint", "text", "text", "text"] + Array(repeating: "bigint", count: 7) + ["boolean", "float8"]
            + Array(repeating: "bigint", count: costs.count)
        let arrays = types.enumerated().map { "$\($0.offset + 3)::\($0.element)[]" }.joined(separator: ", ")
        let names = ["ts", "tenant", "customer", "model", "calls", "total_tokens"]
        let optional = ["input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens", "reasoning_tokens"]
        let sql = """
            INSERT INTO spendboard.updates (node, accepted_at, \((names + optional + ["priced", "latency_ms"] + costs).joined(separator: ", ")))
            SELECT $1, $2, \(names.joined(separator: ", ")), \(optional.map { "NULLIF(\($0), -1)" }.joined(separator: ", ")),
                   priced, latency_ms, \(costs.joined(separator: ", "))
            FROM unnest(\(arrays)) AS u(\((names + optional + ["priced", "latency_ms"] + costs).joined(separator: ", ")))
            """
        return PostgresQuery(unsafeSQL: sql, binds: bindings)
    }

    static func upsertMinutes(_ minutes: [BatchRollups.MinuteKey: UsageCounters]) -> PostgresQuery {
        let keys = minutes.keys.sorted { ($0.bucket, $0.model) < ($1.bucket, $1.model) }
        var bindings = PostgresBindings()
        bindings.append(keys.map(\.bucket))
        bindings.append(keys.map(\.model))
        appendCounters(keys.map { minutes[$0]! }, to: &bindings)
        return upsert(table: "rollup_minute", keyColumns: [("bucket", "bigint"), ("model", "text")], bindings: bindings)
    }

    static func upsertHours(_ hours: [BatchRollups.HourKey: UsageCounters]) -> PostgresQuery {
        let keys = hours.keys.sorted { ($0.bucket, $0.tenant, $0.customer, $0.model) < ($1.bucket, $1.tenant, $1.customer, $1.model) }
        var bindings = PostgresBindings()
        bindings.append(keys.map(\.bucket))
        bindings.append(keys.map(\.tenant))
        bindings.append(keys.map(\.customer))
        bindings.append(keys.map(\.model))
        appendCounters(keys.map { hours[$0]! }, to: &bindings)
        return upsert(
            table: "rollup_hour", keyColumns: [("bucket", "bigint"), ("tenant", "text"), ("customer", "text"), ("model", "text")],
            bindings: bindings)
    }

    private static func appendCounters(_ counters: [UsageCounters], to bindings: inout PostgresBindings) {
        bindings.append(counters.map(\.updates))
        bindings.append(counters.map(\.calls))
        bindings.append(counters.map(\.totalTokens))
        bindings.append(counters.map(\.inputTokens))
        bindings.append(counters.map(\.outputTokens))
        bindings.append(counters.map(\.cacheReadTokens))
        bindings.append(counters.map(\.cacheWriteTokens))
        bindings.append(counters.map(\.reasoningTokens))
        bindings.append(counters.map(\.latencyWeight))
        bindings.append(counters.map(\.unpricedUpdates))
        // Exact: picodollars as decimal text, summed as numeric.
        for costClass in CostClass.allCases {
            bindings.append(counters.map { String($0.cost[costClass].picodollars) })
        }
    }

    /// `INSERT … SELECT FROM unnest(…) ON CONFLICT DO UPDATE` adding every counter: one
    /// statement per batch whatever its size. The rows are sorted by key, so two batches lock
    /// the rows they share in the same order.
    private static func upsert(table: String, keyColumns: [(name: String, type: String)], bindings: PostgresBindings) -> PostgresQuery {
        let counters = PostgresSchema.counterColumns
        let costs = PostgresSchema.costColumns
        let columns = keyColumns.map(\.name) + counters + costs
        let types = keyColumns.map(\.type) + counters.map { _ in "bigint" } + costs.map { _ in "text" }
        let arrays = types.enumerated().map { "$\($0.offset + 1)::\($0.element)[]" }.joined(separator: ", ")
        let selected = keyColumns.map(\.name) + counters + costs.map { "\($0)::numeric" }
        let sums = (counters + costs).map { "\($0) = \(table).\($0) + excluded.\($0)" }.joined(separator: ", ")
        let sql = """
            INSERT INTO spendboard.\(table) (\(columns.joined(separator: ", ")))
            SELECT \(selected.joined(separator: ", ")) FROM unnest(\(arrays)) AS u(\(columns.joined(separator: ", ")))
            ON CONFLICT (\(keyColumns.map(\.name).joined(separator: ", "))) DO UPDATE SET \(sums)
            """
        return PostgresQuery(unsafeSQL: sql, binds: bindings)
    }

    // MARK: Restore and follow

    /// What the ledger needs after a (re)start, read in one snapshot of the database; the log
    /// position of that snapshot is where `follow` continues.
    public func restore(now: Timestamp) async throws -> JournalContents {
        let nowMs = now.millisecondsSinceEpoch
        let minuteFrom = (nowMs - UsageLedger.minuteRetention.milliseconds).flooredDivision(by: Self.minuteWidth)
        let hourFrom = (nowMs - UsageLedger.hourTierRetention.milliseconds).flooredDivision(by: Self.hourWidth)
        let costs = PostgresSchema.costColumns.map { "\($0)::text" }.joined(separator: ", ")
        let counters = PostgresSchema.counterColumns.joined(separator: ", ")
        do {
            let (contents, position) = try await client.withTransaction(logger: logger) { connection -> (JournalContents, Int64) in
                try await connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY", logger: logger)
                var contents = JournalContents()
                var position: Int64 = 0
                for try await value in try await connection.query("SELECT coalesce(max(seq), 0) FROM spendboard.updates", logger: logger)
                    .decode(Int64.self)
                {
                    position = value
                }
                let minutes = try await connection.query(
                    PostgresQuery(
                        unsafeSQL: "SELECT bucket, model, \(counters), \(costs) FROM spendboard.rollup_minute WHERE bucket >= $1",
                        binds: Self.bindings(minuteFrom)), logger: logger)
                for try await row in minutes {
                    let cells = row.makeRandomAccess()
                    contents.minuteBuckets.append(
                        .init(
                            start: Timestamp(millisecondsSinceEpoch: try cells[0].decode(Int64.self) * Self.minuteWidth),
                            model: try cells[1].decode(String.self), counters: try UsageCounters(cells, from: 2)))
                }
                let hours = try await connection.query(
                    PostgresQuery(
                        unsafeSQL:
                            "SELECT bucket, tenant, customer, model, \(counters), \(costs) FROM spendboard.rollup_hour WHERE bucket >= $1",
                        binds: Self.bindings(hourFrom)), logger: logger)
                for try await row in hours {
                    let cells = row.makeRandomAccess()
                    contents.hourBuckets.append(
                        .init(
                            start: Timestamp(millisecondsSinceEpoch: try cells[0].decode(Int64.self) * Self.hourWidth),
                            tenant: try cells[1].decode(String.self), customer: try cells[2].decode(String.self),
                            model: try cells[3].decode(String.self), counters: try UsageCounters(cells, from: 4)))
                }
                let recent = try await connection.query(
                    PostgresQuery(
                        unsafeSQL: "SELECT \(Self.updateColumns) FROM spendboard.updates WHERE ts >= $1 ORDER BY ts, seq",
                        binds: Self.bindings(nowMs - Self.rawRetention.milliseconds)), logger: logger)
                for try await row in recent {
                    contents.recent.append(try Self.update(row.makeRandomAccess()).update)
                }
                for try await newest in try await connection.query("SELECT max(ts) FROM spendboard.updates", logger: logger).decode(
                    Int64?.self)
                {
                    contents.newest = newest.map(Timestamp.init(millisecondsSinceEpoch:))
                }
                return (contents, position)
            }
            restoredPosition.withLock { $0 = position }
            return contents
        } catch let error as JournalError {
            throw error
        } catch {
            throw JournalError(message: "PostgreSQL at \(location): \(Self.explain(error))")
        }
    }

    /// Where the last restore left the log.
    public var position: Int64 { restoredPosition.withLock { $0 } }

    /// Other nodes' updates committed after `position`, in commit order, at most `limit`; and
    /// the position to continue from (past this node's own rows too).
    public func follow(after position: Int64, limit: Int = 10_000) async throws -> (updates: [UsageUpdate], position: Int64) {
        try await leased { [self] connection in
            try await follow(after: position, limit: limit, on: connection)
        }
    }

    private func follow(after position: Int64, limit: Int, on connection: PostgresConnection) async throws -> (
        updates: [UsageUpdate], position: Int64
    ) {
        do {
            var upper: Int64 = position
            for try await value in try await connection.query("SELECT coalesce(max(seq), 0) FROM spendboard.updates", logger: logger).decode(
                Int64.self)
            {
                upper = value
            }
            guard upper > position else { return ([], position) }
            // Every row at or below `upper` is committed: seq is assigned under the ingest lock.
            let rows = try await connection.query(
                PostgresQuery(
                    unsafeSQL: """
                        SELECT \(Self.updateColumns), seq FROM spendboard.updates
                        WHERE seq > $1 AND seq <= $2 AND node <> $3 ORDER BY seq LIMIT $4
                        """,
                    binds: Self.bindings(position, upper, node, Int64(limit))), logger: logger)
            var updates: [UsageUpdate] = []
            var last = position
            for try await row in rows {
                let (update, seq) = try Self.update(row.makeRandomAccess())
                updates.append(update)
                last = seq
            }
            return (updates, updates.count == limit ? last : upper)
        } catch let error as JournalError {
            throw error
        } catch {
            throw JournalError(message: "PostgreSQL at \(location): \(Self.explain(error))")
        }
    }

    static let updateColumns = """
        ts, tenant, customer, model, calls, total_tokens, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens,
        reasoning_tokens, priced, latency_ms, \(PostgresSchema.costColumns.joined(separator: ", "))
        """

    /// An update row of `updateColumns` (and `seq` after them, when selected).
    static func update(_ cells: PostgresRandomAccessRow) throws -> (update: UsageUpdate, seq: Int64) {
        var cost = CostBreakdown()
        for (offset, costClass) in CostClass.allCases.enumerated() {
            cost[costClass] = Money(picodollars: Int128(try cells[13 + offset].decode(Int64.self)))
        }
        let seqIndex = 13 + CostClass.allCases.count
        let update = UsageUpdate(
            timestamp: Timestamp(millisecondsSinceEpoch: try cells[0].decode(Int64.self)), tenantId: try cells[1].decode(String.self),
            customerId: try cells[2].decode(String.self), model: try cells[3].decode(String.self), calls: try cells[4].decode(Int64.self),
            totalTokens: try cells[5].decode(Int64.self), inputTokens: try cells[6].decode(Int64?.self),
            outputTokens: try cells[7].decode(Int64?.self), cacheReadTokens: try cells[8].decode(Int64?.self),
            cacheWriteTokens: try cells[9].decode(Int64?.self), reasoningTokens: try cells[10].decode(Int64?.self), cost: cost,
            isPriced: try cells[11].decode(Bool.self), avgLatencyMs: try cells[12].decode(Double.self)
        )
        return (update, cells.count > seqIndex ? try cells[seqIndex].decode(Int64.self) : 0)
    }

    static func bindings(_ values: any PostgresDynamicTypeEncodable...) -> PostgresBindings {
        var bindings = PostgresBindings()
        for value in values { bindings.append(value) }
        return bindings
    }

    // MARK: Pruning

    /// Drops raw rows accepted and stamped more than 70 minutes ago, event ids older than a
    /// day, and rollups older than their tiers keep. The leader prunes; on other nodes it does nothing.
    public func prune(now: Timestamp) async throws {
        guard isLeader else { return }
        let nowMs = now.millisecondsSinceEpoch
        let raw = nowMs - Self.rawRetention.milliseconds
        let logger = logger
        do {
            try await leased { client in
                try await client.query("DELETE FROM spendboard.updates WHERE accepted_at < \(raw) AND ts < \(raw)", logger: logger)
                try await client.query(
                    "DELETE FROM spendboard.events WHERE accepted_at < \(nowMs - Self.eventRetention.milliseconds)", logger: logger)
                let minute = (nowMs - UsageLedger.minuteRetention.milliseconds).flooredDivision(by: Self.minuteWidth)
                try await client.query("DELETE FROM spendboard.rollup_minute WHERE bucket < \(minute)", logger: logger)
                let hour = (nowMs - UsageLedger.hourTierRetention.milliseconds).flooredDivision(by: Self.hourWidth)
                try await client.query("DELETE FROM spendboard.rollup_hour WHERE bucket < \(hour)", logger: logger)
            }
        } catch let error as JournalError {
            throw error
        } catch {
            throw JournalError(message: "PostgreSQL at \(location): \(Self.explain(error))")
        }
    }
}

extension UsageCounters {
    /// Counters from `PostgresSchema.counterColumns` then the cost columns (as text), from
    /// column `first` on.
    init(_ cells: PostgresRandomAccessRow, from first: Int) throws {
        func int(_ offset: Int) throws -> Int64 { try cells[first + offset].decode(Int64.self) }
        var cost = CostBreakdown()
        for (offset, costClass) in CostClass.allCases.enumerated() {
            let text = try cells[first + PostgresSchema.counterColumns.count + offset].decode(String.self)
            guard let picodollars = Int128(text) else {
                throw JournalError(message: "a rollup holds the cost '\(text)', which is not a whole number of picodollars")
            }
            cost[costClass] = Money(picodollars: picodollars)
        }
        self.init(
            updates: try int(0), calls: try int(1), totalTokens: try int(2), inputTokens: try int(3), outputTokens: try int(4),
            cacheReadTokens: try int(5), cacheWriteTokens: try int(6), reasoningTokens: try int(7), cost: cost, latencyWeight: try int(8),
            unpricedUpdates: try int(9))
    }
}
