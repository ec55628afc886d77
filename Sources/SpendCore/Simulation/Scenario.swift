/// Something unusual to play into the simulator's traffic, to see the anomaly panel and the
/// alerts work (`spendboard serve --scenario NAME`), and to measure detection on labelled
/// traffic (the anomaly benchmark).
///
/// ```swift
/// let scenario = Scenario.named(.runawayCustomer, simulator: simulator, start: now)
/// let simulator = Simulator(configuration: .init(seed: 1, scenarios: [scenario]))
/// ```
public struct Scenario: Hashable, Sendable {
    public enum Name: String, Hashable, Sendable, CaseIterable {
        /// One customer at four times its usage for 20 minutes.
        case runawayCustomer = "runaway-customer"
        /// One tenant sends nothing for 15 minutes.
        case tenantOutage = "tenant-outage"
        /// One model costs three times as much, for good.
        case modelPriceJump = "model-price-jump"
        /// One tenant uses twice as much, for good: a new level.
        case levelShift = "level-shift"

        /// What it does, for `--help` and the docs.
        public var summary: String {
            switch self {
            case .runawayCustomer: "one customer at 4x its usage for 20 minutes"
            case .tenantOutage: "one tenant silent for 15 minutes"
            case .modelPriceJump: "one model at 3x its price for good"
            case .levelShift: "one tenant at 2x its usage for good"
            }
        }
    }

    /// Which updates an effect changes; nil matches every value.
    public struct Target: Hashable, Sendable, CustomStringConvertible {
        public var tenant: String?
        public var customer: String?
        public var model: String?

        public init(tenant: String? = nil, customer: String? = nil, model: String? = nil) {
            self.tenant = tenant
            self.customer = customer
            self.model = model
        }

        func matches(_ update: UsageUpdate) -> Bool {
            (tenant == nil || tenant == update.tenantId) && (customer == nil || customer == update.customerId)
                && (model == nil || model == update.model)
        }

        public var description: String {
            [tenant.map { "tenant \($0)" }, customer.map { "customer \($0)" }, model.map { "model \($0)" }].compactMap { $0 }
                .joined(separator: ", ")
        }
    }

    public enum Change: Hashable, Sendable {
        /// Calls and tokens times the factor, priced as usual.
        case usage(times: Int64)
        /// The same usage at `times` the price.
        case price(times: Int64)
        /// No updates at all.
        case silence
    }

    public struct Effect: Hashable, Sendable {
        public var target: Target
        public var from: Timestamp
        /// nil: for good.
        public var until: Timestamp?
        public var change: Change

        public init(target: Target, from: Timestamp, until: Timestamp?, change: Change) {
            self.target = target
            self.from = from
            self.until = until
            self.change = change
        }

        func isActive(at time: Timestamp) -> Bool {
            time >= from && (until.map { time < $0 } ?? true)
        }
    }

    public var name: String
    public var effects: [Effect]

    public init(name: String, effects: [Effect]) {
        self.name = name
        self.effects = effects
    }

    /// The built-in scenario `name` for this simulator's customers, starting `after` (3
    /// minutes) after `start`. The customer, tenant and model are chosen from the simulator's
    /// own, the same for the same seed.
    public static func named(_ name: Name, simulator: Simulator, start: Timestamp, after: Duration = .seconds(180)) -> Scenario {
        let from = start.advanced(by: after)
        let tenants = simulator.customers.map(\.tenantId).uniqued()
        let effect: Effect
        switch name {
        case .runawayCustomer:
            // A customer of about $500 an hour: four times that is $1,500 an hour more.
            let customer = simulator.customers.min {
                abs(simulator.expectedDollarsPerHour($0) - 500) < abs(simulator.expectedDollarsPerHour($1) - 500)
            }!
            effect = Effect(
                target: Target(tenant: customer.tenantId, customer: customer.customerId), from: from, until: from.advanced(by: .seconds(1200)),
                change: .usage(times: 4))
        case .tenantOutage:
            effect = Effect(
                target: Target(tenant: tenants[min(1, tenants.count - 1)]), from: from, until: from.advanced(by: .seconds(900)), change: .silence)
        case .modelPriceJump:
            let models = simulator.customers.map(\.model.model).uniqued()
            effect = Effect(
                target: Target(model: models.contains("claude-3-sonnet") ? "claude-3-sonnet" : models[0]), from: from, until: nil,
                change: .price(times: 3))
        case .levelShift:
            effect = Effect(target: Target(tenant: tenants[min(2, tenants.count - 1)]), from: from, until: nil, change: .usage(times: 2))
        }
        return Scenario(name: name.rawValue, effects: [effect])
    }

    /// The update as the scenario changes it, or nil when it is silenced. `price` prices a
    /// changed usage.
    func apply(to update: UsageUpdate, price: ModelPrice) -> UsageUpdate? {
        var update = update
        for effect in effects where effect.isActive(at: update.timestamp) && effect.target.matches(update) {
            switch effect.change {
            case .silence:
                return nil
            case .price(let times):
                update.cost = update.cost.multiplied(by: times)
            case .usage(let times):
                update.calls *= times
                update.totalTokens *= times
                update.inputTokens = update.inputTokens.map { $0 * times }
                update.outputTokens = update.outputTokens.map { $0 * times }
                update.cacheReadTokens = update.cacheReadTokens.map { $0 * times }
                update.cacheWriteTokens = update.cacheWriteTokens.map { $0 * times }
                update.reasoningTokens = update.reasoningTokens.map { $0 * times }
                guard let cost = price.cost(of: update) else {
                    preconditionFailure("a scenario's usage of \(update.model) cannot be priced")
                }
                update.cost = cost
            }
        }
        return update
    }
}

extension Simulator {
    /// What a customer spends in an hour on average: its mean calls at its mean tokens.
    public func expectedDollarsPerHour(_ customer: Customer) -> Double {
        let calls = customer.baseCallsPerSecond * configuration.activity * 3600 * configuration.load
        let tokens = customer.meanTokensPerCall
        let input = Int64(tokens * 0.6)
        let sample = UsageUpdate(
            timestamp: Timestamp(millisecondsSinceEpoch: 0), tenantId: customer.tenantId, customerId: customer.customerId,
            model: customer.model.model,
            calls: 1, totalTokens: Int64(tokens), inputTokens: input, outputTokens: Int64(tokens) - input,
            cacheReadTokens: customer.model.cacheRead != nil ? input * 4 / 10 : nil,
            cacheWriteTokens: customer.model.cacheRead != nil ? input / 20 : nil,
            cost: CostBreakdown(), avgLatencyMs: 1)
        let perCall = customer.model.cost(of: sample)?.total.approximateDollars ?? 0
        return perCall * calls
    }
}

extension Array where Element: Hashable {
    /// The elements in their first order, each once.
    func uniqued() -> [Element] {
        var seen = Set<Element>()
        return filter { seen.insert($0).inserted }
    }
}
