extension AnomalySubject {
    /// `scope` and the names it has: `tenantId`, `customerId`, `model` (the wire format's names).
    func writeFields(into o: inout JSONWriter.ObjectWriter) {
        o.field("scope") { $0.string(scope.rawValue) }
        if let tenant { o.field("tenantId") { $0.string(tenant) } }
        if let customer { o.field("customerId") { $0.string(customer) } }
        if let model { o.field("model") { $0.string(model) } }
    }

    init(json: JSONValue) throws(IncidentFormatError) {
        guard case .string(let text) = json["scope"], let scope = Scope(rawValue: text) else { throw IncidentFormatError(field: "scope") }
        func name(_ key: String) throws(IncidentFormatError) -> String? {
            switch json[key] {
            case nil, .null: return nil
            case .string(let value): return value
            default: throw IncidentFormatError(field: key)
            }
        }
        self.init(scope: scope, tenant: try name("tenantId"), customer: try name("customerId"), model: try name("model"))
    }
}

/// A stored incident that cannot be read back: the field that is wrong.
public struct IncidentFormatError: Error, Hashable, Sendable, CustomStringConvertible {
    public var field: String
    public var description: String { "stored incident: \(field) is missing or malformed" }
}

extension Incident {
    /// The incident as JSON: the API's form, the webhook payload's `data` and the journal's
    /// stored form (`init(json:)` reads it back). Rates in dollars per hour and the impact are
    /// estimates, written to 4 places; `spent` is exact.
    public func writeJSON(into writer: inout JSONWriter) {
        writer.object { o in
            o.field("id") { $0.string(id) }
            o.field("kind") { $0.string(kind.rawValue) }
            subject.writeFields(into: &o)
            o.field("subject") { $0.string(subject.description) }
            o.field("state") { $0.string(state.rawValue) }
            o.field("start") { $0.timestamp(start) }
            o.field("openedAt") { $0.timestamp(openedAt) }
            o.field("lastSeen") { $0.timestamp(lastSeen) }
            o.field("end") { w in end.map { w.timestamp($0) } ?? w.null() }
            o.field("expectedPerHour") { $0.number(expectedPerHour, places: 4) }
            o.field("actualPerHour") { $0.number(actualPerHour, places: 4) }
            o.field("peakActualPerHour") { $0.number(peakActualPerHour, places: 4) }
            o.field("peakExpectedPerHour") { $0.number(peakExpectedPerHour, places: 4) }
            o.field("impact") { $0.number(impact, places: 4) }
            o.field("spent") { $0.dollars(spent) }
            o.field("contributors") { w in
                w.array(contributors) { w, contributor in
                    w.object { c in
                        contributor.subject.writeFields(into: &c)
                        c.field("subject") { $0.string(contributor.subject.description) }
                        c.field("actualPerHour") { $0.number(contributor.actualPerHour, places: 4) }
                        c.field("expectedPerHour") { $0.number(contributor.expectedPerHour, places: 4) }
                        c.field("changePerHour") { $0.number(contributor.changePerHour, places: 4) }
                    }
                }
            }
            o.field("acknowledgement") { w in
                guard let acknowledgement else { return w.null() }
                w.object { a in
                    a.field("at") { $0.timestamp(acknowledgement.at) }
                    a.field("reason") { $0.string(acknowledgement.reason.rawValue) }
                    a.field("note") { w in acknowledgement.note.map { w.string($0) } ?? w.null() }
                }
            }
            o.field("baseline") { w in
                w.object { b in
                    b.field("meanPerMinute") { $0.number(baseline.meanPerMinute) }
                    b.field("deviationPerMinute") { $0.number(baseline.deviationPerMinute) }
                    b.field("callsPerMinute") { $0.number(baseline.callsPerMinute) }
                }
            }
            o.field("adapted") { $0.bool(adapted) }
            // [end, actual, expected, lower, upper] per minute: compact, for the small chart.
            o.field("points") { w in
                w.array(points) { w, point in
                    w.raw("[")
                    w.timestamp(point.end)
                    for value in [point.actualPerHour, point.expectedPerHour, point.lowerPerHour, point.upperPerHour] {
                        w.raw(",")
                        w.number(value, places: 4)
                    }
                    w.raw("]")
                }
            }
        }
    }

    public var json: [UInt8] {
        var writer = JSONWriter(capacity: 1024)
        writeJSON(into: &writer)
        return writer.bytes
    }

    /// Reads what `writeJSON(into:)` wrote.
    public init(json: JSONValue) throws(IncidentFormatError) {
        func string(_ value: JSONValue?, _ field: String) throws(IncidentFormatError) -> String {
            guard case .string(let text) = value else { throw IncidentFormatError(field: field) }
            return text
        }
        func number(_ value: JSONValue?, _ field: String) throws(IncidentFormatError) -> Double {
            guard case .number(let text) = value, let number = Double(text) else { throw IncidentFormatError(field: field) }
            return number
        }
        func time(_ value: JSONValue?, _ field: String) throws(IncidentFormatError) -> Timestamp {
            guard let time = Timestamp(iso8601: try string(value, field)) else { throw IncidentFormatError(field: field) }
            return time
        }
        guard let kind = Kind(rawValue: try string(json["kind"], "kind")) else { throw IncidentFormatError(field: "kind") }
        guard let state = State(rawValue: try string(json["state"], "state")) else { throw IncidentFormatError(field: "state") }
        guard case .number(let spentText) = json["spent"], let spent = Money(decimal: spentText) else { throw IncidentFormatError(field: "spent") }
        var end: Timestamp?
        if let value = json["end"], value != .null { end = try time(value, "end") }
        var contributors: [Contributor] = []
        if case .array(let items) = json["contributors"] {
            for item in items {
                contributors.append(
                    Contributor(
                        subject: try AnomalySubject(json: item), actualPerHour: try number(item["actualPerHour"], "contributors.actualPerHour"),
                        expectedPerHour: try number(item["expectedPerHour"], "contributors.expectedPerHour")))
            }
        }
        var acknowledgement: Acknowledgement?
        if let value = json["acknowledgement"], value != .null {
            guard let reason = Acknowledgement.Reason(rawValue: try string(value["reason"], "acknowledgement.reason")) else {
                throw IncidentFormatError(field: "acknowledgement.reason")
            }
            var note: String?
            if let text = value["note"], text != .null { note = try string(text, "acknowledgement.note") }
            acknowledgement = Acknowledgement(at: try time(value["at"], "acknowledgement.at"), reason: reason, note: note)
        }
        guard let baseline = json["baseline"] else { throw IncidentFormatError(field: "baseline") }
        var points: [Point] = []
        if case .array(let items) = json["points"] {
            for item in items {
                guard case .array(let fields) = item, fields.count == 5 else { throw IncidentFormatError(field: "points") }
                points.append(
                    Point(
                        end: try time(fields[0], "points"), actualPerHour: try number(fields[1], "points"),
                        expectedPerHour: try number(fields[2], "points"),
                        lowerPerHour: try number(fields[3], "points"), upperPerHour: try number(fields[4], "points")))
            }
        }
        guard case .bool(let adapted) = json["adapted"] else { throw IncidentFormatError(field: "adapted") }
        self.init(
            id: try string(json["id"], "id"), kind: kind, subject: try AnomalySubject(json: json), state: state,
            start: try time(json["start"], "start"),
            openedAt: try time(json["openedAt"], "openedAt"), lastSeen: try time(json["lastSeen"], "lastSeen"), end: end,
            expectedPerHour: try number(json["expectedPerHour"], "expectedPerHour"),
            actualPerHour: try number(json["actualPerHour"], "actualPerHour"),
            peakActualPerHour: try number(json["peakActualPerHour"], "peakActualPerHour"),
            peakExpectedPerHour: try number(json["peakExpectedPerHour"], "peakExpectedPerHour"), impact: try number(json["impact"], "impact"),
            spent: spent, contributors: contributors, acknowledgement: acknowledgement,
            baseline: Baseline(
                meanPerMinute: try number(baseline["meanPerMinute"], "baseline.meanPerMinute"),
                deviationPerMinute: try number(baseline["deviationPerMinute"], "baseline.deviationPerMinute"),
                callsPerMinute: try number(baseline["callsPerMinute"], "baseline.callsPerMinute")),
            adapted: adapted, points: points)
    }
}

extension AnomalyEvent {
    /// The event as a webhook body: `{type, timestamp, data: incident}`, the Standard Webhooks
    /// payload shape.
    public var json: [UInt8] {
        var writer = JSONWriter(capacity: 1024)
        writer.object { o in
            o.field("type") { $0.string(kind.rawValue) }
            o.field("timestamp") { $0.timestamp(at) }
            o.field("data") { incident.writeJSON(into: &$0) }
        }
        return writer.bytes
    }
}
