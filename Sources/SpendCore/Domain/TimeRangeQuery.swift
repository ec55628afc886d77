/// A range of time asked for in a URL or on the command line: a live window (`24h`), or
/// `from` and `to`, each an ISO-8601 time (`2026-12-01T09:00:00Z`, `2026-12-01`), milliseconds
/// since the epoch (as Grafana writes them), or a time relative to now in Grafana's syntax:
/// `now`, `now-6h`, `now/d` (the start of today, UTC), `now-1d/d`. Units: `s`, `m`, `h`, `d`,
/// `w` (weeks start on Monday), `M` (months), `y`. As in Grafana, rounding (`/d`) goes to the
/// start of the unit in `from` and to its end in `to`: `from=now-1d/d&to=now-1d/d` is
/// yesterday.
///
/// ```swift
/// let range = try TimeRangeQuery.resolve(window: nil, from: "now/d", to: "now", now: clock.now)
/// ```
public enum TimeRangeQuery {
    /// The longest range: a month of 31 days.
    public static let maximumLength: Duration = .seconds(31 * 86_400)

    /// Why a resolved range can still show nothing (`UsageLedger.cut` leaves nothing of it).
    public static let nothingKeptRule =
        "the range holds no whole hour; usage older than an hour is kept per clock hour, so a range that old must contain one"

    /// Why a range was refused: the parameter (`window`, `from`, `to`) and the rule.
    public struct Problem: Error, Hashable, Sendable, CustomStringConvertible {
        public var parameter: String
        public var rule: String
        public var description: String { "\(parameter): \(rule)" }
    }

    /// The range `[from, to)` the parameters name, with `to` no later than `now`; a window
    /// excludes `from` and `to`. Nil when none of them is given.
    public static func resolve(window: String?, from: String?, to: String?, now: Timestamp) throws(Problem) -> Range<Timestamp>? {
        if let window {
            guard from == nil, to == nil else {
                throw Problem(parameter: "window", rule: "give either window or from and to, not both")
            }
            guard let named = TimeWindow.named(window) else {
                throw Problem(parameter: "window", rule: "must be one of \(TimeWindow.all.map(\.id).joined(separator: ", "))")
            }
            let end = named.end(at: now)
            return end.advanced(by: .zero - named.length)..<end
        }
        guard from != nil || to != nil else { return nil }
        guard let from else { throw Problem(parameter: "from", rule: "is required with to") }
        let start = try time(from, parameter: "from", roundUp: false, now: now)
        let end = try to.map { text throws(Problem) in try time(text, parameter: "to", roundUp: true, now: now) } ?? now
        guard end > start else { throw Problem(parameter: "to", rule: "must be after from") }
        guard start < now else { throw Problem(parameter: "from", rule: "must be in the past") }
        guard start >= now.advanced(by: .zero - UsageLedger.hourRetention) else {
            throw Problem(parameter: "from", rule: "lies outside the retention of 30 days")
        }
        guard start.duration(to: end) <= maximumLength else {
            throw Problem(parameter: "to", rule: "the range may be at most 31 days long")
        }
        return start..<min(end, now)
    }

    /// One time: ISO-8601, epoch milliseconds or relative to `now`.
    public static func time(_ text: String, parameter: String, roundUp: Bool, now: Timestamp) throws(Problem) -> Timestamp {
        let malformed = Problem(
            parameter: parameter,
            rule:
                "must be an ISO-8601 time (2026-12-01T09:00:00Z), a date (2026-12-01), milliseconds since the epoch, or relative to now (now-6h, now/d)"
        )
        if text.hasPrefix("now") {
            guard let time = relative(text.dropFirst(3), now: now, roundUp: roundUp) else { throw malformed }
            return time
        }
        if !text.isEmpty, text.count <= 15, text.allSatisfy(\.isASCIIDigit), let millis = Int64(text) {
            return Timestamp(millisecondsSinceEpoch: millis)
        }
        if text.count == 10, let day = Timestamp(iso8601: text + "T00:00:00Z") { return day }
        if let time = Timestamp(iso8601: text) { return time }
        throw malformed
    }

    /// `-6h`, `/d`, `-1d/d`, `-1M+3d` after `now`.
    static func relative(_ text: Substring, now: Timestamp, roundUp: Bool) -> Timestamp? {
        var time = now
        var rest = text
        while let sign = rest.first, sign == "+" || sign == "-" {
            rest = rest.dropFirst()
            let digits = rest.prefix { $0.isASCIIDigit }
            guard !digits.isEmpty, digits.count <= 6, let amount = Int64(digits), let unit = rest.dropFirst(digits.count).first else {
                return nil
            }
            rest = rest.dropFirst(digits.count + 1)
            guard let moved = shift(time, by: sign == "-" ? -amount : amount, unit: unit) else { return nil }
            time = moved
        }
        if rest.first == "/" {
            guard rest.count == 2, let unit = rest.last, let start = startOfUnit(time, unit: unit) else { return nil }
            if !roundUp { return start }
            return shift(start, by: 1, unit: unit)
        }
        return rest.isEmpty ? time : nil
    }

    static func shift(_ time: Timestamp, by amount: Int64, unit: Character) -> Timestamp? {
        let seconds: Int64
        switch unit {
        case "s": seconds = 1
        case "m": seconds = 60
        case "h": seconds = 3600
        case "d": seconds = 86_400
        case "w": seconds = 7 * 86_400
        case "M", "y":
            let ms = time.millisecondsSinceEpoch
            let days = ms.flooredDivision(by: 86_400_000)
            let civil = Timestamp.civil(fromDays: days)
            let months = civil.year * 12 + (civil.month - 1) + (unit == "y" ? 12 * amount : amount)
            let year = months.flooredDivision(by: 12)
            let month = months - year * 12 + 1
            guard (1970...9999).contains(year) else { return nil }
            let day = min(civil.day, Timestamp.daysIn(month: month, year: year))
            return Timestamp(millisecondsSinceEpoch: Timestamp.days(fromCivil: year, month, day) * 86_400_000 + (ms - days * 86_400_000))
        default: return nil
        }
        return Timestamp(millisecondsSinceEpoch: time.millisecondsSinceEpoch + amount * seconds * 1000)
    }

    static func startOfUnit(_ time: Timestamp, unit: Character) -> Timestamp? {
        let ms = time.millisecondsSinceEpoch
        let days = ms.flooredDivision(by: 86_400_000)
        switch unit {
        case "s", "m", "h", "d":
            let width: Int64 = ["s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000][unit]!
            return Timestamp(millisecondsSinceEpoch: ms.flooredDivision(by: width) * width)
        case "w":
            // 1970-01-01 was a Thursday: Monday is 3 days earlier in the cycle.
            let monday = (days + 3).flooredDivision(by: 7) * 7 - 3
            return Timestamp(millisecondsSinceEpoch: monday * 86_400_000)
        case "M", "y":
            let civil = Timestamp.civil(fromDays: days)
            return Timestamp(millisecondsSinceEpoch: Timestamp.days(fromCivil: civil.year, unit == "y" ? 1 : civil.month, 1) * 86_400_000)
        default: return nil
        }
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
