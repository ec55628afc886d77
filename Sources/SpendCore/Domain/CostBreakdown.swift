/// What a cost is made of, by the kind of usage it pays for.
///
/// A cost priced from the price table is split by token class (and the per-call fee); a cost
/// the producer reported (`metrics.totalCost`) cannot be split and is `unattributed`, as are
/// costs carried over from a data folder written before token classes existed.
public enum CostClass: String, CaseIterable, Hashable, Sendable {
    /// Input tokens not served from or written to a cache.
    case input
    /// Input tokens served from the provider's cache (`gen_ai.usage.cache_read.input_tokens`).
    case cacheRead
    /// Input tokens written to the provider's cache (`gen_ai.usage.cache_creation.input_tokens`).
    case cacheWrite
    /// Output tokens other than reasoning tokens.
    case output
    /// Reasoning output tokens (`gen_ai.usage.reasoning.output_tokens`).
    case reasoning
    /// The price table's fee per call.
    case callFees
    /// A total the producer reported, or one stored before costs had classes.
    case unattributed
}

/// A cost by `CostClass`: an update's, or a sum of them. Every part is exact, and `total` is
/// their sum.
public struct CostBreakdown: Hashable, Sendable {
    public var input = Money.zero
    public var cacheRead = Money.zero
    public var cacheWrite = Money.zero
    public var output = Money.zero
    public var reasoning = Money.zero
    public var callFees = Money.zero
    public var unattributed = Money.zero

    public init() {}

    /// A cost that cannot be split: a producer's `totalCost`.
    public static func unattributed(_ amount: Money) -> CostBreakdown {
        var cost = CostBreakdown()
        cost.unattributed = amount
        return cost
    }

    public var total: Money {
        Money(
            picodollars: input.picodollars + cacheRead.picodollars + cacheWrite.picodollars + output.picodollars
                + reasoning.picodollars + callFees.picodollars + unattributed.picodollars)
    }

    /// Whether this can be one update's cost: no part negative, the total at most
    /// `UsageUpdate.maximumCost` (so the total and every part fit an `Int64` of picodollars).
    public var isOneUpdatesCost: Bool {
        let range = 0...UsageUpdate.maximumCost.picodollars
        // Each part in range first, so that their sum cannot overflow.
        return range.contains(input.picodollars) && range.contains(cacheRead.picodollars) && range.contains(cacheWrite.picodollars)
            && range.contains(output.picodollars) && range.contains(reasoning.picodollars) && range.contains(callFees.picodollars)
            && range.contains(unattributed.picodollars) && range.contains(total.picodollars)
    }

    public subscript(costClass: CostClass) -> Money {
        get {
            switch costClass {
            case .input: input
            case .cacheRead: cacheRead
            case .cacheWrite: cacheWrite
            case .output: output
            case .reasoning: reasoning
            case .callFees: callFees
            case .unattributed: unattributed
            }
        }
        set {
            switch costClass {
            case .input: input = newValue
            case .cacheRead: cacheRead = newValue
            case .cacheWrite: cacheWrite = newValue
            case .output: output = newValue
            case .reasoning: reasoning = newValue
            case .callFees: callFees = newValue
            case .unattributed: unattributed = newValue
            }
        }
    }

    /// Adds `other` part by part. Wrapping, like the other counters' sums: a sum of `Int128`
    /// picodollars cannot reach its limit in any store (1.7 × 10²⁶ dollars).
    @inlinable
    public mutating func add(_ other: CostBreakdown) {
        input.picodollars &+= other.input.picodollars
        cacheRead.picodollars &+= other.cacheRead.picodollars
        cacheWrite.picodollars &+= other.cacheWrite.picodollars
        output.picodollars &+= other.output.picodollars
        reasoning.picodollars &+= other.reasoning.picodollars
        callFees.picodollars &+= other.callFees.picodollars
        unattributed.picodollars &+= other.unattributed.picodollars
    }

    /// Every part times `factor`, exactly.
    public func multiplied(by factor: Int64) -> CostBreakdown {
        var result = CostBreakdown()
        for costClass in CostClass.allCases {
            result[costClass] = Money(picodollars: self[costClass].picodollars * Int128(factor))
        }
        return result
    }
}
