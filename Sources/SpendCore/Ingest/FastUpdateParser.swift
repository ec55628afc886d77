/// A single-pass reader for the common shape of one usage update, straight from bytes to a
/// `UsageUpdate`, several times faster than building a `JSONValue` first.
///
/// It handles only what producers normally send: the known members in any order, strings
/// without escapes or non-ASCII, plain numbers. Anything else (an escape, an unknown member,
/// a broken rule, broken JSON) makes it return nil, and the caller takes the general path
/// (`JSONParser` + `UsageBatchDecoder`), which gives the same update or the exact error. Tests
/// check that both paths agree.
struct FastUpdateParser {
    let bytes: UnsafeBufferPointer<UInt8>
    var position: Int
    let end: Int

    init(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int) {
        self.bytes = bytes
        position = start
        self.end = end
    }

    /// Parses one object starting at `position`; on success `position` is just after it.
    mutating func update(decoder: UsageBatchDecoder, now: Timestamp) -> UsageUpdate? {
        var timestamp: Timestamp?
        var tenant: String?
        var customer: String?
        var model: String?
        var eventId: String?
        var calls: Int64?
        var total: Int64?
        var input: Int64?
        var output: Int64?
        var cacheRead: Int64?
        var cacheWrite: Int64?
        var reasoning: Int64?
        var cost: Money?
        var latency: Double?
        var sawMetrics = false

        skipSpace()
        guard take(UInt8(ascii: "{")) else { return nil }
        skipSpace()
        if take(UInt8(ascii: "}")) { return nil }
        while true {
            skipSpace()
            guard let key = rawString() else { return nil }
            skipSpace()
            guard take(UInt8(ascii: ":")) else { return nil }
            skipSpace()
            switch Key(key) {
            case .timestamp:
                guard let text = rawString(), let value = Timestamp(iso8601Bytes: text) else { return nil }
                timestamp = value
            case .tenantId: guard let value = id() else { return nil }; tenant = value
            case .customerId: guard let value = id() else { return nil }; customer = value
            case .model: guard let value = id() else { return nil }; model = value
            case .eventId: guard let value = id() else { return nil }; eventId = value
            case .metrics:
                guard !sawMetrics, take(UInt8(ascii: "{")) else { return nil }
                sawMetrics = true
                skipSpace()
                if take(UInt8(ascii: "}")) { return nil }
                while true {
                    skipSpace()
                    guard let name = rawString() else { return nil }
                    skipSpace()
                    guard take(UInt8(ascii: ":")) else { return nil }
                    skipSpace()
                    switch Key(name) {
                    case .totalCalls: guard let value = count() else { return nil }; calls = value
                    case .totalTokens: guard let value = count() else { return nil }; total = value
                    case .inputTokens: guard let value = count() else { return nil }; input = value
                    case .outputTokens: guard let value = count() else { return nil }; output = value
                    case .cacheReadInputTokens: guard let value = count() else { return nil }; cacheRead = value
                    case .cacheCreationInputTokens: guard let value = count() else { return nil }; cacheWrite = value
                    case .reasoningOutputTokens: guard let value = count() else { return nil }; reasoning = value
                    case .totalCost:
                        guard let number = numberBytes(), case .success(let value) = UsageBatchDecoder.cost(decimal: number) else { return nil }
                        cost = value
                    case .avgLatencyMs: guard let value = amount(), value <= RawUsage.maximumLatencyMs else { return nil }; latency = value
                    default: return nil
                    }
                    skipSpace()
                    if take(UInt8(ascii: ",")) { continue }
                    guard take(UInt8(ascii: "}")) else { return nil }
                    break
                }
            default:
                return nil
            }
            skipSpace()
            if take(UInt8(ascii: ",")) { continue }
            guard take(UInt8(ascii: "}")) else { return nil }
            break
        }
        guard let timestamp, let tenant, let customer, let model, let calls, let total, let latency else { return nil }
        guard timestamp >= now.advanced(by: .zero - decoder.retention), timestamp <= now.advanced(by: decoder.maximumFuture),
            RawUsage.latencyWeight(averageMs: latency, calls: calls) != nil
        else { return nil }
        var update = UsageUpdate(
            timestamp: timestamp, tenantId: tenant, customerId: customer, model: model, calls: calls, totalTokens: total,
            inputTokens: input, outputTokens: output, cacheReadTokens: cacheRead, cacheWriteTokens: cacheWrite, reasoningTokens: reasoning,
            cost: CostBreakdown(), isPriced: false, avgLatencyMs: latency, eventId: eventId
        )
        guard update.tokenClassProblem == nil, decoder.price(&update, cost: cost) else { return nil }
        if let rules = decoder.storeRules, rules.admit(update, now: now) != nil { return nil }
        return update
    }

    private enum Key {
        case timestamp, tenantId, customerId, model, eventId, metrics
        case totalCalls, totalTokens, inputTokens, outputTokens, totalCost, avgLatencyMs
        case cacheReadInputTokens, cacheCreationInputTokens, reasoningOutputTokens
        case other

        init(_ bytes: UnsafeBufferPointer<UInt8>) {
            func equals(_ text: StaticString) -> Bool {
                text.utf8CodeUnitCount == bytes.count
                    && text.withUTF8Buffer { expected in (0..<bytes.count).allSatisfy { bytes[$0] == expected[$0] } }
            }
            switch bytes.count {
            case 5: self = equals("model") ? .model : .other
            case 7: self = equals("eventId") ? .eventId : equals("metrics") ? .metrics : .other
            case 8: self = equals("tenantId") ? .tenantId : .other
            case 9: self = equals("timestamp") ? .timestamp : equals("totalCost") ? .totalCost : .other
            case 10: self = equals("customerId") ? .customerId : equals("totalCalls") ? .totalCalls : .other
            case 11: self = equals("totalTokens") ? .totalTokens : equals("inputTokens") ? .inputTokens : .other
            case 12: self = equals("outputTokens") ? .outputTokens : equals("avgLatencyMs") ? .avgLatencyMs : .other
            case 20: self = equals("cacheReadInputTokens") ? .cacheReadInputTokens : .other
            case 21: self = equals("reasoningOutputTokens") ? .reasoningOutputTokens : .other
            case 24: self = equals("cacheCreationInputTokens") ? .cacheCreationInputTokens : .other
            default: self = .other
            }
        }
    }

    mutating func skipBlank() { skipSpace() }

    mutating func takeByte(_ byte: UInt8) -> Bool { take(byte) }

    private mutating func skipSpace() {
        while position < end, bytes[position] == 0x20 || bytes[position] == 0x09 || bytes[position] == 0x0A || bytes[position] == 0x0D {
            position += 1
        }
    }

    private mutating func take(_ byte: UInt8) -> Bool {
        guard position < end, bytes[position] == byte else { return false }
        position += 1
        return true
    }

    /// The bytes of a string of printable ASCII without escapes; nil for anything else.
    private mutating func rawString() -> UnsafeBufferPointer<UInt8>? {
        guard take(UInt8(ascii: "\"")) else { return nil }
        let start = position
        while position < end {
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") {
                let slice = UnsafeBufferPointer(rebasing: bytes[start..<position])
                position += 1
                return slice
            }
            guard byte >= 0x20, byte < 0x7F, byte != UInt8(ascii: "\\") else { return nil }
            position += 1
        }
        return nil
    }

    /// An id: 1–128 printable ASCII characters.
    private mutating func id() -> String? {
        guard let raw = rawString(), raw.count >= 1, raw.count <= UsageBatchDecoder.maximumIdLength else { return nil }
        return String(decoding: raw, as: UTF8.self)
    }

    /// A non-negative integer of plain digits, at most `RawUsage.maximumCount`.
    private mutating func count() -> Int64? {
        let start = position
        var value: Int64 = 0
        while position < end, bytes[position] >= 48, bytes[position] <= 57 {
            value = value * 10 + Int64(bytes[position] - 48)
            position += 1
            if position - start > 10 { return nil }
        }
        guard position > start, value <= RawUsage.maximumCount else { return nil }
        if position - start > 1 && bytes[start] == 48 { return nil }  // leading zero: not JSON
        if position < end, bytes[position] == UInt8(ascii: ".") || bytes[position] == UInt8(ascii: "e") || bytes[position] == UInt8(ascii: "E") {
            return nil
        }
        return value
    }

    /// The bytes of a JSON number (sign, digits, point, exponent), checked by whoever reads
    /// them; nil when there are none.
    private mutating func numberBytes() -> UnsafeBufferPointer<UInt8>? {
        let start = position
        while position < end {
            let byte = bytes[position]
            guard
                (byte >= 48 && byte <= 57) || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E")
                    || byte == UInt8(ascii: "+") || byte == UInt8(ascii: "-")
            else { break }
            position += 1
        }
        return position > start ? UnsafeBufferPointer(rebasing: bytes[start..<position]) : nil
    }

    /// A non-negative decimal `digits[.digits]`, converted exactly when it fits the fast case
    /// (at most 15 significant digits), else nil.
    private mutating func amount() -> Double? {
        let start = position
        var mantissa: Int64 = 0
        var digits = 0
        var fraction = 0
        while position < end, bytes[position] >= 48, bytes[position] <= 57 {
            mantissa = mantissa * 10 + Int64(bytes[position] - 48)
            digits += 1
            position += 1
            if digits > 15 { return nil }  // before the mantissa could overflow
        }
        guard digits > 0, !(digits > 1 && bytes[start] == 48) else { return nil }
        if position < end, bytes[position] == UInt8(ascii: ".") {
            position += 1
            while position < end, bytes[position] >= 48, bytes[position] <= 57 {
                mantissa = mantissa * 10 + Int64(bytes[position] - 48)
                digits += 1
                fraction += 1
                position += 1
                if digits > 15 { return nil }
            }
            guard fraction > 0 else { return nil }
        }
        guard digits <= 15 else { return nil }
        if position < end, bytes[position] == UInt8(ascii: "e") || bytes[position] == UInt8(ascii: "E") { return nil }
        // Both the mantissa (< 2^53) and 10^fraction (≤ 10^15) are exact doubles, so one
        // correctly rounded division gives the same value as parsing the text.
        return Double(mantissa) / Self.powersOfTen[fraction]
    }

    private static let powersOfTen: [Double] = (0...15).map { exponent in
        (0..<exponent).reduce(1.0) { value, _ in value * 10 }
    }
}
