import Testing

@testable import SpendCore

struct SnapshotTests {
    let now = Timestamp(iso8601: "2026-11-29T14:00:02.500Z")!

    func ledger(seed: UInt64 = 1, history: Duration = .seconds(7200)) -> (UsageLedger, [UsageUpdate]) {
        let simulator = Simulator(configuration: .init(seed: seed))
        let updates = simulator.updates(from: now.advanced(by: .zero - history), to: now.floored(to: .seconds(1)))
        var ledger = UsageLedger()
        ledger.ingest(updates, now: now)
        return (ledger, updates)
    }

    @Test func agreesWithABruteForceScanOfRawUpdates() {
        let (ledger, updates) = ledger()
        let snapshot = ledger.snapshot(at: now)
        #expect(snapshot.generatedAt == now)
        #expect(snapshot.windowEnd == now.floored(to: .seconds(5)))
        #expect(snapshot.windowEnd.duration(since: snapshot.windowStart) == .seconds(3600))

        let hour = updates.filter { $0.timestamp >= snapshot.windowStart && $0.timestamp < snapshot.windowEnd }
        #expect(snapshot.spendRatePerHour == hour.reduce(Money.zero) { $0 + $1.cost.total })
        #expect(snapshot.hour.calls == hour.reduce(0) { $0 + $1.calls })

        // Customers ranked by spend, each with its exact totals.
        var byCustomer: [String: Money] = [:]
        for update in hour { byCustomer[update.customerId, default: .zero] += update.cost.total }
        #expect(snapshot.customers.count == byCustomer.count)
        #expect(snapshot.customers.map(\.usage.cost) == snapshot.customers.map(\.usage.cost).sorted(by: >))
        for customer in snapshot.customers {
            #expect(customer.usage.cost == byCustomer[customer.customerId])
        }
        #expect(snapshot.customers.map(\.rank) == Array(1...snapshot.customers.count))
        #expect(abs(snapshot.customers.reduce(0) { $0 + $1.share } - 1) < 1e-9)

        var byModel: [String: Money] = [:]
        for update in hour { byModel[update.model, default: .zero] += update.cost.total }
        #expect(Dictionary(uniqueKeysWithValues: snapshot.costByModel.map { ($0.model, $0.usage.cost) }) == byModel)
    }

    @Test func tokenUsageIsSixtyZeroFilledBucketsOfFiveSeconds() {
        var ledger = UsageLedger()
        let update = UsageUpdate(
            timestamp: now.advanced(by: .seconds(-62)), tenantId: "t", customerId: "c", model: "m", calls: 1,
            totalTokens: 100, inputTokens: 60, outputTokens: 40, cost: Money(micros: 1), avgLatencyMs: 1
        )
        ledger.ingest([update], now: now)
        let points = ledger.snapshot(at: now).tokenUsage
        #expect(points.count == 60)
        #expect(points.last!.start == now.floored(to: .seconds(5)).advanced(by: .seconds(-5)))
        #expect(zip(points, points.dropFirst()).allSatisfy { $1.start.duration(since: $0.start) == .seconds(5) })
        let nonZero = points.filter { $0.totalTokens > 0 }
        #expect(nonZero.count == 1)
        #expect(nonZero.first?.inputTokens == 60 && nonZero.first?.outputTokens == 40)
        #expect(nonZero.first?.start == update.timestamp.floored(to: .seconds(5)))
    }

    @Test func spendPerHourCoversTheLast24ClockHours() {
        let (ledger, updates) = ledger(history: .seconds(3 * 3600))
        let hours = ledger.snapshot(at: now).spendPerHour
        #expect(hours.count == 24)
        #expect(hours.last?.start == now.floored(to: .seconds(3600)))
        #expect(hours.last?.isPartial == true)
        #expect(hours.dropLast().allSatisfy { !$0.isPartial })
        #expect(hours.reduce(Money.zero) { $0 + $1.cost } == updates.reduce(Money.zero) { $0 + $1.cost.total })
        #expect(hours.prefix(20).allSatisfy { $0.cost == .zero })
    }

    @Test func ratesCoverTheLastCompleteMinute() {
        let (ledger, updates) = ledger(history: .seconds(600))
        let snapshot = ledger.snapshot(at: now)
        let end = now.floored(to: .seconds(5))
        let minute = updates.filter { $0.timestamp >= end.advanced(by: .seconds(-60)) && $0.timestamp < end }
        #expect(snapshot.lastMinute.updates == Int64(minute.count))
        #expect(snapshot.callsPerSecond == Double(minute.reduce(0) { $0 + $1.calls }) / 60)
        let weighted = minute.reduce(0.0) { $0 + $1.avgLatencyMs * Double($1.calls) }
        #expect(abs(snapshot.meanLatencyMs! - weighted / Double(minute.reduce(0) { $0 + $1.calls })) < 0.01)
    }

    @Test func costOfTheSnapshotDoesNotDependOnTraffic() {
        // The same number of buckets and series is read at 1× and 20× the rate.
        let slow = ledger(history: .seconds(900)).0
        let simulator = Simulator(configuration: .init(seed: 1, load: 20))
        var fast = UsageLedger()
        fast.ingest(simulator.updates(from: now.advanced(by: .seconds(-900)), to: now.floored(to: .seconds(1))), now: now)
        // Entries are bounded by buckets × series; more traffic only fills a few more of them.
        #expect(Double(fast.status.rollupEntries) <= Double(slow.status.rollupEntries) * 1.02)
        #expect(fast.status.series == slow.status.series)
        #expect(fast.snapshot(at: now).hour.updates > 15 * slow.snapshot(at: now).hour.updates)
    }

    @Test func snapshotJSONKeepsTheReferenceFields() throws {
        let (ledger, _) = ledger(history: .seconds(600))
        let snapshot = ledger.snapshot(at: now)
        let text = String(decoding: snapshot.jsonBytes(), as: UTF8.self)
        #expect(text.hasPrefix("{\"generatedAt\":\"2026-11-29T14:00:02.500Z\",\"totalCostPerHour\":"))
        #expect(text.contains("\"topCustomers\":[{\"customerId\":\"\(snapshot.customers[0].customerId)\",\"tenantId\":"))
        #expect(text.contains("\"costByModel\":{\""))
    }
}
