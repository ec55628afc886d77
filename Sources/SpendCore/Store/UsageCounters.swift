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
/// for its totals.
public struct SeriesCounters: Hashable, Sendable {
    public var updates: Int64 = 0
    public var calls: Int64 = 0
    public var totalTokens: Int64 = 0
    public var cost = Money.zero
    /// Updates whose cost is unknown: their cost is not in `cost`.
    public var unpricedUpdates: Int64 = 0

    public init() {}

    public init(_ counters: UsageCounters) {
        updates = counters.updates
        calls = counters.calls
        totalTokens = counters.totalTokens
        cost = counters.totalCost
        unpricedUpdates = counters.unpricedUpdates
    }

    @inlinable
    public mutating func add(_ other: SeriesCounters) {
        updates &+= other.updates
        calls &+= other.calls
        totalTokens &+= other.totalTokens
        cost += other.cost
        unpricedUpdates &+= other.unpricedUpdates
    }

    public var isEmpty: Bool { updates == 0 }
}
