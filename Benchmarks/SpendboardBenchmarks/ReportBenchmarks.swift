import Benchmark
import SpendCore
import SpendReport

/// Each chart's SVG alone, and the whole site rendered and validated with libxml2, for a
/// snapshot of 24 h at the reference rate.
func reportBenchmarks() {
    for chart in ReportRenderer.chartIDs {
        Benchmark("chart-\(chart)", configuration: configuration()) { (benchmark: Benchmark, input: RenderInput) in
            blackHole(try input.renderer.renderChart(chart, of: input.windowed))
        } setup: {
            try RenderInput()
        }
    }

    // 24 hours and 30 days at the reference rate, and 70 minutes at 100× (every bucket the
    // short windows read holds 100 times the updates): the cost follows the points drawn, not
    // the traffic or the history.
    for (history, ledger) in [("24h-1x", Fixtures.day), ("30d-1x", Fixtures.month), ("70min-100x", Fixtures.fast)] {
        // The hour alone (the site before issue 11): 6 page variants, its SVGs and stats.json,
        // each checked by libxml2 (SAX, no tree).
        Benchmark("site-render-validate-\(history)", configuration: configuration(maxIterations: 500)) {
            (benchmark: Benchmark, input: RenderInput) in
            let site = try input.renderer.render(input.snapshot)
            precondition(XMLValidator.validate(site).isEmpty)
            blackHole(site)
        } setup: {
            try RenderInput(ledger())
        }

        // Every window, as on most ticks: the long windows' files reused from the previous site.
        Benchmark("site-render-validate-\(history)-all-windows-tick", configuration: configuration(maxIterations: 500)) {
            (benchmark: Benchmark, input: RenderInput) in
            let site = try input.renderer.render(input.windowed, reusing: input.previous)
            precondition(XMLValidator.validate(site).isEmpty)
            blackHole(site)
        } setup: {
            try RenderInput(ledger())
        }

        // Every window rendered afresh, as once a minute.
        Benchmark("site-render-validate-\(history)-all-windows-minute", configuration: configuration(maxIterations: 200)) {
            (benchmark: Benchmark, input: RenderInput) in
            let site = try input.renderer.render(input.windowed)
            precondition(XMLValidator.validate(site).isEmpty)
            blackHole(site)
        } setup: {
            try RenderInput(ledger())
        }
    }

    // `GET /report?from=now-30d&to=now` without its cache: the report from the rollups, the
    // page rendered and validated.
    Benchmark("report-page-30d", configuration: configuration(maxIterations: 200)) { (benchmark: Benchmark, input: ReportInput) in
        let now = Fixtures.now
        let report = try input.ledger.report(window: nil, from: "now-30d", to: "now", at: now)!
        let page = try input.renderer.reportPage(report, statsHref: "api/stats")
        let file = RenderedSite.File(path: "report.html", bytes: page, contentType: RenderedSite.htmlContentType)
        precondition(XMLValidator.validate(RenderedSite(generatedAt: now, files: [file])).isEmpty)
        blackHole(page)
    } setup: {
        ReportInput(renderer: try Fixtures.renderer(), ledger: Fixtures.month())
    }
}

struct ReportInput {
    let renderer: ReportRenderer
    let ledger: UsageLedger
}

/// The renderer and snapshots of a ledger (24 h or 30 d at the reference rate).
struct RenderInput {
    let renderer: ReportRenderer
    let snapshot: Snapshot
    /// The same with every window's report.
    let windowed: Snapshot
    /// The site of the tick before, whose long windows `windowed` reuses.
    let previous: RenderedSite

    init(_ ledger: UsageLedger = Fixtures.day()) throws {
        renderer = try Fixtures.renderer()
        snapshot = ledger.snapshot(at: Fixtures.now)
        // Two ticks within one minute: the long windows have not moved.
        let before = ledger.snapshot(at: Fixtures.now, windows: true)
        windowed = ledger.snapshot(at: Fixtures.now.advanced(by: .seconds(5)), windows: true, reusing: before)
        previous = try renderer.render(before)
    }
}
