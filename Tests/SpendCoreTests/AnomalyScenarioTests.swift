import Testing

@testable import SpendCore

/// The built-in scenarios played into the reference traffic, judged as the server judges:
/// each opens the anomaly it is made for, and the reference traffic alone opens nothing.
@Suite("Anomaly scenarios")
struct AnomalyScenarioTests {
    /// Feeds `simulator` into a ledger: `history` fast, then `duration` in 5-second ticks with
    /// the detector judging after each. Returns the events.
    static func play(_ simulator: Simulator, from start: Timestamp, history: Duration, duration: Duration) -> (AnomalyDetector, [AnomalyEvent]) {
        var ledger = UsageLedger()
        var detector = AnomalyDetector()
        var now = start.advanced(by: .zero - history)
        for batch in simulator.hourlyUpdates(from: now, to: start) {
            ledger.ingest(batch, now: batch.last?.timestamp ?? now)
        }
        now = start
        var events: [AnomalyEvent] = []
        let end = start.advanced(by: duration)
        while now < end {
            let next = now.advanced(by: .seconds(5))
            ledger.ingest(simulator.updates(from: now, to: next), now: next)
            now = next
            ledger.expire(now: now)
            events += detector.advance(ledger, now: now)
        }
        return (detector, events)
    }

    static let start = Timestamp(secondsSinceEpoch: 1_790_000_000).floored(to: .seconds(3600)).advanced(by: .seconds(10 * 3600))

    @Test("the reference traffic, spikes and business hours included, opens nothing in two hours")
    func referenceTrafficIsQuiet() {
        let (_, events) = Self.play(Simulator(configuration: .init(seed: 3)), from: Self.start, history: .seconds(3900), duration: .seconds(2 * 3600))
        #expect(events.isEmpty, "\(events.map { "\($0.kind) \($0.incident.subject) \($0.at)" })")
    }

    @Test("each scenario opens its anomaly", arguments: Scenario.Name.allCases)
    func scenario(_ name: Scenario.Name) throws {
        let reference = Simulator(configuration: .init(seed: 5))
        let scenario = Scenario.named(name, simulator: reference, start: Self.start)
        let simulator = Simulator(configuration: .init(seed: 5, scenarios: [scenario]))
        let (detector, events) = Self.play(simulator, from: Self.start, history: .seconds(3900), duration: .seconds(40 * 60))
        let opened = events.filter { $0.kind == .opened }.map(\.incident)
        let effect = try #require(scenario.effects.first)
        #expect(
            opened.count == 1,
            "\(name): \(opened.map { "\($0.kind) \($0.subject) \($0.start) \($0.openedAt) \($0.expectedPerHour) \($0.actualPerHour)" })")
        let incident = try #require(opened.first)
        let began = effect.from
        switch name {
        case .runawayCustomer:
            #expect(incident.kind == .spike && incident.subject == .customer(effect.target.tenant!, effect.target.customer!))
            #expect(incident.openedAt.duration(since: began) <= .seconds(120))
            // It ended after 20 minutes: resolved after its end, not before.
            let resolved = try #require(detector.incidents[incident.id])
            #expect(resolved.state == .resolved && resolved.end! >= effect.until!)
        case .tenantOutage:
            #expect(incident.kind == .drop && incident.subject == .tenant(effect.target.tenant!))
            #expect(incident.openedAt.duration(since: began) <= .seconds(300))
        case .modelPriceJump:
            #expect(incident.kind == .spike && incident.subject == .model(effect.target.model!))
        case .levelShift:
            #expect(incident.kind == .spike && incident.subject == .tenant(effect.target.tenant!))
        }
    }
}
