import Benchmark
import SpendCore
import SpendReport

/// Each chart's SVG alone, and the whole site rendered and validated with libxml2, for a
/// snapshot of 24 h at the reference rate.
func reportBenchmarks() {
    for chart in ReportRenderer.chartIDs {
        Benchmark("chart-\(chart)", configuration: configuration()) { (benchmark: Benchmark, input: RenderInput) in
            blackHole(try input.renderer.renderChart(chart, of: input.snapshot))
        } setup: {
            try RenderInput()
        }
    }

    // 6 page variants, 5 SVGs and stats.json, each checked by libxml2 (SAX, no tree).
    Benchmark("site-render-validate-24h-1x", configuration: configuration(maxIterations: 500)) { (benchmark: Benchmark, input: RenderInput) in
        let site = try input.renderer.render(input.snapshot)
        precondition(XMLValidator.validate(site).isEmpty)
        blackHole(site)
    } setup: {
        try RenderInput()
    }
}

/// The renderer and a snapshot of 24 h at the reference rate.
struct RenderInput {
    let renderer: ReportRenderer
    let snapshot: Snapshot

    init() throws {
        renderer = try Fixtures.renderer()
        snapshot = Fixtures.day().snapshot(at: Fixtures.now)
    }
}
