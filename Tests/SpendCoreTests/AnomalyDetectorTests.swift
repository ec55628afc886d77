import Testing

@testable import SpendCore

/// Synthetic series fed through a real ledger, judged by the detector every 5 seconds as the
/// server does.
struct AnomalyFeed {
    struct Series {
        var tenant: String
        var customer: String
        var model: String
        var dollarsPerHour: Double
        var callsPerMinute: Double
    }

    var ledger = UsageLedger()
    var detector: AnomalyDetector
    var now: Timestamp
    var events: [AnomalyEvent] = []
    /// How late the updates arrive: a producer that sends every 30 seconds stamps them up to
    /// 30 seconds before they reach the store.
    var lateness: Duration = .zero
    private var rng = SplitMix64(seed: 7, stream: 1)

    init(start: Timestamp = Timestamp(secondsSinceEpoch: 1_790_000_000).floored(to: .seconds(86_400)), settings: AnomalySettings = .init()) {
        now = start
        detector = AnomalyDetector(settings: settings)
    }

    /// The updates of one 5-second step: one per series, its rate ±10 %.
    mutating func updates(_ series: [Series]) -> [UsageUpdate] {
        series.compactMap { s in
            guard s.dollarsPerHour > 0 || s.callsPerMinute > 0 else { return nil }
            let noise = 0.9 + 0.2 * rng.unit()
            let picodollars = Int128((s.dollarsPerHour / 720 * noise * 1e12).rounded())
            return UsageUpdate(
                timestamp: now.advanced(by: .milliseconds(1000) - lateness), tenantId: s.tenant, customerId: s.customer, model: s.model,
                calls: Int64((s.callsPerMinute / 12).rounded(.up)), totalTokens: 100, cost: Money(picodollars: picodollars), avgLatencyMs: 100)
        }
    }

    /// Runs `duration` in 5-second steps; `series` gives what is spent at each step.
    mutating func run(_ duration: Duration, judging: Bool = true, _ series: (Timestamp) -> [Series]) {
        let steps = Int(duration.milliseconds / 5000)
        for _ in 0..<steps {
            let batch = updates(series(now))
            now = now.advanced(by: .seconds(5))
            ledger.ingest(batch, now: now)
            if judging {
                ledger.expire(now: now)
                events += detector.advance(ledger, now: now)
            }
        }
    }

    /// Fills the ledger fast, an hour at a time, without judging (history for the hour tier).
    mutating func backfill(_ duration: Duration, _ series: (Timestamp) -> [Series]) {
        let end = now.advanced(by: duration)
        while now < end {
            var batch: [UsageUpdate] = []
            let hourEnd = min(end, now.advanced(by: .seconds(3600)))
            while now < hourEnd {
                batch += updates(series(now))
                now = now.advanced(by: .seconds(5))
            }
            ledger.ingest(batch, now: now)
        }
        ledger.expire(now: now)
    }

    var opened: [Incident] { events.filter { $0.kind == .opened }.map(\.incident) }
    var resolved: [Incident] { events.filter { $0.kind == .resolved }.map(\.incident) }
}

extension AnomalyFeed.Series {
    static func customer(_ tenant: String, _ customer: String, _ model: String = "gpt-4", _ dollarsPerHour: Double, calls: Double = 120) -> Self {
        Self(tenant: tenant, customer: customer, model: model, dollarsPerHour: dollarsPerHour, callsPerMinute: calls)
    }
}

/// A small platform: two tenants, six customers on two models, about $4,000 an hour.
func platform(scale: (AnomalyFeed.Series) -> Double = { _ in 1 }) -> [AnomalyFeed.Series] {
    let base: [AnomalyFeed.Series] = [
        .customer("acme", "cust-001", "gpt-4", 900), .customer("acme", "cust-002", "gpt-4", 600),
        .customer("acme", "cust-003", "claude-3-sonnet", 300), .customer("globex", "cust-004", "gpt-4", 1200),
        .customer("globex", "cust-005", "claude-3-sonnet", 500), .customer("globex", "cust-006", "claude-3-sonnet", 400),
    ]
    return base.map { series in
        var scaled = series
        scaled.dollarsPerHour *= scale(series)
        scaled.callsPerMinute *= scale(series)
        return scaled
    }
}

@Suite("Anomaly detection")
struct AnomalyDetectorTests {
    @Test("a customer at three times its spend opens one spike within two minutes, explained, and resolves after it ends")
    func runawayCustomer() throws {
        var feed = AnomalyFeed()
        feed.run(.seconds(40 * 60)) { _ in platform() }
        #expect(feed.events.isEmpty, "steady traffic opens nothing: \(feed.opened.map(\.subject))")
        let start = feed.now
        feed.run(.seconds(20 * 60)) { _ in platform { $0.customer == "cust-002" ? 3 : 1 } }
        feed.run(.seconds(15 * 60)) { _ in platform() }

        #expect(feed.opened.count == 1)
        let incident = feed.opened[0]
        #expect(incident.kind == .spike)
        #expect(incident.subject == .customer("acme", "cust-002"))
        #expect(incident.openedAt.duration(since: start) <= .seconds(120), "opened \(incident.openedAt.duration(since: start)) after the start")
        #expect(incident.start >= start && incident.start < incident.openedAt)
        #expect(abs(incident.expectedPerHour - 600) < 60, "expected \(incident.expectedPerHour)")
        #expect(incident.actualPerHour > 1200)
        #expect(incident.contributors.first?.subject == .model("gpt-4"))

        #expect(feed.resolved.count == 1)
        let resolved = feed.resolved[0]
        #expect(resolved.id == incident.id)
        let end = try #require(resolved.end)
        #expect(end > start.advanced(by: .seconds(20 * 60)) && end < start.advanced(by: .seconds(23 * 60)))
        // $1,200/h extra for about 20 minutes: about $400.
        #expect(resolved.impact > 320 && resolved.impact < 480, "impact \(resolved.impact)")
        #expect(resolved.peakActualPerHour > 1500)
        #expect(resolved.points.count > 20)
        #expect(resolved.points.contains { $0.actualPerHour > $0.upperPerHour })
        #expect(feed.detector.panel(at: feed.now).map(\.id) == [incident.id])
    }

    @Test("updates that arrive up to a few minutes late are still judged")
    func lateProducers() throws {
        var feed = AnomalyFeed()
        feed.lateness = .seconds(90)
        feed.run(.seconds(40 * 60)) { _ in platform() }
        let start = feed.now
        feed.run(.seconds(10 * 60)) { _ in platform { $0.customer == "cust-002" ? 3 : 1 } }
        #expect(feed.opened.map(\.subject) == [.customer("acme", "cust-002")])
        let incident = try #require(feed.opened.first)
        // Seen once the late minute is read again: later than on time, still within minutes.
        #expect(incident.openedAt.duration(since: start) <= .seconds(240))
    }

    @Test("a tenant going silent opens one drop on the tenant within five minutes, its customers as contributors")
    func tenantOutage() throws {
        var feed = AnomalyFeed()
        feed.run(.seconds(40 * 60)) { _ in platform() }
        let start = feed.now
        feed.run(.seconds(15 * 60)) { _ in platform { $0.tenant == "globex" ? 0 : 1 } }

        #expect(feed.opened.map(\.subject) == [.tenant("globex")], "\(feed.opened.map(\.subject))")
        let incident = try #require(feed.opened.first)
        #expect(incident.kind == .drop)
        #expect(incident.openedAt.duration(since: start) <= .seconds(300))
        // globex's gpt-4 spend is cust-004's $1,200; its two claude customers add up to $900.
        #expect(Set(incident.contributors.prefix(3).map(\.subject)) == [.customer("globex", "cust-004"), .model("gpt-4"), .model("claude-3-sonnet")])
        #expect(incident.contributors.allSatisfy { $0.changePerHour <= 0 })
    }

    @Test("a lasting shift of level gives one anomaly, then quiet")
    func levelShift() throws {
        var feed = AnomalyFeed()
        feed.run(.seconds(40 * 60)) { _ in platform() }
        feed.run(.seconds(4 * 3600)) { _ in platform { $0.customer == "cust-004" ? 2.5 : 1 } }

        #expect(feed.opened.count == 1, "\(feed.events.map { "\($0.kind) \($0.incident.subject) \($0.at) \($0.incident.start)" })")
        #expect(feed.opened.first?.subject == .customer("globex", "cust-004"))
        #expect(feed.resolved.count == 1)
        let resolved = try #require(feed.resolved.first)
        #expect(resolved.adapted)
        #expect(resolved.openedAt.duration(to: resolved.end!) <= .seconds(3600 + 600))
    }

    @Test("a daily pattern is not flagged once the hour tier holds the day before; without it the same step is")
    func dailyPatternFollowsYesterday() {
        // Business opens at 09:00 UTC at three times the night's spend.
        func shape(_ time: Timestamp) -> [AnomalyFeed.Series] {
            let hour = time.millisecondsSinceEpoch / 3_600_000 % 24
            return platform { _ in (9..<18).contains(hour) ? 3 : 1 }
        }
        var first = AnomalyFeed()
        first.backfill(.seconds(7 * 3600)) { shape($0) }
        first.run(.seconds(3 * 3600)) { shape($0) }
        #expect(!first.opened.isEmpty, "the step is an anomaly when there is no history of it")

        var second = AnomalyFeed()
        second.backfill(.seconds(31 * 3600)) { shape($0) }
        second.run(.seconds(3 * 3600)) { shape($0) }
        #expect(second.opened.isEmpty, "\(second.opened.map { "\($0.subject) \($0.kind) \($0.start)" })")
    }

    @Test("sparse and small series are ignored: too few calls, too few dollars, too little history")
    func smallSeriesIgnored() {
        var feed = AnomalyFeed()
        let small: [AnomalyFeed.Series] = [
            .customer("acme", "cust-sparse", "gpt-4", 300, calls: 6),  // a handful of big calls
            .customer("acme", "cust-cheap", "gpt-4", 10, calls: 300),  // many cheap calls
        ]
        feed.run(.seconds(40 * 60)) { _ in platform() + small }
        feed.run(.seconds(20 * 60)) { _ in
            platform() + [.customer("acme", "cust-sparse", "gpt-4", 900, calls: 18), .customer("acme", "cust-cheap", "gpt-4", 80, calls: 2400)]
        }
        // A customer first seen now, already four times the customer gate, has no history to
        // compare with (nor have its tenant and model).
        feed.run(.seconds(5 * 60)) { _ in platform() + small + [.customer("initech", "cust-new", "o1", 400)] }
        #expect(feed.opened.isEmpty, "\(feed.opened.map(\.subject))")
    }

    @Test("the gates are what decides: lowering the customer's dollar gate catches the cheap customer")
    func gatesAreConfigurable() {
        var settings = AnomalySettings()
        settings.minimumChangePerHour[.customer] = 20
        var feed = AnomalyFeed(settings: settings)
        feed.run(.seconds(40 * 60)) { _ in platform() + [.customer("acme", "cust-cheap", "gpt-4", 10, calls: 300)] }
        feed.run(.seconds(5 * 60)) { _ in platform() + [.customer("acme", "cust-cheap", "gpt-4", 80, calls: 2400)] }
        #expect(feed.opened.map(\.subject) == [.customer("acme", "cust-cheap")])
    }

    @Test("a model's price jump is one model anomaly, not one per customer")
    func modelPriceJump() {
        var feed = AnomalyFeed()
        feed.run(.seconds(40 * 60)) { _ in platform() }
        feed.run(.seconds(10 * 60)) { _ in platform { $0.model == "claude-3-sonnet" ? 3 : 1 } }
        #expect(feed.opened.map(\.subject) == [.model("claude-3-sonnet")], "\(feed.opened.map(\.subject))")
    }

    @Test("acknowledging keeps the incident, marks it and emits one event; the state survives a restart")
    func acknowledgeAndRestore() throws {
        var feed = AnomalyFeed()
        feed.run(.seconds(40 * 60)) { _ in platform() }
        feed.run(.seconds(5 * 60)) { _ in platform { $0.customer == "cust-001" ? 4 : 1 } }
        let incident = try #require(feed.opened.first)
        let ack = Incident.Acknowledgement(at: feed.now, reason: .investigating, note: "paging the customer")
        let acknowledged = feed.detector.acknowledge(incident.id, ack)
        let event = try #require(acknowledged)
        #expect(event.kind == .acknowledged && event.incident.acknowledgement == ack)
        let unknown = feed.detector.acknowledge("spike-customer-1-0000000000000000", ack)
        #expect(unknown == nil)
        let changes = feed.detector.takeChanges(now: feed.now)
        #expect(changes.incidents.map(\.id).contains(incident.id))
        let again = feed.detector.takeChanges(now: feed.now)
        #expect(again.incidents.isEmpty && again.revision > changes.revision)

        // A new process: the ledger and the incidents as a journal would give them back.
        var restarted = AnomalyDetector()
        restarted.restore(Array(feed.detector.incidents.values), now: feed.now)
        feed.detector = restarted
        feed.events = []
        feed.run(.seconds(5 * 60)) { _ in platform { $0.customer == "cust-001" ? 4 : 1 } }
        #expect(feed.events.isEmpty, "still open, still acknowledged, nothing new: \(feed.events.map(\.kind))")
        #expect(feed.detector.incidents[incident.id]?.state == .open)
        #expect(feed.detector.incidents[incident.id]?.acknowledgement == ack)
        feed.run(.seconds(10 * 60)) { _ in platform() }
        #expect(feed.events.map(\.kind) == [.resolved])
        #expect(feed.detector.incidents[incident.id]?.acknowledgement == ack)
    }

    @Test("incident ids are stable and path-safe")
    func ids() {
        let start = Timestamp(millisecondsSinceEpoch: 1_790_000_000_000)
        let a = Incident.id(kind: .spike, subject: .customer("acme", "c<1>"), start: start)
        #expect(a == Incident.id(kind: .spike, subject: .customer("acme", "c<1>"), start: start))
        #expect(a != Incident.id(kind: .spike, subject: .customer("acm", "ec<1>"), start: start))
        #expect(Incident.isWellFormedId(a))
        #expect(!Incident.isWellFormedId("../etc") && !Incident.isWellFormedId(""))
    }
}
