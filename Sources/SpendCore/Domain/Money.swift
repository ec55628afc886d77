/// Money is held as integer micro-dollars (`Int64`), so sums are exact; dollars appear only at
/// the edges (JSON, pages). `Money` converts in both directions.
public enum Money {
    public static let microsPerDollar: Int64 = 1_000_000

    /// Micro-dollars for a dollar amount, rounded to the nearest micro-dollar, or nil when the
    /// amount is not finite, negative, or too large to hold.
    public static func micros(fromDollars dollars: Double) -> Int64? {
        guard dollars.isFinite, dollars >= 0 else { return nil }
        let micros = (dollars * 1e6).rounded()
        guard micros < 9.0e15 else { return nil }
        return Int64(micros)
    }

    /// The exact decimal form of an amount in dollars, as a JSON number: `12.5`, `0.0001`, `3`.
    /// No floating point is involved, so `0.1 + 0.2` stays `0.3`.
    public static func decimalDollars(_ micros: Int64) -> String {
        let negative = micros < 0
        let magnitude = micros.magnitude
        let whole = magnitude / 1_000_000
        var fraction = magnitude % 1_000_000
        var text = negative ? "-\(whole)" : "\(whole)"
        guard fraction != 0 else { return text }
        var digits = 6
        while fraction % 10 == 0 {
            fraction /= 10
            digits -= 1
        }
        let fractionText = String(fraction)
        text += "." + String(repeating: "0", count: digits - fractionText.count) + fractionText
        return text
    }

    /// Human form for pages: `$78,123.45`, `$0.0042` (small amounts keep 4 decimals).
    public static func formatted(_ micros: Int64, decimals: Int? = nil) -> String {
        let places = decimals ?? (micros.magnitude < 10_000 && micros != 0 ? 4 : 2)
        let scale = Int64((0..<(6 - places)).reduce(1) { acc, _ in acc * 10 })
        let rounded = (micros.magnitude + UInt64(scale / 2)) / UInt64(scale)
        let unit = UInt64((0..<places).reduce(1) { acc, _ in acc * 10 })
        let whole = rounded / unit
        let fraction = rounded % unit
        var grouped = ""
        for (index, character) in String(whole).reversed().enumerated() {
            if index > 0 && index % 3 == 0 { grouped.append(",") }
            grouped.append(character)
        }
        var text = (micros < 0 ? "-$" : "$") + String(grouped.reversed())
        if places > 0 {
            let f = String(fraction)
            text += "." + String(repeating: "0", count: places - f.count) + f
        }
        return text
    }
}
