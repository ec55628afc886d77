import Testing

@testable import SpendCore

struct SimulatorTests {
    let start = Timestamp(iso8601: "2026-11-29T12:00:00Z")!  // business hours (UTC)
    let night = Timestamp(iso8601: "2026-11-29T02:00:00Z")!

    @Test func sameSeedSameHistoryWhateverTheChunking() {
        let a = Simulator(configuration: .init(seed: 42))
        let b = Simulator(configuration: .init(seed: 42))
        let whole = a.updates(from: start, to: start.advanced(by: .seconds(60)))
        var pieces: [UsageUpdate] = []
        var from = start
        for step in [7, 13, 1, 39] {
            let to = from.advanced(by: .seconds(Int64(step)))
            pieces += b.updates(from: from, to: to)
            from = to
        }
        #expect(whole == pieces)
        #expect(whole != Simulator(configuration: .init(seed: 43)).updates(from: start, to: start.advanced(by: .seconds(60))))
    }

    /// Hour by hour, the same updates as all at once, in batches that never cross an hour.
    @Test func hourlyBatchesCoverTheRangeExactly() {
        let simulator = Simulator(configuration: .init(seed: 9, load: 0.01))
        let from = start.advanced(by: .seconds(-1800))
        let to = start.advanced(by: .seconds(5400 + 7))
        let batches = Array(simulator.hourlyUpdates(from: from, to: to))
        #expect(batches.count == 3)  // 1 h, 1 h, 7 s
        #expect(batches.joined().elementsEqual(simulator.updates(from: from, to: to)))
        for (index, batch) in batches.enumerated() {
            let hourStart = from.advanced(by: .seconds(3600 * Int64(index)))
            #expect(batch.allSatisfy { $0.timestamp >= hourStart && $0.timestamp < hourStart.advanced(by: .seconds(3600)) })
        }
        #expect(Array(simulator.hourlyUpdates(from: to, to: from)).isEmpty)
    }

    @Test func updatesAreOrderedAndStayInTheirSecond() {
        let simulator = Simulator(configuration: .init(seed: 3))
        let updates = simulator.updates(from: start, to: start.advanced(by: .seconds(30)))
        #expect(updates.map(\.timestamp) == updates.map(\.timestamp).sorted())
        #expect(updates.allSatisfy { $0.timestamp >= start && $0.timestamp < start.advanced(by: .seconds(30)) })
    }

    @Test func customersFollowTheReferenceShape() {
        let simulator = Simulator(configuration: .init(seed: 9))
        #expect(simulator.customers.count == 100)
        #expect(Set(simulator.customers.map(\.tenantId)).count == 7)
        #expect(Set(simulator.customers.map(\.customerId)).count == 100)
        #expect(simulator.customers.allSatisfy { (3...20).contains($0.baseCallsPerSecond) })
        #expect(Set(simulator.customers.map(\.model.model)).isSubset(of: Set(ModelPrice.reference.map(\.model))))
    }

    /// Seeded statistics agree with the traffic model: activity 0.7, calls ~ Normal(base, 30 %)
    /// times a spike multiplier ~ Normal(3, 0.5), tokens per call ~ Normal(2000 or 800, 20 %),
    /// spikes 5 % in business hours and 2 % otherwise.
    @Test(arguments: [(true, 0.05), (false, 0.02)])
    func statisticsMatchTheTrafficModel(businessHours: Bool, spikeProbability: Double) {
        let simulator = Simulator(configuration: .init(seed: 2026))
        let from = businessHours ? start : night
        let seconds: Int64 = 1200
        var events: [Simulator.Event] = []
        for second in 0..<seconds {
            events += simulator.events(second: from.millisecondsSinceEpoch / 1000 + second)
        }
        let baseSum = simulator.customers.reduce(0) { $0 + $1.baseCallsPerSecond }

        let updatesPerSecond = Double(events.count) / Double(seconds)
        #expect(abs(updatesPerSecond - 70) / 70 < 0.02)

        let spikeShare = Double(events.filter(\.isSpike).count) / Double(events.count)
        #expect(abs(spikeShare - spikeProbability) < 0.006)

        // E[calls/s] = 0.7 × Σ base × (1 + p × (3 − 1)).
        let expectedCalls = 0.7 * baseSum * (1 + spikeProbability * 2)
        let callsPerSecond = Double(events.reduce(0) { $0 + $1.update.calls }) / Double(seconds)
        #expect(abs(callsPerSecond - expectedCalls) / expectedCalls < 0.02)

        // Tokens per call by model class.
        let large = events.filter { $0.update.model == "gpt-4" || $0.update.model == "claude-3-opus" }
        let small = events.filter { $0.update.model == "gpt-3.5-turbo" || $0.update.model == "claude-3-sonnet" }
        func tokensPerCall(_ events: [Simulator.Event]) -> Double {
            Double(events.reduce(0) { $0 + $1.update.totalTokens }) / Double(events.reduce(0) { $0 + $1.update.calls })
        }
        if !large.isEmpty { #expect(abs(tokensPerCall(large) - 2000) / 2000 < 0.02) }
        if !small.isEmpty { #expect(abs(tokensPerCall(small) - 800) / 800 < 0.02) }

        // Input/output split 60/40, latency at least 50 ms, spikes 1.5 × slower on average.
        for event in events {
            let update = event.update
            #expect(update.inputTokens! + update.outputTokens! == update.totalTokens)
            #expect(abs(Double(update.inputTokens!) - 0.6 * Double(update.totalTokens)) <= 1)
            #expect(update.avgLatencyMs >= 50)
        }
        let gpt35 = events.filter { $0.update.model == "gpt-3.5-turbo" || $0.update.model == "claude-3-sonnet" }
        let spiky = gpt35.filter(\.isSpike).map(\.update.avgLatencyMs)
        let calm = gpt35.filter { !$0.isSpike }.map(\.update.avgLatencyMs)
        if spiky.count > 30 && calm.count > 30 {
            let ratio = (spiky.reduce(0, +) / Double(spiky.count)) / (calm.reduce(0, +) / Double(calm.count))
            #expect(ratio > 1.35 && ratio < 1.65)
        }
    }

    @Test func costFollowsThePriceTable() {
        let simulator = Simulator(configuration: .init(seed: 5))
        let prices = Dictionary(uniqueKeysWithValues: ModelPrice.reference.map { ($0.model, $0) })
        for update in simulator.updates(from: start, to: start.advanced(by: .seconds(20))) {
            let price = prices[update.model]!
            #expect(update.cost == price.cost(of: update))
            #expect(update.cacheReadTokens != nil || price.cacheRead == nil, "a model with a cache price reads from the cache")
        }
    }

    @Test(arguments: [0.5, 1.0, 10.0, 100.0])
    func loadMultipliesTheRate(load: Double) {
        let simulator = Simulator(configuration: .init(seed: 11, load: load))
        let seconds: Int64 = load >= 10 ? 20 : 200
        let count = simulator.updates(from: start, to: start.advanced(by: .seconds(seconds))).count
        let perSecond = Double(count) / Double(seconds)
        #expect(abs(perSecond - 70 * load) / (70 * load) < 0.05)
    }
}
