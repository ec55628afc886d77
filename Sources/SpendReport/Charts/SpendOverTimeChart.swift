import SpendCore

/// The spend rate ($/h) over a window, one point per step, with the same stretch of an earlier
/// period (the previous period, a day or a week before) as a dashed line to compare against.
/// A rate, not a sum per point, so the partial first and last points do not dip.
struct SpendOverTimeChart {
    static let width = 640
    static let height = 260
    static let plot = (left: 56.0, top: 34.0, right: 624.0, bottom: 228.0)

    var report: WindowReport
    var period: ChartPeriod
    /// What the dashed line is, for its legend: "previous hour", "a day earlier".
    var comparisonLabel: String
    /// Anomalies to mark where they began (those that began inside the window).
    var markers: [Incident] = []

    static func rate(_ point: WindowReport.Point) -> Double {
        let hours = Double(point.end.millisecondsSinceEpoch - point.start.millisecondsSinceEpoch) / 3_600_000
        return hours > 0 ? point.totals.totalCost.approximateDollars / hours : 0
    }

    func chart(generatedAt: Timestamp) -> Chart {
        let f = Format.coordinate
        let p = Self.plot
        let points = report.points
        let earlier = report.comparison
        let rates = points.map(Self.rate)
        let earlierRates = earlier.map { $0.map(Self.rate) }
        let dataMax = max(rates.max() ?? 0, earlierRates.compactMap { $0 }.max() ?? 0)
        let axis = Scale.axis(dataMaximum: dataMax * 1e6, target: 4)
        let time = TimeAxis(start: report.current.start, end: report.current.end)
        func y(_ rate: Double) -> Double { p.bottom - (p.bottom - p.top) * rate * 1e6 / axis.maximum }
        func x(_ point: WindowReport.Point) -> Double {
            let middle = (point.start.millisecondsSinceEpoch + point.end.millisecondsSinceEpoch) / 2
            return time.x(Timestamp(millisecondsSinceEpoch: middle), left: p.left, right: p.right)
        }
        var body = ""
        body.reserveCapacity(12_000)
        for tick in axis.ticks {
            let ty = p.bottom - (p.bottom - p.top) * tick / axis.maximum
            body += "<line class=\"grid\" x1=\"\(f(p.left))\" y1=\"\(f(ty))\" x2=\"\(f(p.right))\" y2=\"\(f(ty))\"/>"
            body +=
                "<text class=\"muted small num\" x=\"\(f(p.left - 6))\" y=\"\(f(ty + 4))\" text-anchor=\"end\">\(Format.compactDollars(micros: tick))</text>"
        }
        body += "<line class=\"axis\" x1=\"\(f(p.left))\" y1=\"\(f(p.bottom))\" x2=\"\(f(p.right))\" y2=\"\(f(p.bottom))\"/>"
        for tick in time.ticks {
            let lx = time.x(tick, left: p.left, right: p.right)
            let anchor = lx > p.right - 30 ? "end" : lx < p.left + 30 ? "start" : "middle"
            body += "<line class=\"axis\" x1=\"\(f(lx))\" y1=\"\(f(p.bottom))\" x2=\"\(f(lx))\" y2=\"\(f(p.bottom + 4))\"/>"
            body +=
                "<text class=\"muted small num\" x=\"\(f(lx))\" y=\"\(f(p.bottom + 17))\" text-anchor=\"\(anchor)\">\(time.label(tick))</text>"
        }
        // The earlier period first, under the current line; a gap where it is not kept.
        var run: [String] = []
        func flush() {
            if run.count > 1 { body += "<polyline class=\"earlier\" points=\"\(run.joined(separator: " "))\"/>" }
            run.removeAll()
        }
        for (index, rate) in earlierRates.enumerated() {
            if let rate { run.append(f(x(points[index])) + "," + f(y(rate))) } else { flush() }
        }
        flush()
        if !points.isEmpty {
            let line = zip(points, rates).map { f(x($0)) + "," + f(y($1)) }
            body +=
                "<polygon class=\"area\" points=\"\(f(x(points[0]))),\(f(p.bottom)) \(line.joined(separator: " ")) \(f(x(points[points.count - 1]))),\(f(p.bottom))\"/>"
            body += "<polyline class=\"spend\" points=\"\(line.joined(separator: " "))\"/>"
        }
        // Where anomalies began: a dashed line and a head, named in its tooltip.
        for incident in markers where incident.start >= report.current.start && incident.start < report.current.end {
            let mx = time.x(incident.start, left: p.left, right: p.right)
            let name = "\(AnomalyPanel.kindName(incident.kind)) of \(incident.subject) from \(Format.clock(incident.start)) UTC"
            body += "<g class=\"anomaly-marker\"><title>\(XMLText.escaped(XMLText.sanitized(name)))</title>"
            body += "<line class=\"marker\" x1=\"\(f(mx))\" y1=\"\(f(p.top))\" x2=\"\(f(mx))\" y2=\"\(f(p.bottom))\"/>"
            body += "<path class=\"marker-head\" d=\"M\(f(mx - 5)),\(f(p.top - 8))h10l-5,8z\"/></g>"
        }
        // Legend, on two lines so that it fits a phone.
        body += "<rect class=\"spend-key\" x=\"\(f(p.left))\" y=\"10\" width=\"14\" height=\"4\"/>"
        body +=
            "<text class=\"fg small\" x=\"\(f(p.left + 20))\" y=\"16\">\(XMLText.escaped(period.title.prefix(1).uppercased() + period.title.dropFirst()))</text>"
        if earlierRates.contains(where: { $0 != nil }) {
            body += "<line class=\"earlier\" x1=\"\(f(p.left + 170))\" y1=\"12\" x2=\"\(f(p.left + 184))\" y2=\"12\"/>"
            body += "<text class=\"fg small\" x=\"\(f(p.left + 190))\" y=\"16\">\(XMLText.escaped(comparisonLabel))</text>"
        }
        body += "<text class=\"muted small\" x=\"\(f(p.right))\" y=\"16\" text-anchor=\"end\">$/h per \(Format.step(report.step)), UTC</text>"

        let title = "Spend over time, \(period.title)"
        let peak = zip(points, rates).max { $0.1 < $1.1 }
        let peakText = peak.map { ", highest \(Format.dollars($0.1))/h at \(Format.dateTime($0.0.start))" } ?? ""
        let frame = SVGFrame(
            generatedAt: generatedAt, id: "spend-over-time", width: Self.width, height: Self.height, title: title,
            description:
                "Spend per hour in steps of \(Format.step(report.step)) over \(period.phrase), \(Format.range(report.current.start, report.current.end)): \(report.current.totals.totalCost.formatted(decimals: 2)) in total\(peakText). The dashed line is \(comparisonLabel)."
        )
        let table = DataTable(
            caption: "Spend per \(Format.step(report.step)) (UTC)",
            headers: [
                ("Start", false), ("Spend", true), ("Rate", true), ("Calls", true),
                (comparisonLabel.prefix(1).uppercased() + comparisonLabel.dropFirst(), true),
            ],
            rows: points.indices.reversed().map { index in
                let point = points[index]
                let partial = point.end.duration(since: point.start) < report.step
                return .init(
                    [
                        (
                            time.span > 2 * 86_400_000
                                ? Format.dayMonth(point.start) + " " + Format.hourMinute(point.start) : Format.clock(point.start), false
                        ),
                        (point.totals.totalCost.formatted(decimals: 2), true),
                        (Format.dollars(rates[index]) + "/h", true),
                        (Format.grouped(point.totals.calls), true),
                        (earlier[index].map { $0.totals.totalCost.formatted(decimals: 2) } ?? "\u{2013}", true),
                    ], note: partial)
            }
        )
        return Chart(
            id: "spend-over-time", title: title, standaloneSVG: frame.document(body: body, standalone: true),
            inlineSVG: frame.document(body: body, standalone: false), table: table
        )
    }
}
