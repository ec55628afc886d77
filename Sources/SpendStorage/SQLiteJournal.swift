import Foundation
import GRDB
import SpendCore

/// The durable record of usage, in SQLite (WAL mode, `synchronous = FULL`, one connection).
///
/// `append` writes a whole batch in one transaction and returns only when it is committed: a
/// 2xx after it means the updates are on disk and survive `kill -9` (and, with FULL
/// synchronisation, a power cut). It keeps
/// - `updates`: the raw updates of the last 70 minutes (the 5-second tier and the `since` log
///   are rebuilt from them);
/// - `rollup_minute` (per model, 24 h) and `rollup_hour` (per series, 30 days): the same tiers
///   as the in-memory ledger, upserted with each batch, so a restart restores 30 days of
///   history by reading at most a few hundred thousand rows;
/// - `events`: the `eventId`s accepted in the last 24 hours, so a retried batch adds nothing.
///
/// Money is exact: a raw row holds its cost by class in picodollars (one update costs at most
/// 10¹⁸ of them, which fits SQLite's 64-bit integers); a rollup row holds each class's sum as
/// whole dollars plus picodollars below a dollar (`cost_<class>_dollars`, `cost_<class>_pico`),
/// carried in the upsert, so no sum ever leaves 64 bits or becomes a floating-point number.
/// Schema `v2` added token classes and picodollars; a `v1` folder (micro-dollars, no classes)
/// is migrated on open, its costs kept exactly, as unattributed.
public final class SQLiteJournal: UsageJournal {
    let database: DatabaseQueue
    public let path: String

    /// Raw rows rebuild the 5-second tier and the raw log: a little longer than either keeps.
    static let rawRetention: Duration = .seconds(70 * 60)
    static let eventRetention: Duration = .seconds(24 * 3600)
    /// The rollup tables keep what the ledger's tiers keep, in buckets of the same widths.
    static let minuteRetention = UsageLedger.minuteRetention
    /// Hour rollups are kept as long as the ledger's hour tier keeps them (60 days and an hour:
    /// the 30-day page's previous period survives a restart).
    static let hourRetention = UsageLedger.hourTierRetention
    static let minuteWidth = UsageLedger.minuteWidth.milliseconds
    static let hourWidth = UsageLedger.hourWidth.milliseconds

    /// Opens (creating when needed) the journal in `directory`.
    public init(directory: String) throws {
        try FileSystem.createDirectory(directory)
        path = directory + "/spendboard.sqlite"
        var configuration = Configuration()
        configuration.journalMode = .wal
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            // Writes append and upsert a few hot pages; a small page cache is enough.
            try db.execute(sql: "PRAGMA cache_size = -1024")
        }
        // One connection: the journal writes batches in turn and reads only at start-up.
        database = try DatabaseQueue(path: path, configuration: configuration)
        try migrator.migrate(database)
    }

    private var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE updates (
                        seq INTEGER PRIMARY KEY,
                        ts INTEGER NOT NULL,
                        tenant TEXT NOT NULL,
                        customer TEXT NOT NULL,
                        model TEXT NOT NULL,
                        calls INTEGER NOT NULL,
                        total_tokens INTEGER NOT NULL,
                        input_tokens INTEGER,
                        output_tokens INTEGER,
                        cost_micros INTEGER NOT NULL,
                        priced INTEGER NOT NULL,
                        latency_ms REAL NOT NULL
                    );
                    CREATE INDEX updates_ts ON updates(ts);
                    CREATE TABLE events (event_id TEXT PRIMARY KEY, accepted_at INTEGER NOT NULL) WITHOUT ROWID;
                    CREATE INDEX events_accepted_at ON events(accepted_at);
                    CREATE TABLE rollup_minute (
                        bucket INTEGER NOT NULL, model TEXT NOT NULL, \(Self.v1CounterColumns),
                        PRIMARY KEY (bucket, model)
                    ) WITHOUT ROWID;
                    CREATE TABLE rollup_hour (
                        bucket INTEGER NOT NULL, tenant TEXT NOT NULL, customer TEXT NOT NULL, model TEXT NOT NULL,
                        \(Self.v1CounterColumns),
                        PRIMARY KEY (bucket, tenant, customer, model)
                    ) WITHOUT ROWID;
                    """
            )
        }
        migrator.registerMigration("v2: token classes and exact costs") { db in
            var statements: [String] = []
            // Raw rows: token classes, and the cost by class in picodollars.
            statements += Self.tokenClassColumns.map { "ALTER TABLE updates ADD COLUMN \($0) INTEGER" }
            statements += Self.costClassColumns.map { "ALTER TABLE updates ADD COLUMN cost_\($0) INTEGER NOT NULL DEFAULT 0" }
            // A cost above the per-update maximum ($1,000,000) cannot be held in picodollars; it
            // is marked -1, which the store's rules refuse (and report) when it restores.
            statements.append(
                """
                UPDATE updates SET cost_unattributed = CASE
                    WHEN priced = 0 THEN 0
                    WHEN cost_micros BETWEEN 0 AND 1000000000000 THEN cost_micros * 1000000
                    ELSE -1 END
                """)
            statements.append("ALTER TABLE updates DROP COLUMN cost_micros")
            for table in ["rollup_minute", "rollup_hour"] {
                statements += Self.tokenClassColumns.map { "ALTER TABLE \(table) ADD COLUMN \($0) INTEGER NOT NULL DEFAULT 0" }
                for name in Self.costClassColumns {
                    statements.append("ALTER TABLE \(table) ADD COLUMN cost_\(name)_dollars INTEGER NOT NULL DEFAULT 0")
                    statements.append("ALTER TABLE \(table) ADD COLUMN cost_\(name)_pico INTEGER NOT NULL DEFAULT 0")
                }
                // Micro-dollars to dollars and picodollars, exactly.
                statements.append(
                    "UPDATE \(table) SET cost_unattributed_dollars = cost_micros / 1000000, cost_unattributed_pico = (cost_micros % 1000000) * 1000000"
                )
                statements.append("ALTER TABLE \(table) DROP COLUMN cost_micros")
            }
            for statement in statements { try db.execute(sql: statement) }
        }
        migrator.registerMigration("v3: anomalies") { db in
            try db.execute(
                sql: """
                    CREATE TABLE incidents (
                        id TEXT PRIMARY KEY,
                        state TEXT NOT NULL,
                        last_seen INTEGER NOT NULL,
                        revision INTEGER NOT NULL,
                        body TEXT NOT NULL
                    ) WITHOUT ROWID;
                    CREATE TABLE anomaly_events (
                        seq INTEGER PRIMARY KEY,
                        event_id TEXT NOT NULL UNIQUE,
                        kind TEXT NOT NULL,
                        at INTEGER NOT NULL,
                        body TEXT NOT NULL
                    );
                    CREATE INDEX anomaly_events_at ON anomaly_events(at);
                    """
            )
        }
        migrator.registerMigration("v4: alert delivery") { db in
            // `alerts` is 0 for an event kept for the record but not sent (an acknowledged
            // anomaly's resolution); `alert_targets` is each webhook's cursor into the outbox.
            try db.execute(
                sql: """
                    ALTER TABLE anomaly_events ADD COLUMN alerts INTEGER NOT NULL DEFAULT 1;
                    CREATE TABLE alert_targets (
                        target TEXT PRIMARY KEY,
                        after_seq INTEGER NOT NULL,
                        attempts INTEGER NOT NULL DEFAULT 0,
                        failing_since INTEGER,
                        next_attempt INTEGER,
                        last_error TEXT,
                        last_delivered INTEGER,
                        delivered INTEGER NOT NULL DEFAULT 0,
                        abandoned INTEGER NOT NULL DEFAULT 0
                    ) WITHOUT ROWID;
                    """
            )
        }
        return migrator
    }

    /// The rollup columns of schema v1, as it created them (migrations never change).
    static let v1CounterColumns =
        ["updates", "calls", "total_tokens", "input_tokens", "output_tokens", "cost_micros", "latency_weight", "unpriced"]
        .map { "\($0) INTEGER NOT NULL" }.joined(separator: ", ")

    static let picodollarsPerDollar: Int64 = 1_000_000_000_000
    static let tokenClassColumns = ["cache_read_tokens", "cache_write_tokens", "reasoning_tokens"]
    /// The cost classes' column names, in `CostClass.allCases` order.
    static let costClassColumns = CostClass.allCases.map(\.columnName)

    static let counterNames = [
        "updates", "calls", "total_tokens", "input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens",
        "reasoning_tokens", "latency_weight", "unpriced",
    ]
    /// Every column a rollup row sums, in the order of `UsageCounters.arguments`.
    static let rollupColumns = counterNames + costClassColumns.flatMap { ["cost_\($0)_dollars", "cost_\($0)_pico"] }
    /// Adds a batch's sums to a row's; a cost's picodollars carry into its dollars.
    static var counterUpsert: String {
        let counts = counterNames.map { "\($0) = \($0) + excluded.\($0)" }
        let costs = costClassColumns.flatMap { name -> [String] in
            let dollars = "cost_\(name)_dollars"
            let pico = "cost_\(name)_pico"
            return [
                "\(dollars) = \(dollars) + excluded.\(dollars) + (\(pico) + excluded.\(pico)) / \(picodollarsPerDollar)",
                "\(pico) = (\(pico) + excluded.\(pico)) % \(picodollarsPerDollar)",
            ]
        }
        return (counts + costs).joined(separator: ", ")
    }

    public func append(_ updates: [UsageUpdate], now: Timestamp) async throws -> [UsageUpdate] {
        let rawCutoff = now.millisecondsSinceEpoch - Self.rawRetention.milliseconds
        return try await database.write { db in
            var fresh: [UsageUpdate] = []
            fresh.reserveCapacity(updates.count)
            let event = try db.cachedStatement(sql: "INSERT OR IGNORE INTO events (event_id, accepted_at) VALUES (?, ?)")
            let insert = try db.cachedStatement(
                sql: """
                    INSERT INTO updates (ts, tenant, customer, model, calls, total_tokens, input_tokens, output_tokens,
                                         cache_read_tokens, cache_write_tokens, reasoning_tokens, priced, latency_ms,
                                         \(Self.costClassColumns.map { "cost_\($0)" }.joined(separator: ", ")))
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, \(Self.costClassColumns.map { _ in "?" }.joined(separator: ", ")))
                    """
            )
            var rollups = BatchRollups()
            for update in updates {
                if let id = update.eventId {
                    try event.execute(arguments: [id, now.millisecondsSinceEpoch])
                    if db.changesCount == 0 { continue }  // accepted before: counted once
                }
                // Raw rows older than the raw retention would be pruned at once: only their
                // rollups (below) are kept.
                if update.timestamp.millisecondsSinceEpoch >= rawCutoff {
                    var arguments: StatementArguments = [
                        update.timestamp.millisecondsSinceEpoch, update.tenantId, update.customerId, update.model, update.calls,
                        update.totalTokens, update.inputTokens, update.outputTokens, update.cacheReadTokens, update.cacheWriteTokens,
                        update.reasoningTokens, update.isPriced, update.avgLatencyMs,
                    ]
                    // Admitted: every class is 0...UsageUpdate.maximumCost, which fits Int64.
                    let cost = update.isPriced ? update.cost : CostBreakdown()
                    arguments += StatementArguments(CostClass.allCases.map { Int64(cost[$0].picodollars) })
                    try insert.execute(arguments: arguments)
                }
                rollups.add(update)
                fresh.append(update)
            }
            let names = Self.rollupColumns.joined(separator: ", ")
            let placeholders = Self.rollupColumns.map { _ in "?" }.joined(separator: ", ")
            let minute = try db.cachedStatement(
                sql:
                    "INSERT INTO rollup_minute (bucket, model, \(names)) VALUES (?, ?, \(placeholders)) ON CONFLICT (bucket, model) DO UPDATE SET \(Self.counterUpsert)"
            )
            for (key, counters) in rollups.minutes {
                try minute.execute(arguments: StatementArguments([key.bucket, key.model] as [any DatabaseValueConvertible]) + counters.arguments)
            }
            let hour = try db.cachedStatement(
                sql:
                    "INSERT INTO rollup_hour (bucket, tenant, customer, model, \(names)) VALUES (?, ?, ?, ?, \(placeholders)) ON CONFLICT (bucket, tenant, customer, model) DO UPDATE SET \(Self.counterUpsert)"
            )
            for (key, counters) in rollups.hours {
                try hour.execute(
                    arguments: StatementArguments([key.bucket, key.tenant, key.customer, key.model] as [any DatabaseValueConvertible])
                        + counters.arguments)
            }
            return fresh
        }
    }

    public func restore(now: Timestamp) async throws -> JournalContents {
        try await database.read { db in
            var contents = JournalContents()
            let nowMs = now.millisecondsSinceEpoch
            let minuteFrom = (nowMs - Self.minuteRetention.milliseconds).flooredDivision(by: Self.minuteWidth)
            let rows = try Row.fetchCursor(db, sql: "SELECT * FROM rollup_minute WHERE bucket >= ?", arguments: [minuteFrom])
            while let row = try rows.next() {
                contents.minuteBuckets.append(
                    .init(
                        start: Timestamp(millisecondsSinceEpoch: row["bucket"] * Self.minuteWidth), model: row["model"],
                        counters: UsageCounters(row: row)))
            }
            let hourFrom = (nowMs - Self.hourRetention.milliseconds).flooredDivision(by: Self.hourWidth)
            let hourRows = try Row.fetchCursor(db, sql: "SELECT * FROM rollup_hour WHERE bucket >= ?", arguments: [hourFrom])
            while let row = try hourRows.next() {
                contents.hourBuckets.append(
                    .init(
                        start: Timestamp(millisecondsSinceEpoch: row["bucket"] * Self.hourWidth), tenant: row["tenant"], customer: row["customer"],
                        model: row["model"], counters: UsageCounters(row: row))
                )
            }
            let recent = try Row.fetchCursor(
                db,
                sql:
                    """
                    SELECT ts, tenant, customer, model, calls, total_tokens, input_tokens, output_tokens, cache_read_tokens,
                           cache_write_tokens, reasoning_tokens, priced, latency_ms,
                           \(Self.costClassColumns.map { "cost_\($0)" }.joined(separator: ", "))
                    FROM updates WHERE ts >= ? ORDER BY ts, seq
                    """,
                arguments: [nowMs - Self.rawRetention.milliseconds]
            )
            while let row = try recent.next() {
                var cost = CostBreakdown()
                for (offset, costClass) in CostClass.allCases.enumerated() {
                    cost[costClass] = Money(picodollars: Int128(row[13 + offset] as Int64))
                }
                contents.recent.append(
                    UsageUpdate(
                        timestamp: Timestamp(millisecondsSinceEpoch: row[0]), tenantId: row[1], customerId: row[2], model: row[3],
                        calls: row[4], totalTokens: row[5], inputTokens: row[6], outputTokens: row[7], cacheReadTokens: row[8],
                        cacheWriteTokens: row[9], reasoningTokens: row[10], cost: cost, isPriced: row[11], avgLatencyMs: row[12]
                    )
                )
            }
            contents.newest = try Int64.fetchOne(db, sql: "SELECT max(ts) FROM updates").map { Timestamp(millisecondsSinceEpoch: $0) }
            return contents
        }
    }

    public func prune(now: Timestamp) async throws {
        let nowMs = now.millisecondsSinceEpoch
        try await database.write { db in
            try db.execute(sql: "DELETE FROM updates WHERE ts < ?", arguments: [nowMs - Self.rawRetention.milliseconds])
            try db.execute(sql: "DELETE FROM events WHERE accepted_at < ?", arguments: [nowMs - Self.eventRetention.milliseconds])
            try db.execute(
                sql: "DELETE FROM rollup_minute WHERE bucket < ?",
                arguments: [(nowMs - Self.minuteRetention.milliseconds).flooredDivision(by: Self.minuteWidth)])
            try db.execute(
                sql: "DELETE FROM rollup_hour WHERE bucket < ?",
                arguments: [(nowMs - Self.hourRetention.milliseconds).flooredDivision(by: Self.hourWidth)])
        }
    }
}

extension UsageCounters {
    /// The values of `SQLiteJournal.rollupColumns`.
    var arguments: StatementArguments {
        var values: [Int64] = [
            updates, calls, totalTokens, inputTokens, outputTokens, cacheReadTokens, cacheWriteTokens, reasoningTokens, latencyWeight,
            unpricedUpdates,
        ]
        for costClass in CostClass.allCases {
            // A batch's sum: at most 10,000 updates × $1,000,000, whose dollars fit Int64.
            let (dollars, pico) = cost[costClass].picodollars.quotientAndRemainder(dividingBy: Int128(SQLiteJournal.picodollarsPerDollar))
            values += [Int64(dollars), Int64(pico)]
        }
        return StatementArguments(values)
    }

    init(row: Row) {
        var cost = CostBreakdown()
        for costClass in CostClass.allCases {
            let dollars: Int64 = row["cost_\(costClass.columnName)_dollars"]
            let pico: Int64 = row["cost_\(costClass.columnName)_pico"]
            cost[costClass] = Money(picodollars: Int128(dollars) * Int128(SQLiteJournal.picodollarsPerDollar) + Int128(pico))
        }
        self.init(
            updates: row["updates"], calls: row["calls"], totalTokens: row["total_tokens"], inputTokens: row["input_tokens"],
            outputTokens: row["output_tokens"], cacheReadTokens: row["cache_read_tokens"], cacheWriteTokens: row["cache_write_tokens"],
            reasoningTokens: row["reasoning_tokens"], cost: cost, latencyWeight: row["latency_weight"], unpricedUpdates: row["unpriced"]
        )
    }
}

enum FileSystem {
    static func createDirectory(_ path: String) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw JournalError(message: "\(path) exists and is not a folder") }
            return
        }
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
}

extension SQLiteJournal: AnomalyJournal {
    public func record(_ incidents: [Incident], revision: Int64, events: [AnomalyEvent]) async throws {
        guard !incidents.isEmpty || !events.isEmpty else { return }
        try await database.write { db in
            let upsert = try db.cachedStatement(
                sql: """
                    INSERT INTO incidents (id, state, last_seen, revision, body) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT (id) DO UPDATE SET state = excluded.state, last_seen = excluded.last_seen,
                        revision = excluded.revision, body = excluded.body
                    WHERE excluded.revision > incidents.revision
                    """)
            for incident in incidents {
                try upsert.execute(arguments: [
                    incident.id, incident.state.rawValue, (incident.end ?? incident.lastSeen).millisecondsSinceEpoch, revision,
                    String(decoding: incident.json, as: UTF8.self),
                ])
            }
            // The same event twice (a retried write) is kept once.
            let append = try db.cachedStatement(
                sql: "INSERT OR IGNORE INTO anomaly_events (event_id, kind, at, body, alerts) VALUES (?, ?, ?, ?, ?)")
            for event in events {
                try append.execute(arguments: [
                    event.id, event.kind.rawValue, event.at.millisecondsSinceEpoch, String(decoding: event.json, as: UTF8.self),
                    event.alerts,
                ])
            }
        }
    }

    public func incidents(now: Timestamp, retention: Duration) async throws -> [Incident] {
        let cutoff = now.millisecondsSinceEpoch - retention.milliseconds
        let bodies = try await database.read { db in
            try String.fetchAll(db, sql: "SELECT body FROM incidents WHERE state = 'open' OR last_seen >= ? ORDER BY id", arguments: [cutoff])
        }
        return try bodies.map { body in
            do {
                return try Incident(json: JSONParser.parse(Array(body.utf8)))
            } catch {
                throw JournalError(message: "\(path): \(error)")
            }
        }
    }

    public func pruneIncidents(now: Timestamp, retention: Duration) async throws {
        let cutoff = now.millisecondsSinceEpoch - retention.milliseconds
        try await database.write { db in
            try db.execute(sql: "DELETE FROM incidents WHERE state != 'open' AND last_seen < ?", arguments: [cutoff])
            // The newest event is always kept: `seq` is a rowid, and an empty table would
            // number the next event 1, behind every target's cursor.
            guard let newest = try Int64.fetchOne(db, sql: "SELECT MAX(seq) FROM anomaly_events"),
                let last = try Int64.fetchOne(db, sql: "SELECT MAX(seq) FROM anomaly_events WHERE at < ? AND seq < ?", arguments: [cutoff, newest])
            else { return }
            // Events a target never had are counted as abandoned before they go, and its cursor
            // moves past them.
            try db.execute(
                sql: """
                    UPDATE alert_targets SET
                        abandoned = abandoned + (SELECT COUNT(*) FROM anomaly_events e
                            WHERE e.seq > alert_targets.after_seq AND e.seq <= ? AND e.alerts = 1),
                        after_seq = ?, attempts = 0, failing_since = NULL, next_attempt = NULL,
                        last_error = 'abandoned: older than the outbox keeps'
                    WHERE after_seq < ?
                    """, arguments: [last, last, last])
            try db.execute(sql: "DELETE FROM anomaly_events WHERE seq <= ?", arguments: [last])
        }
    }
}

extension SQLiteJournal: AlertOutbox {
    public func registerAlertTargets(_ targets: [String]) async throws {
        try await database.write { db in
            let newest = try Int64.fetchOne(db, sql: "SELECT MAX(seq) FROM anomaly_events") ?? 0
            for target in targets {
                try db.execute(
                    sql: "INSERT INTO alert_targets (target, after_seq) VALUES (?, ?) ON CONFLICT (target) DO NOTHING", arguments: [target, newest])
            }
        }
    }

    public func nextAlert(for target: String) async throws -> PendingAlert? {
        let path = path
        return try await database.read { db -> PendingAlert? in
            guard
                let row = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT e.seq, e.event_id, e.kind, e.body, t.attempts, t.failing_since, t.next_attempt
                        FROM alert_targets t JOIN anomaly_events e ON e.seq > t.after_seq AND e.alerts = 1
                        WHERE t.target = ? ORDER BY e.seq LIMIT 1
                        """, arguments: [target])
            else { return nil }
            let kindName: String = row["kind"]
            guard let kind = AnomalyEvent.Kind(rawValue: kindName) else {
                throw JournalError(message: "\(path): the outbox holds an event of unknown kind '\(kindName)'")
            }
            let body: String = row["body"]
            return PendingAlert(
                sequence: row["seq"], eventID: row["event_id"], kind: kind, body: Array(body.utf8), attempts: row["attempts"],
                failingSince: (row["failing_since"] as Int64?).map(Timestamp.init(millisecondsSinceEpoch:)),
                nextAttempt: (row["next_attempt"] as Int64?).map(Timestamp.init(millisecondsSinceEpoch:))
            )
        }
    }

    public func recordAlertAttempt(_ outcome: AlertAttemptOutcome, for target: String, sequence: Int64, at now: Timestamp) async throws {
        let at = now.millisecondsSinceEpoch
        try await database.write { db in
            // Only the head's outcome counts: a cursor never moves back or skips an event.
            switch outcome {
            case .delivered:
                try db.execute(
                    sql: """
                        UPDATE alert_targets SET after_seq = ?, attempts = 0, failing_since = NULL, next_attempt = NULL,
                            last_error = NULL, last_delivered = ?, delivered = delivered + 1
                        WHERE target = ? AND after_seq < ?
                        """, arguments: [sequence, at, target, sequence])
            case .failed(let error, let retryAt):
                try db.execute(
                    sql: """
                        UPDATE alert_targets SET attempts = attempts + 1, failing_since = COALESCE(failing_since, ?),
                            next_attempt = ?, last_error = ?
                        WHERE target = ? AND after_seq < ?
                        """, arguments: [at, retryAt.millisecondsSinceEpoch, error, target, sequence])
            case .abandoned(let error):
                try db.execute(
                    sql: """
                        UPDATE alert_targets SET after_seq = ?, attempts = 0, failing_since = NULL, next_attempt = NULL,
                            last_error = ?, abandoned = abandoned + 1
                        WHERE target = ? AND after_seq < ?
                        """, arguments: [sequence, error, target, sequence])
            }
        }
    }

    public func alertTargetStatus(_ targets: [String]) async throws -> [AlertTargetStatus] {
        try await database.read { db in
            try targets.map { target in
                guard
                    let row = try Row.fetchOne(
                        db,
                        sql: """
                            SELECT t.*, (SELECT COUNT(*) FROM anomaly_events e WHERE e.seq > t.after_seq AND e.alerts = 1) AS pending
                            FROM alert_targets t WHERE t.target = ?
                            """, arguments: [target])
                else { return AlertTargetStatus(target: target) }
                func timestamp(_ column: String) -> Timestamp? {
                    (row[column] as Int64?).map(Timestamp.init(millisecondsSinceEpoch:))
                }
                return AlertTargetStatus(
                    target: target, pending: row["pending"], delivered: row["delivered"], abandoned: row["abandoned"],
                    attempts: row["attempts"], failingSince: timestamp("failing_since"), nextAttempt: timestamp("next_attempt"),
                    lastError: row["last_error"], lastDelivered: timestamp("last_delivered")
                )
            }
        }
    }
}
