/// Exact running totals of the usage this process accepted since it started, per tenant and
/// model: what `/metrics` exposes as Prometheus counters (never per customer, whose number is
/// unbounded). Counted once per update, at ingest; history restored from a journal and other
/// cluster nodes' updates are not counted here (they were counted by the process that took
/// them), so the counters of several processes add up.
///
/// Money stays exact (`Money`, picodollars); a reader converts a sum once, never the parts.
///
/// The number of tenant and model pairs is bounded by `maximumSeries`: usage of pairs past it
/// is counted in `overflow`, so a producer sending ever new names cannot grow this table (or a
/// Prometheus server's series) without limit.
public struct UsageTally: Sendable, Equatable {
    public struct Key: Hashable, Sendable {
        public var tenantId: String
        public var model: String

        public init(tenantId: String, model: String) {
            self.tenantId = tenantId
            self.model = model
        }
    }

    /// Totals of one tenant and model.
    public struct Totals: Sendable, Equatable {
        public var updates: Int64 = 0
        public var calls: Int64 = 0
        public var totalTokens: Int64 = 0
        public var inputTokens: Int64 = 0
        public var outputTokens: Int64 = 0
        /// Exact; unpriced updates add nothing (their cost is unknown, not zero).
        public var cost = Money.zero
        public var unpricedUpdates: Int64 = 0

        public init() {}

        mutating func add(_ update: UsageUpdate) {
            Self.add(1, to: &updates)
            Self.add(update.calls, to: &calls)
            Self.add(update.totalTokens, to: &totalTokens)
            Self.add(update.inputTokens ?? 0, to: &inputTokens)
            Self.add(update.outputTokens ?? 0, to: &outputTokens)
            // 128-bit picodollars: 1.7 × 10²⁰ updates at the most one may cost.
            if update.isPriced { cost += update.cost.total } else { Self.add(1, to: &unpricedUpdates) }
        }

        /// Stops at `Int64.max` (9.2 × 10¹⁸, two billion updates of the most calls one may
        /// report) instead of trapping: a counter that stays put is visible, a crash loses more.
        private static func add(_ amount: Int64, to total: inout Int64) {
            let (sum, overflow) = total.addingReportingOverflow(amount)
            total = overflow ? .max : sum
        }
    }

    /// The most tenant and model pairs kept apart.
    public let maximumSeries: Int
    public private(set) var series: [Key: Totals] = [:]
    /// Usage of pairs that came after `maximumSeries` pairs were kept.
    public private(set) var overflow = Totals()

    public init(maximumSeries: Int = 2000) {
        precondition(maximumSeries >= 0, "maximumSeries must not be negative")
        self.maximumSeries = maximumSeries
    }

    public mutating func add(_ update: UsageUpdate) {
        let key = Key(tenantId: update.tenantId, model: update.model)
        if series[key] != nil || series.count < maximumSeries {
            series[key, default: Totals()].add(update)
        } else {
            overflow.add(update)
        }
    }

    public mutating func add(_ updates: some Sequence<UsageUpdate>) {
        for update in updates { add(update) }
    }
}
