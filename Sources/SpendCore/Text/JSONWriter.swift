/// A small, fast JSON writer for the shapes this project emits on hot paths (10,000 updates a
/// response, a snapshot every tick), where `JSONEncoder` would dominate the cost.
///
/// Strings are escaped for JSON and also made safe to embed in HTML: `<`, `>`, `&`, U+2028
/// and U+2029 are written as `\u` escapes.
///
/// ```swift
/// var writer = JSONWriter()
/// writer.object { o in
///     o.field("status") { $0.string("ok") }
///     o.field("uptime") { $0.number(12.5) }
/// }
/// let bytes = writer.bytes
/// ```
public struct JSONWriter: Sendable {
    public private(set) var bytes: [UInt8] = []

    public init(capacity: Int = 256) {
        bytes.reserveCapacity(capacity)
    }

    public var string: String { String(decoding: bytes, as: UTF8.self) }

    public mutating func raw(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    public mutating func null() { raw("null") }

    public mutating func bool(_ value: Bool) { value ? raw("true") : raw("false") }

    public mutating func integer(_ value: some BinaryInteger) {
        bytes.append(contentsOf: String(value).utf8)
    }

    /// A finite number, written in the shortest form that reads back the same; non-finite
    /// values become `null`, as JSON has no form for them.
    public mutating func number(_ value: Double) {
        guard value.isFinite else { return null() }
        if value == value.rounded(), abs(value) < 1e15 {
            integer(Int64(value))
        } else {
            bytes.append(contentsOf: "\(value)".utf8)
        }
    }

    /// A number rounded to `places` decimals (for rates and shares).
    public mutating func number(_ value: Double, places: Int) {
        guard value.isFinite else { return null() }
        var scale = 1.0
        for _ in 0..<places { scale *= 10 }
        number((value * scale).rounded() / scale)
    }

    /// An amount of money in dollars, written exactly from micro-dollars.
    public mutating func dollars(_ amount: Money) {
        bytes.append(contentsOf: amount.decimalText.utf8)
    }

    public mutating func timestamp(_ value: Timestamp) {
        bytes.append(UInt8(ascii: "\""))
        value.appendISO8601(to: &bytes)
        bytes.append(UInt8(ascii: "\""))
    }

    public mutating func string(_ value: String) {
        bytes.append(UInt8(ascii: "\""))
        let utf8 = value.utf8
        var index = utf8.startIndex
        while index != utf8.endIndex {
            let byte = utf8[index]
            index = utf8.index(after: index)
            switch byte {
            case UInt8(ascii: "\""): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case UInt8(ascii: "\n"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case UInt8(ascii: "\r"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case UInt8(ascii: "\t"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "&"), 0..<0x20, 0x7F:
                unicodeEscape(UInt32(byte))
            case 0xE2 where utf8[index...].starts(with: [0x80, 0xA8]) || utf8[index...].starts(with: [0x80, 0xA9]):
                // U+2028 and U+2029 end a line in JavaScript.
                let last = utf8[utf8.index(after: index)]
                unicodeEscape(last == 0xA8 ? 0x2028 : 0x2029)
                index = utf8.index(index, offsetBy: 2)
            default:
                bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    private mutating func unicodeEscape(_ code: UInt32) {
        let hex: StaticString = "0123456789abcdef"
        bytes.append(UInt8(ascii: "\\"))
        bytes.append(UInt8(ascii: "u"))
        hex.withUTF8Buffer { digits in
            for shift in stride(from: 12, through: 0, by: -4) {
                bytes.append(digits[Int((code >> UInt32(shift)) & 0xF)])
            }
        }
    }

    public mutating func object(_ body: (inout ObjectWriter) -> Void) {
        bytes.append(UInt8(ascii: "{"))
        // Hand the buffer over and take it back without ever holding two references to it:
        // a second reference would make the next append copy the whole document.
        var object = ObjectWriter(writer: JSONWriter(taking: &bytes))
        body(&object)
        self = JSONWriter(taking: &object.writer.bytes)
        bytes.append(UInt8(ascii: "}"))
    }

    private init(taking buffer: inout [UInt8]) {
        bytes = []
        swap(&bytes, &buffer)
    }

    public mutating func array<S: Sequence>(_ elements: S, _ body: (inout JSONWriter, S.Element) -> Void) {
        bytes.append(UInt8(ascii: "["))
        var first = true
        for element in elements {
            if !first { bytes.append(UInt8(ascii: ",")) }
            first = false
            body(&self, element)
        }
        bytes.append(UInt8(ascii: "]"))
    }

    /// Writes the members of one JSON object.
    public struct ObjectWriter: Sendable {
        var writer: JSONWriter
        private var first = true

        init(writer: JSONWriter) {
            self.writer = writer
        }

        public mutating func field(_ name: String, _ value: (inout JSONWriter) -> Void) {
            if !first { writer.bytes.append(UInt8(ascii: ",")) }
            first = false
            writer.string(name)
            writer.bytes.append(UInt8(ascii: ":"))
            value(&writer)
        }
    }
}
