/// Where the store makes usage durable before counting it. The store calls `append` before it
/// changes anything in memory, so an update acknowledged to a producer is on disk first. The
/// calls are async so that waiting for the disk suspends the caller instead of blocking the
/// store or a thread of the cooperative pool. `SQLiteJournal` (module SpendStorage) is the
/// production implementation.
public protocol UsageJournal: Sendable {
    /// Writes `updates` as one transaction and returns those that are new: an update whose
    /// `eventId` was accepted before (within the journal's dedup window) is left out. Throws
    /// without having stored anything.
    func append(_ updates: [UsageUpdate], now: Timestamp) async throws -> [UsageUpdate]

    /// What the ledger needs to continue after a restart.
    func restore(now: Timestamp) async throws -> JournalContents

    /// Drops what no tier needs any more.
    func prune(now: Timestamp) async throws
}

/// The durable state a ledger is rebuilt from: the 1-minute and 1-hour rollups, and the raw
/// updates recent enough for the 5-second tier and the `since` log.
public struct JournalContents: Sendable {
    public struct MinuteBucket: Sendable {
        public var start: Timestamp
        public var model: String
        public var counters: UsageCounters
        public init(start: Timestamp, model: String, counters: UsageCounters) {
            self.start = start
            self.model = model
            self.counters = counters
        }
    }

    public struct HourBucket: Sendable {
        public var start: Timestamp
        public var tenant: String
        public var customer: String
        public var model: String
        public var counters: UsageCounters
        public init(start: Timestamp, tenant: String, customer: String, model: String, counters: UsageCounters) {
            self.start = start
            self.tenant = tenant
            self.customer = customer
            self.model = model
            self.counters = counters
        }
    }

    public var minuteBuckets: [MinuteBucket] = []
    public var hourBuckets: [HourBucket] = []
    /// Raw updates of the recent past, oldest first.
    public var recent: [UsageUpdate] = []
    /// The newest timestamp stored, nil for an empty journal.
    public var newest: Timestamp?

    public init() {}
}

/// Facts about the journal's background work, for `/api/health`.
public struct JournalStatus: Hashable, Sendable {
    /// Prunes that failed since the store started.
    public var pruneFailures: Int
    /// The error of the last prune if it failed; nil once one succeeds (and before any failed).
    public var lastError: String?

    public init(pruneFailures: Int = 0, lastError: String? = nil) {
        self.pruneFailures = pruneFailures
        self.lastError = lastError
    }
}

/// A journal failure (disk full, unwritable folder, corrupt file).
public struct JournalError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public init(message: String) {
        self.message = message
    }
    public var description: String { message }
}

extension UsageCounters {
    /// The counters of one update, exactly as the ledger counts it. The update must have been
    /// admitted (`UsageLedger.Configuration.admit`): its latency weight fits `Int64`.
    public init(_ update: UsageUpdate) {
        guard let latencyWeight = RawUsage.latencyWeight(averageMs: update.avgLatencyMs, calls: update.calls) else {
            preconditionFailure("the latency weight of \(update.calls) calls at \(update.avgLatencyMs) ms does not fit Int64: admit updates first")
        }
        self.init(
            updates: 1,
            calls: update.calls,
            totalTokens: update.totalTokens,
            inputTokens: update.inputTokens ?? 0,
            outputTokens: update.outputTokens ?? 0,
            cacheReadTokens: update.cacheReadTokens ?? 0,
            cacheWriteTokens: update.cacheWriteTokens ?? 0,
            reasoningTokens: update.reasoningTokens ?? 0,
            cost: update.isPriced ? update.cost : CostBreakdown(),
            latencyWeight: latencyWeight,
            unpricedUpdates: update.isPriced ? 0 : 1
        )
    }
}

/// A batch's sums per rollup row, as the journals upsert them: one row per (minute, model) and
/// per (hour, tenant, customer, model), so a batch touches each row once.
public struct BatchRollups: Sendable {
    public struct MinuteKey: Hashable, Sendable {
        public var bucket: Int64
        public var model: String
    }

    public struct HourKey: Hashable, Sendable {
        public var bucket: Int64
        public var tenant: String
        public var customer: String
        public var model: String
    }

    public var minutes: [MinuteKey: UsageCounters] = [:]
    public var hours: [HourKey: UsageCounters] = [:]

    public init() {}

    /// Adds an admitted update to its minute's and hour's rows.
    public mutating func add(_ update: UsageUpdate) {
        let counters = UsageCounters(update)
        let ts = update.timestamp.millisecondsSinceEpoch
        minutes[MinuteKey(bucket: ts.flooredDivision(by: UsageLedger.minuteWidth.milliseconds), model: update.model), default: UsageCounters()]
            .add(counters)
        hours[
            HourKey(
                bucket: ts.flooredDivision(by: UsageLedger.hourWidth.milliseconds), tenant: update.tenantId, customer: update.customerId,
                model: update.model),
            default: UsageCounters()
        ].add(counters)
    }
}

extension CostClass {
    /// The class in the journals' column names: `cache_read`, `call_fees`.
    public var columnName: String {
        switch self {
        case .input: "input"
        case .cacheRead: "cache_read"
        case .cacheWrite: "cache_write"
        case .output: "output"
        case .reasoning: "reasoning"
        case .callFees: "call_fees"
        case .unattributed: "unattributed"
        }
    }
}
