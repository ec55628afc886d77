import Testing

@testable import SpendCore

/// `metrics.totalCost` must fit what the store keeps: at most `UsageUpdate.maximumCost`
/// ($1,000,000) per update and 12 decimal places, the same rule on the fast path and the
/// general path, read from the number's text.
struct CostLimitTests {
    let now = UsageBatchDecoderTests.now
    let decoder = UsageBatchDecoder()

    static let hugeInteger = "1" + String(repeating: "0", count: 300)

    /// A total cost and the picodollars it is stored as, nil when it must be refused.
    @Test(
        arguments: [
            ("9e9", nil),
            ("9000000000", nil),
            ("1e300", nil),
            (hugeInteger, nil),
            ("10000000000000000000", nil),
            ("1000000.000001", nil),
            ("1000001", nil),
            ("1000000.000000000001", nil),
            ("0.0000000000001", nil),
            ("-1", nil),
            ("1000000", 1_000_000_000_000_000_000),
            ("1e6", 1_000_000_000_000_000_000),
            ("999999.999999999999", 999_999_999_999_999_999),
            ("0.000045", 45_000_000),
            ("1.5e-7", 150_000),
            ("0.30000000000000000000", 300_000_000_000),
            ("0", 0),
            ("-0", 0),
        ] as [(String, Int64?)])
    func totalCostIsAtMostAMillionDollarsOnBothPaths(text: String, picodollars: Int64?) throws {
        let bytes = Array(UsageBatchDecoderTests.item(metrics: ["totalCost": text]).utf8)
        let general = Result { () throws(UsageBatchDecoder.Failure) in try decoder.decodeGeneral(bytes, format: .ndjson, now: now) }
        let fast = decoder.decodeFast(bytes, format: .ndjson, now: now)
        let decoded = Result { () throws(UsageBatchDecoder.Failure) in try decoder.decode(bytes, format: .ndjson, now: now) }
        if let picodollars {
            let update = try #require(try general.get().first)
            #expect(update.cost == .unattributed(Money(picodollars: Int128(picodollars))))
            #expect(update.isPriced)
            if !text.hasPrefix("-") {
                #expect(fast == [update], "a number in range takes the fast path")
            }
            #expect(try decoded.get() == [update])
        } else {
            #expect(fast == nil, "the fast path steps aside for \(text)")
            let field = "metrics.totalCost"
            for result in [general, decoded] {
                guard case .failure(.invalid(let problems)) = result else {
                    Issue.record("accepted totalCost \(text): \(result)")
                    continue
                }
                #expect(problems.count == 1)
                #expect(problems.first?.field == field)
                #expect(problems.first?.rule.contains("at most 12 decimal places, at most 1000000") == true, "\(problems.first?.rule ?? "")")
            }
        }
    }

    /// A latency with too many digits for the fast path's integer is refused, not a crash.
    @Test func aLatencyWithHundredsOfDigitsIsRefusedOnBothPaths() {
        let bytes = Array(UsageBatchDecoderTests.item(metrics: ["avgLatencyMs": Self.hugeInteger]).utf8)
        #expect(decoder.decodeFast(bytes, format: .ndjson, now: now) == nil)
        #expect(throws: UsageBatchDecoder.Failure.self) { try decoder.decode(bytes, format: .ndjson, now: now) }
    }

    /// An update priced from the table must fit as well: a large price times many tokens is a
    /// 422 naming the cost, never a wrapped-around or trapping multiplication.
    @Test(arguments: [1_000, 10_000, 1_000_000_000])
    func aPricedCostAboveTheLimitIsRefused(dollarsPer1K: Int) throws {
        let table = try PriceTable.parse(
            Array(
                """
                {"prices": [{"model": "gpt-4", "effectiveFrom": "2020-01-01T00:00:00Z", "inputPer1K": \(dollarsPer1K), "outputPer1K": \(dollarsPer1K)}]}
                """.utf8))
        let decoder = UsageBatchDecoder(prices: table)
        let item = UsageBatchDecoderTests.item(
            metrics: ["totalTokens": "4000000000", "inputTokens": "3000000000", "outputTokens": "1000000000"], drop: ["totalCost"]
        )
        let bytes = Array(item.utf8)
        #expect(decoder.decodeFast(bytes, format: .ndjson, now: now) == nil)
        do {
            let updates = try decoder.decode(bytes, format: .ndjson, now: now)
            Issue.record("accepted a priced cost of \(updates.first?.cost.total ?? .zero)")
        } catch {
            guard case .invalid(let problems) = error else {
                Issue.record("expected invalid, got \(error)")
                return
            }
            #expect(problems.map(\.field) == ["metrics.totalCost"])
            #expect(problems.first?.rule.contains("at most 1000000") == true, "\(problems.first?.rule ?? "")")
        }
        // The same tokens at a modest price are fine, on both paths.
        let cheap = UsageBatchDecoder()
        let update = try #require(try cheap.decode(bytes, format: .ndjson, now: now).first)
        #expect(update.cost.total == Money(dollars: 150_000))  // 3e9 × $30/M + 1e9 × $60/M
        #expect(cheap.decodeFast(bytes, format: .ndjson, now: now) == [update])
    }

    /// The ledger refuses what does not fit, whatever its source.
    @Test func theLedgerRefusesACostAboveTheLimit() {
        var ledger = UsageLedger()
        let base = UsageUpdate(
            timestamp: now, tenantId: "t", customerId: "c", model: "m", calls: 1, totalTokens: 1, cost: UsageUpdate.maximumCost,
            avgLatencyMs: 1
        )
        var above = base
        above.cost.unattributed += Money(picodollars: 1)
        let result = ledger.ingest([base, above], now: now)
        #expect(result.accepted == 1)
        #expect(result.rejected == [.outOfRange(field: "totalCost"): 1])
    }
}
