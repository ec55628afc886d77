import Foundation
import SpendAlerts
import SpendCore
import SpendStorage
import Testing

/// The outbox delivered to real receivers on real sockets, with the time moved by hand: retries
/// keep the event's id and back off, a receiver sees events in order, acknowledged anomalies do
/// not alert again, and a restart resumes where delivery stood.
@Suite("Webhook delivery from the outbox")
struct WebhookDeliveryTests {
    let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

    func delivery(_ targets: [String], _ journal: SQLiteJournal, clock: ManualTimeSource, policy: RetryPolicy = RetryPolicy())
        throws -> WebhookDelivery
    {
        WebhookDelivery(
            targets: targets, outbox: journal, signer: try StandardWebhookSigner(secret: secret), policy: policy, clock: clock,
            logger: AlertFixtures.logger)
    }

    @Test func retriesWithTheSameIdBacksOffAndDeliversInOrder() async throws {
        let directory = try AlertFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let journal = try SQLiteJournal(directory: directory)
        let clock = ManualTimeSource(AlertFixtures.start.advanced(by: .seconds(600)))
        let receiver = Receiver(failures: 2)
        let signer = try StandardWebhookSigner(secret: secret)
        try await receiver.serving { url in
            // An event from before the target existed is not sent to it.
            let earlier = AlertFixtures.incident(customer: "cust-001")
            try await journal.record([earlier], revision: 1, events: [AnomalyEvent(kind: .opened, at: AlertFixtures.start, incident: earlier)])
            try await journal.registerAlertTargets([url])
            try await journal.registerAlertTargets([url])  // a restart registers it again: nothing moves

            let incident = AlertFixtures.incident()
            let opened = AnomalyEvent(kind: .opened, at: clock.now, incident: incident)
            let resolved = AnomalyEvent(kind: .resolved, at: clock.now, incident: AlertFixtures.resolved(incident, at: clock.now))
            try await journal.record([incident], revision: 2, events: [opened, resolved])

            let delivery = try delivery([url], journal, clock: clock)
            let first = clock.now
            #expect(try await delivery.deliverDue(to: url) == first.advanced(by: .seconds(5)))
            var status = try #require(delivery.status().targets.first)
            #expect(status.pending == 2 && status.attempts == 1 && status.failingSince == first)
            #expect(status.lastError == "the receiver answered 503" && status.isFailing)

            // Not due yet: nothing is sent.
            clock.advance(by: .seconds(1))
            #expect(try await delivery.deliverDue(to: url) == first.advanced(by: .seconds(5)))
            #expect(receiver.deliveries.count == 1)

            clock.set(first.advanced(by: .seconds(5)))
            #expect(try await delivery.deliverDue(to: url) == first.advanced(by: .seconds(15)), "the second wait is twice the first")
            clock.set(first.advanced(by: .seconds(15)))
            #expect(try await delivery.deliverDue(to: url) == nil)

            let seen = receiver.deliveries
            #expect(seen.map(\.id) == [opened.id, opened.id, opened.id, resolved.id])
            #expect(seen.map(\.timestamp) == [0, 5, 15, 15].map { first.millisecondsSinceEpoch / 1000 + $0 })
            #expect(
                seen.map { String(decoding: $0.body, as: UTF8.self) }
                    == [opened, opened, opened, resolved].map { String(decoding: $0.json, as: UTF8.self) })
            for delivery in seen {
                #expect(signer.verifies(id: delivery.id, timestamp: delivery.timestamp, body: delivery.body, signatureHeader: delivery.signature))
                #expect(delivery.contentType == "application/json")
            }
            status = try #require(delivery.status().targets.first)
            #expect(status.pending == 0 && status.delivered == 2 && status.attempts == 0 && !status.isFailing && status.lastError == nil)
            #expect(status.lastDelivered == first.advanced(by: .seconds(15)))
            try await delivery.shutdown()
        }
    }

    @Test func anAcknowledgedAnomalyDoesNotAlertWhenItResolves() async throws {
        let directory = try AlertFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let journal = try SQLiteJournal(directory: directory)
        let clock = ManualTimeSource(AlertFixtures.start.advanced(by: .seconds(600)))
        let receiver = Receiver()
        try await receiver.serving { url in
            try await journal.registerAlertTargets([url])
            var incident = AlertFixtures.incident()
            let opened = AnomalyEvent(kind: .opened, at: clock.now, incident: incident)
            incident.acknowledgement = .init(at: clock.now, reason: .investigating, note: "on it")
            let acknowledged = AnomalyEvent(kind: .acknowledged, at: clock.now, incident: incident)
            let resolved = AnomalyEvent(kind: .resolved, at: clock.now, incident: AlertFixtures.resolved(incident, at: clock.now))
            #expect(!resolved.alerts && acknowledged.alerts && opened.alerts)
            try await journal.record([incident], revision: 1, events: [opened, acknowledged, resolved])

            let delivery = try delivery([url], journal, clock: clock)
            #expect(try await delivery.deliverDue(to: url) == nil)
            #expect(receiver.deliveries.map(\.id) == [opened.id, acknowledged.id])
            #expect(try delivery.status().targets.first?.pending == 0)
            try await delivery.shutdown()
        }
    }

    @Test func aReceiverThatNeverAnswersIsGivenUpOnAfterTheRetryWindowAndTheNextEventGoesOn() async throws {
        let directory = try AlertFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let journal = try SQLiteJournal(directory: directory)
        let clock = ManualTimeSource(AlertFixtures.start)
        let receiver = Receiver(failures: 1_000)
        try await receiver.serving { url in
            try await journal.registerAlertTargets([url])
            let first = AlertFixtures.incident(customer: "a")
            let second = AlertFixtures.incident(customer: "b")
            let events = [first, second].map { AnomalyEvent(kind: .opened, at: clock.now, incident: $0) }
            try await journal.record([first, second], revision: 1, events: events)
            let delivery = try delivery(
                [url], journal, clock: clock, policy: RetryPolicy(initial: .seconds(10), maximum: .seconds(20), giveUpAfter: .seconds(60)))
            var next = try await delivery.deliverDue(to: url)
            while let due = next, due <= AlertFixtures.start.advanced(by: .seconds(70)) {
                clock.set(due)
                next = try await delivery.deliverDue(to: url)
            }
            // 0, 10, 30, 50 failed; at 70 s the first event has failed for over a minute and is
            // abandoned, and the second is tried at once.
            let ids = receiver.deliveries.map(\.id)
            #expect(ids == Array(repeating: events[0].id, count: 5) + [events[1].id], "\(ids)")
            let status = try #require(delivery.status().targets.first)
            #expect(status.abandoned == 1 && status.delivered == 0 && status.pending == 1 && status.attempts == 1)
            try await delivery.shutdown()
        }
    }

    @Test func aRestartResumesPendingDeliveriesWithTheSameIds() async throws {
        let directory = try AlertFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let clock = ManualTimeSource(AlertFixtures.start)
        let receiver = Receiver(failures: 1)
        try await receiver.serving { url in
            let down = "http://127.0.0.1:1/hook"  // nothing listens on port 1
            var events: [AnomalyEvent] = []
            do {
                let journal = try SQLiteJournal(directory: directory)
                try await journal.registerAlertTargets([url, down])
                let incident = AlertFixtures.incident()
                events = [
                    AnomalyEvent(kind: .opened, at: clock.now, incident: incident),
                    AnomalyEvent(kind: .resolved, at: clock.now, incident: AlertFixtures.resolved(incident, at: clock.now)),
                ]
                try await journal.record([incident], revision: 1, events: events)
                let delivery = try delivery([url, down], journal, clock: clock)
                try await delivery.deliverDue(to: url)
                try await delivery.deliverDue(to: down)
                let statuses = delivery.status().targets
                #expect(statuses.map(\.pending) == [2, 2] && statuses.allSatisfy(\.isFailing))
                #expect(statuses[1].lastError?.isEmpty == false)
                try await delivery.shutdown()
            }
            // The process is gone; a new one opens the same folder.
            clock.advance(by: .seconds(60))
            let journal = try SQLiteJournal(directory: directory)
            try await journal.registerAlertTargets([url, down])
            let delivery = try delivery([url, down], journal, clock: clock)
            #expect(try await delivery.deliverDue(to: url) == nil)
            #expect(receiver.deliveries.map(\.id) == [events[0].id, events[0].id, events[1].id])
            #expect(try await delivery.deliverDue(to: url) == nil)
            #expect(receiver.deliveries.count == 3, "a delivered event is not sent again")
            // The dead target was not stepped: its progress is read as `run` reads it at start.
            await delivery.refreshStatus(of: down)
            let statuses = delivery.status().targets
            #expect(statuses.map(\.delivered) == [2, 0] && statuses.map(\.pending) == [0, 2])
            #expect(statuses[1].attempts == 1, "the attempts made before the restart still count")
            try await delivery.shutdown()
        }
    }
}

/// The outbox's upkeep: pruning never renumbers events behind a cursor, and events a target
/// never had are counted as abandoned before they go.
@Suite("Alert outbox pruning")
struct AlertOutboxPruningTests {
    @Test func pruningKeepsTheNewestEventAndCountsWhatATargetNeverHad() async throws {
        let directory = try AlertFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let journal = try SQLiteJournal(directory: directory)
        let start = AlertFixtures.start
        try await journal.registerAlertTargets(["http://a/hook", "http://b/hook"])
        let incidents = (0..<3).map { AlertFixtures.incident(customer: "c\($0)", start: start.advanced(by: .seconds(Int64($0) * 60))) }
        for (offset, incident) in incidents.enumerated() {
            try await journal.record(
                [incident], revision: Int64(offset + 1), events: [AnomalyEvent(kind: .opened, at: incident.start, incident: incident)])
        }
        // Target a had the first event; b had none.
        let first = try #require(try await journal.nextAlert(for: "http://a/hook"))
        try await journal.recordAlertAttempt(.delivered, for: "http://a/hook", sequence: first.sequence, at: start)

        // 31 days later every event is past retention: all go but the newest.
        try await journal.pruneIncidents(now: start.advanced(by: .seconds(31 * 86_400)), retention: .seconds(30 * 86_400))
        let statuses = try await journal.alertTargetStatus(["http://a/hook", "http://b/hook"])
        #expect(statuses.map(\.abandoned) == [1, 2] && statuses.map(\.pending) == [1, 1])
        #expect(statuses.allSatisfy { $0.lastError == "abandoned: older than the outbox keeps" })
        #expect(
            try await journal.nextAlert(for: "http://b/hook")?.eventID
                == AnomalyEvent(kind: .opened, at: incidents[2].start, incident: incidents[2]).id)

        // An event recorded after the prune is numbered after the kept one, not from 1 again.
        let later = AlertFixtures.incident(customer: "later", start: start.advanced(by: .seconds(31 * 86_400)))
        try await journal.record([later], revision: 9, events: [AnomalyEvent(kind: .opened, at: later.start, incident: later)])
        let kept = try #require(try await journal.nextAlert(for: "http://a/hook"))
        try await journal.recordAlertAttempt(.delivered, for: "http://a/hook", sequence: kept.sequence, at: later.start)
        #expect(try await journal.nextAlert(for: "http://a/hook")?.eventID == AnomalyEvent(kind: .opened, at: later.start, incident: later).id)
    }
}
