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

    @inlinable
    public mutating func add(_ other: CostBreakdown) {
        input += other.input
        cacheRead += other.cacheRead
        cacheWrite += other.cacheWrite
        output += other.output
        reasoning += other.reasoning
        callFees += other.callFees
        unattributed += other.unattributed
    }
}
