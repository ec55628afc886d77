import Foundation
import Testing

@testable import SpendCore

struct JSONParserTests {
    /// The parser agrees with Foundation on what is JSON.
    @Test(arguments: [
        "{}", "[]", "[1, -2.5e3, 0, true, false, null]", "{\"a\": {\"b\": [\"c\\n\\u00e9\\ud83d\\ude80\"]}}",
        "  [\"x\"]  ", "\"just a string\"", "12",
        "{\"a\" 1}", "[01]", "[1.]", "[.5]", "[-]", "[\"\\x\"]", "[\"\u{01}\"]", "{\"a\":1}}", "[tru]", "",
        "[\"\\ud800\"]", "[1e]", "{'a': 1}", "[NaN]",
    ])
    func agreesWithFoundation(text: String) {
        let ours = (try? JSONParser.parse(Array(text.utf8))) != nil
        let foundation = (try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])) != nil
        #expect(ours == foundation, "\(text)")
    }

    @Test(arguments: ["[1,]", "{\"a\": 1,}"])
    func trailingCommasAreRefused(text: String) {
        // RFC 8259 has none; Foundation's parser tolerates them, ours does not.
        #expect(throws: JSONParser.SyntaxError.self) { try JSONParser.parse(Array(text.utf8)) }
    }

    @Test func errorsSayWhere() {
        do {
            _ = try JSONParser.parse(Array("[\n  {\"a\": 1},\n  {\"b\": tru}\n]".utf8))
            Issue.record("accepted broken JSON")
        } catch {
            #expect(error.line == 3)
            #expect(error.column == 9)
            #expect(error.message.contains("literal"))
        }
    }

    @Test func deepNestingIsRefusedNotACrash() {
        let text = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: JSONParser.SyntaxError.self) { try JSONParser.parse(Array(text.utf8)) }
    }

    @Test func ndjsonLinesAreNumberedAndBlankLinesSkipped() throws {
        let values = try JSONParser.parseLines(Array("{\"a\":1}\n\n  \r\n{\"a\":2}\r\n".utf8))
        #expect(values.map(\.line) == [1, 4])
        do {
            _ = try JSONParser.parseLines(Array("{\"a\":1}\n{\"a\":}\n".utf8))
            Issue.record("accepted a broken line")
        } catch {
            #expect(error.line == 2)
            #expect(error.column == 6)
        }
    }
}

struct UsageBatchDecoderTests {
    static let now = Timestamp(iso8601: "2026-11-29T14:00:00Z")!
    let decoder = UsageBatchDecoder()

    static func item(_ changes: [String: String] = [:], metrics: [String: String] = [:], drop: Set<String> = []) -> String {
        var top: [String: String] = [
            "timestamp": "\"2026-11-29T13:59:00.000Z\"", "tenantId": "\"acme\"", "customerId": "\"cust-1\"", "model": "\"gpt-4\"",
        ]
        var inner: [String: String] = ["totalCalls": "3", "totalTokens": "1000", "totalCost": "0.05", "avgLatencyMs": "812.5"]
        for (key, value) in changes { top[key] = value }
        for (key, value) in metrics { inner[key] = value }
        for key in drop {
            top[key] = nil
            inner[key] = nil
        }
        let metricsText = inner.sorted { $0.key < $1.key }.map { "\"\($0.key)\": \($0.value)" }.joined(separator: ", ")
        top["metrics"] = top["metrics"] ?? "{\(metricsText)}"
        return "{" + top.sorted { $0.key < $1.key }.map { "\"\($0.key)\": \($0.value)" }.joined(separator: ", ") + "}"
    }

    @Test func aValidItemDecodes() throws {
        let updates = try decoder.decode(Array("[\(Self.item())]".utf8), format: .json, now: Self.now)
        #expect(updates.count == 1)
        #expect(updates[0].cost == .unattributed(Money(micros: 50_000)))
        #expect(updates[0].avgLatencyMs == 812.5)
        #expect(updates[0].isPriced)
    }

    /// Every rule, with the field it names.
    @Test(arguments: [
        (item(drop: ["timestamp"]), "timestamp", "is required"),
        (item(["timestamp": "\"yesterday\""]), "timestamp", "ISO-8601"),
        (item(["timestamp": "1764424800000"]), "timestamp", "ISO-8601"),
        (item(["timestamp": "\"2026-10-01T00:00:00Z\""]), "timestamp", "older than 30d"),
        (item(["timestamp": "\"2026-11-29T14:05:01Z\""]), "timestamp", "more than 5m in the future"),
        (item(["tenantId": "\"\""]), "tenantId", "1 to 128 printable"),
        (item(["tenantId": "\"" + String(repeating: "x", count: 129) + "\""]), "tenantId", "1 to 128 printable"),
        (item(["customerId": "\"a\\u0007b\""]), "customerId", "no control characters"),
        (item(["customerId": "42"]), "customerId", "must be a string"),
        (item(drop: ["model"]), "model", "is required"),
        (item(["eventId": "\"\""]), "eventId", "1 to 128 printable"),
        (item(["metrics": "[]"]), "metrics", "must be an object"),
        (item(metrics: ["totalCalls": "-1"]), "metrics.totalCalls", "non-negative integer"),
        (item(metrics: ["totalCalls": "1.5"]), "metrics.totalCalls", "non-negative integer"),
        (item(metrics: ["totalCalls": "1e3"]), "metrics.totalCalls", "non-negative integer"),
        (item(metrics: ["totalCalls": "\"3\""]), "metrics.totalCalls", "got a string"),
        (item(metrics: ["totalTokens": "4294967296"]), "metrics.totalTokens", "at most 4294967295"),
        (item(metrics: ["totalTokens": "99999999999999999999999"]), "metrics.totalTokens", "non-negative integer"),
        (item(drop: ["totalTokens"]), "metrics.totalTokens", "is required"),
        (item(metrics: ["inputTokens": "800", "outputTokens": "300"]), "metrics.inputTokens", "must not exceed metrics.totalTokens"),
        (item(metrics: ["totalCost": "-0.01"]), "metrics.totalCost", "non-negative number of dollars"),
        (item(metrics: ["totalCost": "1e400"]), "metrics.totalCost", "at most 1000000"),
        (item(metrics: ["avgLatencyMs": "null"]), "metrics.avgLatencyMs", "finite, non-negative"),
        (item(drop: ["avgLatencyMs"]), "metrics.avgLatencyMs", "is required"),
        ("42", "item", "must be an object"),
    ])
    func everyRuleNamesItsField(item: String, field: String, rule: String) throws {
        let body = "[\(Self.item()), \(item)]"
        do {
            _ = try decoder.decode(Array(body.utf8), format: .json, now: Self.now)
            Issue.record("accepted \(item)")
        } catch {
            guard case .invalid(let problems) = error else {
                Issue.record("expected invalid, got \(error)")
                return
            }
            #expect(problems.count == 1)
            #expect(problems.first?.index == 1)
            #expect(problems.first?.field == field)
            #expect(problems.first?.rule.contains(rule) == true, "\(problems.first?.rule ?? "")")
        }
    }

    @Test func everyBadItemIsReportedWithItsLine() throws {
        let body = [Self.item(), Self.item(metrics: ["totalCalls": "-1"]), "", Self.item(["tenantId": "\"\""], metrics: ["totalCost": "-1"])]
            .joined(separator: "\n")
        do {
            _ = try decoder.decode(Array(body.utf8), format: .ndjson, now: Self.now)
            Issue.record("accepted a bad batch")
        } catch {
            guard case .invalid(let problems) = error else { Issue.record("\(error)"); return }
            #expect(problems.map(\.line) == [2, 4, 4])
            #expect(problems.map(\.index) == [1, 2, 2])
            #expect(problems.map(\.field) == ["metrics.totalCalls", "tenantId", "metrics.totalCost"])
        }
    }

    @Test func shapesAndLimits() throws {
        #expect(try decoder.decode(Array("{\"metrics\": [\(Self.item())]}".utf8), format: .json, now: Self.now).count == 1)
        #expect(throws: UsageBatchDecoder.Failure.self) { try decoder.decode(Array("{\"x\": 1}".utf8), format: .json, now: Self.now) }
        let small = UsageBatchDecoder(maximumItems: 2)
        do {
            _ = try small.decode(Array("[\(Self.item()),\(Self.item()),\(Self.item())]".utf8), format: .json, now: Self.now)
            Issue.record("accepted too many")
        } catch {
            guard case .tooManyItems(let count, let limit) = error else { Issue.record("\(error)"); return }
            #expect(count == 3 && limit == 2)
        }
    }

    @Test func missingCostIsPricedFromTheTableInForceAtTheUpdate() throws {
        let table = try PriceTable.parse(
            Array(
                """
                {"prices": [
                  {"model": "gpt-4", "effectiveFrom": "2020-01-01T00:00:00Z", "inputPer1K": 0.03, "outputPer1K": 0.06},
                  {"model": "gpt-4", "effectiveFrom": "2026-11-29T13:30:00Z", "inputPer1K": 0.01, "outputPer1K": 0.02}
                ]}
                """.utf8))
        let decoder = UsageBatchDecoder(prices: table)
        let before = Self.item(["timestamp": "\"2026-11-29T13:00:00Z\""], drop: ["totalCost"])
            .replacingOccurrences(of: "\"totalCalls\"", with: "\"inputTokens\": 600, \"outputTokens\": 400, \"totalCalls\"")
        let after = before.replacingOccurrences(of: "13:00:00Z", with: "13:45:00Z")
        let unknownModel = before.replacingOccurrences(of: "\"gpt-4\"", with: "\"mystery-1\"")
        let noSplit = Self.item(drop: ["totalCost"])
        let updates = try decoder.decode(Array("[\(before), \(after), \(unknownModel), \(noSplit)]".utf8), format: .json, now: Self.now)
        #expect(updates[0].cost.total == Money(micros: 42_000))  // 600 × 0.03 / 1000 + 400 × 0.06 / 1000 dollars
        #expect(updates[1].cost.total == Money(micros: 14_000))  // the new price, from 13:30
        #expect(!updates[2].isPriced && updates[2].cost.total == .zero)
        #expect(!updates[3].isPriced)  // no input/output split: cannot be priced
    }

    @Test func priceFilesAreCheckedEntryByEntry() {
        #expect(throws: PriceTable.FormatError.self) { try PriceTable.parse(Array("{\"prices\": [{\"model\": \"m\"}]}".utf8)) }
        #expect(throws: PriceTable.FormatError.self) { try PriceTable.parse(Array("nope".utf8)) }
    }
}

struct UsageFileReaderTests {
    let now = UsageBatchDecoderTests.now

    func lines(_ count: Int) -> [String] {
        (0..<count).map { UsageBatchDecoderTests.item(["customerId": "\"c\($0)\""]) }
    }

    @Test(arguments: [1, 64, 1 << 20])
    func ndjsonInAnyChunkingReadsInOrder(chunkSize: Int) throws {
        let text = lines(50).joined(separator: "\n") + "\n"
        let updates = try UsageFileReader.read(Array(text.utf8), decoder: UsageBatchDecoder(), now: now, chunkSize: chunkSize)
        #expect(updates.map(\.customerId) == (0..<50).map { "c\($0)" })
    }

    @Test(arguments: [1, 300, 1 << 20])
    func aBadLineIsNamedByItsLineInTheWholeFile(chunkSize: Int) {
        var all = lines(40)
        all[36] = UsageBatchDecoderTests.item(metrics: ["totalCalls": "-4"])
        #expect {
            try UsageFileReader.read(Array(all.joined(separator: "\n").utf8), decoder: UsageBatchDecoder(), now: now, chunkSize: chunkSize)
        } throws: { error in
            "\(error)".hasPrefix("line 37: metrics.totalCalls must be a non-negative integer")
        }
        all[36] = "{oops"
        #expect {
            try UsageFileReader.read(Array(all.joined(separator: "\n").utf8), decoder: UsageBatchDecoder(), now: now, chunkSize: chunkSize)
        } throws: { error in
            "\(error)".hasPrefix("line 37, column 2: not valid JSON")
        }
    }

    @Test func jsonArraysAndEmptyFilesAreRead() throws {
        let text = "[" + lines(3).joined(separator: ",") + "]"
        #expect(try UsageFileReader.read(Array(text.utf8), decoder: UsageBatchDecoder(), now: now).count == 3)
        #expect(try UsageFileReader.read(Array("\n  \n".utf8), decoder: UsageBatchDecoder(), now: now).isEmpty)
    }
}

/// The fast path must give exactly what the general path gives, or step aside.
struct FastPathAgreementTests {
    let now = UsageBatchDecoderTests.now
    let decoder = UsageBatchDecoder()

    static func corpus() -> [String] {
        let base = UsageBatchDecoderTests.item()
        var lines = [
            base,
            UsageBatchDecoderTests.item(["eventId": "\"evt-1\""], metrics: ["inputTokens": "600", "outputTokens": "400"]),
            UsageBatchDecoderTests.item(drop: ["totalCost"]),
            UsageBatchDecoderTests.item(drop: ["totalCost"], ).replacingOccurrences(
                of: "\"totalCalls\"", with: "\"inputTokens\": 10, \"totalCalls\""),
            UsageBatchDecoderTests.item(["customerId": "\"ü-kunde\""]),
            UsageBatchDecoderTests.item(["customerId": "\"a\\\"b\""]),
            UsageBatchDecoderTests.item(["customerId": "\"<script>x</script> & co\""]),
            UsageBatchDecoderTests.item(["extra": "[1, {\"x\": null}]"]),
            UsageBatchDecoderTests.item(["eventId": "null"]),
            UsageBatchDecoderTests.item(metrics: ["totalCost": "1e-3"]),
            UsageBatchDecoderTests.item(metrics: ["totalCost": "0.1234567890123456789"]),
            UsageBatchDecoderTests.item(metrics: ["avgLatencyMs": "0"]),
            UsageBatchDecoderTests.item(metrics: ["avgLatencyMs": "42949672.95"]),
            UsageBatchDecoderTests.item(metrics: ["avgLatencyMs": "42949672.96"]),
            UsageBatchDecoderTests.item(metrics: ["totalCalls": "4294967295"]),
            UsageBatchDecoderTests.item(metrics: ["totalCalls": "4294967296"]),
            UsageBatchDecoderTests.item(metrics: ["totalCalls": "007"]),
            UsageBatchDecoderTests.item(metrics: ["totalCalls": "-0"]),
            UsageBatchDecoderTests.item(metrics: ["totalCalls": "3.0"]),
            UsageBatchDecoderTests.item(["timestamp": "\"2026-11-29T14:05:00Z\""]),
            UsageBatchDecoderTests.item(["timestamp": "\"2026-11-29T14:05:00.001Z\""]),
            UsageBatchDecoderTests.item(["timestamp": "\"2026-10-30T14:00:00Z\""]),
            UsageBatchDecoderTests.item(["timestamp": "\"2026-10-30T13:59:59.999Z\""]),
            UsageBatchDecoderTests.item(["tenantId": "\"" + String(repeating: "t", count: 128) + "\""]),
            UsageBatchDecoderTests.item(["tenantId": "\"" + String(repeating: "t", count: 129) + "\""]),
            UsageBatchDecoderTests.item(["tenantId": "\"\""]),
            UsageBatchDecoderTests.item(metrics: ["inputTokens": "600", "outputTokens": "401"]),
            base.replacingOccurrences(of: "{", with: " { ").replacingOccurrences(of: ",", with: " ,\t"),
            base.replacingOccurrences(of: "}}", with: "}"),
            base + "x",
            "{}",
            "[]",
        ]
        // And the simulator's own output, written by the JSON writer.
        let simulator = Simulator(configuration: .init(seed: 4))
        for update in simulator.updates(second: UsageBatchDecoderTests.now.millisecondsSinceEpoch / 1000 - 30) {
            var writer = JSONWriter()
            writer.usageUpdate(update)
            lines.append(writer.string)
        }
        return lines
    }

    @Test func bothPathsAgreeOnEveryLine() throws {
        var fastCount = 0
        for line in Self.corpus() {
            let bytes = Array(line.utf8)
            let general = Result { () throws(UsageBatchDecoder.Failure) in try decoder.decodeGeneral(bytes, format: .ndjson, now: now) }
            let fast = decoder.decodeFast(bytes, format: .ndjson, now: now)
            if let fast {
                fastCount += 1
                #expect(fast == (try? general.get()), "\(line)")
            }
            // The public entry point always matches the general path.
            let viaPublicEntry = Result { () throws(UsageBatchDecoder.Failure) in try decoder.decode(bytes, format: .ndjson, now: now) }
            #expect((try? viaPublicEntry.get()) == (try? general.get()), "\(line)")
        }
        #expect(fastCount > 60)  // the common shapes do take the fast path
    }

    @Test func arraysTakeTheFastPathToo() throws {
        let lines = Self.corpus().suffix(20)
        let bytes = Array(("[" + lines.joined(separator: ",\n") + "]").utf8)
        let fast = try #require(decoder.decodeFast(bytes, format: .json, now: now))
        #expect(fast == (try decoder.decodeGeneral(bytes, format: .json, now: now)))
    }
}
