/// Additive totals of usage updates. Every field is an exact integer, so the counters of a
/// rollup bucket equal the sum over the raw updates it covers, to the micro-dollar.
public struct UsageCounters: Hashable, Sendable {
    public var updates: Int64 = 0
    public var calls: Int64 = 0
    public var totalTokens: Int64 = 0
    /// Input tokens of the updates that reported the split.
    public var inputTokens: Int64 = 0
    /// Output tokens of the updates that reported the split.
    public var outputTokens: Int64 = 0
    public var costMicros: Int64 = 0
    /// Σ (average latency in hundredths of a millisecond × calls): the mean latency per call is
    /// `latencyWeight / calls / 100` ms.
    public var latencyWeight: Int64 = 0
    /// Updates whose cost is unknown: their cost is not in `costMicros`.
    public var unpricedUpdates: Int64 = 0

    public init() {}

    public init(
        updates: Int64 = 0, calls: Int64 = 0, totalTokens: Int64 = 0, inputTokens: Int64 = 0,
        outputTokens: Int64 = 0, costMicros: Int64 = 0, latencyWeight: Int64 = 0, unpricedUpdates: Int64 = 0
    ) {
        self.updates = updates
        self.calls = calls
        self.totalTokens = totalTokens
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.costMicros = costMicros
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
        costMicros &+= other.costMicros
        latencyWeight &+= other.latencyWeight
        unpricedUpdates &+= other.unpricedUpdates
    }

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
    public var costMicros: Int64 = 0
    /// Updates whose cost is unknown: their cost is not in `costMicros`.
    public var unpricedUpdates: Int64 = 0

    public init() {}

    public init(_ counters: UsageCounters) {
        updates = counters.updates
        calls = counters.calls
        totalTokens = counters.totalTokens
        costMicros = counters.costMicros
        unpricedUpdates = counters.unpricedUpdates
    }

    @inlinable
    public mutating func add(_ other: SeriesCounters) {
        updates &+= other.updates
        calls &+= other.calls
        totalTokens &+= other.totalTokens
        costMicros &+= other.costMicros
        unpricedUpdates &+= other.unpricedUpdates
    }

    public var isEmpty: Bool { updates == 0 }
}
