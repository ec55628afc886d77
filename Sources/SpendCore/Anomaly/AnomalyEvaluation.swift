/// Measures the detector on labelled simulated traffic: the reference traffic (its own random
/// spikes included) with incidents played in at known times, judged every 5 seconds exactly as
/// the server judges. What `spendboard anomalies evaluate` prints and `docs/benchmarks.md`
/// records.
///
/// Each simulated day has 8 slots of 3 hours; each slot holds one labelled incident starting
/// at a random minute of its first 2 hours: a customer at 3× its usage, or at 2× (both 20
/// minutes, on customers that spend enough for the extra to be at least $200/h), or a tenant
/// that goes silent for 15 minutes. A separate run shifts one tenant to 2× for good.
public struct AnomalyEvaluation: Sendable {
    public struct Configuration: Sendable {
        public var seed: UInt64
        /// Judged time, after an hour of history.
        public var duration: Duration
        public var customers: Int
        public var settings: AnomalySettings

        public init(seed: UInt64, duration: Duration, customers: Int = 100, settings: AnomalySettings = AnomalySettings()) {
            self.seed = seed
            self.duration = duration
            self.customers = customers
            self.settings = settings
        }
    }

    /// One incident played in, and what became of it.
    public struct Labelled: Sendable {
        public enum Kind: String, Sendable, CaseIterable {
            case triple = "customer at 3x"
            case double = "customer at 2x"
            case outage = "tenant silent"
            case shift = "tenant at 2x for good"
        }

        public var kind: Kind
        public var effect: Scenario.Effect
        /// The models its target uses.
        public var models: Set<String> = []
        /// The incident that names it (as its subject, or as the top contributor of a broader
        /// one), if any.
        public var detectedBy: Incident?
        /// Incidents attributed to it (more than one is a duplicate).
        public var incidents = 0

        public var delay: Duration? { detectedBy.map { effect.from.duration(to: $0.openedAt) } }
    }

    public struct Result: Sendable {
        public var judged: Duration
        public var labelled: [Labelled]
        /// Incidents that no labelled incident explains.
        public var falseAnomalies: [Incident]
        /// Time of each `advance`, in nanoseconds.
        public var tickNanoseconds: [Int64]
        /// Series the detector followed at the end.
        public var trackedSeries: Int
        /// Time of the snapshot's own computation (`UsageLedger.snapshot(at:)`, the rolling hour
        /// without windows) once a minute, in nanoseconds: the baseline a tick's detection adds to.
        public var snapshotNanoseconds: [Int64] = []

        public var falsePerDay: Double { Double(falseAnomalies.count) / (Double(judged.milliseconds) / 86_400_000) }
    }

    public let configuration: Configuration
    public init(_ configuration: Configuration) { self.configuration = configuration }

    /// Customers that spend at least `dollars` per hour.
    static func customers(_ simulator: Simulator, spendingAtLeast dollars: Double) -> [Simulator.Customer] {
        simulator.customers.filter { simulator.expectedDollarsPerHour($0) >= dollars }
    }

    /// The labelled incidents of a run starting at `start`.
    public func schedule(start: Timestamp, levelShift: Bool) -> [Labelled] {
        let reference = Simulator(configuration: .init(seed: configuration.seed, customerCount: configuration.customers))
        var rng = SplitMix64(seed: configuration.seed, stream: 0x5eed)
        let tenants = reference.customers.map(\.tenantId).uniqued()
        if levelShift {
            let tenant = tenants[Int(rng.next() % UInt64(tenants.count))]
            let effect = Scenario.Effect(
                target: .init(tenant: tenant), from: start.advanced(by: .seconds(1800)), until: nil, change: .usage(times: 2))
            return [Labelled(kind: .shift, effect: effect)]
        }
        let triples = Self.customers(reference, spendingAtLeast: 100)
        let doubles = Self.customers(reference, spendingAtLeast: 200)
        var labelled: [Labelled] = []
        let slots = Int(configuration.duration.milliseconds / 10_800_000)
        for slot in 0..<slots {
            let from = start.advanced(by: .seconds(Int64(slot) * 10_800 + Int64(rng.next() % 120) * 60))
            let kind: Labelled.Kind = slot % 8 == 7 ? .outage : slot % 2 == 0 ? .triple : .double
            let effect: Scenario.Effect
            switch kind {
            case .triple, .double:
                let pool = kind == .triple ? triples : doubles
                let customer = pool[Int(rng.next() % UInt64(pool.count))]
                effect = .init(
                    target: .init(tenant: customer.tenantId, customer: customer.customerId), from: from, until: from.advanced(by: .seconds(1200)),
                    change: .usage(times: kind == .triple ? 3 : 2))
            case .outage, .shift:
                let tenant = tenants[Int(rng.next() % UInt64(tenants.count))]
                effect = .init(target: .init(tenant: tenant), from: from, until: from.advanced(by: .seconds(900)), change: .silence)
            }
            labelled.append(Labelled(kind: kind, effect: effect))
        }
        return labelled
    }

    /// Plays the run: an hour of history, then `duration` in 5-second ticks.
    public func run(start: Timestamp, levelShift: Bool = false, timingSnapshots: Bool = false) -> Result {
        var labelled = schedule(start: start, levelShift: levelShift)
        let reference = Simulator(configuration: .init(seed: configuration.seed, customerCount: configuration.customers))
        for index in labelled.indices {
            let target = labelled[index].effect.target
            labelled[index].models = Set(
                reference.customers.filter { $0.tenantId == target.tenant && (target.customer == nil || $0.customerId == target.customer) }
                    .map(\.model.model))
        }
        let simulator = Simulator(
            configuration: .init(
                seed: configuration.seed, customerCount: configuration.customers,
                scenarios: [Scenario(name: "labelled", effects: labelled.map(\.effect))]))
        var ledger = UsageLedger()
        var detector = AnomalyDetector(settings: configuration.settings)
        for batch in simulator.hourlyUpdates(from: start.advanced(by: .seconds(-3900)), to: start) {
            ledger.ingest(batch, now: start)
        }
        var now = start
        let end = start.advanced(by: configuration.duration)
        var opened: [Incident] = []
        var ticks: [Int64] = []
        var snapshots: [Int64] = []
        ticks.reserveCapacity(Int(configuration.duration.milliseconds / 5000))
        let clock = ContinuousClock()
        while now < end {
            let next = now.advanced(by: .seconds(5))
            ledger.ingest(simulator.updates(from: now, to: next), now: next)
            now = next
            ledger.expire(now: now)
            let before = clock.now
            let events = detector.advance(ledger, now: now)
            let elapsed = before.duration(to: clock.now)
            // The first tick learns the last hour; the others are the steady cost.
            if now > start.advanced(by: .seconds(5)) {
                ticks.append(elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
            }
            if timingSnapshots && now.millisecondsSinceEpoch % 60_000 == 0 {
                let before = clock.now
                _ = ledger.snapshot(at: now)
                let elapsed = before.duration(to: clock.now)
                snapshots.append(elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
            }
            opened += events.filter { $0.kind == .opened }.map(\.incident)
            _ = detector.takeChanges(now: now)
        }
        var unexplained: [Incident] = []
        for incident in opened {
            let matches = labelled.indices.filter { Self.explains(labelled[$0], incident, resolveAfter: configuration.settings.resolveAfter) }
            if matches.isEmpty { unexplained.append(incident) }
            for index in matches {
                labelled[index].incidents += 1
                if labelled[index].detectedBy == nil, Self.names(labelled[index].effect.target, incident) {
                    labelled[index].detectedBy = incident
                }
            }
        }
        return Result(
            judged: configuration.duration, labelled: labelled, falseAnomalies: unexplained, tickNanoseconds: ticks,
            trackedSeries: detector.trackedSeries, snapshotNanoseconds: snapshots)
    }

    /// Whether the incident is about the labelled one: it began while that one was playing
    /// (or soon after its end) and their subjects overlap.
    static func explains(_ labelled: Labelled, _ incident: Incident, resolveAfter: Duration) -> Bool {
        let effect = labelled.effect
        let latest = effect.until.map { $0.advanced(by: resolveAfter + .seconds(300)) } ?? Timestamp(millisecondsSinceEpoch: .max)
        guard incident.start >= effect.from.advanced(by: .seconds(-60)), incident.start <= latest else { return false }
        let target = effect.target
        let subject = incident.subject
        switch subject.scope {
        case .total: return true
        case .tenant: return subject.tenant == target.tenant
        case .customer: return subject.tenant == target.tenant && (target.customer == nil || subject.customer == target.customer)
        case .model: return labelled.models.contains(subject.model ?? "")
        }
    }

    /// Whether the incident names the target: as its subject, or as the top contributor of a
    /// broader incident.
    static func names(_ target: Scenario.Target, _ incident: Incident) -> Bool {
        let subject = incident.subject
        if let customer = target.customer {
            if subject.scope == .customer && subject.customer == customer && subject.tenant == target.tenant { return true }
            return incident.contributors.first.map { $0.subject.customer == customer && $0.subject.tenant == target.tenant } ?? false
        }
        if subject.scope == .tenant && subject.tenant == target.tenant { return true }
        return incident.contributors.first.map { $0.subject.scope == .tenant && $0.subject.tenant == target.tenant } ?? false
    }
}
