extension UsageLedger {
    /// The earliest instants at which each tier can cut a range at `now`: a range edge at or
    /// after `fine` may fall on any 5 seconds, at or after `minute` on any minute (totals only:
    /// that tier has no series), at or after `hour` on any hour. Between `hourTotals` and
    /// `hour` only totals, by the hour (a previous period's); before `hourTotals` nothing.
    public struct Reach: Hashable, Sendable {
        public var fine: Int64
        public var minute: Int64
        public var hour: Int64
        public var hourTotals: Int64

        public init(now: Timestamp) {
            let fineWidth = UsageLedger.fineWidth.milliseconds
            // The fine tier keeps 67 minutes, the newest 5 of which may be ahead of `now`.
            fine = now.millisecondsSinceEpoch.flooredDivision(by: fineWidth) * fineWidth - 61 * 60_000
            minute = now.millisecondsSinceEpoch.flooredDivision(by: 60_000) * 60_000 - 49 * 3_600_000
            hour = now.millisecondsSinceEpoch.flooredDivision(by: 3_600_000) * 3_600_000 - UsageLedger.hourRetentionMs
            hourTotals = hour - UsageLedger.hourRetentionMs
        }

        /// The bucket width an edge at `t` can be cut at; `series` leaves out the minute tier
        /// and the hour tier's oldest 30 days. Nil before the hour tier's reach.
        public func granularity(at t: Int64, series: Bool) -> Int64? {
            if t >= fine { return UsageLedger.fineWidth.milliseconds }
            if !series && t >= minute { return 60_000 }
            if t >= hour || (!series && t >= hourTotals) { return 3_600_000 }
            return nil
        }
    }

    /// The range `[from, to)` cut to the buckets the store keeps: `to` no later than the last
    /// whole 5 seconds, both edges moved inwards onto the width of the tier that keeps series
    /// at their age (5 seconds within the last hour, whole hours before). Nil when nothing is
    /// left (a range shorter than one hour's bucket, or entirely older than 30 days).
    public func cut(from: Timestamp, to: Timestamp, now: Timestamp) -> Range<Timestamp>? {
        let reach = Reach(now: now)
        let fineWidth = Self.fineWidth.milliseconds
        var end = min(to.millisecondsSinceEpoch, now.millisecondsSinceEpoch.flooredDivision(by: fineWidth) * fineWidth)
        // The end's hour must be in the fine tier for the end to fall inside an hour.
        let endHour = end.flooredDivision(by: 3_600_000) * 3_600_000
        let endWidth = endHour >= reach.fine ? fineWidth : 3_600_000
        end = end.flooredDivision(by: endWidth) * endWidth
        var start = max(from.millisecondsSinceEpoch, reach.hour)
        let startWidth = start >= reach.fine ? fineWidth : 3_600_000
        start = (start + startWidth - 1).flooredDivision(by: startWidth) * startWidth
        guard start < end else { return nil }
        return Timestamp(millisecondsSinceEpoch: start)..<Timestamp(millisecondsSinceEpoch: end)
    }

    /// The report of a live window at `now`.
    public func report(_ window: TimeWindow, at now: Timestamp) -> WindowReport {
        let end = window.end(at: now)
        let start = end.advanced(by: .zero - window.length)
        // A window never comes out empty: its end is within the last minute.
        let range = cut(from: start, to: end, now: now) ?? end..<end
        return report(range, requested: start..<end, window: window, comparisonShift: window.comparisonShift, at: now)
    }

    /// The report of the range `TimeRangeQuery` parameters name (`/report`, `/api/stats`,
    /// `spendboard render --window`), as of `now`: the live window's when they name one, else
    /// `[from, to)` cut to the buckets kept. Nil when they name nothing; a `Problem` naming the
    /// parameter and the rule when they are refused or the cut leaves nothing.
    public func report(window: String?, from: String?, to: String?, at now: Timestamp) throws(TimeRangeQuery.Problem) -> WindowReport? {
        guard let range = try TimeRangeQuery.resolve(window: window, from: from, to: to, now: now) else { return nil }
        if let window = window.flatMap(TimeWindow.named) { return report(window, at: now) }
        guard let cut = cut(from: range.lowerBound, to: range.upperBound, now: now) else {
            throw TimeRangeQuery.Problem(parameter: "from", rule: TimeRangeQuery.nothingKeptRule)
        }
        return report(cut, requested: range, at: now)
    }

    /// The report of `range`, which `cut(from:to:now:)` returned.
    public func report(
        _ range: Range<Timestamp>, requested: Range<Timestamp>, window: TimeWindow? = nil, comparisonShift: Duration? = nil,
        at now: Timestamp
    ) -> WindowReport {
        let reach = Reach(now: now)
        let from = range.lowerBound.millisecondsSinceEpoch
        let to = range.upperBound.millisecondsSinceEpoch
        let length = to - from

        // Totals, per series, grouped by customer and model.
        var perSeries = [RollupEntry](repeating: RollupEntry(), count: names.seriesCount)
        var totals = UsageCounters()
        add(from, to, reach: reach, totals: &totals, perSeries: &perSeries)
        let (customers, models) = ranking(perSeries, total: totals.totalCost)

        // The previous period of the same length, cut where its older tiers allow.
        var previous: WindowReport.Period?
        if let width = reach.granularity(at: from - length, series: false) {
            let start = (from - length + width - 1).flooredDivision(by: width) * width
            var prior = UsageCounters()
            if start < from, addTotals(start, from, reach: reach, into: &prior) {
                previous = .init(start: Timestamp(millisecondsSinceEpoch: start), end: range.lowerBound, totals: prior)
            }
        }

        // Chart points: a step that both this range and its comparison can be cut at, with at
        // most 300 points.
        let shift = (comparisonShift ?? .milliseconds(length)).milliseconds
        let finest = max(
            reach.granularity(at: from, series: false) ?? 3_600_000,
            reach.granularity(at: from - shift, series: false) ?? 3_600_000
        )
        let step = Self.chartStep(length: length, atLeast: finest)
        var points: [WindowReport.Point] = []
        var comparison: [WindowReport.Point?] = []
        var cell = from.flooredDivision(by: step) * step
        while cell < to {
            let start = max(cell, from)
            let end = min(cell + step, to)
            var counters = UsageCounters()
            let exact = addTotals(start, end, reach: reach, into: &counters)
            precondition(exact, "a chart point the store cannot cut")
            points.append(.init(start: Timestamp(millisecondsSinceEpoch: start), end: Timestamp(millisecondsSinceEpoch: end), totals: counters))
            // The comparison cell, its edges moved onto what its age can be cut at.
            let earlierStart = start - shift
            var earlierEnd = end - shift
            if let width = reach.granularity(at: earlierEnd, series: false) { earlierEnd = earlierEnd.flooredDivision(by: width) * width }
            var earlier = UsageCounters()
            if earlierEnd > earlierStart, addTotals(earlierStart, earlierEnd, reach: reach, into: &earlier) {
                comparison.append(
                    .init(
                        start: Timestamp(millisecondsSinceEpoch: earlierStart), end: Timestamp(millisecondsSinceEpoch: earlierEnd),
                        totals: earlier))
            } else {
                comparison.append(nil)
            }
            cell += step
        }

        return WindowReport(
            generatedAt: now, window: window, requested: requested,
            current: .init(start: range.lowerBound, end: range.upperBound, totals: totals), previous: previous,
            step: .milliseconds(step), points: points, comparisonShift: .milliseconds(shift), comparison: comparison,
            costByModel: models, customers: customers
        )
    }

    /// Chart steps, in milliseconds: the widths that divide a day or a multiple of it evenly.
    static let chartSteps: [Int64] = [
        5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10_800, 14_400, 21_600, 43_200, 86_400,
    ].map { $0 * 1000 }

    /// The finest step, at least `atLeast`, that covers `length` in at most 300 points (one
    /// more when the range does not start on the step).
    static func chartStep(length: Int64, atLeast minimum: Int64) -> Int64 {
        chartSteps.first { $0 >= minimum && $0 % minimum == 0 && (length + $0 - 1) / $0 <= 300 } ?? chartSteps.last!
    }

    enum TierName { case fine, minute, hour }

    /// How `[from, to)` is added up exactly: runs of whole buckets, oldest first, each from the
    /// coarsest tier that can cut its start (`series` leaves out the 1-minute tier); nil when
    /// an edge falls inside a bucket of the only tier that keeps its age.
    static func segments(_ from: Int64, _ to: Int64, reach: Reach, series: Bool) -> [(tier: TierName, buckets: Range<Int64>)]? {
        var segments: [(tier: TierName, buckets: Range<Int64>)] = []
        var at = from
        while at < to {
            guard let width = reach.granularity(at: at, series: series), at % width == 0 else { return nil }
            let next = width == fineWidth.milliseconds ? to : to.flooredDivision(by: width) * width
            guard next > at, next % width == 0 else { return nil }
            let tier: TierName = width == fineWidth.milliseconds ? .fine : width == 60_000 ? .minute : .hour
            segments.append((tier, (at / width)..<(next / width)))
            at = next
        }
        return segments
    }

    /// Adds `[from, to)` from the tiers that keep series (5 seconds, hours); its edges come from
    /// `cut(from:to:now:)`, which the store can always add up.
    func add(_ from: Int64, _ to: Int64, reach: Reach, totals: inout UsageCounters, perSeries: inout [RollupEntry]) {
        guard let segments = Self.segments(from, to, reach: reach, series: true) else {
            preconditionFailure("\(from)..<\(to) was not cut to the store's buckets")
        }
        for (tier, buckets) in segments {
            (tier == .fine ? fine : hour).accumulate(buckets, totals: &totals, perKey: &perSeries)
        }
    }

    /// Adds the totals of `[from, to)` from every tier, the 1-minute tier included. Returns
    /// false, adding nothing, when the store cannot cut it exactly.
    @discardableResult
    func addTotals(_ from: Int64, _ to: Int64, reach: Reach, into totals: inout UsageCounters) -> Bool {
        guard let segments = Self.segments(from, to, reach: reach, series: false) else { return false }
        for (tier, buckets) in segments {
            switch tier {
            case .fine: fine.accumulateTotals(buckets, into: &totals)
            case .minute: minute.accumulateTotals(buckets, into: &totals)
            case .hour: hour.accumulateTotals(buckets, into: &totals)
            }
        }
        return true
    }
}
