/// One usage update in the reference wire format:
///
/// ```json
/// {"timestamp": "2026-11-29T14:05:00.123Z", "tenantId": "acme", "customerId": "cust-017",
///  "model": "gpt-4", "metrics": {"totalCalls": 12, "totalTokens": 24000, "totalCost": 1.008,
///  "avgLatencyMs": 812.5, "inputTokens": 14400, "outputTokens": 9600}}
/// ```
///
/// Cost is held in micro-dollars; the JSON edge converts from and to dollars. An update whose
/// cost is unknown (no `totalCost` and no price for its model) is *unpriced*: it counts in
/// calls and tokens, its cost is 0, and it is shown as unpriced, never as $0.
public struct UsageUpdate: Hashable, Sendable {
    public var timestamp: Timestamp
    public var tenantId: String
    public var customerId: String
    public var model: String
    public var calls: Int64
    public var totalTokens: Int64
    /// Optional extension of the wire format.
    public var inputTokens: Int64?
    /// Optional extension of the wire format.
    public var outputTokens: Int64?
    public var costMicros: Int64
    /// False when the cost is unknown; `costMicros` is then 0.
    public var isPriced: Bool
    public var avgLatencyMs: Double
    /// The producer's id for this update (optional extension): an id seen in the last 24 hours
    /// is counted once. Not kept in the in-memory raw log.
    public var eventId: String?

    /// The most one update may cost: $1,000,000, in micro-dollars.
    ///
    /// Money is held in `Int64` micro-dollars, which hold about $9.2 trillion. The cap keeps
    /// every sum the store forms exact: a batch (at most 10,000 updates) costs at most
    /// $10 billion, and the totals it keeps (30 days at most, per bucket and per series) stay
    /// exact as long as 30 days of spend stay below $9.2 trillion, that is 9.2 million updates at
    /// the cap, or 3,500 updates a second for 30 days at $1,000 each. The wire format's
    /// `metrics.totalCost` is refused above it (422), and so is a cost priced from the table.
    public static let maximumCostMicros: Int64 = 1_000_000 * Money.microsPerDollar

    public init(
        timestamp: Timestamp, tenantId: String, customerId: String, model: String,
        calls: Int64, totalTokens: Int64, inputTokens: Int64? = nil, outputTokens: Int64? = nil,
        costMicros: Int64, isPriced: Bool = true, avgLatencyMs: Double, eventId: String? = nil
    ) {
        self.timestamp = timestamp
        self.tenantId = tenantId
        self.customerId = customerId
        self.model = model
        self.calls = calls
        self.totalTokens = totalTokens
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.costMicros = costMicros
        self.isPriced = isPriced
        self.avgLatencyMs = avgLatencyMs
        self.eventId = eventId
    }
}
