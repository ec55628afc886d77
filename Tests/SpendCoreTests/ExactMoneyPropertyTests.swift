import Foundation
import Testing

@testable import SpendCore

/// Random prices, token counts by class, fees and producers' totals, through the wire format,
/// the decoder, the ledger and the `/api/stats` document: every sum the API shows equals a
/// recomputation with Foundation's `Decimal` (exact for these magnitudes: decimal fractions
/// of at most 38 digits), which shares no code with `Money`.
struct ExactMoneyPropertyTests {
    let now = Timestamp(iso8601: "2026-11-29T14:00:00Z")!

    /// A random decimal with at most `places` decimal places below `limit` (whole units).
    static func decimalText(_ rng: inout SplitMix64, places: Int, limit: UInt64) -> String {
        let whole = rng.next() % limit
        var fraction = String(rng.next() % 1_000_000_000_000)
        fraction = String(repeating: "0", count: 12 - fraction.count) + fraction
        let kept = String(fraction.prefix(Int(rng.next() % UInt64(places + 1))))
        return kept.isEmpty ? "\(whole)" : "\(whole).\(kept)"
    }

    struct Entry {
        var from: Timestamp
        var prices: [String: String]
    }

    @Test(arguments: [UInt64(1), 2, 3, 4])
    func everySumEqualsAnExactRecomputation(seed: UInt64) throws {
        var rng = SplitMix64(seed: seed, stream: 99)
        // Two price entries per model, the second in force from a random minute of the hour.
        var entries: [String: [Entry]] = [:]
        var file: [String] = []
        for model in ["m0", "m1", "m2", "m3"] {
            for index in 0..<2 {
                let from = index == 0 ? now.advanced(by: .seconds(-7200)) : now.advanced(by: .seconds(-Int64(rng.next() % 3600)))
                var prices = [
                    "inputPerMillion": Self.decimalText(&rng, places: 6, limit: 100),
                    "outputPerMillion": Self.decimalText(&rng, places: 6, limit: 100),
                ]
                for optional in ["cacheReadPerMillion", "cacheWritePerMillion", "reasoningPerMillion"] where rng.next() % 2 == 0 {
                    prices[optional] = Self.decimalText(&rng, places: 6, limit: 20)
                }
                if rng.next() % 3 == 0 { prices["perCall"] = Self.decimalText(&rng, places: 12, limit: 1) }
                entries[model, default: []].append(Entry(from: from, prices: prices))
                let fields = prices.map { "\"\($0.key)\": \($0.value)" }.joined(separator: ", ")
                file.append("{\"model\": \"\(model)\", \"effectiveFrom\": \"\(from.iso8601)\", \(fields)}")
            }
        }
        let table = try PriceTable.parse(Array("{\"prices\": [\(file.joined(separator: ",\n"))]}".utf8))

        // Updates of the rolling hour: priced from the table, reported by the producer, or unpriced.
        var lines: [String] = []
        var expected: [CostClass: Decimal] = [:]
        var byCustomer: [String: Decimal] = [:]
        var byModel: [String: Decimal] = [:]
        let windowEnd = now.floored(to: .seconds(5))
        for index in 0..<2_000 {
            let ts = windowEnd.advanced(by: .milliseconds(-1 - Int64(rng.next() % 3_599_000)))
            let model = ["m0", "m1", "m2", "m3", "unknown"][Int(rng.next() % 5)]
            let customer = "c\(rng.next() % 40)"
            let calls = Int64(rng.next() % 20)
            let input = Int64(rng.next() % 200_000)
            let output = Int64(rng.next() % 100_000)
            let cacheRead = rng.next() % 2 == 0 ? Int64(rng.next() % UInt64(input + 1)) : nil
            let cacheWrite = rng.next() % 3 == 0 ? Int64(rng.next() % UInt64(input - (cacheRead ?? 0) + 1)) : nil
            let reasoning = rng.next() % 3 == 0 ? Int64(rng.next() % UInt64(output + 1)) : nil
            let reported = rng.next() % 3 == 0 ? Self.decimalText(&rng, places: 12, limit: 50) : nil
            var metrics = [
                "\"totalCalls\": \(calls)", "\"totalTokens\": \(input + output + Int64(rng.next() % 10))", "\"avgLatencyMs\": 100",
                "\"inputTokens\": \(input)", "\"outputTokens\": \(output)",
            ]
            if let cacheRead { metrics.append("\"gen_ai.usage.cache_read.input_tokens\": \(cacheRead)") }
            if let cacheWrite { metrics.append("\"cacheCreationInputTokens\": \(cacheWrite)") }
            if let reasoning { metrics.append("\"reasoningOutputTokens\": \(reasoning)") }
            if let reported { metrics.append("\"totalCost\": \(reported)") }
            lines.append(
                "{\"timestamp\": \"\(ts.iso8601)\", \"tenantId\": \"t\", \"customerId\": \"\(customer)\", \"model\": \"\(model)\", \"eventId\": \"e\(index)\", \"metrics\": {\(metrics.joined(separator: ", "))}}"
            )

            // The oracle.
            var cost: [CostClass: Decimal] = [:]
            if let reported {
                cost[.unattributed] = Decimal(string: reported)!
            } else if let entry = entries[model]?.last(where: { $0.from <= ts }) {
                func price(_ name: String, or fallback: String) -> Decimal {
                    Decimal(string: entry.prices[name] ?? entry.prices[fallback]!)! / 1_000_000
                }
                let cached = (cacheRead ?? 0) + (cacheWrite ?? 0)
                cost[.input] = Decimal(input - cached) * price("inputPerMillion", or: "inputPerMillion")
                cost[.cacheRead] = Decimal(cacheRead ?? 0) * price("cacheReadPerMillion", or: "inputPerMillion")
                cost[.cacheWrite] = Decimal(cacheWrite ?? 0) * price("cacheWritePerMillion", or: "inputPerMillion")
                cost[.output] = Decimal(output - (reasoning ?? 0)) * price("outputPerMillion", or: "outputPerMillion")
                cost[.reasoning] = Decimal(reasoning ?? 0) * price("reasoningPerMillion", or: "outputPerMillion")
                cost[.callFees] = Decimal(calls) * Decimal(string: entry.prices["perCall"] ?? "0")!
            }
            let total = cost.values.reduce(Decimal(0), +)
            for (costClass, amount) in cost { expected[costClass, default: 0] += amount }
            byCustomer[customer, default: 0] += total
            byModel[model, default: 0] += total
        }

        let decoder = UsageBatchDecoder(prices: table)
        let updates = try decoder.decode(Array(lines.joined(separator: "\n").utf8), format: .ndjson, now: now)
        var ledger = UsageLedger()
        #expect(ledger.ingest(updates, now: now).accepted == lines.count)
        let stats = try JSONParser.parse(ledger.snapshot(at: now).jsonBytes())

        func decimal(_ value: JSONValue?) -> Decimal? {
            guard case .number(let text)? = value else { return nil }
            return Decimal(string: text)
        }
        let grandTotal = expected.values.reduce(Decimal(0), +)
        #expect(decimal(stats["totalCostPerHour"]) == grandTotal)
        #expect(decimal(stats["hour"]?["totalCost"]) == grandTotal)
        for costClass in CostClass.allCases {
            #expect(decimal(stats["hour"]?["costByClass"]?[costClass.rawValue]) == expected[costClass] ?? 0, "\(costClass)")
        }
        guard case .array(let customers)? = stats["topCustomers"] else {
            Issue.record("no topCustomers")
            return
        }
        #expect(customers.count == byCustomer.count)
        for customer in customers {
            guard case .string(let id)? = customer["customerId"] else {
                Issue.record("no customerId")
                return
            }
            #expect(decimal(customer["totalCost"]) == byCustomer[id], "\(id)")
        }
        for (model, total) in byModel where model != "unknown" || total != 0 {
            #expect(decimal(stats["costByModel"]?[model]) == total, "\(model)")
        }
    }
}
