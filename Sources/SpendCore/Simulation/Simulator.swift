/// The built-in source of usage: the reference dashboard's traffic model, deterministic for a
/// seed.
///
/// Every simulated second is generated from its own random stream, derived from the seed and the
/// second, so the updates of a second never depend on which seconds were generated before or in
/// what chunks: a backfill, a live run and a test all see the same history for the same seed.
///
/// ```swift
/// let simulator = Simulator(configuration: .init(seed: 42))
/// let updates = simulator.updates(from: start, to: end)   // whole seconds in [start, end)
/// ```
public struct Simulator: Sendable {
    public struct Configuration: Sendable {
        public var seed: UInt64
        /// Multiplies the number of updates per second (1 is the reference rate, about 70/s).
        public var load: Double
        public var tenantCount: Int
        public var customerCount: Int
        public var prices: [ModelPrice]
        /// Probability that a customer is active in a given second.
        public var activity: Double
        public var spikeProbabilityInBusinessHours: Double
        public var spikeProbabilityOtherwise: Double
        /// UTC hours counted as business hours (09:00–17:59).
        public var businessHours: Range<Int>
        /// Unusual traffic played into the reference traffic (`Scenario`), in order.
        public var scenarios: [Scenario]

        public init(
            seed: UInt64 = 1, load: Double = 1, tenantCount: Int = 7, customerCount: Int = 100,
            prices: [ModelPrice] = ModelPrice.reference, activity: Double = 0.7,
            spikeProbabilityInBusinessHours: Double = 0.05, spikeProbabilityOtherwise: Double = 0.02,
            businessHours: Range<Int> = 9..<18, scenarios: [Scenario] = []
        ) {
            self.seed = seed
            self.load = load
            self.tenantCount = tenantCount
            self.customerCount = customerCount
            self.prices = prices
            self.activity = activity
            self.spikeProbabilityInBusinessHours = spikeProbabilityInBusinessHours
            self.spikeProbabilityOtherwise = spikeProbabilityOtherwise
            self.businessHours = businessHours
            self.scenarios = scenarios
        }
    }

    /// A simulated customer: who it is, which model it uses and how busy it is.
    public struct Customer: Hashable, Sendable {
        public var tenantId: String
        public var customerId: String
        public var model: ModelPrice
        public var baseCallsPerSecond: Double
        /// Mean tokens per call: 2,000 for the large models, 800 for the others.
        public var meanTokensPerCall: Double
        /// Mean latency: 800 ms for the large models, 200 ms for the others.
        public var meanLatencyMs: Double
    }

    /// One generated update with the facts a test needs to check the model.
    struct Event {
        var update: UsageUpdate
        var isSpike: Bool
    }

    public static let tenantNames = [
        "acme", "globex", "initech", "umbrella", "hooli", "stark", "wayne", "tyrell", "cyberdyne", "soylent",
    ]

    public let configuration: Configuration
    public let customers: [Customer]

    public init(configuration: Configuration) {
        precondition(!configuration.prices.isEmpty, "the simulator needs at least one model")
        precondition(configuration.tenantCount > 0 && configuration.customerCount > 0)
        self.configuration = configuration
        var rng = SplitMix64(seed: configuration.seed, stream: .max)
        let tenants = (0..<configuration.tenantCount).map { index in
            index < Self.tenantNames.count ? Self.tenantNames[index] : "tenant-\(index + 1)"
        }
        customers = (0..<configuration.customerCount).map { index in
            let model = configuration.prices[Int(rng.next() % UInt64(configuration.prices.count))]
            let large = model.input >= TokenPrice(picodollarsPerToken: 10_000_000)  // $10 per million
            return Customer(
                // Every tenant gets customers; the rest are spread at random.
                tenantId: tenants[index < tenants.count ? index : Int(rng.next() % UInt64(tenants.count))],
                customerId: "cust-" + String(index + 1).leftPadded(to: 3),
                model: model,
                baseCallsPerSecond: 3 + rng.unit() * 17,
                meanTokensPerCall: large ? 2000 : 800,
                meanLatencyMs: large ? 800 : 200
            )
        }
    }

    /// The probability of a spike at an instant: higher in business hours.
    public func spikeProbability(at timestamp: Timestamp) -> Double {
        configuration.businessHours.contains(timestamp.utcHour)
            ? configuration.spikeProbabilityInBusinessHours : configuration.spikeProbabilityOtherwise
    }

    /// The updates of every whole second in `[start, end)`, oldest first.
    public func updates(from start: Timestamp, to end: Timestamp) -> [UsageUpdate] {
        var result: [UsageUpdate] = []
        let first = (start.millisecondsSinceEpoch + 999).flooredDivision(by: 1000)
        let last = end.millisecondsSinceEpoch.flooredDivision(by: 1000)
        guard first < last else { return result }
        result.reserveCapacity(Int(Double(last - first) * Double(customers.count) * configuration.load * 0.75))
        for second in first..<last {
            generate(second: second) { event in result.append(event.update) }
        }
        return result
    }

    /// The updates of `[start, end)` in batches of at most one hour, oldest first: a day of
    /// history never sits in memory whole.
    ///
    /// ```swift
    /// for batch in simulator.hourlyUpdates(from: now.advanced(by: .seconds(-86_400)), to: now) {
    ///     ledger.ingest(batch, now: now)
    /// }
    /// ```
    public func hourlyUpdates(from start: Timestamp, to end: Timestamp) -> some Sequence<[UsageUpdate]> {
        sequence(state: start) { from -> [UsageUpdate]? in
            guard from < end else { return nil }
            let to = min(end, from.advanced(by: .seconds(3600)))
            defer { from = to }
            return updates(from: from, to: to)
        }
    }

    /// The updates of one second (epoch seconds), ordered by timestamp.
    public func updates(second: Int64) -> [UsageUpdate] {
        var result: [UsageUpdate] = []
        generate(second: second) { result.append($0.update) }
        return result
    }

    func events(second: Int64) -> [Event] {
        var result: [Event] = []
        generate(second: second) { result.append($0) }
        return result
    }

    private func generate(second: Int64, _ emit: (Event) -> Void) {
        var rng = SplitMix64(seed: configuration.seed, stream: UInt64(bitPattern: second))
        let start = Timestamp(secondsSinceEpoch: second)
        let spikeProbability = spikeProbability(at: start)
        let whole = Int(configuration.load.rounded(.down))
        let fraction = configuration.load - Double(whole)
        var events: [Event] = []
        events.reserveCapacity(customers.count * (whole + 1))
        for customer in customers {
            let attempts = whole + (fraction > 0 && rng.unit() < fraction ? 1 : 0)
            for _ in 0..<attempts where rng.unit() < configuration.activity {
                let generated = event(for: customer, in: start, spikeProbability: spikeProbability, rng: &rng)
                if configuration.scenarios.isEmpty {
                    events.append(generated)
                } else if let changed = applyingScenarios(generated, customer: customer) {
                    events.append(changed)
                }
            }
        }
        // Within a second, updates arrive in timestamp order.
        events.sort { $0.update.timestamp < $1.update.timestamp }
        events.forEach(emit)
    }

    private func event(
        for customer: Customer, in second: Timestamp, spikeProbability: Double, rng: inout SplitMix64
    ) -> Event {
        let base = customer.baseCallsPerSecond
        var calls = rng.normal(mean: base, standardDeviation: base * 0.3)
        let isSpike = rng.unit() < spikeProbability
        if isSpike {
            calls *= rng.normal(mean: 3, standardDeviation: 0.5)
        }
        let callCount = Int64(max(0, calls.rounded()))
        let perCall = max(1, rng.normal(mean: customer.meanTokensPerCall, standardDeviation: customer.meanTokensPerCall * 0.2))
        let totalTokens = Int64((Double(callCount) * perCall).rounded())
        let inputTokens = (totalTokens * 6 + 5) / 10
        let outputTokens = totalTokens - inputTokens
        var latency = max(50, rng.normal(mean: customer.meanLatencyMs, standardDeviation: customer.meanLatencyMs * 0.3))
        if isSpike { latency *= 1.5 }
        let offset = Int64(rng.next() % 1000)
        // Models with a cache price serve part of their input from the cache, as chat
        // applications with a long fixed prompt do: 40 % read, 5 % written.
        let cached = customer.model.cacheRead != nil
        var update = UsageUpdate(
            timestamp: Timestamp(millisecondsSinceEpoch: second.millisecondsSinceEpoch + offset),
            tenantId: customer.tenantId,
            customerId: customer.customerId,
            model: customer.model.model,
            calls: callCount,
            totalTokens: totalTokens,
            inputTokens: inputTokens,
            outputTokens: outputTokens,
            cacheReadTokens: cached ? inputTokens * 4 / 10 : nil,
            cacheWriteTokens: cached ? inputTokens / 20 : nil,
            cost: CostBreakdown(),
            avgLatencyMs: (latency * 100).rounded() / 100
        )
        guard let cost = customer.model.cost(of: update) else {
            preconditionFailure("the simulator's \(update.totalTokens) tokens of \(update.model) cost more than one update may")
        }
        update.cost = cost
        return Event(update: update, isSpike: isSpike)
    }

    /// The event as the configured scenarios change it; nil when one silences it.
    private func applyingScenarios(_ event: Event, customer: Customer) -> Event? {
        var event = event
        for scenario in configuration.scenarios {
            guard let changed = scenario.apply(to: event.update, price: customer.model) else { return nil }
            event.update = changed
        }
        return event
    }
}

extension String {
    func leftPadded(to width: Int, with pad: Character = "0") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}
