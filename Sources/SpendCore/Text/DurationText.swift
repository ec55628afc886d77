/// Durations as people write them on a command line: `90s`, `5m`, `1h`, `30d`, `250ms`, or
/// `0` for none.
public enum DurationText {
    public struct ParseError: Error, CustomStringConvertible, Sendable {
        public var text: String
        public var description: String {
            "'\(text)' is not a duration: write a whole number followed by ms, s, m, h or d, such as 90s, 5m, 1h or 30d"
        }
    }

    public static func parse(_ text: String) throws(ParseError) -> Duration {
        if text == "0" { return .zero }
        let digits = text.prefix { $0.isASCII && $0.isNumber }
        let unit = text.dropFirst(digits.count)
        guard let value = Int64(plainDigits: digits), value <= 1_000_000_000 else { throw ParseError(text: text) }
        switch unit {
        case "ms": return .milliseconds(value)
        case "s": return .seconds(value)
        case "m": return .seconds(value * 60)
        case "h": return .seconds(value * 3600)
        case "d": return .seconds(value * 86_400)
        default: throw ParseError(text: text)
        }
    }

    /// The shortest exact form: `5s`, `90s`, `1h`, `30d`, `250ms`.
    public static func format(_ duration: Duration) -> String {
        let ms = duration.milliseconds
        if ms == 0 { return "0" }
        if ms % 1000 != 0 { return "\(ms)ms" }
        let s = ms / 1000
        if s % 86_400 == 0 { return "\(s / 86_400)d" }
        if s % 3600 == 0 { return "\(s / 3600)h" }
        if s % 60 == 0 && s >= 300 { return "\(s / 60)m" }
        return "\(s)s"
    }
}
