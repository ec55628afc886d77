import SpendCore
import Testing

/// The store's tally of what this process accepted: exact, per tenant and model, bounded.
struct UsageTallyTests {
    static let now = Timestamp(iso8601: "2026-11-29T14:00:00.000Z")!

    func update(tenant: String, model: String = "gpt-4", picodollars: Int128, priced: Bool = true) -> UsageUpdate {
        UsageUpdate(
            timestamp: Self.now, tenantId: tenant, customerId: "c", model: model, calls: 2, totalTokens: 10, inputTokens: 6,
            outputTokens: 4, cost: priced ? Money(picodollars: picodollars) : .zero, isPriced: priced, avgLatencyMs: 1)
    }

    @Test func pairsPastTheLimitAreCountedTogetherAndNothingIsLost() {
        var tally = UsageTally(maximumSeries: 2)
        tally.add(update(tenant: "a", picodollars: 1))
        tally.add(update(tenant: "b", picodollars: 2))
        tally.add(update(tenant: "c", picodollars: 4))
        tally.add(update(tenant: "a", picodollars: 8))
        tally.add(update(tenant: "d", model: "m", picodollars: 16, priced: false))
        #expect(tally.series.count == 2)
        #expect(tally.series[.init(tenantId: "a", model: "gpt-4")]?.cost == Money(picodollars: 9))
        #expect(tally.series[.init(tenantId: "a", model: "gpt-4")]?.calls == 4)
        #expect(tally.overflow.cost == Money(picodollars: 4))
        #expect(tally.overflow.updates == 2)
        #expect(tally.overflow.unpricedUpdates == 1)
        let total = tally.series.values.reduce(Money.zero) { $0 + $1.cost } + tally.overflow.cost
        #expect(total == Money(picodollars: 15))
    }

    @Test func theStoreTalliesWhatItAcceptsNotWhatItRefuses() async throws {
        let store = UsageStore(clock: ManualTimeSource(Self.now))
        var old = update(tenant: "a", picodollars: 100)
        old.timestamp = Self.now.advanced(by: .seconds(-40 * 24 * 3600))
        let result = try await store.ingest([update(tenant: "a", picodollars: 5), old, update(tenant: "a", picodollars: 7)])
        #expect(result.accepted == 2)
        #expect(result.rejectedCount == 1)
        let tally = await store.tally
        #expect(tally.series[.init(tenantId: "a", model: "gpt-4")]?.cost == Money(picodollars: 12))
        #expect(tally.series[.init(tenantId: "a", model: "gpt-4")]?.updates == 2)
        // Another node's updates, followed from a shared log, were counted by that node.
        await store.includeFollowed([update(tenant: "a", picodollars: 1000)])
        #expect(await store.tally.series[.init(tenantId: "a", model: "gpt-4")]?.cost == Money(picodollars: 12))
    }
}
