/// Everything the dashboard shows at one instant, computed once per tick from rollups.
///
/// The page, every embedded SVG, `stats.json` and `/api/stats` are rendered from the same
/// immutable value and carry the same `generatedAt`, so they can never disagree.
public struct Snapshot: Sendable {
    /// A customer's usage in the rolling hour, with its rank (1 = highest spend).
    public struct CustomerSpend: Hashable, Sendable {
        public var rank: Int
        public var tenantId: String
        public var customerId: String
        public var usage: SeriesCounters
        /// This customer's share of the hour's spend, 0...1.
        public var share: Double
    }

    /// A model's usage in the rolling hour.
    public struct ModelSpend: Hashable, Sendable {
        public var model: String
        public var usage: SeriesCounters
        public var share: Double
    }

    /// Tokens of one 5-second bucket.
    public struct TokenPoint: Hashable, Sendable {
        public var start: Timestamp
        /// All input tokens (cache reads and writes included) of the updates that reported them.
        public var inputTokens: Int64
        /// All output tokens (reasoning included) of the updates that reported them.
        public var outputTokens: Int64
        public var cacheReadTokens: Int64
        public var cacheWriteTokens: Int64
        public var reasoningTokens: Int64
        /// All tokens, including those of updates that did not report the input/output split.
        public var totalTokens: Int64

        public init(start: Timestamp, _ totals: UsageCounters) {
            self.init(
                start: start, inputTokens: totals.inputTokens, outputTokens: totals.outputTokens, cacheReadTokens: totals.cacheReadTokens,
                cacheWriteTokens: totals.cacheWriteTokens, reasoningTokens: totals.reasoningTokens, totalTokens: totals.totalTokens)
        }

        init(
            start: Timestamp, inputTokens: Int64, outputTokens: Int64, cacheReadTokens: Int64, cacheWriteTokens: Int64, reasoningTokens: Int64,
            totalTokens: Int64
        ) {
            self.start = start
            self.inputTokens = inputTokens
            self.outputTokens = outputTokens
            self.cacheReadTokens = cacheReadTokens
            self.cacheWriteTokens = cacheWriteTokens
            self.reasoningTokens = reasoningTokens
            self.totalTokens = totalTokens
        }
    }

    /// Spend of one clock hour (UTC).
    public struct HourSpend: Hashable, Sendable {
        public var start: Timestamp
        public var cost: Money
        public var calls: Int64
        /// The hour has not ended yet at `generatedAt`.
        public var isPartial: Bool
    }

    public var generatedAt: Timestamp
    /// The rolling hour: the 720 complete 5-second buckets before `generatedAt`.
    public var windowStart: Timestamp
    public var windowEnd: Timestamp
    /// Totals over the rolling hour.
    public var hour: UsageCounters
    /// Spend rate per hour: the rolling hour's cost.
    public var spendRatePerHour: Money { hour.totalCost }
    /// Models by rolling-hour cost, highest first.
    public var costByModel: [ModelSpend]
    /// Every customer seen in the rolling hour, ranked by spend (ties by calls, then name).
    public var customers: [CustomerSpend]
    /// The last 5 minutes in 5-second buckets: 60 points, oldest first, zero-filled.
    public var tokenUsage: [TokenPoint]
    /// The last 24 clock hours, oldest first; the last one is the current, partial hour.
    public var spendPerHour: [HourSpend]
    /// Totals over the last complete minute (12 buckets of 5 s).
    public var lastMinute: UsageCounters

    /// The live windows (`TimeWindow.all`), each over its own range; empty when the snapshot
    /// was made without them.
    public var windows: [WindowReport] = []

    /// The anomaly panel: open incidents by impact, then those resolved in the last 24 hours
    /// (`AnomalyDetector.panel(at:)`), as they were at `generatedAt`.
    public var anomalies: [Incident] = []

    /// The report of one live window, if the snapshot has it.
    public func window(_ window: TimeWindow) -> WindowReport? { windows.first { $0.window == window } }

    public var callsPerSecond: Double { Double(lastMinute.calls) / 60 }
    public var updatesPerSecond: Double { Double(lastMinute.updates) / 60 }
    /// Mean latency per call over the last minute, nil without calls.
    public var meanLatencyMs: Double? { lastMinute.meanLatencyMs }

    public init(
        generatedAt: Timestamp, windowStart: Timestamp, windowEnd: Timestamp, hour: UsageCounters,
        costByModel: [ModelSpend], customers: [CustomerSpend], tokenUsage: [TokenPoint],
        spendPerHour: [HourSpend], lastMinute: UsageCounters
    ) {
        self.generatedAt = generatedAt
        self.windowStart = windowStart
        self.windowEnd = windowEnd
        self.hour = hour
        self.costByModel = costByModel
        self.customers = customers
        self.tokenUsage = tokenUsage
        self.spendPerHour = spendPerHour
        self.lastMinute = lastMinute
    }
}
