import SpendCore

/// Spend per clock hour over the last 24 hours as bars; the current, partial hour is drawn
/// lighter with a dashed outline and labelled "now".
struct SpendPerHourChart {
    static let width = 640
    static let height = 260
    static let plot = (left: 56.0, top: 30.0, right: 624.0, bottom: 228.0)

    var hours: [Snapshot.HourSpend]

    /// Bar heights in SVG units, proportional to each hour's cost on the scale's maximum.
    static func barHeights(_ hours: [Snapshot.HourSpend]) -> (heights: [Double], scaleMaximum: Double) {
        let dataMax = hours.reduce(0) { max($0, $1.cost.approximateDollars * 1e6) }
        let axis = Scale.axis(dataMaximum: dataMax, target: 4)
        let plotHeight = plot.bottom - plot.top
        return (hours.map { plotHeight * $0.cost.approximateDollars * 1e6 / axis.maximum }, axis.maximum)
    }

    func chart(generatedAt: Timestamp) -> Chart {
        let f = Format.coordinate
        let p = Self.plot
        let dataMax = hours.reduce(0) { max($0, $1.cost.approximateDollars * 1e6) }
        let axis = Scale.axis(dataMaximum: dataMax, target: 4)
        let heights = Self.barHeights(hours).heights
        var body = ""
        body.reserveCapacity(8000)
        for tick in axis.ticks {
            let ty = p.bottom - (p.bottom - p.top) * tick / axis.maximum
            body += "<line class=\"grid\" x1=\"\(f(p.left))\" y1=\"\(f(ty))\" x2=\"\(f(p.right))\" y2=\"\(f(ty))\"/>"
            body +=
                "<text class=\"muted small num\" x=\"\(f(p.left - 6))\" y=\"\(f(ty + 4))\" text-anchor=\"end\">\(Format.compactDollars(micros: tick))</text>"
        }
        let slot = hours.isEmpty ? 0 : (p.right - p.left) / Double(hours.count)
        let barWidth = max(1, slot * 0.78)
        for (index, hour) in hours.enumerated() {
            let bx = p.left + slot * Double(index) + (slot - barWidth) / 2
            let h = heights[index]
            let label =
                "\(Format.hourMinute(hour.start))\u{2013}\(Format.hourMinute(hour.start.advanced(by: .seconds(3600)))) UTC\(hour.isPartial ? " (in progress)" : ""): \(hour.cost.formatted(decimals: 2)), \(Format.grouped(hour.calls)) calls"
            body +=
                "<rect class=\"\(hour.isPartial ? "partial" : "bar")\" x=\"\(f(bx))\" y=\"\(f(p.bottom - h))\" width=\"\(f(barWidth))\" height=\"\(f(h))\"><title>\(label)</title></rect>"
            let cx = bx + barWidth / 2
            if hour.isPartial {
                body += "<text class=\"fg small\" x=\"\(f(cx))\" y=\"\(f(p.bottom - h - 5))\" text-anchor=\"middle\">now</text>"
            }
            if index % 3 == 0 {
                body +=
                    "<text class=\"muted small num\" x=\"\(f(cx))\" y=\"\(f(p.bottom + 17))\" text-anchor=\"middle\">\(Format.hourMinute(hour.start))</text>"
            }
        }
        body += "<line class=\"axis\" x1=\"\(f(p.left))\" y1=\"\(f(p.bottom))\" x2=\"\(f(p.right))\" y2=\"\(f(p.bottom))\"/>"
        body += "<text class=\"muted small\" x=\"\(f(p.right))\" y=\"16\" text-anchor=\"end\">spend per clock hour, UTC</text>"

        let total = hours.reduce(Money.zero) { $0 + $1.cost }
        let peak = hours.max { $0.cost < $1.cost }
        let peakText = peak.map { ", highest \($0.cost.formatted(decimals: 2)) at \(Format.hourMinute($0.start)) UTC" } ?? ""
        let frame = SVGFrame(
            generatedAt: generatedAt, id: "spend-per-hour", width: Self.width, height: Self.height, title: "Spend per hour, last 24 hours",
            description:
                "Bars of spend per clock hour for the last \(hours.count) hours, the last one still in progress: \(total.formatted(decimals: 2)) in total\(peakText)."
        )
        let table = DataTable(
            caption: "Spend per clock hour (UTC)",
            headers: [("Hour", false), ("Spend", true), ("Calls", true)],
            rows: hours.reversed().map { hour in
                .init(
                    [
                        (Format.hourMinute(hour.start) + (hour.isPartial ? " (in progress)" : ""), false),
                        (hour.cost.formatted(decimals: 2), true), (Format.grouped(hour.calls), true),
                    ], note: hour.isPartial)
            }
        )
        return Chart(
            id: "spend-per-hour", title: "Spend per hour, last 24 hours", standaloneSVG: frame.document(body: body, standalone: true),
            inlineSVG: frame.document(body: body, standalone: false), table: table
        )
    }
}
