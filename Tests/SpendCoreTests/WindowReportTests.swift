import Testing

@testable import SpendCore

/// Window arithmetic against a brute-force recomputation from the updates sent: every figure
/// of a window, its previous period and every chart point must equal the exact sum of the
/// updates inside the range the report says it covers.
struct WindowReportTests {
    let now = Timestamp(iso8601: "2026-11-29T14:07:32.500Z")!

    /// Sparse random updates over the `days` before `now`, sorted.
    func history(seed: UInt64 = 7, days: Int64 = 30) -> [UsageUpdate] {
        var random = SplitMix64(seed: seed)
        var updates: [UsageUpdate] = []
        var t = now.millisecondsSinceEpoch - days * 86_400_000 + 1000
        while t < now.millisecondsSinceEpoch {
            let customer = Int(random.next() % 7)
            updates.append(
                UsageUpdate(
                    timestamp: Timestamp(millisecondsSinceEpoch: t), tenantId: "tenant-\(customer % 3)", customerId: "c\(customer)",
                    model: ["m-a", "m-b", "m-c"][Int(random.next() % 3)], calls: Int64(random.next() % 5 + 1),
                    totalTokens: Int64(random.next() % 1000), inputTokens: nil, outputTokens: nil,
                    cost: Money(picodollars: Int128(random.next() % 5_000_000_000_000) + 1), avgLatencyMs: 100
                ))
            // Denser in the last two days, so every tier has plenty of buckets.
            let recent = t > now.millisecondsSinceEpoch - 50 * 3_600_000
            t += Int64(random.next() % (recent ? 20_000 : 400_000)) + 1
        }
        return updates
    }

    func ledger(_ updates: [UsageUpdate]) -> UsageLedger {
        var ledger = UsageLedger()
        let result = ledger.ingest(updates, now: now)
        #expect(result.accepted == updates.count)
        return ledger
    }

    /// The ledger that received `updates` as they happened, a day at a time: each day's
    /// updates arrive within the 30 days the store accepts.
    func liveLedger(_ updates: [UsageUpdate]) -> UsageLedger {
        var ledger = UsageLedger()
        var rest = updates[...]
        while let first = rest.first {
            let dayEnd = min(now.millisecondsSinceEpoch, (first.timestamp.millisecondsSinceEpoch / 86_400_000 + 1) * 86_400_000)
            let day = rest.prefix { $0.timestamp.millisecondsSinceEpoch < dayEnd }
            let result = ledger.ingest(Array(day), now: Timestamp(millisecondsSinceEpoch: dayEnd))
            #expect(result.accepted == day.count)
            ledger.expire(now: Timestamp(millisecondsSinceEpoch: dayEnd))
            rest = rest.dropFirst(day.count)
        }
        return ledger
    }

    func sum(_ updates: [UsageUpdate], _ start: Timestamp, _ end: Timestamp) -> (cost: Money, calls: Int64, count: Int64) {
        var cost = Money.zero
        var calls: Int64 = 0
        var count: Int64 = 0
        for update in updates where update.timestamp >= start && update.timestamp < end {
            cost += update.cost.total
            calls += update.calls
            count += 1
        }
        return (cost, calls, count)
    }

    @Test(arguments: TimeWindow.all)
    func everyFigureEqualsTheUpdatesInItsRange(_ window: TimeWindow) throws {
        let updates = history()
        let report = ledger(updates).report(window, at: now)
        let current = report.current
        let expected = sum(updates, current.start, current.end)
        #expect(current.totals.totalCost == expected.cost)
        #expect(current.totals.calls == expected.calls)
        #expect(current.totals.updates == expected.count)
        #expect(expected.count > 0)

        // Customers and models split the same total.
        #expect(report.customers.reduce(Money.zero) { $0 + $1.usage.cost } == expected.cost)
        #expect(report.costByModel.reduce(Money.zero) { $0 + $1.usage.cost } == expected.cost)
        for customer in report.customers {
            let own = updates.filter {
                $0.customerId == customer.customerId && $0.timestamp >= current.start && $0.timestamp < current.end
            }
            #expect(customer.usage.cost == own.reduce(Money.zero) { $0 + $1.cost.total })
        }

        // The chart points tile the range exactly and add up to it.
        #expect(report.points.first?.start == current.start)
        #expect(report.points.last?.end == current.end)
        for (a, b) in zip(report.points, report.points.dropFirst()) { #expect(a.end == b.start) }
        #expect(report.points.reduce(Money.zero) { $0 + $1.totals.totalCost } == expected.cost)
        for point in report.points {
            #expect(point.totals.totalCost == sum(updates, point.start, point.end).cost)
        }
        #expect(report.comparison.count == report.points.count)
        for point in report.comparison.compactMap({ $0 }) {
            #expect(point.totals.totalCost == sum(updates, point.start, point.end).cost)
        }

        // The previous period ends where this one starts and holds exactly its updates.
        let previous = try #require(report.previous)
        #expect(previous.end == current.start)
        #expect(previous.totals.totalCost == sum(updates, previous.start, previous.end).cost)
        // As long as this period, to within one bucket of the tier that keeps its start.
        let difference = abs(previous.duration.milliseconds - current.duration.milliseconds)
        #expect(difference < (window.length <= .seconds(3600) ? 60_000 : 3_600_000))
    }

    /// The 30-day page compares with the 30 days before, which the hour tier keeps as totals
    /// (nothing older than 30 days is accepted, and ranges reach 30 days only).
    @Test func thirtyDaysCompareWithTheThirtyBefore() throws {
        let updates = history(days: 61)
        let ledger = liveLedger(updates)
        let report = ledger.report(.month, at: now)
        let previous = try #require(report.previous)
        #expect(previous.end == report.current.start)
        #expect(previous.start.millisecondsSinceEpoch < now.millisecondsSinceEpoch - 59 * 86_400_000)
        let expected = sum(updates, previous.start, previous.end)
        #expect(expected.count > 1000)
        #expect(previous.totals.totalCost == expected.cost)
        #expect(previous.totals.calls == expected.calls)
        #expect(report.current.totals.totalCost == sum(updates, report.current.start, report.current.end).cost)
        // The dashed line a month earlier has its points, each exact.
        let earlier = report.comparison.compactMap { $0 }
        #expect(earlier.count == report.points.count)
        for point in earlier { #expect(point.totals.totalCost == sum(updates, point.start, point.end).cost) }
        // Ranges still reach 30 days: the older buckets serve comparisons only.
        #expect(ledger.cut(from: now.advanced(by: .seconds(-40 * 86_400)), to: now.advanced(by: .seconds(-35 * 86_400)), now: now) == nil)
        // And updates older than 30 days are still refused.
        var copy = ledger
        #expect(copy.ingest([updates[0]], now: now).accepted == 0)
    }

    @Test func windowEdgesAndResolution() {
        let ledger = ledger(history())
        let at = now.millisecondsSinceEpoch
        func report(_ window: TimeWindow) -> WindowReport { ledger.report(window, at: now) }

        // Within the hour: exact to 5 seconds, the last whole 5 seconds included.
        let fiveMinutes = report(.fiveMinutes)
        #expect(fiveMinutes.current.end.millisecondsSinceEpoch == at / 5000 * 5000)
        #expect(fiveMinutes.current.duration == .seconds(300))
        #expect(fiveMinutes.step == .seconds(5))
        #expect(fiveMinutes.points.count == 60)
        #expect(report(.fifteenMinutes).points.count == 180)
        // The previous hour is read from minutes, so the hour's chart steps by the minute.
        let hour = report(.hour)
        #expect(hour.current.duration == .seconds(3600))
        #expect(hour.step == .seconds(60))
        #expect(hour.points.count == 61)  // 14:06:30 is not on a minute: a partial first and last point
        #expect(hour.points.first!.end.millisecondsSinceEpoch % 60_000 == 0)
        #expect(hour.points.first!.duration < .seconds(60))

        // Longer windows: whole clock hours, the current one as far as the last whole minute.
        let day = report(.day)
        #expect(day.current.end.millisecondsSinceEpoch == at / 60_000 * 60_000)
        #expect(day.current.start == Timestamp(iso8601: "2026-11-28T15:00:00Z"))
        #expect(day.step == .seconds(300))
        #expect((60...300).contains(day.points.count))
        #expect(day.comparisonShift == .seconds(86_400))
        #expect(day.comparison.allSatisfy { $0 != nil })
        let week = report(.week)
        #expect(week.step == .seconds(3600))
        #expect(week.points.count == 168)
        // A week ago only whole hours are kept: the current, partial hour has no comparison.
        #expect(week.comparison.dropLast().allSatisfy { $0 != nil })
        #expect(week.comparison.last! == nil)
        let month = report(.month)
        #expect(month.step == .seconds(3 * 3600))
        #expect((60...300).contains(month.points.count))
        // A month ago is kept by the hour as totals; the last point's earlier stretch is cut
        // to its whole hours.
        #expect(month.comparison.allSatisfy { $0 != nil })
        #expect(month.comparison.last!!.end.millisecondsSinceEpoch % 3_600_000 == 0)
    }

    @Test func rangesAreCutInwardsToTheBucketsKept() {
        let ledger = UsageLedger()
        func cut(_ from: String, _ to: String) -> Range<Timestamp>? {
            ledger.cut(from: Timestamp(iso8601: from)!, to: Timestamp(iso8601: to)!, now: now)
        }
        // Within the last hour: to 5 seconds.
        #expect(
            cut("2026-11-29T13:40:02Z", "2026-11-29T14:00:09Z") == Timestamp(iso8601: "2026-11-29T13:40:05Z")!..<Timestamp(
                iso8601: "2026-11-29T14:00:05Z")!)
        // An end in an hour the 5-second tier does not keep whole: that hour is left out.
        #expect(
            cut("2026-11-29T12:00:00Z", "2026-11-29T13:50:00Z") == Timestamp(iso8601: "2026-11-29T12:00:00Z")!..<Timestamp(
                iso8601: "2026-11-29T13:00:00Z")!)
        // Older: whole hours inside the range.
        #expect(
            cut("2026-11-26T10:30:00Z", "2026-11-26T12:10:00Z") == Timestamp(iso8601: "2026-11-26T11:00:00Z")!..<Timestamp(
                iso8601: "2026-11-26T12:00:00Z")!)
        // An old range without a whole hour in it has nothing the store can show exactly.
        #expect(cut("2026-11-26T10:10:00Z", "2026-11-26T10:50:00Z") == nil)
        // From days ago to now: hours, then the last hour to 5 seconds.
        #expect(
            cut("2026-11-26T10:10:00Z", "2026-11-29T15:00:00Z") == Timestamp(iso8601: "2026-11-26T11:00:00Z")!..<Timestamp(
                iso8601: "2026-11-29T14:07:30Z")!)
        // Before the 30 days kept: from the oldest hour kept.
        #expect(
            cut("2026-10-01T00:00:00Z", "2026-10-31T00:00:00Z") == Timestamp(iso8601: "2026-10-30T14:00:00Z")!..<Timestamp(
                iso8601: "2026-10-31T00:00:00Z")!)
    }

    @Test func anOnDemandRangeAddsUpLikeAWindow() throws {
        let updates = history(seed: 11)
        let ledger = ledger(updates)
        let asked = Timestamp(iso8601: "2026-11-20T08:20:00Z")!..<Timestamp(iso8601: "2026-11-29T14:05:02Z")!
        let range = try #require(ledger.cut(from: asked.lowerBound, to: asked.upperBound, now: now))
        let report = ledger.report(range, requested: asked, at: now)
        #expect(report.current.start == Timestamp(iso8601: "2026-11-20T09:00:00Z"))
        #expect(report.current.end == Timestamp(iso8601: "2026-11-29T14:05:00Z"))
        #expect(report.current.totals.totalCost == sum(updates, report.current.start, report.current.end).cost)
        #expect(report.points.count <= 300)
        #expect(report.points.reduce(Money.zero) { $0 + $1.totals.totalCost } == report.current.totals.totalCost)
        let previous = try #require(report.previous)
        #expect(previous.totals.totalCost == sum(updates, previous.start, previous.end).cost)
    }

    @Test(
        arguments: [
            (Int64(300_000), Int64(5000), Int64(5000)), (900_000, 5000, 5000), (3_600_000, 60_000, 60_000),
            (3_600_000, 5000, 15_000), (86_400_000, 60_000, 300_000), (7 * 86_400_000, 3_600_000, 3_600_000),
            (30 * 86_400_000, 3_600_000, 10_800_000), (31 * 86_400_000, 3_600_000, 10_800_000), (60_000, 5000, 5000),
        ] as [(Int64, Int64, Int64)])
    func chartStepKeepsAtMost300Points(length: Int64, finest: Int64, expected: Int64) {
        let step = UsageLedger.chartStep(length: length, atLeast: finest)
        #expect(step == expected)
        #expect((length + step - 1) / step <= 300)
    }
}

extension WindowReport.Point {
    var duration: Duration { start.duration(to: end) }
}
