/// Reads a batch of usage updates sent by a producer and checks every rule, so a batch is
/// taken whole or refused whole with every problem named.
///
/// Accepted shapes: a JSON array of updates, `{"metrics": [...]}`, or NDJSON (one update per
/// line). Each update is the reference wire format plus optional `eventId` and token classes
/// (`TokenField`); `metrics.totalCost` may be left out, and the update is then priced from the
/// price table (or stored as unpriced). `totalCost` is read from its decimal text, exactly.
public struct UsageBatchDecoder: Sendable {
    public enum Format: Sendable {
        case json
        case ndjson
    }

    /// One broken rule of one item.
    public struct Problem: Hashable, Sendable, CustomStringConvertible {
        /// 0-based position of the item in the batch.
        public var index: Int
        /// 1-based line of the item, for NDJSON.
        public var line: Int?
        /// Dotted path of the field, e.g. `metrics.totalCalls`.
        public var field: String
        public var rule: String

        public var description: String {
            (line.map { "line \($0)" } ?? "item \(index)") + ": \(field) \(rule)"
        }
    }

    public enum Failure: Error, Sendable {
        /// Not JSON (400).
        case syntax(JSONParser.SyntaxError)
        /// JSON, but not an array, `{"metrics": [...]}` or NDJSON of objects (400).
        case shape(String)
        /// More items than allowed (413).
        case tooManyItems(count: Int, limit: Int)
        /// Items that break a rule (422); nothing of the batch may be stored.
        case invalid([Problem])
    }

    public var prices: PriceTable
    /// Updates older than this before `now` are refused (the longest rollup retention).
    public var retention: Duration
    public var maximumFuture: Duration
    public var maximumItems: Int
    /// When set, an item the store would refuse at `now` (`UsageLedger.Configuration.admit`)
    /// breaks a rule too, named by its field; `spendboard import` sets it, so a file is imported
    /// whole or not at all. Nil (the default): the store's rules apply only when it ingests,
    /// and a refused update is counted in `IngestResult.rejected`.
    public var storeRules: UsageLedger.Configuration?

    public static let maximumIdLength = 128

    /// The optional token counts of `metrics`, each under its camel-case name or the
    /// OpenTelemetry GenAI attribute it follows (either, not both).
    public enum TokenField: CaseIterable, Sendable {
        case input, output, cacheRead, cacheWrite, reasoning

        public var name: String {
            switch self {
            case .input: "inputTokens"
            case .output: "outputTokens"
            case .cacheRead: "cacheReadInputTokens"
            case .cacheWrite: "cacheCreationInputTokens"
            case .reasoning: "reasoningOutputTokens"
            }
        }

        public var attribute: String {
            switch self {
            case .input: "gen_ai.usage.input_tokens"
            case .output: "gen_ai.usage.output_tokens"
            case .cacheRead: "gen_ai.usage.cache_read.input_tokens"
            case .cacheWrite: "gen_ai.usage.cache_creation.input_tokens"
            case .reasoning: "gen_ai.usage.reasoning.output_tokens"
            }
        }
    }

    /// The cost of `metrics.totalCost`'s text, exact, or the rule it breaks: a non-negative
    /// decimal of at most 12 places (picodollars) and at most `UsageUpdate.maximumCost`. The
    /// one rule both the fast and the general path apply.
    static func cost(decimal bytes: UnsafeBufferPointer<UInt8>) -> Result<Money, ExactDecimal.Failure> {
        switch ExactDecimal.scaled(bytes, places: Money.decimalPlaces) {
        case .success(let picodollars):
            picodollars <= UsageUpdate.maximumCost.picodollars ? .success(Money(picodollars: picodollars)) : .failure(.tooLarge)
        case .failure(let failure): .failure(failure)
        }
    }

    public init(
        prices: PriceTable = .reference, retention: Duration = .seconds(30 * 86_400), maximumFuture: Duration = .seconds(300),
        maximumItems: Int = 10_000
    ) {
        self.prices = prices
        self.retention = retention
        self.maximumFuture = maximumFuture
        self.maximumItems = maximumItems
    }

    public func decode(_ bytes: [UInt8], format: Format, now: Timestamp) throws(Failure) -> [UsageUpdate] {
        if let updates = decodeFast(bytes, format: format, now: now) { return updates }
        return try decodeGeneral(bytes, format: format, now: now)
    }

    /// The general path: parse to `JSONValue`, then check every rule of every item.
    func decodeGeneral(_ bytes: [UInt8], format: Format, now: Timestamp) throws(Failure) -> [UsageUpdate] {
        var items: [(line: Int?, value: JSONValue)]
        do {
            switch format {
            case .ndjson:
                items = try JSONParser.parseLines(bytes).map { ($0.line, $0.value) }
            case .json:
                let document = try JSONParser.parse(bytes)
                if case .array(let elements) = document {
                    items = elements.map { (nil, $0) }
                } else if case .array(let elements)? = document["metrics"] {
                    items = elements.map { (nil, $0) }
                } else {
                    throw Failure.shape("the body must be a JSON array of usage updates or {\"metrics\": [...]}; got \(document.typeName)")
                }
            }
        } catch let error as JSONParser.SyntaxError {
            throw .syntax(error)
        } catch let error as Failure {
            throw error
        } catch {
            throw .shape("\(error)")
        }
        guard items.count <= maximumItems else { throw .tooManyItems(count: items.count, limit: maximumItems) }
        var updates: [UsageUpdate] = []
        updates.reserveCapacity(items.count)
        var problems: [Problem] = []
        for (index, item) in items.enumerated() {
            var report = ProblemReport(index: index, line: item.line)
            if let update = decode(item.value, report: &report, now: now) {
                updates.append(update)
            }
            problems += report.problems
        }
        guard problems.isEmpty else { throw .invalid(problems) }
        return updates
    }

    /// The fast path: every item read by `FastUpdateParser`, or nil as soon as one is not (the
    /// general path then reads the whole batch and reports exactly what is wrong).
    func decodeFast(_ bytes: [UInt8], format: Format, now: Timestamp) -> [UsageUpdate]? {
        bytes.withUnsafeBufferPointer { buffer -> [UsageUpdate]? in
            var updates: [UsageUpdate] = []
            switch format {
            case .ndjson:
                var start = 0
                while start < buffer.count {
                    var end = start
                    while end < buffer.count && buffer[end] != UInt8(ascii: "\n") { end += 1 }
                    var parser = FastUpdateParser(buffer, from: start, to: end)
                    parser.skipBlank()
                    if parser.position < end {
                        guard let update = parser.update(decoder: self, now: now) else { return nil }
                        parser.skipBlank()
                        guard parser.position == end else { return nil }
                        updates.append(update)
                        guard updates.count <= maximumItems else { return nil }
                    }
                    start = end + 1
                }
            case .json:
                var parser = FastUpdateParser(buffer, from: 0, to: buffer.count)
                parser.skipBlank()
                guard parser.takeByte(UInt8(ascii: "[")) else { return nil }
                parser.skipBlank()
                if !parser.takeByte(UInt8(ascii: "]")) {
                    while true {
                        guard let update = parser.update(decoder: self, now: now) else { return nil }
                        updates.append(update)
                        guard updates.count <= maximumItems else { return nil }
                        parser.skipBlank()
                        if parser.takeByte(UInt8(ascii: ",")) { continue }
                        guard parser.takeByte(UInt8(ascii: "]")) else { return nil }
                        break
                    }
                }
                parser.skipBlank()
                guard parser.position == buffer.count else { return nil }
            }
            return updates
        }
    }

    struct ProblemReport {
        var index: Int
        var line: Int?
        var problems: [Problem] = []
        mutating func add(_ field: String, _ rule: String) {
            problems.append(Problem(index: index, line: line, field: field, rule: rule))
        }
    }

    func decode(_ value: JSONValue, report: inout ProblemReport, now: Timestamp) -> UsageUpdate? {
        guard case .object = value else {
            report.add("item", "must be an object; got \(value.typeName)")
            return nil
        }
        let timestamp = readTimestamp(value["timestamp"], now: now, report: &report)
        let tenant = readId(value["tenantId"], field: "tenantId", required: true, report: &report)
        let customer = readId(value["customerId"], field: "customerId", required: true, report: &report)
        let model = readId(value["model"], field: "model", required: true, report: &report)
        let eventId = readId(value["eventId"], field: "eventId", required: false, report: &report)
        guard let metrics = value["metrics"], case .object = metrics else {
            report.add("metrics", value["metrics"] == nil ? "is required" : "must be an object; got \(value["metrics"]!.typeName)")
            return nil
        }
        let calls = readCount(metrics["totalCalls"], field: "metrics.totalCalls", required: true, report: &report)
        let total = readCount(metrics["totalTokens"], field: "metrics.totalTokens", required: true, report: &report)
        var tokens: [TokenField: Int64] = [:]
        for field in TokenField.allCases {
            let camel = metrics[field.name]
            let dotted = metrics[field.attribute]
            if camel != nil && dotted != nil {
                report.add("metrics.\(field.name)", "and metrics.\(field.attribute) name the same count: give one of them")
                continue
            }
            let name = camel != nil ? field.name : field.attribute
            tokens[field] = readCount(camel ?? dotted, field: "metrics.\(name)", required: false, report: &report)
        }
        let cost = readCost(metrics["totalCost"], report: &report)
        let latency = readAmount(
            metrics["avgLatencyMs"], field: "metrics.avgLatencyMs", required: true, maximum: RawUsage.maximumLatencyMs, report: &report)
        if let calls, let latency, RawUsage.latencyWeight(averageMs: latency, calls: calls) == nil {
            report.add(
                "metrics.avgLatencyMs",
                "times metrics.totalCalls must be at most \(RawUsage.maximumLatencyWeightMs) (milliseconds × calls, summed exactly); got \(latency) × \(calls)"
            )
        }
        guard report.problems.isEmpty, let timestamp, let tenant, let customer, let model, let calls, let total, let latency else {
            return nil
        }
        var update = UsageUpdate(
            timestamp: timestamp, tenantId: tenant, customerId: customer, model: model, calls: calls, totalTokens: total,
            inputTokens: tokens[.input], outputTokens: tokens[.output], cacheReadTokens: tokens[.cacheRead],
            cacheWriteTokens: tokens[.cacheWrite], reasoningTokens: tokens[.reasoning], cost: CostBreakdown(), isPriced: false,
            avgLatencyMs: latency, eventId: eventId
        )
        if let (field, rule) = update.tokenClassProblem {
            report.add(field, rule)
            return nil
        }
        guard price(&update, cost: cost) else {
            report.add(
                "metrics.totalCost",
                "must be at most \(UsageUpdate.maximumCost.decimalText) dollars (the most one update may cost); left out, it is priced from the price table for \(update.model), which gives more"
            )
            return nil
        }
        if let storeRules, let rejection = storeRules.admit(update, now: now) {
            report.add(rejection.field, "is refused by the store: \(rejection)")
            return nil
        }
        return update
    }

    /// Sets the cost: the producer's `totalCost` (already checked) when given, else the price
    /// in force at the update's time for its tokens by class (input and output must both be
    /// given: a missing side is unknown, not zero), else unpriced. Returns false, as a broken
    /// rule of `metrics.totalCost`, when the priced cost is more than one update may cost
    /// (`UsageUpdate.maximumCost`). The token classes must be consistent.
    func price(_ update: inout UsageUpdate, cost: Money?) -> Bool {
        if let cost {
            update.cost = .unattributed(cost)
            update.isPriced = true
        } else if update.inputTokens != nil, update.outputTokens != nil, let price = prices.price(for: update.model, at: update.timestamp) {
            guard let cost = price.cost(of: update) else { return false }
            update.cost = cost
            update.isPriced = true
        }
        return true
    }

    private func readTimestamp(_ value: JSONValue?, now: Timestamp, report: inout ProblemReport) -> Timestamp? {
        guard let value else {
            report.add("timestamp", "is required")
            return nil
        }
        guard case .string(let text) = value, let timestamp = Timestamp(iso8601: text) else {
            report.add("timestamp", "must be an ISO-8601 UTC time such as 2026-11-29T14:05:00.123Z")
            return nil
        }
        let oldest = now.advanced(by: .zero - retention)
        let newest = now.advanced(by: maximumFuture)
        guard timestamp >= oldest else {
            report.add("timestamp", "must not be older than \(DurationText.format(retention)) (the retention limit, \(oldest.iso8601)); got \(text)")
            return nil
        }
        guard timestamp <= newest else {
            report.add("timestamp", "must not be more than \(DurationText.format(maximumFuture)) in the future (\(newest.iso8601)); got \(text)")
            return nil
        }
        return timestamp
    }

    private func readId(_ value: JSONValue?, field: String, required: Bool, report: inout ProblemReport) -> String? {
        guard let value, value != .null || required else {
            if required { report.add(field, "is required") }
            return nil
        }
        guard case .string(let text) = value else {
            report.add(field, "must be a string of 1 to \(Self.maximumIdLength) printable characters; got \(value.typeName)")
            return nil
        }
        let length = text.count
        guard length >= 1, length <= Self.maximumIdLength,
            text.unicodeScalars.allSatisfy({
                !($0.value < 0x20 || (0x7F...0x9F).contains($0.value) || $0.properties.generalCategory == .format
                    || $0.properties.generalCategory == .lineSeparator || $0.properties.generalCategory == .paragraphSeparator)
            })
        else {
            report.add(field, "must be 1 to \(Self.maximumIdLength) printable characters (no control characters); got \(length) characters")
            return nil
        }
        return text
    }

    private func readCount(_ value: JSONValue?, field: String, required: Bool, report: inout ProblemReport) -> Int64? {
        guard let value, value != .null || required else {
            if required { report.add(field, "is required") }
            return nil
        }
        let rule = "must be a non-negative integer of at most \(RawUsage.maximumCount)"
        guard case .number(let text) = value else {
            report.add(field, "\(rule); got \(value.typeName)")
            return nil
        }
        guard let count = Int64(plainDigits: text), count <= RawUsage.maximumCount else {
            report.add(field, "\(rule); got \(text.count > 24 ? String(text.prefix(24)) + "…" : text)")
            return nil
        }
        return count
    }

    /// `metrics.totalCost`, exact: optional, at most 12 decimal places and `UsageUpdate.maximumCost`.
    private func readCost(_ value: JSONValue?, report: inout ProblemReport) -> Money? {
        guard let value, value != .null else { return nil }
        let rule =
            "must be a non-negative number of dollars with at most 12 decimal places, at most \(UsageUpdate.maximumCost.decimalText) (the most one update may cost)"
        guard case .number(let text) = value else {
            report.add("metrics.totalCost", "\(rule); got \(value.typeName)")
            return nil
        }
        var utf8 = Array(text.utf8)
        switch utf8.withUnsafeMutableBufferPointer({ Self.cost(decimal: UnsafeBufferPointer($0)) }) {
        case .success(let cost):
            return cost
        case .failure(let failure):
            let shown = text.count > 24 ? String(text.prefix(24)) + "…" : text
            report.add("metrics.totalCost", "\(rule); got \(shown), \(failure.reason)")
            return nil
        }
    }

    private func readAmount(_ value: JSONValue?, field: String, required: Bool, maximum: Double, report: inout ProblemReport) -> Double? {
        guard let value, value != .null || required else {
            if required { report.add(field, "is required") }
            return nil
        }
        let rule = "must be a finite, non-negative number of at most \(Int64(maximum))"
        guard case .number(let text) = value, let amount = Double(text), amount.isFinite, amount >= 0, amount <= maximum else {
            if case .number(let text) = value {
                report.add(field, "\(rule); got \(text.count > 24 ? String(text.prefix(24)) + "…" : text)")
            } else {
                report.add(field, "\(rule); got \(value.typeName)")
            }
            return nil
        }
        return amount
    }
}
