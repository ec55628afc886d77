import Logging
import PostgresNIO
import SpendCore

/// The shared database's tables, in the schema `spendboard`, and how they get there.
///
/// Migrations are numbered and run in order on start, each in its own transaction, while the
/// node holds a session advisory lock: nodes that start together take turns, and the second
/// finds the work done. A database whose schema is newer than the binary knows is refused at
/// start (roll the older nodes forward; a migration only adds).
enum PostgresSchema {
    /// `pg_advisory_lock` keys: the migration lock, the ingest lock and the archive leader's lock.
    enum LockKey: Int64 {
        case migrations = 0x5350_4e44_0001
        case ingest = 0x5350_4e44_0002
        case leader = 0x5350_4e44_0003
    }

    /// The channel every commit of updates notifies.
    static let channel = "spendboard_updates"

    static let costColumns = CostClass.allCases.map { "cost_\($0.columnName)" }
    static let counterColumns = [
        "updates", "calls", "total_tokens", "input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens",
        "reasoning_tokens", "latency_weight", "unpriced",
    ]

    struct Migration {
        var version: Int32
        var name: String
        var sql: [String]
    }

    static let migrations: [Migration] = [
        Migration(
            version: 1, name: "usage, rollups, anomalies, alert delivery",
            sql: [
                // `seq` orders the shared log: it is assigned under the ingest lock, so it is
                // also the order in which batches commit (followers resume from it).
                """
                CREATE TABLE spendboard.updates (
                    seq bigserial PRIMARY KEY,
                    node text NOT NULL,
                    accepted_at bigint NOT NULL,
                    ts bigint NOT NULL,
                    tenant text NOT NULL,
                    customer text NOT NULL,
                    model text NOT NULL,
                    calls bigint NOT NULL,
                    total_tokens bigint NOT NULL,
                    input_tokens bigint,
                    output_tokens bigint,
                    cache_read_tokens bigint,
                    cache_write_tokens bigint,
                    reasoning_tokens bigint,
                    priced boolean NOT NULL,
                    latency_ms double precision NOT NULL,
                    \(costColumns.map { "\($0) bigint NOT NULL" }.joined(separator: ", "))
                )
                """,
                "CREATE INDEX updates_ts ON spendboard.updates (ts)",
                "CREATE INDEX updates_accepted_at ON spendboard.updates (accepted_at)",
                "CREATE TABLE spendboard.events (event_id text PRIMARY KEY, accepted_at bigint NOT NULL)",
                "CREATE INDEX events_accepted_at ON spendboard.events (accepted_at)",
                // Rollup costs are exact picodollar sums: numeric never rounds or overflows.
                """
                CREATE TABLE spendboard.rollup_minute (
                    bucket bigint NOT NULL, model text NOT NULL,
                    \(counterColumns.map { "\($0) bigint NOT NULL" }.joined(separator: ", ")),
                    \(costColumns.map { "\($0) numeric NOT NULL" }.joined(separator: ", ")),
                    PRIMARY KEY (bucket, model)
                )
                """,
                """
                CREATE TABLE spendboard.rollup_hour (
                    bucket bigint NOT NULL, tenant text NOT NULL, customer text NOT NULL, model text NOT NULL,
                    \(counterColumns.map { "\($0) bigint NOT NULL" }.joined(separator: ", ")),
                    \(costColumns.map { "\($0) numeric NOT NULL" }.joined(separator: ", ")),
                    PRIMARY KEY (bucket, tenant, customer, model)
                )
                """,
                """
                CREATE TABLE spendboard.incidents (
                    id text PRIMARY KEY, state text NOT NULL, last_seen bigint NOT NULL, revision bigint NOT NULL, body text NOT NULL
                )
                """,
                """
                CREATE TABLE spendboard.anomaly_events (
                    seq bigserial PRIMARY KEY, event_id text NOT NULL UNIQUE, kind text NOT NULL, at bigint NOT NULL,
                    body text NOT NULL, alerts boolean NOT NULL
                )
                """,
                "CREATE INDEX anomaly_events_at ON spendboard.anomaly_events (at)",
                """
                CREATE TABLE spendboard.alert_targets (
                    target text PRIMARY KEY, after_seq bigint NOT NULL, attempts bigint NOT NULL DEFAULT 0, failing_since bigint,
                    next_attempt bigint, last_error text, last_delivered bigint, delivered bigint NOT NULL DEFAULT 0,
                    abandoned bigint NOT NULL DEFAULT 0
                )
                """,
                // Acknowledgements, in the order they were stored: every node applies the
                // others' to its own detector.
                """
                CREATE TABLE spendboard.acknowledgements (
                    seq bigserial PRIMARY KEY, node text NOT NULL, incident text NOT NULL, at bigint NOT NULL, reason text NOT NULL,
                    note text
                )
                """,
            ]
        )
    ]

    /// Brings the database to the newest schema; returns the versions it applied.
    static func migrate(_ connection: PostgresConnection, logger: Logger) async throws -> [Int32] {
        try await connection.query("SELECT pg_advisory_lock(\(LockKey.migrations.rawValue))", logger: logger)
        do {
            let applied = try await migrateLocked(connection, logger: logger)
            try await connection.query("SELECT pg_advisory_unlock(\(LockKey.migrations.rawValue))", logger: logger)
            return applied
        } catch {
            // Closing the connection releases the lock too; unlock when the connection still works.
            _ = try? await connection.query("SELECT pg_advisory_unlock(\(LockKey.migrations.rawValue))", logger: logger)
            throw error
        }
    }

    private static func migrateLocked(_ connection: PostgresConnection, logger: Logger) async throws -> [Int32] {
        try await connection.query("CREATE SCHEMA IF NOT EXISTS spendboard", logger: logger)
        try await connection.query(
            """
            CREATE TABLE IF NOT EXISTS spendboard.schema_migrations (
                version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now()
            )
            """, logger: logger)
        var current: Int32 = 0
        for try await version in try await connection.query(
            "SELECT coalesce(max(version), 0) FROM spendboard.schema_migrations", logger: logger
        ).decode(Int32.self) {
            current = version
        }
        let newest = migrations.last?.version ?? 0
        guard current <= newest else {
            throw JournalError(
                message:
                    "the database's schema is version \(current), newer than this Spendboard knows (\(newest)): upgrade this node to the version the other nodes run"
            )
        }
        var applied: [Int32] = []
        for migration in migrations where migration.version > current {
            try await connection.withTransaction(logger: logger) { connection in
                for statement in migration.sql {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query(
                    "INSERT INTO spendboard.schema_migrations (version, name) VALUES (\(migration.version), \(migration.name))", logger: logger)
            }
            logger.notice("database schema migrated", metadata: ["version": "\(migration.version)", "name": "\(migration.name)"])
            applied.append(migration.version)
        }
        return applied
    }
}
