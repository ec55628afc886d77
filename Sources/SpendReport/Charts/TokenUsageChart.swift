import SpendCore

/// Tokens of the last 5 minutes in 5-second buckets (60 points), input and output as lines.
/// X-axis labels are 24-hour `HH:MM:SS` at whole minutes; the y-axis is in k/M units.
struct TokenUsageChart {
    static let width = 640
    static let height = 260
    static let plot = (left: 56.0, top: 34.0, right: 624.0, bottom: 228.0)

    var points: [Snapshot.TokenPoint]
    /// The width of a point.
    var step: Duration = .seconds(5)
    var period = ChartPeriod(title: "last 5 minutes", phrase: "the last 5 minutes", short: "5 min")
    /// Each point's length, when the first or last may be shorter than `step` (a window's
    /// edges): the lines then plot each point at its rate per `step`, so the point still
    /// filling up does not dip; the table keeps the counts. Nil: every point is a whole step.
    var spans: [Duration]? = nil

    /// The value plotted for point `index`: its count, or its rate per step for a short point.
    /// Nil for a point under a tenth of a step: scaled up, a few seconds of a 3-hour step would
    /// set the axis; it stays in the table.
    func plotted(_ index: Int, _ value: KeyPath<Snapshot.TokenPoint, Int64>) -> Double? {
        let count = Double(points[index][keyPath: value])
        guard let spans, spans[index] < step else { return count }
        guard spans[index] * 10 >= step else { return nil }
        return count * Double(step.milliseconds) / Double(spans[index].milliseconds)
    }

    var timeAxis: TimeAxis {
        TimeAxis(
            start: points.first?.start ?? Timestamp(millisecondsSinceEpoch: 0),
            end: (points.last?.start ?? Timestamp(millisecondsSinceEpoch: 0)).advanced(by: step))
    }

    /// Indices of the points that carry an x-axis label: those starting on a round instant of
    /// the time axis (whole minutes for 5 minutes), or every 12th point when none does.
    static func labelIndices(_ points: [Snapshot.TokenPoint], interval: Int64 = 60_000) -> [Int] {
        let round = points.indices.filter { points[$0].start.millisecondsSinceEpoch % interval == 0 }
        return round.isEmpty ? Array(stride(from: 0, to: points.count, by: 12)) : round
    }

    func chart(generatedAt: Timestamp) -> Chart {
        let f = Format.coordinate
        let p = Self.plot
        let dataMax = points.indices.reduce(0.0) { max($0, plotted($1, \.inputTokens) ?? 0, plotted($1, \.outputTokens) ?? 0) }
        let axis = Scale.axis(dataMaximum: dataMax, target: 4)
        func y(_ value: Double) -> Double { p.bottom - (p.bottom - p.top) * value / axis.maximum }
        func x(_ index: Int) -> Double {
            points.count > 1 ? p.left + (p.right - p.left) * Double(index) / Double(points.count - 1) : p.left
        }
        var body = ""
        body.reserveCapacity(6000)
        for tick in axis.ticks {
            let ty = p.bottom - (p.bottom - p.top) * tick / axis.maximum
            body += "<line class=\"grid\" x1=\"\(f(p.left))\" y1=\"\(f(ty))\" x2=\"\(f(p.right))\" y2=\"\(f(ty))\"/>"
            body += "<text class=\"muted small num\" x=\"\(f(p.left - 6))\" y=\"\(f(ty + 4))\" text-anchor=\"end\">\(Format.compact(tick))</text>"
        }
        body += "<line class=\"axis\" x1=\"\(f(p.left))\" y1=\"\(f(p.bottom))\" x2=\"\(f(p.right))\" y2=\"\(f(p.bottom))\"/>"
        let time = timeAxis
        for index in Self.labelIndices(points, interval: time.interval) {
            let lx = x(index)
            let anchor = index == points.count - 1 ? "end" : index == 0 ? "start" : "middle"
            body += "<line class=\"axis\" x1=\"\(f(lx))\" y1=\"\(f(p.bottom))\" x2=\"\(f(lx))\" y2=\"\(f(p.bottom + 4))\"/>"
            body +=
                "<text class=\"muted small num\" x=\"\(f(lx))\" y=\"\(f(p.bottom + 17))\" text-anchor=\"\(anchor)\">\(time.label(points[index].start))</text>"
        }
        if !points.isEmpty {
            for (cls, value) in [("in", \Snapshot.TokenPoint.inputTokens), ("out", \Snapshot.TokenPoint.outputTokens)] {
                body += "<polyline class=\"\(cls)\" points=\""
                var separator = ""
                for index in points.indices {
                    guard let plotted = plotted(index, value) else { continue }
                    body += separator + f(x(index)) + "," + f(y(plotted))
                    separator = " "
                }
                body += "\"/>"
            }
        }
        // Legend.
        body += "<rect class=\"in-key\" x=\"\(f(p.left))\" y=\"10\" width=\"14\" height=\"4\"/>"
        body += "<text class=\"fg small\" x=\"\(f(p.left + 20))\" y=\"16\">Input tokens</text>"
        body += "<rect class=\"out-key\" x=\"\(f(p.left + 120))\" y=\"10\" width=\"14\" height=\"4\"/>"
        body += "<text class=\"fg small\" x=\"\(f(p.left + 140))\" y=\"16\">Output tokens</text>"
        body += "<text class=\"muted small\" x=\"\(f(p.right))\" y=\"16\" text-anchor=\"end\">tokens per \(Format.step(step)), UTC</text>"

        let totalIn = points.reduce(0) { $0 + $1.inputTokens }
        let totalOut = points.reduce(0) { $0 + $1.outputTokens }
        let totalCached = points.reduce(0) { $0 + $1.cacheReadTokens }
        let totalReasoning = points.reduce(0) { $0 + $1.reasoningTokens }
        var classes: [String] = []
        if totalCached > 0 { classes.append("\(Format.grouped(totalCached)) of the input read from a cache") }
        if totalReasoning > 0 { classes.append("\(Format.grouped(totalReasoning)) of the output reasoning") }
        let classNote = classes.isEmpty ? "" : " (" + classes.joined(separator: ", ") + ")"
        let range =
            points.isEmpty
            ? "" : " from \(Format.range(points[0].start, points[points.count - 1].start.advanced(by: step), separator: " to "))"
        let frame = SVGFrame(
            generatedAt: generatedAt, id: "token-usage", width: Self.width, height: Self.height, title: "Token usage, \(period.title)",
            description:
                "Input and output tokens per \(Format.step(step)) interval\(range): \(Format.grouped(totalIn)) input and \(Format.grouped(totalOut)) output tokens in total\(classNote), peak \(Format.grouped(Int64(dataMax.rounded()))) per \(Format.step(step))\(spans == nil ? "" : " (a shorter first or last interval at its rate)")."
        )
        let table = DataTable(
            caption: "Tokens per \(Format.step(step)) interval (UTC)",
            headers: [("Start", false), ("Input", true), ("of which cached", true), ("Output", true), ("of which reasoning", true), ("Total", true)],
            rows: points.reversed().map { point in
                .init([
                    (
                        time.span > 2 * 86_400_000 ? Format.dayMonth(point.start) + " " + Format.hourMinute(point.start) : Format.clock(point.start),
                        false
                    ),
                    (Format.grouped(point.inputTokens), true),
                    (Format.grouped(point.cacheReadTokens), true), (Format.grouped(point.outputTokens), true),
                    (Format.grouped(point.reasoningTokens), true), (Format.grouped(point.totalTokens), true),
                ])
            }
        )
        return Chart(
            id: "token-usage", title: "Token usage, \(period.title)", standaloneSVG: frame.document(body: body, standalone: true),
            inlineSVG: frame.document(body: body, standalone: false), table: table
        )
    }
}
