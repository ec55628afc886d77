/// One usage update in the reference wire format, with the optional token classes:
///
/// ```json
/// {"timestamp": "2026-11-29T14:05:00.123Z", "tenantId": "acme", "customerId": "cust-017",
///  "model": "gpt-4", "metrics": {"totalCalls": 12, "totalTokens": 24000, "totalCost": 1.008,
///  "avgLatencyMs": 812.5, "inputTokens": 14400, "outputTokens": 9600}}
/// ```
///
/// Token classes follow the OpenTelemetry GenAI usage attributes: `inputTokens` counts every
/// input token, those read from and written to a cache included; `outputTokens` counts every
/// output token, reasoning tokens included. The cost is exact (`Money`) and split by class
/// when it was priced from the price table. An update whose cost is unknown (no `totalCost`
/// and no price for its model) is *unpriced*: it counts in calls and tokens, its cost is 0, and
/// it is shown as unpriced, never as $0.
public struct UsageUpdate: Hashable, Sendable {
    public var timestamp: Timestamp
    public var tenantId: String
    public var customerId: String
    public var model: String
    public var calls: Int64
    public var totalTokens: Int64
    /// All input tokens (`gen_ai.usage.input_tokens`), cached ones included; nil when not reported.
    public var inputTokens: Int64?
    /// All output tokens (`gen_ai.usage.output_tokens`), reasoning included; nil when not reported.
    public var outputTokens: Int64?
    /// Input tokens read from a cache (`gen_ai.usage.cache_read.input_tokens`), part of `inputTokens`.
    public var cacheReadTokens: Int64?
    /// Input tokens written to a cache (`gen_ai.usage.cache_creation.input_tokens`), part of `inputTokens`.
    public var cacheWriteTokens: Int64?
    /// Reasoning tokens (`gen_ai.usage.reasoning.output_tokens`), part of `outputTokens`.
    public var reasoningTokens: Int64?
    /// Zero when unpriced.
    public var cost: CostBreakdown
    /// False when the cost is unknown; `cost` is then zero.
    public var isPriced: Bool
    public var avgLatencyMs: Double
    /// The producer's id for this update (optional extension): an id seen in the last 24 hours
    /// is counted once. Not kept in the in-memory raw log.
    public var eventId: String?

    /// The most one update may cost: $1,000,000.
    ///
    /// It keeps one update's cost, and each of its classes, within an `Int64` of picodollars
    /// (the raw log and the journal's rows hold them so), and every sum exact: sums are
    /// `Int128` picodollars (see `Money`). The wire format's `metrics.totalCost` is refused
    /// above it (422), and so is a cost priced from the table.
    public static let maximumCost = Money(dollars: 1_000_000)

    public init(
        timestamp: Timestamp, tenantId: String, customerId: String, model: String,
        calls: Int64, totalTokens: Int64, inputTokens: Int64? = nil, outputTokens: Int64? = nil,
        cacheReadTokens: Int64? = nil, cacheWriteTokens: Int64? = nil, reasoningTokens: Int64? = nil,
        cost: CostBreakdown, isPriced: Bool = true, avgLatencyMs: Double, eventId: String? = nil
    ) {
        self.timestamp = timestamp
        self.tenantId = tenantId
        self.customerId = customerId
        self.model = model
        self.calls = calls
        self.totalTokens = totalTokens
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.cacheReadTokens = cacheReadTokens
        self.cacheWriteTokens = cacheWriteTokens
        self.reasoningTokens = reasoningTokens
        self.cost = cost
        self.isPriced = isPriced
        self.avgLatencyMs = avgLatencyMs
        self.eventId = eventId
    }

    /// An update with a cost that cannot be split (`totalCost`), as tests and importers write it.
    public init(
        timestamp: Timestamp, tenantId: String, customerId: String, model: String,
        calls: Int64, totalTokens: Int64, inputTokens: Int64? = nil, outputTokens: Int64? = nil,
        cost: Money, isPriced: Bool = true, avgLatencyMs: Double, eventId: String? = nil
    ) {
        self.init(
            timestamp: timestamp, tenantId: tenantId, customerId: customerId, model: model, calls: calls, totalTokens: totalTokens,
            inputTokens: inputTokens, outputTokens: outputTokens, cost: .unattributed(cost), isPriced: isPriced,
            avgLatencyMs: avgLatencyMs, eventId: eventId)
    }

    /// The first rule the token classes break, as (field, rule), or nil when they are
    /// consistent: cache reads and writes together at most the input tokens, reasoning tokens at
    /// most the output tokens (each needs the count it is part of), and input plus output at
    /// most `totalTokens`.
    public var tokenClassProblem: (field: String, rule: String)? {
        let cached = (cacheReadTokens ?? 0) + (cacheWriteTokens ?? 0)
        if cacheReadTokens != nil || cacheWriteTokens != nil {
            guard let input = inputTokens else {
                let field = cacheReadTokens != nil ? "metrics.cacheReadInputTokens" : "metrics.cacheCreationInputTokens"
                return (field, "needs metrics.inputTokens, which counts cached input tokens too")
            }
            guard cached <= input else {
                return (
                    "metrics.cacheReadInputTokens",
                    "plus metrics.cacheCreationInputTokens must not exceed metrics.inputTokens, which includes them (\(cacheReadTokens ?? 0) + \(cacheWriteTokens ?? 0) > \(input))"
                )
            }
        }
        if let reasoning = reasoningTokens {
            guard let output = outputTokens else {
                return ("metrics.reasoningOutputTokens", "needs metrics.outputTokens, which counts reasoning tokens too")
            }
            guard reasoning <= output else {
                return (
                    "metrics.reasoningOutputTokens", "must not exceed metrics.outputTokens, which includes them (\(reasoning) > \(output))"
                )
            }
        }
        if (inputTokens ?? 0) + (outputTokens ?? 0) > totalTokens {
            return (
                "metrics.inputTokens",
                "plus metrics.outputTokens must not exceed metrics.totalTokens (\(inputTokens ?? 0) + \(outputTokens ?? 0) > \(totalTokens))"
            )
        }
        return nil
    }
}
