import Testing

@testable import SpendCore

/// The labelling of `spendboard anomalies evaluate`: what is played in, and what counts as
/// caught, duplicated or false.
@Suite("Anomaly evaluation")
struct AnomalyEvaluationTests {
    let start = Timestamp(secondsSinceEpoch: 1_790_000_000).floored(to: .seconds(86_400))

    @Test("a day holds eight labelled incidents, one per 3-hour slot, on customers that spend enough")
    func schedule() {
        let evaluation = AnomalyEvaluation(.init(seed: 4, duration: .seconds(86_400)))
        let labelled = evaluation.schedule(start: start, levelShift: false)
        #expect(labelled.map(\.kind) == [.triple, .double, .triple, .double, .triple, .double, .triple, .outage])
        let simulator = Simulator(configuration: .init(seed: 4))
        for (slot, item) in labelled.enumerated() {
            let slotStart = start.advanced(by: .seconds(Int64(slot) * 10_800))
            #expect(item.effect.from >= slotStart && item.effect.from < slotStart.advanced(by: .seconds(7200)))
            guard let customer = item.effect.target.customer else {
                #expect(item.effect.change == .silence && item.effect.until == item.effect.from.advanced(by: .seconds(900)))
                continue
            }
            let spend = simulator.expectedDollarsPerHour(simulator.customers.first { $0.customerId == customer }!)
            let times: Int64 = item.kind == .triple ? 3 : 2
            #expect(item.effect.change == .usage(times: times))
            // The extra is at least $200 an hour.
            #expect(spend * Double(times - 1) >= 200, "\(customer): \(spend)")
        }
        let shift = evaluation.schedule(start: start, levelShift: true)
        #expect(shift.map(\.kind) == [.shift] && shift.first?.effect.until == nil)
    }

    @Test("an incident is explained by a labelled one it overlaps in time and subject; it names it as subject or top contributor")
    func attribution() {
        let from = start.advanced(by: .seconds(3600))
        var labelled = AnomalyEvaluation.Labelled(
            kind: .triple,
            effect: .init(
                target: .init(tenant: "acme", customer: "cust-007"), from: from, until: from.advanced(by: .seconds(1200)), change: .usage(times: 3)))
        labelled.models = ["gpt-4"]
        func incident(_ subject: AnomalySubject, at: Timestamp, top: AnomalySubject? = nil) -> Incident {
            Incident(
                id: "x", kind: .spike, subject: subject, state: .open, start: at, openedAt: at, lastSeen: at, end: nil, expectedPerHour: 1,
                actualPerHour: 3, peakActualPerHour: 3, peakExpectedPerHour: 1, impact: 0, spent: .zero,
                contributors: top.map { [.init(subject: $0, actualPerHour: 3, expectedPerHour: 1)] } ?? [], acknowledgement: nil,
                baseline: .init(meanPerMinute: 0, deviationPerMinute: 0, callsPerMinute: 0), adapted: false, points: [])
        }
        let soon = from.advanced(by: .seconds(60))
        let resolve = Duration.seconds(180)
        #expect(AnomalyEvaluation.explains(labelled, incident(.customer("acme", "cust-007"), at: soon), resolveAfter: resolve))
        #expect(AnomalyEvaluation.explains(labelled, incident(.tenant("acme"), at: soon), resolveAfter: resolve))
        #expect(AnomalyEvaluation.explains(labelled, incident(.model("gpt-4"), at: soon), resolveAfter: resolve))
        #expect(!AnomalyEvaluation.explains(labelled, incident(.model("claude-3-opus"), at: soon), resolveAfter: resolve))
        #expect(!AnomalyEvaluation.explains(labelled, incident(.customer("acme", "cust-008"), at: soon), resolveAfter: resolve))
        #expect(!AnomalyEvaluation.explains(labelled, incident(.tenant("globex"), at: soon), resolveAfter: resolve))
        #expect(
            !AnomalyEvaluation.explains(
                labelled, incident(.customer("acme", "cust-007"), at: from.advanced(by: .seconds(-600))), resolveAfter: resolve))
        #expect(
            !AnomalyEvaluation.explains(
                labelled, incident(.customer("acme", "cust-007"), at: from.advanced(by: .seconds(2400))), resolveAfter: resolve))

        let target = labelled.effect.target
        #expect(AnomalyEvaluation.names(target, incident(.customer("acme", "cust-007"), at: soon)))
        #expect(AnomalyEvaluation.names(target, incident(.tenant("acme"), at: soon, top: .customer("acme", "cust-007"))))
        #expect(!AnomalyEvaluation.names(target, incident(.tenant("acme"), at: soon, top: .customer("acme", "cust-001"))))
        #expect(AnomalyEvaluation.names(.init(tenant: "acme"), incident(.tenant("acme"), at: soon)))
    }

    @Test("subjects that may share spend are related; other tenants and customers are not")
    func relatedSubjects() {
        let triple = AnomalySubject(scope: .customer, tenant: "acme", customer: "c1", model: "gpt-4")
        #expect(AnomalyDetector.related(.total, .customer("globex", "c9")))
        #expect(AnomalyDetector.related(.tenant("acme"), .customer("acme", "c1")))
        #expect(AnomalyDetector.related(.tenant("acme"), triple))
        #expect(!AnomalyDetector.related(.tenant("globex"), triple))
        #expect(!AnomalyDetector.related(.customer("acme", "c2"), .customer("acme", "c1")))
        #expect(AnomalyDetector.related(.model("gpt-4"), triple))
        #expect(!AnomalyDetector.related(.model("claude-3-opus"), triple))
        #expect(AnomalyDetector.related(.model("gpt-4"), .tenant("globex")))
    }
}
