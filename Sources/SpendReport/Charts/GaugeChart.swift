import SpendCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The cost gauge: the spend rate in $/hour on a half-circle, needle sweeping left to right.
///
/// The scale runs from 0 to `gaugeMax`; a rate above it widens the scale to the next round
/// number (`Scale.roundUp`) instead of pinning the needle.
struct GaugeChart {
    static let width = 360
    static let height = 210
    static let center = (x: 180.0, y: 150.0)
    static let radius = 110.0

    var rateMicros: Int64
    var gaugeMaxMicros: Int64

    /// The scale's upper end: `gaugeMax`, or the next round number above the rate.
    static func scaleMaximum(rateMicros: Int64, gaugeMaxMicros: Int64) -> Int64 {
        guard rateMicros > gaugeMaxMicros else { return gaugeMaxMicros }
        return Int64(Scale.roundUp(Double(rateMicros)))
    }

    /// The needle's angle in degrees, mathematical orientation: 180 points left (zero), 90 up
    /// (half), 0 right (the scale's maximum).
    static func needleAngle(rateMicros: Int64, scaleMaximumMicros: Int64) -> Double {
        guard scaleMaximumMicros > 0 else { return 180 }
        let fraction = min(1, max(0, Double(rateMicros) / Double(scaleMaximumMicros)))
        return 180 - 180 * fraction
    }

    /// A point on the gauge at `angle` degrees and distance `r` from the centre, in SVG coordinates.
    static func point(angle: Double, r: Double) -> (x: Double, y: Double) {
        let radians = angle * .pi / 180
        return (center.x + r * cos(radians), center.y - r * sin(radians))
    }

    func chart(generatedAt: Timestamp) -> Chart {
        let maximum = Self.scaleMaximum(rateMicros: rateMicros, gaugeMaxMicros: gaugeMaxMicros)
        let angle = Self.needleAngle(rateMicros: rateMicros, scaleMaximumMicros: maximum)
        let rateText = Money.formatted(rateMicros, decimals: 0) + "/h"
        let widened = maximum != gaugeMaxMicros
        var body = ""
        let c = Self.center, r = Self.radius
        let f = Format.coordinate
        body += "<path class=\"track\" d=\"M\(f(c.x - r)) \(f(c.y)) A\(f(r)) \(f(r)) 0 0 1 \(f(c.x + r)) \(f(c.y))\"/>"
        if angle < 180 {
            let end = Self.point(angle: angle, r: r)
            body += "<path class=\"value\" d=\"M\(f(c.x - r)) \(f(c.y)) A\(f(r)) \(f(r)) 0 0 1 \(f(end.x)) \(f(end.y))\"/>"
        }
        // Ticks at round steps of the scale.
        let step = Scale.tickStep(maximum: Double(maximum), target: 5)
        var tick = 0.0
        while tick <= Double(maximum) * (1 + 1e-9) {
            let a = 180 - 180 * tick / Double(maximum)
            let inner = Self.point(angle: a, r: r - 12), outer = Self.point(angle: a, r: r + 12)
            let label = Self.point(angle: a, r: r + 24)
            let anchor = a > 100 ? "end" : a < 80 ? "start" : "middle"
            body += "<line class=\"axis\" x1=\"\(f(inner.x))\" y1=\"\(f(inner.y))\" x2=\"\(f(outer.x))\" y2=\"\(f(outer.y))\"/>"
            body +=
                "<text class=\"muted small\" x=\"\(f(label.x))\" y=\"\(f(label.y + 4))\" text-anchor=\"\(anchor)\">\(Format.compactDollars(Int64(tick)))</text>"
            tick += step
        }
        let tip = Self.point(angle: angle, r: r - 6)
        body += "<line class=\"needle\" x1=\"\(f(c.x))\" y1=\"\(f(c.y))\" x2=\"\(f(tip.x))\" y2=\"\(f(tip.y))\"/>"
        body += "<circle class=\"pivot\" cx=\"\(f(c.x))\" cy=\"\(f(c.y))\" r=\"6\"/>"
        body += "<text class=\"fg big num\" x=\"\(f(c.x))\" y=\"\(f(c.y + 34))\" text-anchor=\"middle\">\(rateText)</text>"
        let scaleNote = widened ? "scale widened to \(Format.compactDollars(maximum))/h" : "spend rate, rolling hour"
        body += "<text class=\"muted small\" x=\"\(f(c.x))\" y=\"\(f(c.y + 52))\" text-anchor=\"middle\">\(scaleNote)</text>"
        let frame = SVGFrame(
            generatedAt: generatedAt, id: "gauge", width: Self.width, height: Self.height, title: "Spend rate: \(rateText)",
            description: "Gauge of the rolling-hour spend rate, \(rateText), on a scale from $0 to \(Money.formatted(maximum, decimals: 0)) per hour."
        )
        let table = DataTable(
            caption: "Spend rate",
            headers: [("Measure", false), ("Value", true)],
            rows: [
                .init([("Spend rate (rolling hour)", false), (Money.formatted(rateMicros, decimals: 2) + "/h", true)]),
                .init([("Scale maximum", false), (Money.formatted(maximum, decimals: 0) + "/h", true)]),
                .init([("Configured maximum", false), (Money.formatted(gaugeMaxMicros, decimals: 0) + "/h", true)]),
            ]
        )
        return Chart(
            id: "gauge", title: "Spend rate", standaloneSVG: frame.document(body: body, standalone: true),
            inlineSVG: frame.document(body: body, standalone: false), table: table
        )
    }
}
