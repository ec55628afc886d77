/// Additive totals of usage updates. Every field is exact, so the counters of a rollup bucket
/// equal the sum over the raw updates it covers, to the picodollar.
///
/// Token counts are `Int64`: a bucket overflows them only past 2 × 10⁹ updates of the largest
/// count an update may report (4,294,967,295 tokens). Costs are `Money` (`Int128`
/// picodollars), split by `CostClass`.
public struct UsageCounters: Hashable, Sendable {
    public var updates: Int64 = 0
    public var calls: Int64 = 0
    public var totalTokens: Int64 = 0
    /// Input tokens of the updates that reported them (cache reads and writes included).
    public var inputTokens: Int64 = 0
    /// Output tokens of the updates that reported them (reasoning included).
    public var outputTokens: Int64 = 0
    /// Input tokens read from a cache: part of `inputTokens`.
    public var cacheReadTokens: Int64 = 0
    /// Input tokens written to a cache: part of `inputTokens`.
    public var cacheWriteTokens: Int64 = 0
    /// Reasoning tokens: part of `outputTokens`.
    public var reasoningTokens: Int64 = 0
    /// The cost of the priced updates, by class.
    public var cost = CostBreakdown()
    /// Σ (average latency in hundredths of a millisecond × calls): the mean latency per call is
    /// `latencyWeight / calls / 100` ms.
    public var latencyWeight: Int64 = 0
    /// Updates whose cost is unknown: their cost is not in `cost`.
    public var unpricedUpdates: Int64 = 0

    public init() {}

    public init(
        updates: Int64 = 0, calls: Int64 = 0, totalTokens: Int64 = 0, inputTokens: Int64 = 0, outputTokens: Int64 = 0,
        cacheReadTokens: Int64 = 0, cacheWriteTokens: Int64 = 0, reasoningTokens: Int64 = 0, cost: CostBreakdown = CostBreakdown(),
        latencyWeight: Int64 = 0, unpricedUpdates: Int64 = 0
    ) {
        self.updates = updates
        self.calls = calls
        self.totalTokens = totalTokens
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.cacheReadTokens = cacheReadTokens
        self.cacheWriteTokens = cacheWriteTokens
        self.reasoningTokens = reasoningTokens
        self.cost = cost
        self.latencyWeight = latencyWeight
        self.unpricedUpdates = unpricedUpdates
    }

    @inlinable
    public mutating func add(_ other: UsageCounters) {
        updates &+= other.updates
        calls &+= other.calls
        totalTokens &+= other.totalTokens
        inputTokens &+= other.inputTokens
        outputTokens &+= other.outputTokens
        cacheReadTokens &+= other.cacheReadTokens
        cacheWriteTokens &+= other.cacheWriteTokens
        reasoningTokens &+= other.reasoningTokens
        cost.add(other.cost)
        latencyWeight &+= other.latencyWeight
        unpricedUpdates &+= other.unpricedUpdates
    }

    /// The cost of the priced updates.
    public var totalCost: Money { cost.total }

    /// Mean latency per call in milliseconds, nil without calls.
    public var meanLatencyMs: Double? {
        calls > 0 ? Double(latencyWeight) / Double(calls) / 100 : nil
    }

    public var isEmpty: Bool { updates == 0 }
}

/// The part of the counters kept for each series (or model) in every bucket: what ranking and
/// the per-model breakdown need. Smaller than `UsageCounters`, which each bucket keeps whole
/// for its totals: 48 bytes. The cost is a 128-bit sum kept as two 64-bit words, so the
/// entries keep 8-byte alignment (an `Int128` field would pad them to 64 bytes) and the sums in
/// the snapshot's hottest loop stay plain adds with a carry.
public struct SeriesCounters: Hashable, Sendable {
    public var updates: Int64 = 0
    public var calls: Int64 = 0
    public var totalTokens: Int64 = 0
    /// Updates whose cost is unknown: their cost is not in `cost`.
    public var unpricedUpdates: Int64 = 0
    @usableFromInline var costLow: UInt64 = 0
    @usableFromInline var costHigh: Int64 = 0

    public init() {}

    public init(_ counters: UsageCounters) {
        updates = counters.updates
        calls = counters.calls
        totalTokens = counters.totalTokens
        cost = counters.totalCost
        unpricedUpdates = counters.unpricedUpdates
    }

    /// The cost of the priced updates.
    public var cost: Money {
        get { Money(picodollars: Int128(costHigh) << 64 | Int128(costLow)) }
        set {
            costLow = UInt64(truncatingIfNeeded: newValue.picodollars)
            costHigh = Int64(truncatingIfNeeded: newValue.picodollars >> 64)
        }
    }

    /// Adds one bucket's entry for a key.
    @inlinable
    mutating func add(_ entry: RollupEntry) {
        updates &+= Int64(entry.updates)
        calls &+= entry.calls
        totalTokens &+= entry.totalTokens
        unpricedUpdates &+= Int64(entry.unpricedUpdates)
        let (low, carry) = costLow.addingReportingOverflow(entry.costLow)
        costLow = low
        costHigh &+= entry.costHigh &+ (carry ? 1 : 0)
    }

    @inlinable
    public mutating func add(_ other: SeriesCounters) {
        updates &+= other.updates
        calls &+= other.calls
        totalTokens &+= other.totalTokens
        unpricedUpdates &+= other.unpricedUpdates
        let (low, carry) = costLow.addingReportingOverflow(other.costLow)
        costLow = low
        costHigh &+= other.costHigh &+ (carry ? 1 : 0)
    }

    public var isEmpty: Bool { updates == 0 }
}

/// What a rollup bucket keeps for one key (a series or a model): `SeriesCounters` packed into
/// 40 bytes, the unit of the rollups' memory and of the snapshot's hottest loop, which reads
/// every entry of the rolling hour. The update counts are 32-bit: one key's bucket counts at
/// most 4,294,967,295 updates (in the 1-hour tier, 1.19 million updates a second of a single
/// series for the whole hour, several times what the whole store ingests on the reference
/// machine); the snapshot sums entries into 64-bit `SeriesCounters`.
@usableFromInline
struct RollupEntry: Hashable, Sendable {
    @usableFromInline var calls: Int64 = 0
    @usableFromInline var totalTokens: Int64 = 0
    @usableFromInline var costLow: UInt64 = 0
    @usableFromInline var costHigh: Int64 = 0
    @usableFromInline var updates: UInt32 = 0
    @usableFromInline var unpricedUpdates: UInt32 = 0

    init() {}

    init(_ counters: SeriesCounters) {
        calls = counters.calls
        totalTokens = counters.totalTokens
        costLow = counters.costLow
        costHigh = counters.costHigh
        updates = UInt32(truncatingIfNeeded: counters.updates)
        unpricedUpdates = UInt32(truncatingIfNeeded: counters.unpricedUpdates)
    }

    @inlinable
    mutating func add(_ other: RollupEntry) {
        updates &+= other.updates
        calls &+= other.calls
        totalTokens &+= other.totalTokens
        unpricedUpdates &+= other.unpricedUpdates
        let (low, carry) = costLow.addingReportingOverflow(other.costLow)
        costLow = low
        costHigh &+= other.costHigh &+ (carry ? 1 : 0)
    }
}
