/// What an anomaly is about: the platform total, one tenant, one (tenant, customer) or one model.
public struct AnomalySubject: Hashable, Sendable, Comparable, CustomStringConvertible {
    public enum Scope: String, Hashable, Sendable, CaseIterable, Comparable {
        case total, tenant, customer, model

        public static func < (lhs: Scope, rhs: Scope) -> Bool {
            allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
        }
    }

    public var scope: Scope
    public var tenant: String?
    public var customer: String?
    public var model: String?

    public static let total = AnomalySubject(scope: .total)
    public static func tenant(_ tenant: String) -> AnomalySubject { AnomalySubject(scope: .tenant, tenant: tenant) }
    public static func customer(_ tenant: String, _ customer: String) -> AnomalySubject {
        AnomalySubject(scope: .customer, tenant: tenant, customer: customer)
    }
    public static func model(_ model: String) -> AnomalySubject { AnomalySubject(scope: .model, model: model) }

    public init(scope: Scope, tenant: String? = nil, customer: String? = nil, model: String? = nil) {
        self.scope = scope
        self.tenant = tenant
        self.customer = customer
        self.model = model
    }

    /// How people read it: `all spend`, `tenant acme`, `acme / cust-007`, `model gpt-4`.
    public var description: String {
        switch scope {
        case .total: "all spend"
        case .tenant: "tenant \(tenant ?? "")"
        case .customer: "\(tenant ?? "") / \(customer ?? "")"
        case .model: "model \(model ?? "")"
        }
    }

    public static func < (lhs: AnomalySubject, rhs: AnomalySubject) -> Bool {
        (lhs.scope, lhs.tenant ?? "", lhs.customer ?? "", lhs.model ?? "") < (rhs.scope, rhs.tenant ?? "", rhs.customer ?? "", rhs.model ?? "")
    }
}

/// One anomaly: a series spending well above (`spike`) or well below (`drop`) what it usually
/// spends at this time, from when it was first seen until it ends. Rates are dollars per hour;
/// expected values are estimates from the series' own history (`AnomalyDetector`), so they
/// are kept as `Double` and rounded wherever people read them. `spent` is an exact sum.
public struct Incident: Hashable, Sendable, Identifiable {
    public enum Kind: String, Hashable, Sendable, CaseIterable {
        /// Spend well above expected.
        case spike
        /// A series that normally spends has gone (nearly) quiet: an outage or a broken meter.
        case drop
    }

    public enum State: String, Hashable, Sendable, CaseIterable {
        case open, resolved
    }

    /// What the series usually spends per minute, as the detector learned it before the
    /// anomaly began; kept so that a restarted process goes on comparing with the same level.
    public struct Baseline: Hashable, Sendable {
        public var meanPerMinute: Double
        public var deviationPerMinute: Double
        public var callsPerMinute: Double
        public init(meanPerMinute: Double, deviationPerMinute: Double, callsPerMinute: Double) {
            self.meanPerMinute = meanPerMinute
            self.deviationPerMinute = deviationPerMinute
            self.callsPerMinute = callsPerMinute
        }
    }

    /// One minute of the series for the small chart: what it spent and what was expected, with
    /// the band's edges, all in dollars per hour.
    public struct Point: Hashable, Sendable {
        public var end: Timestamp
        public var actualPerHour: Double
        public var expectedPerHour: Double
        public var lowerPerHour: Double
        public var upperPerHour: Double
        public init(end: Timestamp, actualPerHour: Double, expectedPerHour: Double, lowerPerHour: Double, upperPerHour: Double) {
            self.end = end
            self.actualPerHour = actualPerHour
            self.expectedPerHour = expectedPerHour
            self.lowerPerHour = lowerPerHour
            self.upperPerHour = upperPerHour
        }
    }

    /// A part of the subject that explains the anomaly: for a tenant its customers and models,
    /// for a model its tenants and customers, for the total its tenants and models, for a
    /// customer its models. Ranked by the change in dollars per hour.
    public struct Contributor: Hashable, Sendable {
        public var subject: AnomalySubject
        public var actualPerHour: Double
        public var expectedPerHour: Double
        public var changePerHour: Double { actualPerHour - expectedPerHour }
        public init(subject: AnomalySubject, actualPerHour: Double, expectedPerHour: Double) {
            self.subject = subject
            self.actualPerHour = actualPerHour
            self.expectedPerHour = expectedPerHour
        }
    }

    public struct Acknowledgement: Hashable, Sendable {
        public enum Reason: String, Hashable, Sendable, CaseIterable {
            case expected
            case notAnIssue = "not-an-issue"
            case investigating
        }

        /// The longest note, in characters.
        public static let maximumNoteLength = 500

        public var at: Timestamp
        public var reason: Reason
        public var note: String?
        public init(at: Timestamp, reason: Reason, note: String? = nil) {
            self.at = at
            self.reason = reason
            self.note = note
        }
    }

    /// Stable: made of the kind, the subject and the start, so it is the same on every restart.
    public var id: String
    public var kind: Kind
    public var subject: AnomalySubject
    public var state: State
    /// When the anomaly was first seen (the condition first held).
    public var start: Timestamp
    /// When it had held long enough to be opened.
    public var openedAt: Timestamp
    /// The last evaluation at which the condition held.
    public var lastSeen: Timestamp
    /// When the condition stopped holding for good; nil while open.
    public var end: Timestamp?
    public var expectedPerHour: Double
    public var actualPerHour: Double
    public var peakActualPerHour: Double
    /// The expected rate at the time of the peak.
    public var peakExpectedPerHour: Double
    /// Actual minus expected spend, accumulated from the first sighting to the end, in dollars:
    /// positive for a spike, negative for a drop.
    public var impact: Double
    /// What the subject spent from the first sighting to the end, in exact sums of what each
    /// 5 seconds held when it settled (updates that arrive later are in the rollups, not here).
    public var spent: Money
    public var contributors: [Contributor]
    public var acknowledgement: Acknowledgement?
    /// The level compared with; a lasting change of level replaces it (`adapted`).
    public var baseline: Baseline
    /// The anomaly lasted longer than `AnomalySettings.adaptAfter`: its level was taken as the
    /// new normal, which usually resolves it.
    public var adapted: Bool
    /// Per-minute actual and expected spend, from a few minutes before the start to the end.
    public var points: [Point]

    public init(
        id: String, kind: Kind, subject: AnomalySubject, state: State, start: Timestamp, openedAt: Timestamp, lastSeen: Timestamp,
        end: Timestamp?, expectedPerHour: Double, actualPerHour: Double, peakActualPerHour: Double, peakExpectedPerHour: Double,
        impact: Double, spent: Money, contributors: [Contributor], acknowledgement: Acknowledgement?, baseline: Baseline, adapted: Bool,
        points: [Point]
    ) {
        self.id = id
        self.kind = kind
        self.subject = subject
        self.state = state
        self.start = start
        self.openedAt = openedAt
        self.lastSeen = lastSeen
        self.end = end
        self.expectedPerHour = expectedPerHour
        self.actualPerHour = actualPerHour
        self.peakActualPerHour = peakActualPerHour
        self.peakExpectedPerHour = peakExpectedPerHour
        self.impact = impact
        self.spent = spent
        self.contributors = contributors
        self.acknowledgement = acknowledgement
        self.baseline = baseline
        self.adapted = adapted
        self.points = points
    }

    /// The id of the anomaly of `kind` on `subject` first seen at `start`: `spike-customer-…`,
    /// a name that is the same on every node and after every restart, safe in a URL path.
    public static func id(kind: Kind, subject: AnomalySubject, start: Timestamp) -> String {
        // FNV-1a over the names, so ids stay short whatever the names are.
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for part in [subject.tenant ?? "", subject.customer ?? "", subject.model ?? ""] {
            for byte in part.utf8 {
                hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
            }
            hash = (hash ^ 0xff) &* 0x100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return "\(kind.rawValue)-\(subject.scope.rawValue)-\(start.millisecondsSinceEpoch)-" + String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// Whether `id` has the shape `id(kind:subject:start:)` gives (a path parameter's check).
    public static func isWellFormedId(_ id: some StringProtocol) -> Bool {
        id.utf8.count <= 80 && !id.isEmpty && id.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 122) || $0 == 45 }
    }

    /// How long it has lasted at `now` (until its end once resolved).
    public func duration(at now: Timestamp) -> Duration {
        start.duration(to: end ?? now)
    }
}

/// A change of an incident's state, the unit of alerting: opened, resolved, acknowledged. Never
/// one per evaluation.
public struct AnomalyEvent: Hashable, Sendable {
    public enum Kind: String, Hashable, Sendable, CaseIterable {
        case opened = "anomaly.opened"
        case resolved = "anomaly.resolved"
        case acknowledged = "anomaly.acknowledged"
    }

    /// Unique per event and the same on every delivery attempt (the webhook id).
    public var id: String
    public var kind: Kind
    public var at: Timestamp
    /// The incident as it was when the event happened.
    public var incident: Incident

    public init(kind: Kind, at: Timestamp, incident: Incident) {
        self.kind = kind
        self.at = at
        self.incident = incident
        id = "msg_\(incident.id)_\(kind.rawValue.dropFirst("anomaly.".count))_\(at.millisecondsSinceEpoch)"
    }
}
