/// Model prices with the dates they take effect, so a price change never rewrites history:
/// an update is priced with the entry in force at its own timestamp.
///
/// The file form (`--prices FILE`), exact decimal dollars per million tokens (at most 6
/// decimal places) and per call (at most 12):
///
/// ```json
/// {"prices": [
///   {"model": "gpt-4o-mini", "effectiveFrom": "2024-07-18T00:00:00Z",
///    "inputPerMillion": 0.15, "cacheReadPerMillion": 0.075, "outputPerMillion": 0.6},
///   {"model": "claude-sonnet-4", "effectiveFrom": "2025-05-22T00:00:00Z",
///    "inputPerMillion": 3, "cacheWritePerMillion": 3.75, "cacheReadPerMillion": 0.3, "outputPerMillion": 15}
/// ]}
/// ```
///
/// `inputPerMillion` and `outputPerMillion` are required; `cacheReadPerMillion`,
/// `cacheWritePerMillion` (cached input priced as input when absent), `reasoningPerMillion`
/// (priced as output when absent) and `perCall` are optional. Files of the earlier form, with
/// `inputPer1K` and `outputPer1K` in dollars per 1,000 tokens, are read exactly too.
public struct PriceTable: Hashable, Sendable {
    public struct Entry: Hashable, Sendable {
        public var effectiveFrom: Timestamp
        public var price: ModelPrice

        public init(effectiveFrom: Timestamp, price: ModelPrice) {
            self.effectiveFrom = effectiveFrom
            self.price = price
        }
    }

    /// Every problem of a price file, each naming the entry and the field.
    public struct FormatError: Error, CustomStringConvertible, Sendable {
        public var problems: [String]
        public var description: String { problems.joined(separator: "; ") }

        public init(problems: [String]) {
            self.problems = problems
        }
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

    static let tokenPriceFields: [(name: String, legacy: String?)] = [
        ("inputPerMillion", "inputPer1K"), ("outputPerMillion", "outputPer1K"), ("cacheReadPerMillion", nil),
        ("cacheWritePerMillion", nil), ("reasoningPerMillion", nil),
    ]
    static let knownFields: Set<String> = Set(
        ["model", "effectiveFrom", "perCall"] + tokenPriceFields.flatMap { [$0.name] + ($0.legacy.map { [$0] } ?? []) })

    /// Reads the file form. Every problem of every entry is named (`prices[3].inputPerMillion:
    /// …`), and nothing is taken unless the whole file is right.
    public static func parse(_ bytes: [UInt8]) throws(FormatError) -> PriceTable {
        let document: JSONValue
        do {
            document = try JSONParser.parse(bytes)
        } catch {
            throw FormatError(problems: ["the price file is not valid JSON: \(error)"])
        }
        guard case .array(let items) = document["prices"] ?? document else {
            throw FormatError(problems: ["the price file must be {\"prices\": [...]} or an array of prices"])
        }
        var entries: [Entry] = []
        var problems: [String] = []
        var seen: Set<String> = []
        for (index, item) in items.enumerated() {
            var entryProblems: [String] = []
            func fail(_ field: String, _ rule: String) { entryProblems.append("prices[\(index)].\(field) \(rule)") }
            guard case .object(let members) = item else {
                problems.append("prices[\(index)] must be an object; got \(item.typeName)")
                continue
            }
            for member in members where !knownFields.contains(member.key) {
                fail(member.key, "is not a price field (known: \(knownFields.sorted().joined(separator: ", ")))")
            }
            var model: String?
            if case .string(let name)? = item["model"], !name.isEmpty { model = name } else { fail("model", "must be a non-empty string") }
            var effectiveFrom: Timestamp?
            if case .string(let from)? = item["effectiveFrom"], let timestamp = Timestamp(iso8601: from) {
                effectiveFrom = timestamp
            } else {
                fail("effectiveFrom", "must be an ISO-8601 timestamp such as 2026-01-01T00:00:00Z")
            }
            var prices: [String: TokenPrice] = [:]
            for field in tokenPriceFields {
                let modern = item[field.name]
                let legacy = field.legacy.flatMap { item[$0] }
                if modern != nil && legacy != nil {
                    fail(field.name, "and \(field.legacy!) say the same thing: give one")
                    continue
                }
                guard let value = modern ?? legacy else {
                    if field.legacy != nil { fail(field.name, "is required (dollars per million tokens)") }
                    continue
                }
                let name = modern != nil ? field.name : field.legacy!
                let unit =
                    modern != nil
                    ? "dollars per million tokens with at most 6 decimal places" : "dollars per 1,000 tokens with at most 9 decimal places"
                guard case .number(let text) = value else {
                    fail(name, "must be a number of \(unit); got \(value.typeName)")
                    continue
                }
                switch modern != nil ? TokenPrice.perMillion(text) : TokenPrice.perThousand(text) {
                case .success(let price): prices[field.name] = price
                case .failure(let failure): fail(name, "must be a non-negative number of \(unit); got \(text) (\(failure.reason))")
                }
            }
            var perCall = Money.zero
            if let value = item["perCall"] {
                if case .number(let text) = value, let fee = Money(decimal: text), fee <= UsageUpdate.maximumCost {
                    perCall = fee
                } else {
                    fail(
                        "perCall",
                        "must be a non-negative number of dollars per call with at most 12 decimal places, at most \(UsageUpdate.maximumCost)")
                }
            }
            if let model, let effectiveFrom, !seen.insert("\(model)\u{0}\(effectiveFrom.millisecondsSinceEpoch)").inserted {
                fail("effectiveFrom", "repeats an earlier entry: \(model) already has a price from \(effectiveFrom.iso8601)")
            }
            problems += entryProblems
            guard entryProblems.isEmpty, let model, let effectiveFrom, let input = prices["inputPerMillion"], let output = prices["outputPerMillion"]
            else { continue }
            entries.append(
                Entry(
                    effectiveFrom: effectiveFrom,
                    price: ModelPrice(
                        model: model, input: input, output: output, cacheRead: prices["cacheReadPerMillion"],
                        cacheWrite: prices["cacheWritePerMillion"], reasoning: prices["reasoningPerMillion"], perCall: perCall)))
        }
        guard problems.isEmpty else { throw FormatError(problems: problems) }
        return PriceTable(entries)
    }
}

extension ExactDecimal.Failure {
    /// The rule broken, in words.
    public var reason: String {
        switch self {
        case .notANumber: "not a plain decimal number"
        case .negative: "negative"
        case .tooPrecise: "more decimal places than allowed"
        case .tooLarge: "too large"
        }
    }
}
