import Mustache
import SpendCore

/// The anomaly panel of the live page and its standalone `embed/anomalies.svg`: open anomalies
/// first by impact, then those resolved in the last 24 hours (`Snapshot.anomalies`), each with
/// expected against actual, its impact, since when, its top contributors and a small chart of
/// the series in its band. Every name from data is escaped: by Mustache on the page, by
/// `XMLText` in the SVG.
struct AnomalyPanel {
    struct Contributor {
        let name: String
        /// `+$812.40/h`
        let change: String
        /// `$1,200.00/h against $387.60/h`
        let detail: String
    }

    struct Reason {
        let value: String
        let label: String
        let selected: Bool
    }

    struct Item {
        let id: String
        /// `spike` or `drop`, for colour.
        let kind: String
        /// `open` or `resolved`.
        let state: String
        /// `Spike · acme / cust-007`
        let title: String
        /// `Open`, `Resolved`
        let badge: String
        /// `$1,234.00/h against $400.00/h expected (3.1×)`
        let rates: String
        /// `peak $1,500.00/h`
        let peak: String
        /// `+$412.30 more than expected so far`
        let impact: String
        /// `since 14:03:10 UTC (12 min)`
        let since: String
        let contributors: [Contributor]
        let hasContributors: Bool
        /// Our own SVG: the series per minute in its band.
        let svg: String
        let formAction: String
        let reasons: [Reason]
        /// `Acknowledged at 14:10:02 UTC: investigating.` with the note, when acknowledged.
        let acknowledged: String?
        let note: String?
        let adapted: Bool
    }

    let items: [Item]
    /// `2 open, 1 resolved in the last 24 hours` or `Nothing unusual right now.`
    let summary: String
    let hasItems: Bool

    static let reasonLabels: [Incident.Acknowledgement.Reason: String] = [
        .expected: "Expected", .notAnIssue: "Not an issue", .investigating: "Investigating",
    ]

    init(_ incidents: [Incident], at now: Timestamp) {
        items = incidents.map { Self.item($0, at: now) }
        hasItems = !items.isEmpty
        let open = incidents.count { $0.state == .open }
        let resolved = incidents.count - open
        summary =
            incidents.isEmpty
            ? "Nothing unusual right now, and nothing resolved in the last 24 hours."
            : "\(open) open, \(resolved) resolved in the last 24 hours."
    }

    static func kindName(_ kind: Incident.Kind) -> String { kind == .spike ? "Spike" : "Drop" }

    static func minutes(_ duration: Duration) -> String {
        let seconds = duration.milliseconds / 1000
        if seconds < 60 { return "\(seconds) s" }
        if seconds < 3600 { return "\(seconds / 60) min" }
        return "\(seconds / 3600) h \(seconds % 3600 / 60) min"
    }

    static func item(_ incident: Incident, at now: Timestamp) -> Item {
        let ratio = incident.expectedPerHour > 0 ? incident.actualPerHour / incident.expectedPerHour : nil
        let ratioText = ratio.map { " (\(Format.fixed($0, places: 1))\u{00D7})" } ?? ""
        let open = incident.state == .open
        let impactAmount = Format.dollars(abs(incident.impact))
        let impact =
            incident.kind == .spike
            ? "\(impactAmount) more than expected\(open ? " so far" : "")"
            : "\(impactAmount) less than expected\(open ? " so far" : "")"
        let since =
            open
            ? "since \(Format.clock(incident.start)) UTC (\(minutes(incident.duration(at: now))))"
            : "\(Format.range(incident.start, incident.end ?? incident.lastSeen)) (\(minutes(incident.duration(at: now))))"
        let contributors = incident.contributors.prefix(4).map { contributor in
            let change = contributor.changePerHour
            return Contributor(
                name: XMLText.sanitized(contributor.subject.description),
                change: (change >= 0 ? "+" : "\u{2212}") + Format.dollars(abs(change)) + "/h",
                detail: "\(Format.dollars(contributor.actualPerHour))/h against \(Format.dollars(contributor.expectedPerHour))/h")
        }
        let acknowledgement = incident.acknowledgement
        return Item(
            id: incident.id, kind: incident.kind.rawValue, state: incident.state.rawValue,
            title: XMLText.sanitized("\(kindName(incident.kind)) \u{00B7} \(incident.subject)"), badge: open ? "Open" : "Resolved",
            rates: "\(Format.dollars(incident.actualPerHour))/h against \(Format.dollars(incident.expectedPerHour))/h expected\(ratioText)",
            peak:
                "\(incident.kind == .spike ? "peak" : "lowest") \(Format.dollars(incident.peakActualPerHour))/h against \(Format.dollars(incident.peakExpectedPerHour))/h",
            impact: impact, since: since, contributors: Array(contributors), hasContributors: !contributors.isEmpty,
            svg: sparkline(incident),
            formAction: "/api/anomalies/\(incident.id)/ack",
            reasons: Incident.Acknowledgement.Reason.allCases.map {
                Reason(value: $0.rawValue, label: reasonLabels[$0]!, selected: acknowledgement?.reason == $0)
            },
            acknowledged: acknowledgement.map { "Acknowledged at \(Format.clock($0.at)) UTC: \(reasonLabels[$0.reason]!.lowercased())." },
            note: acknowledgement?.note.map(XMLText.sanitized), adapted: incident.adapted)
    }

    static let sparkWidth = 300.0
    static let sparkHeight = 64.0

    /// The series per minute (line) with its expected rate (dashed) inside the band (shaded).
    static func sparkline(_ incident: Incident, idPrefix: String? = nil) -> String {
        let f = Format.coordinate
        let points = incident.points
        let w = sparkWidth
        let h = sparkHeight
        let top = points.map { max($0.actualPerHour, $0.upperPerHour) }.max() ?? 0
        let scale = top > 0 ? (h - 6) / top : 0
        func x(_ index: Int) -> Double { points.count > 1 ? 2 + (w - 4) * Double(index) / Double(points.count - 1) : w / 2 }
        func y(_ value: Double) -> Double { h - 2 - value * scale }
        let label = "\(kindName(incident.kind)) of \(incident.subject): spend per hour, minute by minute, against its expected band"
        var svg =
            "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"spark\" width=\"\(Int(w))\" height=\"\(Int(h))\" viewBox=\"0 0 \(Int(w)) \(Int(h))\" role=\"img\" aria-label=\"\(XMLText.escaped(label))\">"
        guard points.count > 1 else { return svg + "</svg>" }
        let upper = points.indices.map { f(x($0)) + "," + f(y(points[$0].upperPerHour)) }
        let lower = points.indices.reversed().map { f(x($0)) + "," + f(y(points[$0].lowerPerHour)) }
        svg += "<polygon class=\"band\" points=\"\((upper + lower).joined(separator: " "))\"/>"
        svg +=
            "<polyline class=\"earlier\" points=\"\(points.indices.map { f(x($0)) + "," + f(y(points[$0].expectedPerHour)) }.joined(separator: " "))\"/>"
        svg +=
            "<polyline class=\"\(incident.kind == .spike ? "hot" : "cold")\" points=\"\(points.indices.map { f(x($0)) + "," + f(y(points[$0].actualPerHour)) }.joined(separator: " "))\"/>"
        // Where it was first seen.
        if let first = points.firstIndex(where: { $0.end > incident.start }) {
            svg += "<line class=\"axis\" x1=\"\(f(x(first)))\" y1=\"2\" x2=\"\(f(x(first)))\" y2=\"\(f(h - 2))\" stroke-dasharray=\"2 2\"/>"
        }
        return svg + "</svg>"
    }

    /// The standalone `embed/anomalies.svg`: up to `embedLimit` anomalies, a row each.
    static let embedLimit = 6

    static func chart(_ incidents: [Incident], generatedAt: Timestamp) -> Chart {
        let f = Format.coordinate
        let width = 640
        let rowHeight = 78
        let shown = Array(incidents.prefix(embedLimit))
        let height = 36 + max(1, shown.count) * rowHeight
        var body = ""
        let open = incidents.count { $0.state == .open }
        body +=
            "<text class=\"fg\" x=\"12\" y=\"22\" font-weight=\"600\">\(open) open, \(incidents.count - open) resolved in the last 24 hours</text>"
        if shown.isEmpty {
            body += "<text class=\"muted\" x=\"12\" y=\"62\">Nothing unusual right now.</text>"
        }
        for (index, incident) in shown.enumerated() {
            let top = 36 + index * rowHeight
            let item = item(incident, at: generatedAt)
            body += "<line class=\"grid\" x1=\"12\" y1=\"\(top)\" x2=\"\(width - 12)\" y2=\"\(top)\"/>"
            body +=
                "<text class=\"\(incident.kind == .spike ? "hot-text" : "cold-text")\" x=\"12\" y=\"\(top + 20)\" font-weight=\"600\">\(XMLText.escaped(item.title))</text>"
            body +=
                "<text class=\"muted small\" x=\"\(width - 12)\" y=\"\(top + 20)\" text-anchor=\"end\">\(XMLText.escaped(item.badge + (incident.acknowledgement != nil ? ", acknowledged" : "")))</text>"
            body += "<text class=\"fg small num\" x=\"12\" y=\"\(top + 40)\">\(XMLText.escaped(item.rates))</text>"
            body += "<text class=\"muted small num\" x=\"12\" y=\"\(top + 58)\">\(XMLText.escaped(item.since + "; " + item.impact))</text>"
            let spark = sparkline(incident)
            body += "<g transform=\"translate(\(f(Double(width) - 12 - sparkWidth / 2)) \(top + 28)) scale(0.5)\">\(spark)</g>"
        }
        let frame = SVGFrame(
            generatedAt: generatedAt, id: "anomalies", width: width, height: height, title: "Anomalies",
            description:
                "Open anomalies by impact, then those resolved in the last 24 hours: \(open) open, \(incidents.count - open) resolved."
        )
        let table = DataTable(
            caption: "Anomalies",
            headers: [("Anomaly", false), ("State", false), ("Actual", true), ("Expected", true), ("Impact", true), ("Since", false)],
            rows: incidents.map { incident in
                .init([
                    ("\(kindName(incident.kind)) \u{00B7} \(incident.subject)", false),
                    (incident.state.rawValue + (incident.acknowledgement != nil ? ", acknowledged" : ""), false),
                    (Format.dollars(incident.actualPerHour) + "/h", true), (Format.dollars(incident.expectedPerHour) + "/h", true),
                    (Format.dollars(incident.impact), true), (Format.clock(incident.start) + " UTC", false),
                ])
            })
        return Chart(
            id: "anomalies", title: "Anomalies", standaloneSVG: frame.document(body: body, standalone: true),
            inlineSVG: frame.document(body: body, standalone: false), table: table)
    }
}

extension AnomalyPanel: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "items": items
        case "summary": summary
        case "hasItems": hasItems
        default: nil
        }
    }
}

extension AnomalyPanel.Item: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "id": id
        case "kind": kind
        case "state": state
        case "title": title
        case "badge": badge
        case "rates": rates
        case "peak": peak
        case "impact": impact
        case "since": since
        case "contributors": contributors
        case "hasContributors": hasContributors
        case "svg": svg
        case "formAction": formAction
        case "reasons": reasons
        case "acknowledged": acknowledged
        case "note": note
        case "adapted": adapted
        default: nil
        }
    }
}

extension AnomalyPanel.Contributor: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "name": self.name
        case "change": change
        case "detail": detail
        default: nil
        }
    }
}

extension AnomalyPanel.Reason: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "value": value
        case "label": label
        case "selected": selected
        default: nil
        }
    }
}
