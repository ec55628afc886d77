/// The time-bucketed store of usage: a pure value, with the current time passed in.
///
/// It keeps
/// - the raw updates of the last `rawWindow` (1 h) for the `since` API, capped at
///   `rawCapacity` so heavy traffic shortens the window instead of exhausting memory;
/// - tiered rollups: 5-second buckets per series for 67 minutes, 1-minute buckets per model for
///   49 hours, 1-hour buckets per series for 30 days. Every update is added to every tier on
///   ingest, so a tier's sums equal the raw sums exactly and old data simply expires with its
///   ring slot.
///
/// `UsageStore` wraps it in an actor for shared use; tests and benchmarks use it directly.
public struct UsageLedger: Sendable {
    public struct Configuration: Sendable {
        /// How long raw updates are kept for the `since` API.
        public var rawWindow: Duration
        /// At most this many raw updates are kept.
        public var rawCapacity: Int
        /// How far in the future an update may be stamped.
        public var maximumFuture: Duration {
            didSet { maximumFutureMs = maximumFuture.milliseconds }
        }
        /// `maximumFuture` in milliseconds, for `admit`, which runs for every update twice.
        private var maximumFutureMs: Int64

        public init(rawWindow: Duration = .seconds(3600), rawCapacity: Int = 1_000_000, maximumFuture: Duration = .seconds(300)) {
            self.rawWindow = rawWindow
            self.rawCapacity = rawCapacity
            self.maximumFuture = maximumFuture
            maximumFutureMs = maximumFuture.milliseconds
        }

        /// The ledger's acceptance rules, in one place: why `update` would not be stored at
        /// `now`, or nil when it is admitted. A pure function of the update, `now` and this
        /// configuration (never of what the ledger holds), so `UsageStore` applies it before
        /// anything is made durable and the ledger applies it again, with the same answer,
        /// when it counts.
        ///
        /// - The timestamp lies in `[now − hourRetention, now + maximumFuture]`.
        /// - Counts fit `RawUsage` (0...4,294,967,295), the token classes are consistent
        ///   (`UsageUpdate.tokenClassProblem`), every part of the cost is non-negative and the
        ///   total at most `UsageUpdate.maximumCost`,
        ///   the latency is finite and 0...`RawUsage.maximumLatencyMs`, and latency × calls fits
        ///   `Int64` (`RawUsage.latencyWeight`).
        ///
        /// ```swift
        /// if let rejection = configuration.admit(update, now: clock.now) { print(rejection) }
        /// ```
        public func admit(_ update: UsageUpdate, now: Timestamp) -> Rejection? {
            let ts = update.timestamp.millisecondsSinceEpoch
            guard ts <= now.millisecondsSinceEpoch + maximumFutureMs else { return .inFuture }
            guard ts >= now.millisecondsSinceEpoch - UsageLedger.hourRetentionMs else { return .tooOld }
            guard (0...RawUsage.maximumCount).contains(update.calls) else { return .outOfRange(field: "totalCalls") }
            guard (0...RawUsage.maximumCount).contains(update.totalTokens) else { return .outOfRange(field: "totalTokens") }
            // An absent split is flagged as absent (RawUsage.Flags), not counted as a zero.
            guard (0...RawUsage.maximumCount).contains(update.inputTokens ?? 0) else { return .outOfRange(field: "inputTokens") }
            guard (0...RawUsage.maximumCount).contains(update.outputTokens ?? 0) else { return .outOfRange(field: "outputTokens") }
            guard (0...RawUsage.maximumCount).contains(update.cacheReadTokens ?? 0) else { return .outOfRange(field: "cacheReadInputTokens") }
            guard (0...RawUsage.maximumCount).contains(update.cacheWriteTokens ?? 0) else {
                return .outOfRange(field: "cacheCreationInputTokens")
            }
            guard (0...RawUsage.maximumCount).contains(update.reasoningTokens ?? 0) else { return .outOfRange(field: "reasoningOutputTokens") }
            if let (field, _) = update.tokenClassProblem { return .inconsistent(field: String(field.dropFirst("metrics.".count))) }
            if update.isPriced && !update.cost.isOneUpdatesCost { return .outOfRange(field: "totalCost") }
            guard update.avgLatencyMs.isFinite, (0...RawUsage.maximumLatencyMs).contains(update.avgLatencyMs),
                RawUsage.latencyWeight(averageMs: update.avgLatencyMs, calls: update.calls) != nil
            else {
                return .outOfRange(field: "avgLatencyMs")
            }
            return nil
        }
    }

    /// Why an update was not stored.
    public enum Rejection: Hashable, Sendable, CustomStringConvertible {
        /// Older than the longest rollup retention (30 days).
        case tooOld
        /// Stamped further in the future than allowed.
        case inFuture
        /// A count, cost or latency too large to store.
        case outOfRange(field: String)
        /// Token classes that contradict each other (`UsageUpdate.tokenClassProblem`).
        case inconsistent(field: String)

        public var description: String {
            switch self {
            case .tooOld: "timestamp is older than the retention of every rollup tier"
            case .inFuture: "timestamp lies too far in the future"
            case .outOfRange(let field): "\(field) is out of range"
            case .inconsistent(let field): "\(field) contradicts the other token counts"
            }
        }

        /// The field of the wire format it is about: `timestamp`, `metrics.totalCalls`, …
        public var field: String {
            switch self {
            case .tooOld, .inFuture: "timestamp"
            case .outOfRange(let field), .inconsistent(let field): "metrics.\(field)"
            }
        }
    }

    public struct IngestResult: Hashable, Sendable {
        public var accepted = 0
        /// Updates whose `eventId` had been accepted before: counted once, not again.
        public var duplicates = 0
        public var rejected: [Rejection: Int] = [:]
        public init() {}
        public var rejectedCount: Int { rejected.values.reduce(0, +) }
    }

    public static let fineWidth: Duration = .seconds(5)
    public static let minuteWidth: Duration = .seconds(60)
    public static let hourWidth: Duration = .seconds(3600)
    /// How long each tier keeps its buckets (a durable journal keeps its copies as long).
    /// The 5-second tier keeps 7 minutes more than the hour: 5 for updates stamped ahead, 2 so
    /// that a range can be cut at any 5 seconds of the last 61 minutes (`Reach`).
    public static let fineRetention: Duration = .seconds(3600 + 420)
    /// The 1-minute tier keeps two days and an hour: the 24-hour page's previous day, at 5 minutes.
    public static let minuteRetention: Duration = .seconds(49 * 3600 + 600)
    /// How far back usage is accepted and ranges reach: 30 days.
    public static let hourRetention: Duration = .seconds(30 * 24 * 3600)
    static let hourRetentionMs = hourRetention.milliseconds
    /// How long the hour tier keeps its buckets: 30 days more than `hourRetention` (and an
    /// hour), so that the 30-day page has its previous 30 days. Those older buckets serve
    /// totals of a previous period only; nothing older than `hourRetention` is accepted.
    public static let hourTierRetention: Duration = hourRetention * 2 + .seconds(3600)

    public let configuration: Configuration
    var names = SeriesTable()
    var raw: RawLog
    /// 5-second buckets per series: the rolling hour, token usage, recent rates. It keeps 5
    /// minutes more than the hour, so a bucket up to 5 minutes in the future (the most an update
    /// may be ahead) reuses a slot just older than the rolling hour, never one inside it.
    var fine = RollupTier(name: "5s", width: fineWidth, retention: fineRetention)
    /// 1-minute buckets per model: the last 49 hours (totals of the 24-hour page and its
    /// previous day).
    var minute = RollupTier(name: "1m", width: minuteWidth, retention: minuteRetention)
    /// 1-hour buckets per series: 60 days and an hour (`hourTierRetention`), plus room for
    /// `maximumFuture`, so that every admissible timestamp (back to exactly 30 days ago, while
    /// the newest bucket may already be up to `maximumFuture` ahead) has its slot and the 30
    /// days before those stay for comparisons: the rules alone decide what is counted.
    var hour: RollupTier
    private var nextSequence: Int64 = 0
    /// When `expire` next forgets unused names.
    private var nextNameCompaction: Int64 = .min
    /// How often `expire` forgets the names no bucket and no raw update uses any more.
    static let nameCompactionInterval: Duration = .seconds(3600)
    public private(set) var totalAccepted: Int64 = 0
    /// Changes whenever `compactNames()` renumbers the series, so that whoever keeps series
    /// ids (`AnomalyDetector`) knows to look them up again.
    private(set) var namesGeneration = 0

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
        raw = RawLog(capacity: configuration.rawCapacity)
        hour = RollupTier(name: "1h", width: Self.hourWidth, retention: Self.hourTierRetention + max(.zero, configuration.maximumFuture))
    }

    /// The single entry point for usage, whatever its source: each update is admitted or
    /// refused by `Configuration.admit(_:now:)`, and the admitted ones are counted.
    @discardableResult
    public mutating func ingest(_ updates: some Sequence<UsageUpdate>, now: Timestamp) -> IngestResult {
        // One concrete loop, whatever the caller's sequence: a generic loop over updates copies
        // each through its value witnesses (an array passes without a copy).
        admitAndCount(Array(updates), now: now, longTiers: true)
    }

    /// Counts what the rules admit; the result says how many and why the others were not.
    private mutating func admitAndCount(_ updates: [UsageUpdate], now: Timestamp, longTiers: Bool) -> IngestResult {
        var result = IngestResult()
        let rawCutoff = now.millisecondsSinceEpoch - configuration.rawWindow.milliseconds
        for update in updates {
            if let rejection = configuration.admit(update, now: now) {
                result.rejected[rejection, default: 0] += 1
            } else {
                count(update, rawCutoff: rawCutoff, longTiers: longTiers)
                result.accepted += 1
            }
        }
        totalAccepted += Int64(result.accepted)
        return result
    }

    /// Counts one admitted update; `longTiers: false` leaves the 1-minute and 1-hour tiers alone
    /// (a restore fills them from their own durable copies). Each tier takes it if its bucket is
    /// still in the tier's reach (the 5-second and 1-minute tiers keep less than 30 days); the
    /// hour tier always has room for an admitted update, unless the wall clock has stepped back
    /// since a newer update was counted (an update at the very edge of the 30 days may then miss
    /// it; the tier would have dropped it within the hour).
    private mutating func count(_ update: UsageUpdate, rawCutoff: Int64, longTiers: Bool) {
        let ts = update.timestamp.millisecondsSinceEpoch
        var flags: RawUsage.Flags = []
        if update.inputTokens != nil { flags.insert(.hasInputTokens) }
        if update.outputTokens != nil { flags.insert(.hasOutputTokens) }
        if update.cacheReadTokens != nil { flags.insert(.hasCacheReadTokens) }
        if update.cacheWriteTokens != nil { flags.insert(.hasCacheWriteTokens) }
        if update.reasoningTokens != nil { flags.insert(.hasReasoningTokens) }
        if !update.isPriced { flags.insert(.unpriced) }
        let series = names.id(tenant: update.tenantId, customer: update.customerId, model: update.model)
        let counters = UsageCounters(update)
        let perKey = RollupEntry(SeriesCounters(counters))
        let usage = RawUsage(
            timestamp: ts,
            sequence: nextSequence,
            // Admitted: at most UsageUpdate.maximumCost, which fits Int64 picodollars.
            costPicodollars: Int64(truncatingIfNeeded: perKey.costLow),
            series: series,
            calls: UInt32(update.calls),
            totalTokens: UInt32(update.totalTokens),
            inputTokens: UInt32(update.inputTokens ?? 0),
            outputTokens: UInt32(update.outputTokens ?? 0),
            cacheReadTokens: UInt32(update.cacheReadTokens ?? 0),
            cacheWriteTokens: UInt32(update.cacheWriteTokens ?? 0),
            reasoningTokens: UInt32(update.reasoningTokens ?? 0),
            latencyCentiMs: UInt32((update.avgLatencyMs * 100).rounded()),
            flags: flags
        )
        nextSequence += 1
        fine.add(counters, perKey, key: series, at: ts)
        if longTiers {
            minute.add(counters, perKey, key: names.modelOfSeries[Int(series)], at: ts)
            hour.add(counters, perKey, key: series, at: ts)
        }
        if ts >= rawCutoff {
            raw.insert(usage)
        }
    }

    /// Rebuilds the state a journal kept: the 1-minute and 1-hour buckets as stored, and the
    /// recent raw updates into the 5-second tier and the raw log. The recent updates pass the
    /// same rules as on ingest (a journal written by an older version may hold some the store
    /// refuses); the result says how many were counted and why the others were not.
    @discardableResult
    public mutating func restore(_ contents: JournalContents, now: Timestamp) -> IngestResult {
        for bucket in contents.hourBuckets {
            let series = names.id(tenant: bucket.tenant, customer: bucket.customer, model: bucket.model)
            hour.add(bucket.counters, key: series, at: bucket.start.millisecondsSinceEpoch)
        }
        for bucket in contents.minuteBuckets {
            minute.add(bucket.counters, key: names.modelId(bucket.model), at: bucket.start.millisecondsSinceEpoch)
        }
        return admitAndCount(contents.recent, now: now, longTiers: false)
    }

    /// Frees raw updates and buckets that have aged out and, once an hour, the names nothing
    /// uses any more. Cheap; call it every tick.
    public mutating func expire(now: Timestamp) {
        raw.expire(before: now.millisecondsSinceEpoch - configuration.rawWindow.milliseconds)
        fine.expire(now: now.millisecondsSinceEpoch)
        minute.expire(now: now.millisecondsSinceEpoch)
        hour.expire(now: now.millisecondsSinceEpoch)
        if now.millisecondsSinceEpoch >= nextNameCompaction {
            compactNames()
            nextNameCompaction = now.millisecondsSinceEpoch + Self.nameCompactionInterval.milliseconds
        }
    }

    /// Forgets the series (tenant, customer, model) and models that no bucket of any tier and no
    /// raw update refers to any more, and renumbers the rest. Without it the name table, and
    /// the work of every snapshot, would grow with every name ever seen instead of with the
    /// names of the last 30 days. O(entries held); returns how many series were forgotten.
    @discardableResult
    public mutating func compactNames() -> Int {
        var usedSeries = [Bool](repeating: false, count: names.seriesCount)
        fine.markKeys(in: &usedSeries)
        hour.markKeys(in: &usedSeries)
        raw.markSeries(in: &usedSeries)
        var usedModels = [Bool](repeating: false, count: names.models.count)
        minute.markKeys(in: &usedModels)
        // A model stays while a kept series uses it, even with nothing left in the minute tier.
        for (series, used) in usedSeries.enumerated() where used { usedModels[Int(names.modelOfSeries[series])] = true }
        let forgotten = usedSeries.count { !$0 }
        guard forgotten > 0 || usedModels.contains(false) else { return 0 }
        let (table, seriesMap, modelMap) = names.compacted(keepingSeries: usedSeries, models: usedModels)
        names = table
        namesGeneration += 1
        fine.renumberKeys(seriesMap)
        hour.renumberKeys(seriesMap)
        minute.renumberKeys(modelMap)
        raw.renumberSeries(seriesMap)
        return forgotten
    }

    /// Turns a stored raw update back into the wire form (its cost whole: the raw log does not
    /// keep the split by class).
    public func update(for usage: RawUsage) -> UsageUpdate {
        let name = names.series[Int(usage.series)]
        return UsageUpdate(
            timestamp: Timestamp(millisecondsSinceEpoch: usage.timestamp),
            tenantId: name.tenant,
            customerId: name.customer,
            model: name.model,
            calls: Int64(usage.calls),
            totalTokens: Int64(usage.totalTokens),
            inputTokens: usage.flags.contains(.hasInputTokens) ? Int64(usage.inputTokens) : nil,
            outputTokens: usage.flags.contains(.hasOutputTokens) ? Int64(usage.outputTokens) : nil,
            cacheReadTokens: usage.flags.contains(.hasCacheReadTokens) ? Int64(usage.cacheReadTokens) : nil,
            cacheWriteTokens: usage.flags.contains(.hasCacheWriteTokens) ? Int64(usage.cacheWriteTokens) : nil,
            reasoningTokens: usage.flags.contains(.hasReasoningTokens) ? Int64(usage.reasoningTokens) : nil,
            cost: .unattributed(Money(picodollars: Int128(usage.costPicodollars))),
            isPriced: !usage.flags.contains(.unpriced),
            avgLatencyMs: Double(usage.latencyCentiMs) / 100
        )
    }
}
