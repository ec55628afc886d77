import Logging
import SpendCore

/// Turns a `Snapshot` into every file of the dashboard: the page and its refresh variants,
/// the embeddable chart SVGs and `stats.json`. Pure and synchronous: snapshot in, bytes out.
///
/// ```swift
/// let renderer = try ReportRenderer(configuration: .init(templatesDirectory: "Templates"), logger: logger)
/// let site = try renderer.render(ledger.snapshot(at: now))
/// let issues = XMLValidator.validate(site)
/// if issues.isEmpty { try Publisher(outputDirectory: "Output", logger: logger).publish(site) }
/// ```
///
/// Initialisation loads and checks the templates, then renders an empty snapshot and
/// validates it, so a missing, unparsable or broken template stops start-up with a message
/// that names it.
public struct ReportRenderer: Sendable {
    /// Page variants besides `index.html`: each meta-refreshes to itself, so the viewer's choice
    /// survives reloads.
    public static let refreshChoices: [(label: String, seconds: Int)] = [("1 s", 1), ("2 s", 2), ("5 s", 5), ("10 s", 10)]
    public static let pausedPage = "paused.html"
    public static func livePage(seconds: Int) -> String { "live-\(seconds)s.html" }
    /// The embeddable charts, in page order, as `embed/<id>.svg`.
    public static let chartIDs = ["gauge", "token-usage", "cost-by-model", "cost-by-class", "spend-per-hour", "top-customers"]

    public let configuration: ReportConfiguration
    let templates: TemplateSet
    let logger: Logger

    public init(configuration: ReportConfiguration, logger: Logger) throws {
        self.configuration = configuration
        self.logger = logger
        templates = try TemplateSet(
            directory: configuration.templatesDirectory, fallbackToBundled: configuration.fallsBackToBundledTemplates
        )
        // A template can parse and still produce a broken page (an unclosed tag): find out now.
        let probe = try render(Self.emptySnapshot)
        let issues = XMLValidator.validate(probe)
        guard issues.isEmpty else { throw ReportError.validationFailed(issues) }
        logger.debug("templates loaded", metadata: ["source": "\(templates.source)"])
    }

    /// Renders every file of the site from one snapshot.
    public func render(_ snapshot: Snapshot) throws -> RenderedSite {
        let charts = Self.charts(for: snapshot, gaugeMax: configuration.gaugeMax)
        let mainHTML = try templates.render(mainView(snapshot, charts: charts), template: "main")
        var files: [RenderedSite.File] = []
        files.reserveCapacity(16)
        for (path, view) in pageViews(mainHTML: mainHTML, generatedAt: snapshot.generatedAt) {
            files.append(
                .init(path: path, bytes: Array(try templates.render(view, template: "page").utf8), contentType: RenderedSite.htmlContentType))
        }
        files.append(.init(path: "stats.json", bytes: snapshot.jsonBytes(), contentType: RenderedSite.jsonContentType))
        for chart in charts {
            files.append(.init(path: "embed/\(chart.id).svg", bytes: Self.svgFile(chart), contentType: RenderedSite.svgContentType))
        }
        return RenderedSite(generatedAt: snapshot.generatedAt, files: files)
    }

    /// The standalone SVG of one chart (`gauge`, `token-usage`, …), for embedding and benchmarks.
    public func renderChart(_ id: String, of snapshot: Snapshot) throws -> [UInt8] {
        guard let chart = Self.chart(id, of: snapshot, gaugeMax: configuration.gaugeMax) else {
            throw ReportError.unknownChart(id)
        }
        return Self.svgFile(chart)
    }

    static func svgFile(_ chart: Chart) -> [UInt8] {
        Array(("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + chart.standaloneSVG + "\n").utf8)
    }

    static func charts(for snapshot: Snapshot, gaugeMax: Money) -> [Chart] {
        chartIDs.compactMap { chart($0, of: snapshot, gaugeMax: gaugeMax) }
    }

    static func chart(_ id: String, of snapshot: Snapshot, gaugeMax: Money) -> Chart? {
        let at = snapshot.generatedAt
        switch id {
        case "gauge": return GaugeChart(rate: snapshot.spendRatePerHour, gaugeMax: gaugeMax).chart(generatedAt: at)
        case "token-usage": return TokenUsageChart(points: snapshot.tokenUsage).chart(generatedAt: at)
        case "cost-by-model": return CostByModelChart(models: snapshot.costByModel, hourCost: snapshot.hour.totalCost).chart(generatedAt: at)
        case "cost-by-class": return CostByClassChart(hour: snapshot.hour).chart(generatedAt: at)
        case "spend-per-hour": return SpendPerHourChart(hours: snapshot.spendPerHour).chart(generatedAt: at)
        case "top-customers": return TopCustomersChart(customers: snapshot.customers).chart(generatedAt: at)
        default: return nil
        }
    }

    func mainView(_ snapshot: Snapshot, charts: [Chart]) -> MainView {
        let latency = snapshot.meanLatencyMs.map { Format.fixed($0, places: 0) + " ms" } ?? "\u{2013}"
        var stats: [MainView.Stat] = [
            .init(label: "Spend rate", value: snapshot.spendRatePerHour.headline + "/h"),
            .init(label: "Calls per second", value: Format.fixed(snapshot.callsPerSecond, places: 1)),
            .init(label: "Tokens, last hour", value: Format.compact(Double(snapshot.hour.totalTokens))),
            .init(label: "Mean latency", value: latency),
            .init(label: "Customers, last hour", value: Format.grouped(Int64(snapshot.customers.count))),
            .init(label: "Models, last hour", value: String(snapshot.costByModel.count)),
        ]
        if snapshot.hour.unpricedUpdates > 0 {
            // Usage without a known price is not in the spend figures: say so, never show it as $0.
            stats.append(.init(label: "Unpriced updates, last hour", value: Format.grouped(snapshot.hour.unpricedUpdates)))
        }
        let chartViews = charts.filter { $0.id != "top-customers" }.map { chart in
            MainView.ChartView(id: chart.id, title: chart.title, svg: chart.inlineSVG, embedPath: "embed/\(chart.id).svg", table: chart.table)
        }
        let customers = charts.first { $0.id == "top-customers" }!.table
        return MainView(
            generatedMillis: String(snapshot.generatedAt.millisecondsSinceEpoch),
            generatedISO: snapshot.generatedAt.iso8601,
            generatedText: Format.dateTime(snapshot.generatedAt),
            windowText: "\(Format.clock(snapshot.windowStart))\u{2013}\(Format.clock(snapshot.windowEnd)) UTC",
            stats: stats, charts: chartViews, customers: customers
        )
    }

    /// `index.html` (the render interval), one page per refresh choice, and the paused page.
    func pageViews(mainHTML: String, generatedAt: Timestamp) -> [(String, PageView)] {
        let defaultSeconds = Format.seconds(configuration.renderInterval)
        let title = "Spendboard \u{00B7} \(Format.dateTime(generatedAt))"
        let embeds = Self.chartIDs.map { PageView.Link(label: "\($0).svg", href: "embed/\($0).svg") }
        func options(current: String) -> [PageView.Option] {
            [PageView.Option(label: "Auto", href: "index.html", current: current == "index.html")]
                + Self.refreshChoices.map {
                    let page = Self.livePage(seconds: $0.seconds)
                    return PageView.Option(label: $0.label, href: page, current: current == page)
                }
                + [PageView.Option(label: "Pause", href: Self.pausedPage, current: current == Self.pausedPage)]
        }
        func view(_ page: String, seconds: String, paused: Bool) -> PageView {
            PageView(
                title: title, intervalSeconds: seconds, refreshes: !paused, paused: paused,
                statusText: paused ? "Paused" : "Refreshes every \(seconds) s", options: options(current: page),
                embeds: embeds, chartStyle: ChartStyle.css, main: mainHTML
            )
        }
        var pages = [("index.html", view("index.html", seconds: defaultSeconds, paused: false))]
        for choice in Self.refreshChoices {
            let page = Self.livePage(seconds: choice.seconds)
            pages.append((page, view(page, seconds: String(choice.seconds), paused: false)))
        }
        pages.append((Self.pausedPage, view(Self.pausedPage, seconds: defaultSeconds, paused: true)))
        return pages
    }

    /// A snapshot without usage, for the start-up check.
    static let emptySnapshot = UsageLedger().snapshot(at: Timestamp(secondsSinceEpoch: 1_800_000_000))
}
