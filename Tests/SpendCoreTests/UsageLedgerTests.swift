import Testing

@testable import SpendCore

struct UsageLedgerTests {
    let now = Timestamp(iso8601: "2026-11-29T14:00:00Z")!

    func update(
        at timestamp: Timestamp, customer: String = "c1", tenant: String = "t1", model: String = "gpt-4",
        calls: Int64 = 10, tokens: Int64 = 1000, cost: Int64 = 1_234_567, latency: Double = 100
    ) -> UsageUpdate {
        UsageUpdate(
            timestamp: timestamp, tenantId: tenant, customerId: customer, model: model, calls: calls,
            totalTokens: tokens, inputTokens: tokens * 6 / 10, outputTokens: tokens - tokens * 6 / 10,
            cost: Money(micros: cost), avgLatencyMs: latency
        )
    }

    @Test func rollupTotalsEqualRawTotalsToTheMicroDollar() throws {
        let simulator = Simulator(configuration: .init(seed: 77))
        let updates = simulator.updates(from: now.advanced(by: .seconds(-1800)), to: now)
        var ledger = UsageLedger()
        let result = ledger.ingest(updates, now: now)
        #expect(result.accepted == updates.count)

        let rawCost = updates.reduce(CostBreakdown()) {
            var sum = $0; sum.add($1.cost); return sum
        }
        let rawCalls = updates.reduce(Int64(0)) { $0 + $1.calls }
        let rawTokens = updates.reduce(Int64(0)) { $0 + $1.totalTokens }
        for tier in [ledger.fine, ledger.minute, ledger.hour] {
            var totals = UsageCounters()
            var perKey = SeriesCounters()
            for bucket in tier.slots where bucket.index != .min {
                totals.add(bucket.totals)
                bucket.values.forEach { perKey.add($0) }
            }
            #expect(totals.cost == rawCost, "tier \(tier.name): every class, to the picodollar")
            #expect(totals.calls == rawCalls, "tier \(tier.name)")
            #expect(totals.totalTokens == rawTokens, "tier \(tier.name)")
            #expect(totals.updates == Int64(updates.count), "tier \(tier.name)")
            #expect(perKey == SeriesCounters(totals), "tier \(tier.name): keys add up to the bucket totals")
        }
        // And the snapshot's hour is exactly the raw sum over the same window.
        let snapshot = ledger.snapshot(at: now)
        let inWindow = updates.filter { $0.timestamp >= snapshot.windowStart && $0.timestamp < snapshot.windowEnd }
        #expect(snapshot.hour.totalCost == inWindow.reduce(Money.zero) { $0 + $1.cost.total })
        #expect(snapshot.customers.reduce(Money.zero) { $0 + $1.usage.cost } == snapshot.hour.totalCost)
        #expect(snapshot.costByModel.reduce(Money.zero) { $0 + $1.usage.cost } == snapshot.hour.totalCost)
    }

    /// Names no tier and no raw update refers to any more are forgotten; the rest are renumbered
    /// without changing a figure, a raw update or the order of any bucket's keys.
    @Test func namesNobodyUsesAnyMoreAreForgotten() throws {
        let start = now.advanced(by: .seconds(-61 * 86_400))
        var ledger = UsageLedger()
        for index in 0..<10 {
            ledger.ingest([update(at: start, customer: "c\(index)", model: index.isMultiple(of: 2) ? "old-model" : "gpt-4")], now: start)
        }
        #expect(ledger.status.series == 10 && ledger.status.models == 2)
        // Two months later (past the hour tier's 60 days) three of them, and a newcomer, are busy.
        var recent: [UsageUpdate] = []
        for second in 0..<120 {
            for customer in ["c1", "c5", "fresh", "c9"] {
                recent.append(update(at: now.advanced(by: .seconds(Int64(second - 600))), customer: customer, calls: Int64(second + 1)))
            }
        }
        ledger.ingest(recent, now: now)
        let before = ledger.snapshot(at: now).jsonBytes()
        let cursor = RawCursor(timestamp: now.advanced(by: .seconds(-900)).millisecondsSinceEpoch, sequence: .min)
        let rawBefore = try ledger.rawPage(after: cursor, limit: 1000, now: now).updates

        ledger.expire(now: now)  // the two-month-old buckets go, then the names only they used
        #expect(ledger.status.series == 4)
        #expect(ledger.status.customers == 4)
        #expect(ledger.status.models == 1, "old-model is no longer used")
        #expect(ledger.snapshot(at: now).jsonBytes() == before)
        #expect(try ledger.rawPage(after: cursor, limit: 1000, now: now).updates == rawBefore)
        for tier in [ledger.fine, ledger.minute, ledger.hour] {
            #expect(tier.slots.allSatisfy { $0.keys == $0.keys.sorted() }, "tier \(tier.name)")
        }

        // New usage lands on the renumbered series, and a forgotten name comes back as new.
        ledger.ingest([update(at: now, customer: "c5", calls: 1000), update(at: now, customer: "c0")], now: now)
        let snapshot = ledger.snapshot(at: now.advanced(by: .seconds(5)))
        let c5 = try #require(snapshot.customers.first { $0.customerId == "c5" })
        #expect(c5.usage.calls == (1...120).reduce(0, +) + 1000)
        #expect(snapshot.customers.contains { $0.customerId == "c0" })
        #expect(ledger.status.series == 5)
        #expect(ledger.compactNames() == 0, "nothing more to forget")
    }

    @Test func bucketsExpireWithTheClock() {
        let clock = ManualTimeSource(now)
        var ledger = UsageLedger()
        ledger.ingest([update(at: now.advanced(by: .seconds(-10)))], now: clock.now)
        #expect(ledger.snapshot(at: clock.now).hour.totalCost == Money(micros: 1_234_567))
        #expect(ledger.status.rawUpdates == 1)

        clock.advance(by: .seconds(3590))  // the update's bucket is the oldest of the rolling hour
        ledger.expire(now: clock.now)
        #expect(ledger.snapshot(at: clock.now).hour.totalCost == Money(micros: 1_234_567))

        clock.advance(by: .seconds(15))  // now outside the rolling hour and the raw window
        ledger.expire(now: clock.now)
        #expect(ledger.snapshot(at: clock.now).hour.totalCost == .zero)
        #expect(ledger.status.rawUpdates == 0)
        // The 24-hour chart still has it until the hour tier drops it after 60 days.
        #expect(ledger.snapshot(at: clock.now).spendPerHour.reduce(Money.zero) { $0 + $1.cost } == Money(micros: 1_234_567))
        #expect(ledger.fine.entryCount == 1)  // the 5 s tier keeps 65 minutes

        clock.advance(by: .seconds(11 * 60))
        ledger.expire(now: clock.now)
        #expect(ledger.fine.entryCount == 0)
        #expect(ledger.minute.entryCount == 1)

        clock.advance(by: .seconds(31 * 86_400))
        ledger.expire(now: clock.now)
        #expect(ledger.status.rollupEntries == 1, "kept for the 30-day page's previous period")
        clock.advance(by: .seconds(30 * 86_400))
        ledger.expire(now: clock.now)
        #expect(ledger.status.rollupEntries == 0)
    }

    @Test func rejectsWhatCannotBeStored() {
        var ledger = UsageLedger()
        let result = ledger.ingest(
            [
                update(at: now.advanced(by: .seconds(301))),
                update(at: now.advanced(by: .seconds(300))),
                update(at: now, calls: Int64(UInt32.max) + 1),
                update(at: now, cost: -1),
                update(at: now, latency: .nan),
            ],
            now: now
        )
        #expect(result.accepted == 1)
        #expect(result.rejected[.inFuture] == 1)
        #expect(result.rejected[.outOfRange(field: "totalCalls")] == 1)
        #expect(result.rejected[.outOfRange(field: "totalCost")] == 1)
        #expect(result.rejected[.outOfRange(field: "avgLatencyMs")] == 1)

        // Once data 30 days newer exists, an update older than the hour tier's reach is refused.
        ledger.ingest([update(at: now.advanced(by: .seconds(31 * 86_400)))], now: now.advanced(by: .seconds(31 * 86_400)))
        let late = ledger.ingest([update(at: now)], now: now.advanced(by: .seconds(31 * 86_400)))
        #expect(late.rejected[.tooOld] == 1)
    }

    @Test func pagingABurstThatSharesOneMillisecondLosesAndRepeatsNothing() throws {
        var ledger = UsageLedger()
        let burstAt = now.advanced(by: .seconds(-30))
        var updates = (0..<25).map { update(at: now.advanced(by: .seconds(-60 + Int64($0))), customer: "before-\($0)") }
        updates += (0..<2_500).map { update(at: burstAt, customer: "burst-\($0)") }
        updates += (0..<25).map { update(at: now.advanced(by: .seconds(-20 + Int64($0 / 5))), customer: "after-\($0)") }
        ledger.ingest(updates, now: now)

        var seen: [String] = []
        var cursor = RawCursor.after(timestamp: now.advanced(by: .seconds(-120)).millisecondsSinceEpoch)
        var pages = 0
        while true {
            let page = try ledger.rawPage(after: cursor, limit: 1000, now: now)
            seen += page.updates.map(\.customerId)
            pages += 1
            guard page.truncated else { break }
            cursor = try #require(page.nextCursor)
            if let since = page.nextSince {
                // A page cut at a millisecond boundary can be continued with since alone.
                #expect(since == page.updates.last!.timestamp.millisecondsSinceEpoch)
                let viaSince = try ledger.rawPage(after: .after(timestamp: since), limit: 1000, now: now)
                let viaCursor = try ledger.rawPage(after: cursor, limit: 1000, now: now)
                #expect(viaSince.updates == viaCursor.updates)
            }
        }
        #expect(seen == updates.map(\.customerId))
        #expect(Set(seen).count == updates.count)
        // The first page stops before the burst (at a millisecond boundary), two pages of 1000 are
        // cut inside the burst's millisecond, and the last holds the remaining 500 and the rest.
        #expect(pages == 4)
    }

    @Test func lateUpdatesAreInsertedInTimestampOrder() throws {
        var ledger = UsageLedger()
        ledger.ingest([update(at: now.advanced(by: .seconds(-10)), customer: "a")], now: now)
        ledger.ingest([update(at: now.advanced(by: .seconds(-5)), customer: "c")], now: now)
        ledger.ingest([update(at: now.advanced(by: .seconds(-7)), customer: "b")], now: now)
        let page = try ledger.rawPage(after: .after(timestamp: 0), limit: 10, now: now)
        #expect(page.updates.map(\.customerId) == ["a", "b", "c"])
        let later = try ledger.rawPage(after: .after(timestamp: now.advanced(by: .seconds(-8)).millisecondsSinceEpoch), limit: 10, now: now)
        #expect(later.updates.map(\.customerId) == ["b", "c"])
    }

    @Test func rawCapacityShortensTheWindowAndSaysSo() throws {
        var ledger = UsageLedger(configuration: .init(rawCapacity: 100))
        let updates = (0..<250).map { update(at: now.advanced(by: .milliseconds(-25_000 + Int64($0) * 100)), customer: "c\($0)") }
        ledger.ingest(updates, now: now)
        #expect(ledger.status.rawUpdates == 100)
        // Rollups still count everything.
        #expect(ledger.snapshot(at: now).hour.updates == 250)
        // Asking from before what is kept is an error, not a silently short answer.
        #expect(throws: RawQueryError.self) {
            try ledger.rawPage(after: .after(timestamp: now.advanced(by: .seconds(-25)).millisecondsSinceEpoch), limit: 10, now: now)
        }
        let oldestKept = updates[150].timestamp.millisecondsSinceEpoch
        let page = try ledger.rawPage(after: .after(timestamp: oldestKept - 100), limit: 1000, now: now)
        #expect(page.updates.count == 100)
        #expect(page.updates.first?.customerId == "c150")
    }

    @Test func storedUpdatesReadBackUnchanged() throws {
        var ledger = UsageLedger()
        let original = UsageUpdate(
            timestamp: now.advanced(by: .seconds(-1)), tenantId: "t<&>", customerId: "ü\"", model: "m",
            calls: 4_294_967_295, totalTokens: 5, inputTokens: nil, outputTokens: 2, cost: Money(micros: 1), avgLatencyMs: 812.37
        )
        ledger.ingest([original], now: now)
        let page = try ledger.rawPage(after: .after(timestamp: 0), limit: 10, now: now)
        #expect(page.updates == [original])
    }

    @Test func rawUpdatesFitIn64Bytes() {
        #expect(MemoryLayout<RawUsage>.stride <= 64)
    }

    /// Per-key rollup entries are what 24 hours of memory is made of (docs/benchmarks.md).
    @Test func perKeyCountersFitIn48BytesAndSumExactly() {
        #expect(MemoryLayout<SeriesCounters>.stride == 48)
        #expect(MemoryLayout<RollupEntry>.stride == 40)
        var sum = SeriesCounters()
        var part = SeriesCounters()
        part.cost = Money(picodollars: Int128(UInt64.max))  // every low bit set: the next add carries
        sum.add(part)
        sum.add(part)
        #expect(sum.cost == Money(picodollars: 2 * Int128(UInt64.max)))
        part.cost = UsageUpdate.maximumCost
        for _ in 0..<50 { sum.add(part) }
        for _ in 0..<50 { sum.add(RollupEntry(part)) }
        #expect(sum.cost == Money(picodollars: 2 * Int128(UInt64.max) + 100 * UsageUpdate.maximumCost.picodollars))
    }
}

struct RawLogTests {
    func usage(_ timestamp: Int64, _ sequence: Int64) -> RawUsage {
        RawUsage(
            timestamp: timestamp, sequence: sequence, costPicodollars: 0, series: 0, calls: 0, totalTokens: 0, inputTokens: 0,
            outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0, latencyCentiMs: 0, flags: []
        )
    }

    /// Any arrival order, chunk splits, evictions and expiry keep the log sorted and complete.
    @Test(arguments: [UInt64(1), 2, 3])
    func staysSortedWhateverTheArrivalOrder(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        var log = RawLog(capacity: 20_000)
        var reference: [RawUsage] = []
        for sequence in 0..<30_000 {
            // Mostly in order, some late by up to a minute, a few very late.
            let base = Int64(sequence) * 10
            let late = rng.next() % 10 == 0 ? Int64(rng.next() % 60_000) : (rng.next() % 100 == 0 ? Int64(rng.next() % 300_000) : 0)
            let entry = usage(base - late, Int64(sequence))
            log.insert(entry)
            reference.append(entry)
        }
        reference.sort { $0.cursor < $1.cursor }
        let kept = Array(reference.suffix(20_000))
        #expect(log.count == 20_000)
        #expect(log.entries(after: RawCursor(timestamp: .min, sequence: .min), limit: .max) == kept)
        // Every start position finds the same tail as the reference.
        for probe in stride(from: 0, to: kept.count, by: 997) {
            let cursor = kept[probe].cursor
            #expect(log.entries(after: cursor, limit: 50) == Array(kept[(probe + 1)...].prefix(50)))
        }
        let cutoff = kept[12_345].timestamp
        log.expire(before: cutoff)
        #expect(log.entries(after: RawCursor(timestamp: .min, sequence: .min), limit: .max) == kept.filter { $0.timestamp >= cutoff })
        #expect(log.count == kept.filter { $0.timestamp >= cutoff }.count)
    }
}
