import SpendCore
import Testing

@testable import SpendReport

struct GaugeGeometryTests {
    static let max: Int64 = 250_000_000_000

    @Test(arguments: [
        (Int64(0), 180.0), (max / 2, 90.0), (max, 0.0), (max / 4, 135.0),
    ])
    func needleAngleWithinTheScale(rate: Int64, angle: Double) {
        let scale = GaugeChart.scaleMaximum(rate: Money(micros: rate), gaugeMax: Money(micros: Self.max))
        #expect(scale == Money(micros: Self.max))
        #expect(abs(GaugeChart.needleAngle(rate: Money(micros: rate), scaleMaximum: scale) - angle) < 1e-9)
    }

    @Test(arguments: [
        (Int64(260_000_000_000), Int64(300_000_000_000)),
        (Int64(300_000_000_001), Int64(400_000_000_000)),
        (Int64(1_700_000_000_000), Int64(2_000_000_000_000)),
    ])
    func rateAboveTheMaximumWidensTheScaleToARoundNumber(rate: Int64, widened: Int64) {
        let scale = GaugeChart.scaleMaximum(rate: Money(micros: rate), gaugeMax: Money(micros: Self.max))
        #expect(scale == Money(micros: widened))
        let angle = GaugeChart.needleAngle(rate: Money(micros: rate), scaleMaximum: scale)
        #expect(angle > 0 && angle < 90, "the needle is not pinned at the end of the scale")
    }

    @Test func needlePointsLeftUpAndRight() {
        let left = GaugeChart.point(angle: 180, r: 100), up = GaugeChart.point(angle: 90, r: 100), right = GaugeChart.point(angle: 0, r: 100)
        #expect(left.x < GaugeChart.center.x && abs(left.y - GaugeChart.center.y) < 1e-9)
        #expect(abs(up.x - GaugeChart.center.x) < 1e-9 && up.y < GaugeChart.center.y)
        #expect(right.x > GaugeChart.center.x && abs(right.y - GaugeChart.center.y) < 1e-9)
    }

    @Test func widenedGaugeSaysSo() {
        let chart = GaugeChart(rate: Money(dollars: 260_000), gaugeMax: Money(micros: Self.max)).chart(generatedAt: Fixtures.now)
        #expect(chart.standaloneSVG.contains("scale widened to $300k/h"))
        #expect(chart.standaloneSVG.contains("$260,000/h"))
    }
}

struct ScaleTests {
    @Test(arguments: [
        (0.8, 0.8), (1.0, 1.0), (1.2, 1.5), (2.2, 2.5), (7.0, 8.0), (9.0, 10.0), (260_000.0, 300_000.0), (0.0, 0.0),
    ])
    func roundUp(value: Double, expected: Double) {
        #expect(abs(Scale.roundUp(value) - expected) < 1e-9 * max(1, expected))
    }

    @Test(arguments: [
        (100.0, 4, 25.0), (1_000.0, 4, 250.0), (37_000.0, 4, 10_000.0), (250_000.0, 5, 50_000.0), (3.0, 4, 1.0),
    ])
    func tickStepIsReadable(maximum: Double, target: Int, step: Double) {
        #expect(Scale.tickStep(maximum: maximum, target: target) == step)
    }

    @Test func axisCoversTheDataWithWholeSteps() {
        let axis = Scale.axis(dataMaximum: 37_000)
        #expect(axis.maximum == 40_000)
        #expect(axis.ticks == [0, 10_000, 20_000, 30_000, 40_000])
        #expect(Scale.axis(dataMaximum: 0).ticks == [0, 1])
    }

    @Test(arguments: [
        (0.0, "0"), (950.0, "950"), (1_500.0, "1.5k"), (35_000.0, "35k"), (1_200_000.0, "1.2M"), (250_000.0, "250k"), (2.5, "2.5"),
    ])
    func compactUnits(value: Double, text: String) {
        #expect(Format.compact(value) == text)
    }
}

struct ChartLayoutTests {
    @Test func barHeightsAreProportionalToSpend() throws {
        let hours = Fixtures.seededSnapshot.spendPerHour
        let (heights, scale) = SpendPerHourChart.barHeights(hours)
        #expect(heights.count == 24)
        let plotHeight = SpendPerHourChart.plot.bottom - SpendPerHourChart.plot.top
        for (hour, height) in zip(hours, heights) {
            #expect(abs(height - plotHeight * hour.cost.approximateDollars * 1e6 / scale) < 1e-9)
            #expect(height <= plotHeight)
        }
        let top = try #require(hours.indices.max { hours[$0].cost < hours[$1].cost })
        let other = try #require(hours.indices.first { hours[$0].cost > .zero && $0 != top })
        let ratio = hours[other].cost.approximateDollars / hours[top].cost.approximateDollars
        #expect(abs(heights[other] / heights[top] - ratio) < 1e-9)
    }

    @Test func currentHourIsMarkedPartial() {
        let svg = SpendPerHourChart(hours: Fixtures.seededSnapshot.spendPerHour).chart(generatedAt: Fixtures.now).standaloneSVG
        #expect(svg.components(separatedBy: "class=\"partial\"").count == 2)
        #expect(svg.contains(">now</text>"))
    }

    @Test func tokenAxisLabelsFallOnWholeMinutesInTwentyFourHourTime() {
        let points = Fixtures.seededSnapshot.tokenUsage
        #expect(points.count == 60)
        let indices = TokenUsageChart.labelIndices(points)
        #expect(indices.count == 5)
        for index in indices { #expect(points[index].start.millisecondsSinceEpoch % 60_000 == 0) }
        let svg = TokenUsageChart(points: points).chart(generatedAt: Fixtures.now).standaloneSVG
        #expect(svg.contains(">14:01:00</text>"))
        #expect(svg.contains(">14:04:00</text>"))
    }

    /// A window's last point, still filling up, is plotted at its rate per step: steady usage
    /// draws a flat line, not a dip at the end; the table keeps the counts.
    @Test func aShortLastTokenPointIsPlottedAtItsRate() throws {
        let start = Timestamp(iso8601: "2026-11-29T10:00:00Z")!
        var counters = UsageCounters()
        counters.inputTokens = 3_000
        counters.outputTokens = 600
        var short = counters
        short.inputTokens = 1_000  // a third of the step at the same rate
        short.outputTokens = 200
        let points = (0..<4).map { Snapshot.TokenPoint(start: start.advanced(by: .seconds($0 * 300)), $0 == 3 ? short : counters) }
        let spans: [Duration] = [.seconds(300), .seconds(300), .seconds(300), .seconds(100)]
        let chart = TokenUsageChart(points: points, step: .seconds(300), spans: spans).chart(generatedAt: start.advanced(by: .seconds(1000)))
        let svg = chart.standaloneSVG
        func ys(_ svg: String, _ line: String) throws -> Set<Substring> {
            let points = try #require(svg.firstMatch(of: try Regex<(Substring, Substring)>("<polyline class=\"\(line)\" points=\"([^\"]+)\""))).1
            return Set(points.split(separator: " ").map { $0.split(separator: ",")[1] })
        }
        #expect(try ys(svg, "in").count == 1)
        #expect(try ys(svg, "out").count == 1)
        #expect(chart.table.rows[0].cells[1].text == "1,000")
        // Without spans (the hour's chart, whole 5-second buckets) the counts are plotted.
        let counts = TokenUsageChart(points: points, step: .seconds(300)).chart(generatedAt: start).standaloneSVG
        #expect(try ys(counts, "in").count == 2)
        // A point under a tenth of its step is left off the lines (scaled up it would set the
        // axis), and kept in the table.
        let tiny = TokenUsageChart(points: points, step: .seconds(300), spans: [.seconds(300), .seconds(300), .seconds(300), .seconds(5)])
            .chart(generatedAt: start)
        let plotted = try #require(tiny.standaloneSVG.firstMatch(of: /<polyline class="in" points="([^"]+)"/)).1
        #expect(plotted.split(separator: " ").count == 3)
        #expect(tiny.table.rows.count == 4)
    }

    @Test func everyChartHasTitleDescSizeAndDarkMode() throws {
        let site = try Fixtures.renderer().render(Fixtures.seededSnapshot)
        for id in ReportRenderer.embedIDs {
            let svg = Fixtures.text(site["embed/\(id).svg"])
            #expect(svg.contains("<title id=\"\(id)-title\">"), "\(id)")
            #expect(svg.contains("<desc id=\"\(id)-desc\">"), "\(id)")
            #expect(svg.contains("viewBox=\"0 0 "), "\(id)")
            #expect(svg.contains(" width=\"") && svg.contains(" height=\""), "\(id)")
            #expect(svg.contains("@media (prefers-color-scheme:dark)"), "\(id)")
            #expect(svg.contains("<text"), "\(id)")
        }
    }
}

struct ModelColorTests {
    @Test func knownModelsHaveFixedDistinctColours() {
        let colours = ModelPrice.reference.map { ModelColors.color(for: $0.model) }
        #expect(colours == ["#16a34a", "#2563eb", "#d97706", "#9333ea"])
        #expect(Set(colours).count == colours.count)
    }

    @Test func unknownModelsGetAStableColour() {
        #expect(ModelColors.color(for: "mistral-large") == ModelColors.color(for: "mistral-large"))
        // Pinned: the colour must not change between processes or releases (no seeded `Hasher`).
        #expect(ModelColors.color(for: "mistral-large") == "#c25429")
        #expect(ModelColors.color(for: "mistral-large") != ModelColors.color(for: "mistral-small"))
        for name in ["x", "llama-3-70b", Fixtures.hostileModel] {
            let colour = ModelColors.color(for: name)
            #expect(colour.count == 7 && colour.hasPrefix("#") && colour.dropFirst().allSatisfy(\.isHexDigit))
        }
    }

    @Test func colourIsTheSameInEveryFileAndRender() throws {
        let renderer = try Fixtures.renderer()
        let first = try renderer.render(Fixtures.hostileSnapshot), second = try renderer.render(Fixtures.hostileSnapshot)
        let colour = ModelColors.color(for: Fixtures.hostileModel)
        for site in [first, second] {
            #expect(Fixtures.text(site["embed/cost-by-model.svg"]).contains("fill=\"\(colour)\""))
            #expect(Fixtures.text(site["index.html"]).contains("fill=\"\(colour)\""))
        }
    }
}
