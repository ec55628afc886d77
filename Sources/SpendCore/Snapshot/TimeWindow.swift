/// A window of the live site: the page `window-<id>.html` (the hour is `index.html`), its
/// length, and how often its figures can change.
///
/// Windows that reach past the last hour cover whole clock hours (the current one as far as it
/// has gone), because only the hour tier keeps every series that long; they move once a
/// minute, so their pages are rendered once a minute, not every tick.
public struct TimeWindow: Hashable, Sendable, CustomStringConvertible {
    /// `5m`, `15m`, `1h`, `24h`, `7d`, `30d`: in URLs, page names and `?window=`.
    public let id: String
    public let length: Duration
    /// "5 minutes", "24 hours": for headings.
    public let name: String
    /// How far back the spend chart's comparison line lies: the previous period, except a day
    /// for the 24-hour page and a week for the 7-day page (the same hours a day or week ago).
    public let comparisonShift: Duration

    public var description: String { id }

    /// Whether the window's end moves every 5 seconds (windows within the last hour) or once a
    /// minute.
    public var movesEveryMinute: Bool { length > .seconds(3600) }

    public static let fiveMinutes = TimeWindow(id: "5m", length: .seconds(300), name: "5 minutes", comparisonShift: .seconds(300))
    public static let fifteenMinutes = TimeWindow(id: "15m", length: .seconds(900), name: "15 minutes", comparisonShift: .seconds(900))
    public static let hour = TimeWindow(id: "1h", length: .seconds(3600), name: "hour", comparisonShift: .seconds(3600))
    public static let day = TimeWindow(id: "24h", length: .seconds(86_400), name: "24 hours", comparisonShift: .seconds(86_400))
    public static let week = TimeWindow(id: "7d", length: .seconds(7 * 86_400), name: "7 days", comparisonShift: .seconds(7 * 86_400))
    public static let month = TimeWindow(id: "30d", length: .seconds(30 * 86_400), name: "30 days", comparisonShift: .seconds(30 * 86_400))

    /// Every live window, shortest first.
    public static let all: [TimeWindow] = [.fiveMinutes, .fifteenMinutes, .hour, .day, .week, .month]

    public static func named(_ id: String) -> TimeWindow? { all.first { $0.id == id } }

    /// The instant the window ends at `now`: the last whole 5 seconds, or the last whole minute
    /// for windows longer than an hour.
    public func end(at now: Timestamp) -> Timestamp {
        now.floored(to: movesEveryMinute ? .seconds(60) : UsageLedger.fineWidth)
    }
}

/// The figures of one range of time, computed from rollups: totals against the previous period,
/// spend and tokens over time, models and customers. What a window page, `/report` and
/// `/api/stats?window=` show.
public struct WindowReport: Sendable {
    /// A stretch of time and its totals.
    public struct Period: Hashable, Sendable {
        public var start: Timestamp
        public var end: Timestamp
        public var totals: UsageCounters
        public var duration: Duration { start.duration(to: end) }

        /// `totals`' value per hour of the period (spend rate, calls per hour), nil for an empty
        /// stretch of time.
        public func perHour(_ value: Double) -> Double? {
            let hours = Double(duration.milliseconds) / 3_600_000
            return hours > 0 ? value / hours : nil
        }
    }

    /// One point of the charts: the totals of `[start, end)`. Points lie on a grid of `step`
    /// in UTC; the first and last are cut to the range, so they may be shorter.
    public struct Point: Hashable, Sendable {
        public var start: Timestamp
        public var end: Timestamp
        public var totals: UsageCounters
    }

    public var generatedAt: Timestamp
    /// The live window this report is for; nil for a range asked on demand.
    public var window: TimeWindow?
    /// The range asked for, before it was cut to the buckets the store keeps.
    public var requested: Range<Timestamp>
    /// The range the figures cover.
    public var current: Period
    /// The period of the same length just before, nil when the store no longer keeps all of it.
    public var previous: Period?
    /// The width of the chart points.
    public var step: Duration
    public var points: [Point]
    /// How far the comparison points lie before `points`.
    public var comparisonShift: Duration
    /// The same grid `comparisonShift` earlier, one per point; nil where the store keeps nothing
    /// that old.
    public var comparison: [Point?]
    /// Models by cost over the range, highest first.
    public var costByModel: [Snapshot.ModelSpend]
    /// Every customer with usage in the range, ranked by spend (ties by calls, then name).
    public var customers: [Snapshot.CustomerSpend]
}
