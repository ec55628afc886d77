extension UsageLedger {
    /// Buckets in the rolling hour.
    static let hourBuckets = 720
    /// Buckets in the token chart (5 minutes).
    static let tokenBuckets = 60
    /// Hours in the spend-per-hour chart.
    static let spendHours = 24

    /// Computes the snapshot at `now` from rollups alone: its cost depends on the number of
    /// buckets and series, never on the number of updates.
    ///
    /// With `windows`, it also reports every live window (`TimeWindow.all`); a window that moves
    /// once a minute and has not moved since `reusing` keeps that report (and its pages).
    public func snapshot(at now: Timestamp, windows: Bool = false, reusing earlier: Snapshot? = nil) -> Snapshot {
        var snapshot = snapshot(at: now)
        if windows {
            snapshot.windows = TimeWindow.all.map { window in
                if window.movesEveryMinute, let kept = earlier?.window(window), kept.requested.upperBound == window.end(at: now) {
                    return kept
                }
                return report(window, at: now)
            }
        }
        return snapshot
    }

    /// The snapshot of the rolling hour alone.
    public func snapshot(at now: Timestamp) -> Snapshot {
        let current = fine.bucketIndex(of: now.millisecondsSinceEpoch)
        let width = fine.width

        // Rolling hour, per series (in the packed form of the buckets: one series' hour counts
        // its updates in 32 bits, as one 1-hour bucket does).
        var perSeries = [RollupEntry](repeating: RollupEntry(), count: names.seriesCount)
        var hourTotals = UsageCounters()
        fine.accumulate((current - Int64(Self.hourBuckets))..<current, totals: &hourTotals, perKey: &perSeries)

        let (customers, models) = ranking(perSeries, total: hourTotals.totalCost)

        // Token usage: the last 60 complete buckets.
        let tokenUsage = ((current - Int64(Self.tokenBuckets))..<current).map { index in
            let totals = fine.totals(index: index)
            return Snapshot.TokenPoint(
                start: Timestamp(millisecondsSinceEpoch: index * width),
                inputTokens: totals.inputTokens,
                outputTokens: totals.outputTokens,
                cacheReadTokens: totals.cacheReadTokens,
                cacheWriteTokens: totals.cacheWriteTokens,
                reasoningTokens: totals.reasoningTokens,
                totalTokens: totals.totalTokens
            )
        }

        // Last complete minute.
        var lastMinute = UsageCounters()
        for index in (current - 12)..<current { lastMinute.add(fine.totals(index: index)) }

        // Spend per clock hour, the current one partial.
        let currentHour = hour.bucketIndex(of: now.millisecondsSinceEpoch)
        let spendPerHour = ((currentHour - Int64(Self.spendHours) + 1)...currentHour).map { index in
            let totals = hour.totals(index: index)
            return Snapshot.HourSpend(
                start: Timestamp(millisecondsSinceEpoch: index * hour.width),
                cost: totals.totalCost,
                calls: totals.calls,
                isPartial: index == currentHour
            )
        }

        return Snapshot(
            generatedAt: now,
            windowStart: Timestamp(millisecondsSinceEpoch: (current - Int64(Self.hourBuckets)) * width),
            windowEnd: Timestamp(millisecondsSinceEpoch: current * width),
            hour: hourTotals,
            costByModel: models,
            customers: customers,
            tokenUsage: tokenUsage,
            spendPerHour: spendPerHour,
            lastMinute: lastMinute
        )
    }

    /// Customers and models of per-series sums, ranked by spend: customers by cost, then calls,
    /// then name; models by cost, then name. Shares are of `total`.
    func ranking(_ perSeries: [RollupEntry], total: Money) -> (customers: [Snapshot.CustomerSpend], models: [Snapshot.ModelSpend]) {
        var perCustomer = [SeriesCounters](repeating: SeriesCounters(), count: names.customers.count)
        var perModel = [SeriesCounters](repeating: SeriesCounters(), count: names.models.count)
        for (series, entry) in perSeries.enumerated() where entry.updates != 0 {
            perCustomer[Int(names.customerOfSeries[series])].add(entry)
            perModel[Int(names.modelOfSeries[series])].add(entry)
        }
        let totalDollars = total.approximateDollars
        func share(_ cost: Money) -> Double { totalDollars > 0 ? cost.approximateDollars / totalDollars : 0 }

        let ranked = perCustomer.indices
            .filter { !perCustomer[$0].isEmpty }
            .sorted { a, b in
                let ca = perCustomer[a]
                let cb = perCustomer[b]
                if ca.cost != cb.cost { return ca.cost > cb.cost }
                if ca.calls != cb.calls { return ca.calls > cb.calls }
                let na = names.customers[a]
                let nb = names.customers[b]
                return (na.customer, na.tenant) < (nb.customer, nb.tenant)
            }
        let customers = ranked.enumerated().map { rank, index in
            Snapshot.CustomerSpend(
                rank: rank + 1,
                tenantId: names.customers[index].tenant,
                customerId: names.customers[index].customer,
                usage: perCustomer[index],
                share: share(perCustomer[index].cost)
            )
        }
        let models = perModel.indices
            .filter { !perModel[$0].isEmpty }
            .map { Snapshot.ModelSpend(model: names.models[$0], usage: perModel[$0], share: share(perModel[$0].cost)) }
            .sorted { $0.usage.cost != $1.usage.cost ? $0.usage.cost > $1.usage.cost : $0.model < $1.model }
        return (customers, models)
    }
}
