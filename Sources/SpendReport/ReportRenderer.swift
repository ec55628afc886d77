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
    public static let chartIDs = ["gauge", "spend-over-time", "token-usage", "cost-by-model", "cost-by-class", "spend-per-hour", "top-customers"]
    /// Every file under the live hour's `embed/`: the charts and the anomaly panel.
    public static let embedIDs = chartIDs + ["anomalies"]

    public let configuration: ReportConfiguration
    let templates: TemplateSet
    let logger: Logger
    /// The pages around each window's main part, rendered once (`pages`).
    let shells = PageShells()

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

    /// How a page refreshes: at the render interval (`index.html`), every few seconds, or not.
    public enum Refresh: Hashable, Sendable {
        case auto, every(seconds: Int), paused

        public static var all: [Refresh] { [.auto] + refreshChoices.map { .every(seconds: $0.seconds) } + [.paused] }
    }

    /// The page of `window` with `refresh`: the hour's are `index.html`, `live-5s.html` and
    /// `paused.html`; another window's `window-24h.html`, `window-24h-live-5s.html`, `window-24h-paused.html`.
    public static func pagePath(_ window: TimeWindow, _ refresh: Refresh) -> String {
        let prefix = window == .hour ? "" : "window-\(window.id)"
        switch refresh {
        case .auto: return window == .hour ? "index.html" : prefix + ".html"
        case .every(let seconds): return window == .hour ? livePage(seconds: seconds) : prefix + "-live-\(seconds)s.html"
        case .paused: return window == .hour ? pausedPage : prefix + "-paused.html"
        }
    }

    /// Where a window's embeds are: `embed/` for the hour, `embed/24h/` for the others.
    public static func embedFolder(_ window: TimeWindow) -> String { window == .hour ? "embed/" : "embed/\(window.id)/" }

    /// Renders every file of the site from one snapshot: the hour's pages and embeds, `stats.json`,
    /// and the pages and embeds of every other window the snapshot reports. A window whose report
    /// is the one `earlier` shows (a long window between its once-a-minute moves) keeps its files.
    public func render(_ snapshot: Snapshot, reusing earlier: RenderedSite? = nil) throws -> RenderedSite {
        let charts = Self.charts(for: snapshot, gaugeMax: configuration.gaugeMax)
        let hour = snapshot.window(.hour)
        let mainHTML = try templates.render(mainView(snapshot, charts: charts), template: "main")
        var files: [RenderedSite.File] = []
        files.reserveCapacity(64)
        files += try pages(.hour, mainHTML: mainHTML, embeds: Self.embedIDs, hasWindows: hour != nil)
        files.append(.init(path: "stats.json", bytes: snapshot.jsonBytes(), contentType: RenderedSite.jsonContentType))
        for chart in charts + [AnomalyPanel.chart(snapshot.anomalies, generatedAt: snapshot.generatedAt)] {
            files.append(.init(path: "embed/\(chart.id).svg", bytes: Self.svgFile(chart), contentType: RenderedSite.svgContentType))
        }
        var site = RenderedSite(generatedAt: snapshot.generatedAt, files: files)
        for report in snapshot.windows {
            guard let window = report.window, window != .hour else { continue }
            site.windowVersions[window.id] = report.generatedAt
            if let earlier, earlier.windowVersions[window.id] == report.generatedAt {
                let prefixes = ["window-\(window.id).", "window-\(window.id)-", Self.embedFolder(window)]
                for var file in earlier.files where prefixes.contains(where: file.path.hasPrefix) {
                    file.isReused = true
                    site.files.append(file)
                }
            } else {
                site.files += try windowFiles(report, window: window)
            }
        }
        return site
    }

    /// The pages and embeds of one window other than the hour.
    func windowFiles(_ report: WindowReport, window: TimeWindow) throws -> [RenderedSite.File] {
        let charts = Self.windowCharts(report)
        let main = try templates.render(windowView(report, charts: charts, embedFolder: Self.embedFolder(window)), template: "main")
        var files = try pages(window, mainHTML: main, embeds: charts.map(\.id), hasWindows: true)
        for chart in charts {
            files.append(
                .init(path: Self.embedFolder(window) + chart.id + ".svg", bytes: Self.svgFile(chart), contentType: RenderedSite.svgContentType))
        }
        files.append(.init(path: Self.jsonPath(window), bytes: report.jsonBytes(), contentType: RenderedSite.jsonContentType))
        return files
    }

    /// A window's numbers as JSON, as `/api/stats?window=` answers them: `stats.json` for the
    /// hour (the snapshot, a superset), `window-24h.json` for the others.
    public static func jsonPath(_ window: TimeWindow) -> String { window == .hour ? "stats.json" : "window-\(window.id).json" }

    /// A page for a range asked on demand (`/report`): no refresh, no window choices and no
    /// embeds; `statsHref` links the same numbers as JSON.
    public func reportPage(_ report: WindowReport, statsHref: String) throws -> [UInt8] {
        try rangePage(report, charts: Self.windowCharts(report), embedFolder: nil, statsHref: statsHref, archiveHref: "archive/index.html")
    }

    /// The report of a range as a site of its own, for `spendboard render --window` and
    /// `--from-time`: `index.html`, its numbers in `stats.json` and its charts in `embed/`.
    public func reportSite(_ report: WindowReport) throws -> RenderedSite {
        let charts = Self.windowCharts(report)
        var files: [RenderedSite.File] = [
            .init(
                path: "index.html", bytes: try rangePage(report, charts: charts, embedFolder: "embed/", statsHref: "stats.json", archiveHref: nil),
                contentType: RenderedSite.htmlContentType),
            .init(path: "stats.json", bytes: report.jsonBytes(), contentType: RenderedSite.jsonContentType),
        ]
        for chart in charts {
            files.append(.init(path: "embed/\(chart.id).svg", bytes: Self.svgFile(chart), contentType: RenderedSite.svgContentType))
        }
        return RenderedSite(generatedAt: report.generatedAt, files: files)
    }

    private func rangePage(_ report: WindowReport, charts: [Chart], embedFolder: String?, statsHref: String, archiveHref: String?) throws -> [UInt8] {
        let main = try templates.render(windowView(report, charts: charts, embedFolder: embedFolder), template: "main")
        let embeds = embedFolder.map { folder in charts.map { PageView.Link(label: "\($0.id).svg", href: folder + $0.id + ".svg") } } ?? []
        let view = PageView(
            title: "Spendboard \u{00B7} \(Format.range(report.current.start, report.current.end))", windows: [], intervalSeconds: "0",
            refreshes: false, paused: true, statusText: "Report", options: [], statsHref: statsHref, archiveHref: archiveHref, embeds: embeds,
            chartStyle: ChartStyle.css,
            main: main
        )
        return Array(try templates.render(view, template: "page").utf8)
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
        case "spend-over-time":
            return snapshot.window(.hour).map {
                SpendOverTimeChart(report: $0, period: .rollingHour, comparisonLabel: comparisonLabel($0), markers: snapshot.anomalies)
                    .chart(generatedAt: at)
            }
        case "token-usage": return TokenUsageChart(points: snapshot.tokenUsage).chart(generatedAt: at)
        case "cost-by-model": return CostByModelChart(models: snapshot.costByModel, hourCost: snapshot.hour.totalCost).chart(generatedAt: at)
        case "cost-by-class": return CostByClassChart(hour: snapshot.hour).chart(generatedAt: at)
        case "spend-per-hour": return SpendPerHourChart(hours: snapshot.spendPerHour).chart(generatedAt: at)
        case "top-customers": return TopCustomersChart(customers: snapshot.customers).chart(generatedAt: at)
        case "anomalies": return AnomalyPanel.chart(snapshot.anomalies, generatedAt: at)
        default: return nil
        }
    }

    /// The charts of a window's page, in page order (each also an embed under `embed/<id>/`).
    static func windowCharts(_ report: WindowReport) -> [Chart] {
        let period = Self.period(report)
        let at = report.generatedAt
        let tokens = report.points.map { Snapshot.TokenPoint(start: $0.start, $0.totals) }
        return [
            SpendOverTimeChart(report: report, period: period, comparisonLabel: comparisonLabel(report)).chart(generatedAt: at),
            TokenUsageChart(points: tokens, step: report.step, period: period, spans: report.points.map { $0.start.duration(to: $0.end) })
                .chart(generatedAt: at),
            CostByModelChart(models: report.costByModel, hourCost: report.current.totals.totalCost, period: period).chart(generatedAt: at),
            CostByClassChart(hour: report.current.totals, period: period).chart(generatedAt: at),
            TopCustomersChart(customers: report.customers, period: period).chart(generatedAt: at),
        ]
    }

    /// "last 24 hours", or the range itself for a report on demand.
    static func period(_ report: WindowReport) -> ChartPeriod {
        if let window = report.window {
            if window == .hour { return .rollingHour }
            return ChartPeriod(title: "last \(window.name)", phrase: "the last \(window.name)", short: window.id)
        }
        let range = Format.range(report.current.start, report.current.end)
        return ChartPeriod(title: range, phrase: range, short: "range")
    }

    /// What the comparison line shows: "previous hour", "a day earlier", "a week earlier".
    static func comparisonLabel(_ report: WindowReport) -> String {
        switch report.comparisonShift {
        case .seconds(86_400) where report.window != .day && report.window != nil: return "previous period"
        case .seconds(86_400): return "a day earlier"
        case .seconds(7 * 86_400): return "a week earlier"
        default: return report.window.map { "previous \($0.name)" } ?? "previous period"
        }
    }

    /// The headline figures of a window against its previous period.
    static func windowStats(_ report: WindowReport) -> [MainView.Stat] {
        let totals = report.current.totals
        let previous = report.previous
        let before = report.window.map { $0 == .hour ? "the previous hour" : "the previous \($0.name)" } ?? "the previous period"
        /// One figure against the previous period: the change of its rate per hour (of its level
        /// for a mean) and its previous value as `text` writes it. Nil without a previous period.
        func compared(
            _ value: (UsageCounters) -> Double?, isTotal: Bool = true, _ text: (WindowReport.Period) -> String?
        ) -> MainView.Comparison? {
            guard let previous, let previousText = text(previous) else { return nil }
            var change = report.change(value, isTotal: isTotal)
            // Nothing now and nothing before: no change, rather than "new".
            if change == nil, value(totals) == 0, value(previous.totals) == 0 { change = 0 }
            guard let change else { return MainView.Comparison(change: "new", trend: "flat", previous: "nothing in \(before)") }
            let percent = Format.fixed(abs(change) * 100, places: 1)
            let trend = abs(change) < 0.0005 ? "flat" : change > 0 ? "up" : "down"
            let sign = trend == "flat" ? "\u{00B1}" : change > 0 ? "+" : "\u{2212}"
            return MainView.Comparison(change: "\(sign)\(percent) %", trend: trend, previous: "\(previousText) in \(before)")
        }
        let latency = totals.meanLatencyMs.map { Format.fixed($0, places: 0) + " ms" } ?? "\u{2013}"
        let dollars = { (totals: UsageCounters) in totals.totalCost.approximateDollars }
        var stats: [MainView.Stat] = [
            .init(label: "Spend", value: totals.totalCost.headline, comparison: compared(dollars) { $0.totals.totalCost.headline }),
            .init(
                label: "Spend rate", value: report.current.spendRatePerHour.headline + "/h",
                comparison: compared(dollars) { $0.spendRatePerHour.headline + "/h" }),
            .init(
                label: "Calls", value: Format.grouped(totals.calls), comparison: compared({ Double($0.calls) }) { Format.grouped($0.totals.calls) }),
            .init(
                label: "Tokens", value: Format.compact(Double(totals.totalTokens)),
                comparison: compared({ Double($0.totalTokens) }) { Format.compact(Double($0.totals.totalTokens)) }),
            .init(
                label: "Mean latency", value: latency,
                comparison: compared({ $0.meanLatencyMs }, isTotal: false) { $0.totals.meanLatencyMs.map { Format.fixed($0, places: 0) + " ms" } }),
            .init(label: "Customers", value: Format.grouped(Int64(report.customers.count))),
            .init(label: "Models", value: String(report.costByModel.count)),
        ]
        if totals.unpricedUpdates > 0 {
            stats.append(.init(label: "Unpriced updates", value: Format.grouped(totals.unpricedUpdates)))
        }
        return stats
    }

    /// The main part of a window's page; `embedFolder` nil leaves out the embed links.
    func windowView(_ report: WindowReport, charts: [Chart], embedFolder folder: String?) -> MainView {
        let period = Self.period(report)
        let chartViews = charts.filter { $0.id != "top-customers" }.map { chart in
            MainView.ChartView(
                id: chart.id, title: chart.title, svg: chart.inlineSVG, embedPath: folder.map { $0 + chart.id + ".svg" }, table: chart.table)
        }
        let customers = charts.first { $0.id == "top-customers" }!
        return MainView(
            generatedMillis: String(report.generatedAt.millisecondsSinceEpoch),
            generatedISO: report.generatedAt.iso8601,
            generatedText: Format.dateTime(report.generatedAt),
            // A range's period title is the range itself.
            windowText: report.window == nil ? period.title : "\(period.title) \(Format.range(report.current.start, report.current.end))",
            comparisonText: Self.comparisonText(report),
            stats: Self.windowStats(report), charts: chartViews, customersTitle: customers.title,
            customersEmbed: folder.map { $0 + "top-customers.svg" }, customers: customers.table
        )
    }

    /// "Compared with 13:06–14:06 UTC.", or why there is no comparison.
    static func comparisonText(_ report: WindowReport) -> String {
        guard let previous = report.previous else {
            return "There is no previous period to compare with: it would reach past the 60 days of hourly totals kept."
        }
        return "Compared with \(Format.range(previous.start, previous.end))."
    }

    func mainView(_ snapshot: Snapshot, charts: [Chart]) -> MainView {
        let latency = snapshot.meanLatencyMs.map { Format.fixed($0, places: 0) + " ms" } ?? "\u{2013}"
        var stats: [MainView.Stat]
        if let hour = snapshot.window(.hour) {
            stats = Self.windowStats(hour)
            stats.insert(.init(label: "Calls per second, last minute", value: Format.fixed(snapshot.callsPerSecond, places: 1)), at: 3)
        } else {
            stats = [
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
        }
        let chartViews = charts.filter { $0.id != "top-customers" }.map { chart in
            MainView.ChartView(id: chart.id, title: chart.title, svg: chart.inlineSVG, embedPath: "embed/\(chart.id).svg", table: chart.table)
        }
        let customers = charts.first { $0.id == "top-customers" }!
        return MainView(
            generatedMillis: String(snapshot.generatedAt.millisecondsSinceEpoch),
            generatedISO: snapshot.generatedAt.iso8601,
            generatedText: Format.dateTime(snapshot.generatedAt),
            windowText: "rolling hour \(Format.clock(snapshot.windowStart))\u{2013}\(Format.clock(snapshot.windowEnd)) UTC",
            comparisonText: snapshot.window(.hour).map(Self.comparisonText),
            stats: stats, charts: chartViews, customersTitle: customers.title, customersEmbed: "embed/top-customers.svg",
            customers: customers.table, anomalies: AnomalyPanel(snapshot.anomalies, at: snapshot.generatedAt)
        )
    }

    /// A window's page in every refresh choice: the main part, rendered once, joined to the
    /// page around it for each choice (header, refresh, navigation). That page holds no figures
    /// and no time, so it is rendered once per window, choice and embeds, and kept.
    func pages(_ window: TimeWindow, mainHTML: String, embeds: [String], hasWindows: Bool) throws -> [RenderedSite.File] {
        let main = Array(mainHTML.utf8)
        var files: [RenderedSite.File] = []
        files.reserveCapacity(Refresh.all.count)
        for refresh in Refresh.all {
            let key = PageShells.Key(window: window.id, refresh: refresh, embeds: embeds, hasWindows: hasWindows)
            let shell = try shells.shell(key) { try self.shell(window, refresh: refresh, embeds: embeds, hasWindows: hasWindows) }
            var bytes: [UInt8] = []
            bytes.reserveCapacity(shell.head.count + main.count + shell.tail.count)
            bytes += shell.head
            bytes += main
            bytes += shell.tail
            files.append(.init(path: Self.pagePath(window, refresh), bytes: bytes, contentType: RenderedSite.htmlContentType))
        }
        return files
    }

    /// The page around the main part, split where the main part goes.
    private func shell(_ window: TimeWindow, refresh: Refresh, embeds: [String], hasWindows: Bool) throws -> PageShells.Shell {
        let options =
            [PageView.Option(label: "Auto", href: Self.pagePath(window, .auto), current: refresh == .auto)]
            + Self.refreshChoices.map {
                PageView.Option(
                    label: $0.label, href: Self.pagePath(window, .every(seconds: $0.seconds)), current: refresh == .every(seconds: $0.seconds))
            }
            + [PageView.Option(label: "Pause", href: Self.pagePath(window, .paused), current: refresh == .paused)]
        let windows = hasWindows ? TimeWindow.all.map { PageView.Option(label: $0.id, href: Self.pagePath($0, refresh), current: $0 == window) } : []
        let seconds: String
        if case .every(let chosen) = refresh { seconds = String(chosen) } else { seconds = Format.seconds(configuration.renderInterval) }
        let view = PageView(
            title: window == .hour ? "Spendboard" : "Spendboard \u{00B7} last \(window.name)", windows: windows, intervalSeconds: seconds,
            refreshes: refresh != .paused, paused: refresh == .paused, statusText: refresh == .paused ? "Paused" : "Refreshes every \(seconds) s",
            options: options, statsHref: Self.jsonPath(window),
            embeds: embeds.map { PageView.Link(label: "\($0).svg", href: Self.embedFolder(window) + "\($0).svg") }, chartStyle: ChartStyle.css,
            main: "\u{1}"
        )
        let page = Array(try templates.render(view, template: "page").utf8)
        guard let cut = page.firstIndex(of: 1) else { throw ReportError.templateWithoutMain("page") }
        return PageShells.Shell(head: Array(page[..<cut]), tail: Array(page[(cut + 1)...]))
    }

    /// A snapshot without usage, for the start-up check.
    static let emptySnapshot = UsageLedger().snapshot(at: Timestamp(secondsSinceEpoch: 1_800_000_000), windows: true)
}
