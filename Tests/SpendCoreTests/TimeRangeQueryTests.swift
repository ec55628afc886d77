import Testing

@testable import SpendCore

/// The range parser as a table: every accepted form and every refusal, with its parameter and rule.
struct TimeRangeQueryTests {
    let now = Timestamp(iso8601: "2026-12-03T10:17:42.250Z")!

    func resolve(window: String? = nil, from: String? = nil, to: String? = nil) throws(TimeRangeQuery.Problem) -> Range<Timestamp>? {
        try TimeRangeQuery.resolve(window: window, from: from, to: to, now: now)
    }

    static let accepted: [(from: String, to: String?, start: String, end: String)] = [
        ("now-6h", nil, "2026-12-03T04:17:42.250Z", "2026-12-03T10:17:42.250Z"),
        ("now-6h", "now", "2026-12-03T04:17:42.250Z", "2026-12-03T10:17:42.250Z"),
        ("now/d", "now", "2026-12-03T00:00:00Z", "2026-12-03T10:17:42.250Z"),
        // Today: `to` rounds to the end of the day, which is then cut to now.
        ("now/d", "now/d", "2026-12-03T00:00:00Z", "2026-12-03T10:17:42.250Z"),
        // Yesterday, as Grafana writes it.
        ("now-1d/d", "now-1d/d", "2026-12-02T00:00:00Z", "2026-12-03T00:00:00Z"),
        ("now-1h/h", "now/h", "2026-12-03T09:00:00Z", "2026-12-03T10:17:42.250Z"),
        ("now/w", "now", "2026-11-30T00:00:00Z", "2026-12-03T10:17:42.250Z"),  // a Monday
        ("now-1w/w", "now-1w/w", "2026-11-23T00:00:00Z", "2026-11-30T00:00:00Z"),
        ("now/M", "now", "2026-12-01T00:00:00Z", "2026-12-03T10:17:42.250Z"),
        ("now-90m", "now-30m", "2026-12-03T08:47:42.250Z", "2026-12-03T09:47:42.250Z"),
        ("now-2d+3h", "now", "2026-12-01T13:17:42.250Z", "2026-12-03T10:17:42.250Z"),
        ("2026-12-01T09:00:00Z", "2026-12-01T17:30:00+01:00", "2026-12-01T09:00:00Z", "2026-12-01T16:30:00Z"),
        ("2026-11-30", "2026-12-01", "2026-11-30T00:00:00Z", "2026-12-01T00:00:00Z"),
        ("1796284800000", "1796292000000", "2026-12-03T08:00:00Z", "2026-12-03T10:00:00Z"),
        ("now-30d", nil, "2026-11-03T10:17:42.250Z", "2026-12-03T10:17:42.250Z"),
    ]

    @Test(arguments: accepted)
    func accepts(_ row: (from: String, to: String?, start: String, end: String)) throws {
        let range = try #require(try resolve(from: row.from, to: row.to))
        #expect(range == Timestamp(iso8601: row.start)!..<Timestamp(iso8601: row.end)!)
    }

    static let refused: [(window: String?, from: String?, to: String?, parameter: String, rule: String)] = [
        ("2h", nil, nil, "window", "must be one of 5m, 15m, 1h, 24h, 7d, 30d"),
        ("24h", "now-1h", nil, "window", "give either window or from and to, not both"),
        (nil, nil, "now", "from", "is required with to"),
        (nil, "yesterday", nil, "from", "must be an ISO-8601"),
        (nil, "now-6x", nil, "from", "must be an ISO-8601"),
        (nil, "now-", nil, "from", "must be an ISO-8601"),
        (nil, "now/d/d", nil, "from", "must be an ISO-8601"),
        (nil, "2026-02-30T00:00:00Z", nil, "from", "must be an ISO-8601"),
        (nil, "now-1h", "soon", "to", "must be an ISO-8601"),
        (nil, "now-1h", "now-2h", "to", "must be after from"),
        (nil, "now-1h", "now-1h", "to", "must be after from"),
        (nil, "now-30d", "now+2d", "to", "the range may be at most 31 days long"),
        (nil, "now-31d", "now-30d", "from", "lies outside the retention of 30 days"),
        (nil, "2025-01-01", "2025-01-02", "from", "lies outside the retention of 30 days"),
        (nil, "now+1h", "now+2h", "from", "must be in the past"),
    ]

    @Test(arguments: refused)
    func refuses(_ row: (window: String?, from: String?, to: String?, parameter: String, rule: String)) {
        do {
            let range = try resolve(window: row.window, from: row.from, to: row.to)
            Issue.record("accepted as \(String(describing: range))")
        } catch {
            #expect(error.parameter == row.parameter)
            #expect(error.rule.hasPrefix(row.rule), "\(error.rule)")
        }
    }

    @Test func windowsEndAtTheirLastWholeBucket() throws {
        #expect(try resolve() == nil)
        let hour = try #require(try resolve(window: "1h"))
        #expect(hour.upperBound == Timestamp(iso8601: "2026-12-03T10:17:40Z"))
        #expect(hour.lowerBound == Timestamp(iso8601: "2026-12-03T09:17:40Z"))
        let day = try #require(try resolve(window: "24h"))
        #expect(day.upperBound == Timestamp(iso8601: "2026-12-03T10:17:00Z"))
    }
}
