import Testing

@testable import SpendCore

/// The latency weight of an update (average latency × calls) is summed exactly in `Int64`: an
/// update whose weight alone does not fit is refused (422 naming `metrics.avgLatencyMs`), not a
/// crash of the process.
struct LatencyWeightTests {
    let now = UsageBatchDecoderTests.now

    static let worst = ["totalCalls": "4294967295", "avgLatencyMs": "42949672.95"]

    @Test func theDecoderRefusesAWeightThatDoesNotFitOnBothPaths() {
        let bytes = Array(UsageBatchDecoderTests.item(metrics: Self.worst).utf8)
        let decoder = UsageBatchDecoder()
        #expect(decoder.decodeFast(bytes, format: .ndjson, now: now) == nil)
        do {
            _ = try decoder.decode(bytes, format: .ndjson, now: now)
            Issue.record("accepted a latency weight above Int64")
        } catch {
            guard case .invalid(let problems) = error else {
                Issue.record("expected invalid, got \(error)")
                return
            }
            #expect(problems.map(\.field) == ["metrics.avgLatencyMs"])
            #expect(problems.first?.rule.contains("times metrics.totalCalls") == true, "\(problems.first?.rule ?? "")")
        }
    }

    @Test func theLargestWeightThatFitsIsAccepted() throws {
        // 2,147,483,647 calls at 42,949,672.95 ms: (2^31 − 1) × (2^32 − 1) centi-ms < 2^63.
        let bytes = Array(UsageBatchDecoderTests.item(metrics: ["totalCalls": "2147483647", "avgLatencyMs": "42949672.95"]).utf8)
        let decoder = UsageBatchDecoder()
        let update = try #require(try decoder.decode(bytes, format: .ndjson, now: now).first)
        #expect(decoder.decodeFast(bytes, format: .ndjson, now: now) == [update])
        var ledger = UsageLedger()
        #expect(ledger.ingest([update], now: now).accepted == 1)
        let mean = try #require(ledger.snapshot(at: now.advanced(by: .seconds(120))).hour.meanLatencyMs)
        #expect(abs(mean - 42949672.95) < 0.01)
    }

    @Test func theLedgerRefusesItWhateverTheSource() {
        var ledger = UsageLedger()
        let update = UsageUpdate(
            timestamp: now, tenantId: "t", customerId: "c", model: "m", calls: Int64(UInt32.max), totalTokens: 1, cost: Money(micros: 1),
            avgLatencyMs: RawUsage.maximumLatencyMs
        )
        let result = ledger.ingest([update], now: now)
        #expect(result.rejected == [.outOfRange(field: "avgLatencyMs"): 1])
        #expect(ledger.status.totalAccepted == 0)
    }
}

/// An update without `totalCost` is priced from the table only when both sides of the split are
/// known: a missing side is unknown, not zero tokens, so pricing it as zero would understate the
/// cost and show it as priced.
struct PricingSplitTests {
    let now = UsageBatchDecoderTests.now

    @Test(arguments: [["inputTokens": "600"], ["outputTokens": "400"]])
    func oneSideOfTheSplitLeavesTheUpdateUnpriced(split: [String: String]) throws {
        let bytes = Array(UsageBatchDecoderTests.item(metrics: split, drop: ["totalCost"]).utf8)
        let decoder = UsageBatchDecoder()
        let update = try #require(try decoder.decode(bytes, format: .ndjson, now: now).first)
        #expect(!update.isPriced)
        #expect(update.cost == CostBreakdown())
        #expect(decoder.decodeFast(bytes, format: .ndjson, now: now) == [update])
    }

    @Test func bothSidesArePriced() throws {
        let bytes = Array(UsageBatchDecoderTests.item(metrics: ["inputTokens": "600", "outputTokens": "400"], drop: ["totalCost"]).utf8)
        let update = try #require(try UsageBatchDecoder().decode(bytes, format: .ndjson, now: now).first)
        #expect(update.isPriced)
        #expect(update.cost.total == Money(micros: 42_000))  // 600 × $30/M + 400 × $60/M
    }
}

/// With `storeRules` (as `spendboard import` sets it) what the store would refuse is a broken
/// rule of its line, whatever the decoder's own limits allow.
struct StoreRulesTests {
    let now = UsageBatchDecoderTests.now

    @Test func anUpdateTheStoreRefusesIsABadLine() throws {
        var decoder = UsageBatchDecoder(retention: .seconds(40 * 86_400))
        let old = UsageBatchDecoderTests.item(["timestamp": "\"2026-10-25T00:00:00Z\""])  // 35 days before now
        let text = [UsageBatchDecoderTests.item(), "", old, UsageBatchDecoderTests.item()].joined(separator: "\n")
        #expect(try UsageFileReader.read(Array(text.utf8), decoder: decoder, now: now).count == 3, "the decoder alone takes it")

        decoder.storeRules = UsageLedger.Configuration()
        #expect(decoder.decodeFast(Array(old.utf8), format: .ndjson, now: now) == nil)
        #expect {
            try UsageFileReader.read(Array(text.utf8), decoder: decoder, now: now)
        } throws: { error in
            "\(error)" == "line 3: timestamp is refused by the store: timestamp is older than the retention of every rollup tier"
        }
        #expect(throws: UsageBatchDecoder.Failure.self) {
            try decoder.decode(Array(("[" + old + "]").utf8), format: .json, now: now)
        }
        // What the store takes passes, on the fast path too.
        let good = Array(UsageBatchDecoderTests.item().utf8)
        #expect(decoder.decodeFast(good, format: .ndjson, now: now)?.count == 1)
    }
}
