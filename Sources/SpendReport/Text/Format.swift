import SpendCore

/// Number, money and time formats for pages and charts, without Foundation formatters (they
/// cost microseconds per call and depend on the locale).
enum Format {
    /// `12,345` / `-7`.
    static func grouped(_ value: Int64) -> String {
        let digits = String(value.magnitude)
        var result = value < 0 ? "-" : ""
        for (index, character) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { result.append(",") }
            result.append(character)
        }
        return result
    }

    /// A value with `places` decimals, rounded half away from zero: `fixed(2.25, 1) == "2.3"`.
    static func fixed(_ value: Double, places: Int) -> String {
        guard value.isFinite else { return "0" }
        var scale: Int64 = 1
        for _ in 0..<places { scale *= 10 }
        let scaled = Int64((value.magnitude * Double(scale)).rounded())
        let whole = scaled / scale
        var text = (value < 0 && scaled != 0 ? "-" : "") + String(whole)
        if places > 0 {
            let fraction = String(scaled % scale)
            text += "." + String(repeating: "0", count: places - fraction.count) + fraction
        }
        return text
    }

    /// An SVG coordinate: at most one decimal, no trailing `.0`.
    static func coordinate(_ value: Double) -> String {
        guard value.isFinite else { return "0" }
        let tenths = Int64((value * 10).rounded())
        if tenths % 10 == 0 { return String(tenths / 10) }
        let sign = tenths < 0 ? "-" : ""
        return sign + String(tenths.magnitude / 10) + "." + String(tenths.magnitude % 10)
    }

    /// Compact units for axes: `0`, `950`, `1.5k`, `35k`, `1.2M`, `3B`.
    static func compact(_ value: Double) -> String {
        let magnitude = value.magnitude
        let units: [(Double, String)] = [(1e9, "B"), (1e6, "M"), (1e3, "k")]
        for (unit, suffix) in units where magnitude >= unit {
            let scaled = value / unit
            let text = scaled.magnitude >= 100 || scaled == scaled.rounded() ? fixed(scaled, places: 0) : fixed(scaled, places: 1)
            return trimZeros(text) + suffix
        }
        return magnitude >= 10 || value == value.rounded() ? fixed(value, places: 0) : trimZeros(fixed(value, places: 1))
    }

    /// Compact dollars for axes: `$0`, `$50k`, `$1.2M`.
    /// (Chart scales count in micro-dollars, as `Double`s: geometry, never sums.)
    static func compactDollars(micros: Double) -> String {
        "$" + compact(micros / 1e6)
    }

    /// A share 0...1 as a percentage with one decimal: `12.3%`.
    static func percent(_ share: Double) -> String {
        fixed(share * 100, places: 1) + "%"
    }

    /// `HH:MM:SS` in UTC, 24-hour.
    static func clock(_ timestamp: Timestamp) -> String {
        let iso = timestamp.iso8601
        let t = iso.firstIndex(of: "T")!
        return String(iso[iso.index(after: t)...].prefix(8))
    }

    /// `HH:MM` in UTC, 24-hour.
    static func hourMinute(_ timestamp: Timestamp) -> String {
        String(clock(timestamp).prefix(5))
    }

    /// `2026-11-29 14:05:00 UTC`.
    static func dateTime(_ timestamp: Timestamp) -> String {
        let iso = timestamp.iso8601
        let t = iso.firstIndex(of: "T")!
        return String(iso[..<t]) + " " + clock(timestamp) + " UTC"
    }

    /// Seconds for meta-refresh and data attributes: `5`, `0.5`.
    static func seconds(_ duration: Duration) -> String {
        let ms = duration.milliseconds
        return ms % 1000 == 0 ? String(ms / 1000) : trimZeros(fixed(Double(ms) / 1000, places: 3))
    }

    private static func trimZeros(_ text: String) -> String {
        guard text.contains(".") else { return text }
        var result = Substring(text)
        while result.hasSuffix("0") { result = result.dropLast() }
        if result.hasSuffix(".") { result = result.dropLast() }
        return String(result)
    }

    /// Spend with its unpriced part said plainly: `$12.50`, `$12.50 + 3 unpriced`, or
    /// `unpriced` when no update had a price (never `$0.00` for usage of unknown cost).
    static func spend(_ usage: SeriesCounters) -> String {
        guard usage.unpricedUpdates > 0 else { return usage.cost.formatted() }
        if usage.unpricedUpdates == usage.updates { return "unpriced" }
        return usage.cost.formatted() + " + \(grouped(usage.unpricedUpdates)) unpriced"
    }
}
