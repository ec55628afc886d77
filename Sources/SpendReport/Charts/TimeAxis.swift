import SpendCore

/// Labels of a time axis: at most 6, on round instants (whole minutes, hours, days), worded for
/// the span (`14:05:00` within an hour, `14:00` within two days, `28 Nov` beyond).
struct TimeAxis {
    var start: Timestamp
    var end: Timestamp

    static let intervals: [Int64] = [
        60, 300, 600, 900, 1800, 3600, 2 * 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86_400, 2 * 86_400, 7 * 86_400,
    ].map { $0 * 1000 }

    var span: Int64 { end.millisecondsSinceEpoch - start.millisecondsSinceEpoch }

    /// Time between labels.
    var interval: Int64 {
        Self.intervals.first { span / $0 <= 6 } ?? Self.intervals.last!
    }

    /// The labelled instants in `[start, end]`.
    var ticks: [Timestamp] {
        let step = interval
        var tick = (start.millisecondsSinceEpoch + step - 1).flooredDivision(by: step) * step
        var ticks: [Timestamp] = []
        while tick <= end.millisecondsSinceEpoch {
            ticks.append(Timestamp(millisecondsSinceEpoch: tick))
            tick += step
        }
        return ticks
    }

    func label(_ t: Timestamp) -> String {
        if span <= 3_600_000 && interval < 3_600_000 { return Format.clock(t) }
        if span <= 2 * 86_400_000 { return Format.hourMinute(t) }
        return Format.dayMonth(t)
    }

    /// The x coordinate of `t` on `left...right`.
    func x(_ t: Timestamp, left: Double, right: Double) -> Double {
        guard span > 0 else { return left }
        return left + (right - left) * Double(t.millisecondsSinceEpoch - start.millisecondsSinceEpoch) / Double(span)
    }
}

extension Format {
    /// `28 Nov`, in UTC.
    static func dayMonth(_ timestamp: Timestamp) -> String {
        let iso = timestamp.iso8601
        let month = Int(iso.dropFirst(5).prefix(2))!
        let day = Int(iso.dropFirst(8).prefix(2))!
        return "\(day) " + ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"][month - 1]
    }

    /// A step as people say it: `5 s`, `5 min`, `3 h`, `1 day`.
    static func step(_ duration: Duration) -> String {
        let seconds = duration.milliseconds / 1000
        if seconds < 60 { return "\(seconds) s" }
        if seconds < 3600 { return "\(seconds / 60) min" }
        if seconds < 86_400 { return "\(seconds / 3600) h" }
        return seconds == 86_400 ? "1 day" : "\(seconds / 86_400) days"
    }

    /// Start and end of a range: `14:05:30–15:05:30 UTC` within a day, `28 Nov 15:00 – 3 Dec 14:07 UTC` beyond.
    static func range(_ start: Timestamp, _ end: Timestamp, separator: String = "\u{2013}") -> String {
        if start.floored(to: .seconds(86_400)) == end.advanced(by: .milliseconds(-1)).floored(to: .seconds(86_400)) {
            return "\(clock(start))\(separator)\(clock(end)) UTC"
        }
        let wide = separator == "\u{2013}" ? " \u{2013} " : separator
        return "\(dayMonth(start)) \(hourMinute(start))\(wide)\(dayMonth(end)) \(hourMinute(end)) UTC"
    }
}

extension Format {
    /// A derived dollar figure (a rate, an average) to the cent, for reading only: `$1,234.57`.
    /// Sums of money are `Money`, exact; a rate is a quotient and rounded here, where people read it.
    static func dollars(_ value: Double) -> String {
        guard value.isFinite, abs(value) < 1e15 else { return "\u{2013}" }
        return Money(picodollars: Int128((value * 100).rounded()) * 10_000_000_000).formatted(decimals: 2)
    }
}
