/// Model prices with the dates they take effect, so a price change never rewrites history:
/// an update is priced with the entry in force at its own timestamp.
///
/// The file form (`--prices FILE`), dollars per 1,000 tokens:
///
/// ```json
/// {"prices": [
///   {"model": "gpt-4", "effectiveFrom": "2024-01-01T00:00:00Z", "inputPer1K": 0.03, "outputPer1K": 0.06},
///   {"model": "gpt-4", "effectiveFrom": "2026-06-01T00:00:00Z", "inputPer1K": 0.025, "outputPer1K": 0.05}
/// ]}
/// ```
public struct PriceTable: Hashable, Sendable {
    public struct Entry: Hashable, Sendable {
        public var effectiveFrom: Timestamp
        public var price: ModelPrice

        public init(effectiveFrom: Timestamp, price: ModelPrice) {
            self.effectiveFrom = effectiveFrom
            self.price = price
        }
    }

    public struct FormatError: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// Entries per model, oldest first.
    private var byModel: [String: [Entry]]

    public init(_ entries: [Entry]) {
        byModel = Dictionary(grouping: entries, by: \.price.model).mapValues { $0.sorted { $0.effectiveFrom < $1.effectiveFrom } }
    }

    /// The reference prices, in force since the epoch.
    public static let reference = PriceTable(ModelPrice.reference.map { Entry(effectiveFrom: Timestamp(millisecondsSinceEpoch: 0), price: $0) })

    public var entries: [Entry] { byModel.keys.sorted().flatMap { byModel[$0]! } }

    /// The price of `model` in force at `timestamp`, nil when there is none.
    public func price(for model: String, at timestamp: Timestamp) -> ModelPrice? {
        guard let entries = byModel[model] else { return nil }
        return entries.last { $0.effectiveFrom <= timestamp }?.price
    }

    /// Reads the file form; every problem is named with the entry's index.
    public static func parse(_ bytes: [UInt8]) throws -> PriceTable {
        let document: JSONValue
        do {
            document = try JSONParser.parse(bytes)
        } catch {
            throw FormatError(description: "the price file is not valid JSON: \(error)")
        }
        guard case .array(let items) = document["prices"] ?? document else {
            throw FormatError(description: "the price file must be {\"prices\": [...]} or an array of prices")
        }
        var entries: [Entry] = []
        for (index, item) in items.enumerated() {
            func fail(_ rule: String) -> FormatError { FormatError(description: "prices[\(index)]: \(rule)") }
            guard case .string(let model)? = item["model"], !model.isEmpty else { throw fail("model must be a non-empty string") }
            guard case .string(let from)? = item["effectiveFrom"], let effectiveFrom = Timestamp(iso8601: from) else {
                throw fail("effectiveFrom must be an ISO-8601 timestamp such as 2026-01-01T00:00:00Z")
            }
            func perThousand(_ name: String) throws -> Int64 {
                guard case .number(let text)? = item[name], let dollars = Double(text), let micros = Money.micros(fromDollars: dollars) else {
                    throw fail("\(name) must be a non-negative number of dollars per 1,000 tokens")
                }
                return micros
            }
            let price = ModelPrice(model: model, inputMicrosPer1K: try perThousand("inputPer1K"), outputMicrosPer1K: try perThousand("outputPer1K"))
            if entries.contains(where: { $0.price.model == model && $0.effectiveFrom == effectiveFrom }) {
                throw fail("\(model) already has a price from \(from)")
            }
            entries.append(Entry(effectiveFrom: effectiveFrom, price: price))
        }
        return PriceTable(entries)
    }
}
