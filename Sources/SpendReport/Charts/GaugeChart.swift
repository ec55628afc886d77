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

    var rate: Money
    var gaugeMax: Money

    /// The scale's upper end: `gaugeMax`, or the next round number above the rate.
    static func scaleMaximum(rate: Money, gaugeMax: Money) -> Money {
        guard rate > gaugeMax else { return gaugeMax }
        return Money(micros: Int64(Scale.roundUp(rate.approximateDollars * 1e6)))
    }

    /// The needle's angle in degrees, mathematical orientation: 180 points left (zero), 90 up
    /// (half), 0 right (the scale's maximum).
    static func needleAngle(rate: Money, scaleMaximum: Money) -> Double {
        guard scaleMaximum > .zero else { return 180 }
        let fraction = min(1, max(0, rate.approximateDollars / scaleMaximum.approximateDollars))
        return 180 - 180 * fraction
    }

    /// A point on the gauge at `angle` degrees and distance `r` from the centre, in SVG coordinates.
    static func point(angle: Double, r: Double) -> (x: Double, y: Double) {
        let radians = angle * .pi / 180
        return (center.x + r * cos(radians), center.y - r * sin(radians))
    }

    func chart(generatedAt: Timestamp) -> Chart {
        let maximum = Self.scaleMaximum(rate: rate, gaugeMax: gaugeMax)
        let angle = Self.needleAngle(rate: rate, scaleMaximum: maximum)
        let rateText = rate.headline + "/h"
        let widened = maximum != gaugeMax
        var body = ""
        let c = Self.center, r = Self.radius
        let f = Format.coordinate
        body += "<path class=\"track\" d=\"M\(f(c.x - r)) \(f(c.y)) A\(f(r)) \(f(r)) 0 0 1 \(f(c.x + r)) \(f(c.y))\"/>"
        if angle < 180 {
            let end = Self.point(angle: angle, r: r)
            body += "<path class=\"value\" d=\"M\(f(c.x - r)) \(f(c.y)) A\(f(r)) \(f(r)) 0 0 1 \(f(end.x)) \(f(end.y))\"/>"
        }
        // Ticks at round steps of the scale.
        let maximumMicros = maximum.approximateDollars * 1e6
        let step = Scale.tickStep(maximum: maximumMicros, target: 5)
        var tick = 0.0
        while tick <= maximumMicros * (1 + 1e-9) {
            let a = 180 - 180 * tick / maximumMicros
            let inner = Self.point(angle: a, r: r - 12), outer = Self.point(angle: a, r: r + 12)
            let label = Self.point(angle: a, r: r + 24)
            let anchor = a > 100 ? "end" : a < 80 ? "start" : "middle"
            body += "<line class=\"axis\" x1=\"\(f(inner.x))\" y1=\"\(f(inner.y))\" x2=\"\(f(outer.x))\" y2=\"\(f(outer.y))\"/>"
            body +=
                "<text class=\"muted small\" x=\"\(f(label.x))\" y=\"\(f(label.y + 4))\" text-anchor=\"\(anchor)\">\(Format.compactDollars(micros: tick))</text>"
            tick += step
        }
        let tip = Self.point(angle: angle, r: r - 6)
        body += "<line class=\"needle\" x1=\"\(f(c.x))\" y1=\"\(f(c.y))\" x2=\"\(f(tip.x))\" y2=\"\(f(tip.y))\"/>"
        body += "<circle class=\"pivot\" cx=\"\(f(c.x))\" cy=\"\(f(c.y))\" r=\"6\"/>"
        body += "<text class=\"fg big num\" x=\"\(f(c.x))\" y=\"\(f(c.y + 34))\" text-anchor=\"middle\">\(rateText)</text>"
        let scaleNote = widened ? "scale widened to \(Format.compactDollars(micros: maximum.approximateDollars * 1e6))/h" : "spend rate, rolling hour"
        body += "<text class=\"muted small\" x=\"\(f(c.x))\" y=\"\(f(c.y + 52))\" text-anchor=\"middle\">\(scaleNote)</text>"
        let frame = SVGFrame(
            generatedAt: generatedAt, id: "gauge", width: Self.width, height: Self.height, title: "Spend rate: \(rateText)",
            description: "Gauge of the rolling-hour spend rate, \(rateText), on a scale from $0 to \(maximum.formatted(decimals: 0)) per hour."
        )
        let table = DataTable(
            caption: "Spend rate",
            headers: [("Measure", false), ("Value", true)],
            rows: [
                .init([("Spend rate (rolling hour)", false), (rate.formatted(decimals: 2) + "/h", true)]),
                .init([("Scale maximum", false), (maximum.formatted(decimals: 0) + "/h", true)]),
                .init([("Configured maximum", false), (gaugeMax.formatted(decimals: 0) + "/h", true)]),
            ]
        )
        return Chart(
            id: "gauge", title: "Spend rate", standaloneSVG: frame.document(body: body, standalone: true),
            inlineSVG: frame.document(body: body, standalone: false), table: table
        )
    }
}
