import Foundation
import Testing

@testable import SpendCore

struct MoneyTests {
    @Test(arguments: [
        (Int128(0), "0"), (1, "0.000000000001"), (45_000_000, "0.000045"), (1_500_000_000_000, "1.5"),
        (123_456_789_012_345, "123.456789012345"), (-2_500_000_000_000, "-2.5"), (78_000_000_000_000_000, "78000"),
    ])
    func decimalTextIsExact(picodollars: Int128, text: String) {
        #expect(Money(picodollars: picodollars).decimalText == text)
        #expect(Money(decimal: text) == Money(picodollars: picodollars) || picodollars < 0)
    }

    @Test(arguments: [
        (Int128(78_123_450_000_000_000), "$78,123.45"), (4_200_000_000, "$0.0042"), (0, "$0.00"),
        (999_995_000_000, "$1.00"), (45_000_000, "$0.000045"), (450_000, "$0.000000450"), (7, "$0.000000000007"),
        (10_000_000_000, "$0.01"),
    ])
    func formatsForPeople(picodollars: Int128, text: String) {
        #expect(Money(picodollars: picodollars).formatted() == text)
    }

    @Test func headlinesKeepSmallAmountsVisible() {
        #expect(Money(dollars: 2_454).headline == "$2,454")
        #expect(Money(micros: 99_990_000).headline == "$99.99")
        #expect(Money(micros: 400_000).headline == "$0.40")
        #expect(Money(picodollars: 45_000_000).headline == "$0.000045")
    }

    @Test(arguments: [
        ("0", 12, Result<Int128, ExactDecimal.Failure>.success(0)),
        ("0.0375", 6, .success(37_500)),
        ("1.5e-7", 12, .success(150_000)),
        ("9E9", 0, .success(9_000_000_000)),
        ("2.50000", 1, .success(25)),
        ("-0.0", 3, .success(0)),
        ("0.0000001", 6, .failure(.tooPrecise)),
        ("-1", 6, .failure(.negative)),
        ("1e400", 0, .failure(.tooLarge)),
        ("1e-400", 12, .failure(.tooPrecise)),
        ("0e999999999", 12, .success(0)),
        ("01", 0, .failure(.notANumber)),
        ("1.", 0, .failure(.notANumber)),
        (".5", 0, .failure(.notANumber)),
        ("1e", 0, .failure(.notANumber)),
        ("0x10", 0, .failure(.notANumber)),
        ("", 0, .failure(.notANumber)),
    ])
    func decimalsAreReadFromTheirText(text: String, places: Int, expected: Result<Int128, ExactDecimal.Failure>) {
        #expect(ExactDecimal.scaled(text, places: places) == expected, "\(text)")
    }

    /// The examples of the issue: each priced call costs exactly its price, where the reference
    /// rounded to 4 decimal places of a dollar.
    @Test(arguments: [
        ("0.5", Int64(100), "0.00005"),  // $0.0005 per 1,000 tokens: the reference booked $0.0001
        ("0.15", 1_000, "0.00015"),  // the reference booked $0.0002
        ("0.15", 300, "0.000045"),  // the reference booked $0
        ("0.0375", 1, "0.0000000375"),  // a cached-input price, exact
    ])
    func aPricedCallCostsExactlyItsPrice(perMillion: String, tokens: Int64, dollars: String) throws {
        let price = try TokenPrice.perMillion(perMillion).get()
        let model = ModelPrice(model: "m", input: price, output: price)
        let update = UsageUpdate(
            timestamp: UsageBatchDecoderTests.now, tenantId: "t", customerId: "c", model: "m", calls: 1, totalTokens: tokens,
            inputTokens: tokens, outputTokens: 0, cost: CostBreakdown(), avgLatencyMs: 1)
        let cost = try #require(model.cost(of: update))
        #expect(cost.total.decimalText == dollars)
        #expect(cost.input.decimalText == dollars)
        #expect(price.perMillionText == perMillion)
    }

    /// Each class at its own price; classes without one at the input or output price; the fee
    /// once per call.
    @Test func eachClassIsPricedApart() throws {
        let model = ModelPrice(
            model: "m", input: try TokenPrice.perMillion("3").get(), output: try TokenPrice.perMillion("15").get(),
            cacheRead: try TokenPrice.perMillion("0.3").get(), cacheWrite: try TokenPrice.perMillion("3.75").get(),
            perCall: try #require(Money(decimal: "0.0001")))
        let update = UsageUpdate(
            timestamp: UsageBatchDecoderTests.now, tenantId: "t", customerId: "c", model: "m", calls: 3, totalTokens: 3_000,
            inputTokens: 2_000, outputTokens: 1_000, cacheReadTokens: 1_200, cacheWriteTokens: 300, reasoningTokens: 400,
            cost: CostBreakdown(), avgLatencyMs: 1)
        let cost = try #require(model.cost(of: update))
        #expect(cost.input.decimalText == "0.0015")  // 500 uncached × $3/M
        #expect(cost.cacheRead.decimalText == "0.00036")  // 1,200 × $0.30/M
        #expect(cost.cacheWrite.decimalText == "0.001125")  // 300 × $3.75/M
        #expect(cost.output.decimalText == "0.009")  // 600 × $15/M
        #expect(cost.reasoning.decimalText == "0.006")  // 400 × $15/M: no reasoning price, the output price
        #expect(cost.callFees.decimalText == "0.0003")
        #expect(cost.unattributed == .zero)
        #expect(cost.total.decimalText == "0.018285")
    }

    /// An update is priced with the entry in force at its own millisecond.
    @Test func pricesChangeExactlyAtEffectiveFrom() throws {
        let table = try PriceTable.parse(
            Array(
                """
                {"prices": [
                  {"model": "m", "effectiveFrom": "2026-11-29T13:00:00Z", "inputPerMillion": 1, "outputPerMillion": 2},
                  {"model": "m", "effectiveFrom": "2026-11-29T13:30:00Z", "inputPerMillion": 0.5, "outputPerMillion": 1}
                ]}
                """.utf8))
        let boundary = try #require(Timestamp(iso8601: "2026-11-29T13:30:00Z"))
        #expect(table.price(for: "m", at: boundary.advanced(by: .milliseconds(-1)))?.input.perMillionText == "1")
        #expect(table.price(for: "m", at: boundary)?.input.perMillionText == "0.5")
        #expect(table.price(for: "m", at: boundary.advanced(by: .seconds(-1800)))?.input.perMillionText == "1")
        #expect(table.price(for: "m", at: boundary.advanced(by: .milliseconds(-1_800_001))) == nil, "before the first entry")
    }

    @Test func aPriceFileNamesEveryProblem() {
        let text = """
            {"prices": [
              {"model": "a", "effectiveFrom": "2026-01-01T00:00:00Z", "inputPerMillion": 0.0000001, "outputPerMillion": 1},
              {"model": "", "effectiveFrom": "yesterday", "outputPerMillion": -1},
              {"model": "b", "effectiveFrom": "2026-01-01T00:00:00Z", "inputPerMilion": 1, "inputPerMillion": 1, "outputPerMillion": 1,
               "perCall": 0.0000000000001},
              {"model": "c", "effectiveFrom": "2026-01-01T00:00:00Z", "inputPerMillion": 1, "inputPer1K": 0.001, "outputPerMillion": "1"},
              {"model": "d", "effectiveFrom": "2026-01-01T00:00:00Z", "inputPerMillion": 1, "outputPerMillion": 1},
              {"model": "d", "effectiveFrom": "2026-01-01T00:00:00Z", "inputPerMillion": 2, "outputPerMillion": 2}
            ]}
            """
        do {
            _ = try PriceTable.parse(Array(text.utf8))
            Issue.record("accepted a bad price file")
        } catch {
            let fields = error.problems.map { String($0.prefix { $0 != " " }) }
            #expect(
                fields == [
                    "prices[0].inputPerMillion", "prices[1].model", "prices[1].effectiveFrom", "prices[1].inputPerMillion",
                    "prices[1].outputPerMillion", "prices[2].inputPerMilion", "prices[2].perCall", "prices[3].inputPerMillion",
                    "prices[3].outputPerMillion", "prices[5].effectiveFrom",
                ], "\(error.problems)")
            #expect(error.problems[0].contains("more decimal places than allowed"))
        }
    }

    /// Files of the earlier form (dollars per 1,000 tokens) are read exactly.
    @Test func legacyPricesPerThousandAreExact() throws {
        let table = try PriceTable.parse(
            Array(
                """
                [{"model": "m", "effectiveFrom": "2020-01-01T00:00:00Z", "inputPer1K": 0.0000375, "outputPer1K": 0.0015}]
                """.utf8))
        let price = try #require(table.price(for: "m", at: UsageBatchDecoderTests.now))
        #expect(price.input.perMillionText == "0.0375")
        #expect(price.output.perMillionText == "1.5")
    }
}

/// The optional token classes of the wire format, under their camel-case names or the
/// OpenTelemetry attributes, and their rules.
struct TokenClassDecodingTests {
    let now = UsageBatchDecoderTests.now
    let decoder = UsageBatchDecoder()

    static let classes = [
        "totalTokens": "3000", "inputTokens": "2000", "outputTokens": "1000", "cacheReadInputTokens": "1200",
        "cacheCreationInputTokens": "300", "reasoningOutputTokens": "400",
    ]

    @Test func classesArePricedOnTheFastPath() throws {
        let bytes = Array(UsageBatchDecoderTests.item(["model": "\"claude-3-opus\""], metrics: Self.classes, drop: ["totalCost"]).utf8)
        let fast = try #require(decoder.decodeFast(bytes, format: .ndjson, now: now)?.first)
        #expect(try decoder.decodeGeneral(bytes, format: .ndjson, now: now) == [fast])
        #expect(fast.cacheReadTokens == 1200 && fast.cacheWriteTokens == 300 && fast.reasoningTokens == 400)
        // claude-3-opus: input $15, cache write $18.75, cache read $1.50, output $75 per million.
        #expect(fast.cost.input.decimalText == "0.0075")
        #expect(fast.cost.cacheRead.decimalText == "0.0018")
        #expect(fast.cost.cacheWrite.decimalText == "0.005625")
        #expect(fast.cost.output.decimalText == "0.045")
        #expect(fast.cost.reasoning.decimalText == "0.03")
    }

    @Test func openTelemetryNamesAreTheSameCounts() throws {
        let names = [
            "inputTokens": "gen_ai.usage.input_tokens", "outputTokens": "gen_ai.usage.output_tokens",
            "cacheReadInputTokens": "gen_ai.usage.cache_read.input_tokens",
            "cacheCreationInputTokens": "gen_ai.usage.cache_creation.input_tokens",
            "reasoningOutputTokens": "gen_ai.usage.reasoning.output_tokens",
        ]
        let dotted = Dictionary(uniqueKeysWithValues: Self.classes.map { (names[$0.key] ?? $0.key, $0.value) })
        let camel = try decoder.decode(
            Array(UsageBatchDecoderTests.item(["model": "\"claude-3-opus\""], metrics: Self.classes, drop: ["totalCost"]).utf8), format: .ndjson,
            now: now)
        let otel = try decoder.decode(
            Array(UsageBatchDecoderTests.item(["model": "\"claude-3-opus\""], metrics: dotted, drop: ["totalCost"]).utf8), format: .ndjson, now: now)
        #expect(camel == otel)
    }

    @Test(arguments: [
        (["cacheReadInputTokens": "10"], "metrics.cacheReadInputTokens", "needs metrics.inputTokens"),
        (
            ["inputTokens": "100", "outputTokens": "0", "cacheReadInputTokens": "80", "cacheCreationInputTokens": "30"],
            "metrics.cacheReadInputTokens", "must not exceed metrics.inputTokens"
        ),
        (["reasoningOutputTokens": "10"], "metrics.reasoningOutputTokens", "needs metrics.outputTokens"),
        (["inputTokens": "100", "outputTokens": "50", "reasoningOutputTokens": "51"], "metrics.reasoningOutputTokens", "must not exceed"),
        (["inputTokens": "900", "outputTokens": "101"], "metrics.inputTokens", "must not exceed metrics.totalTokens"),
        (["inputTokens": "10", "gen_ai.usage.input_tokens": "10"], "metrics.inputTokens", "give one of them"),
        (["gen_ai.usage.cache_read.input_tokens": "-1"], "metrics.gen_ai.usage.cache_read.input_tokens", "non-negative integer"),
    ])
    func inconsistentClassesNameTheField(metrics: [String: String], field: String, rule: String) {
        let bytes = Array(UsageBatchDecoderTests.item(metrics: metrics).utf8)
        #expect(decoder.decodeFast(bytes, format: .ndjson, now: now) == nil)
        do {
            _ = try decoder.decode(bytes, format: .ndjson, now: now)
            Issue.record("accepted \(metrics)")
        } catch {
            guard case .invalid(let problems) = error else {
                Issue.record("\(error)")
                return
            }
            #expect(problems.first?.field == field, "\(problems)")
            #expect(problems.first?.rule.contains(rule) == true, "\(problems)")
        }
    }
}

/// The example price file in `docs/` is a valid table: the command the docs give runs.
struct PriceExampleTests {
    @Test func theDocumentedExampleLoads() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../docs/prices.example.json").path
        let table = try PriceTable.parse(Array(try #require(FileManager.default.contents(atPath: path))))
        let june = try #require(Timestamp(iso8601: "2025-06-10T00:00:00Z"))
        #expect(table.price(for: "o3", at: june.advanced(by: .milliseconds(-1)))?.output.perMillionText == "40")
        #expect(table.price(for: "o3", at: june)?.output.perMillionText == "8")
        #expect(table.price(for: "gpt-4o-mini", at: june)?.cacheRead?.perMillionText == "0.075")
    }
}
