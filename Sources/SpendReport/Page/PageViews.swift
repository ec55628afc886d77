import Mustache

/// View models of the page templates: already formatted strings only, each key listed in its
/// `child(named:)` below (swift-mustache renders a missing key as empty text, silently; the
/// goldens catch one).
struct PageView {
    struct Option {
        let label: String
        let href: String
        let current: Bool
    }

    struct Link {
        let label: String
        let href: String
    }

    let title: String
    /// The windows, each linking to its page with the same refresh choice.
    let windows: [Option]
    let intervalSeconds: String
    let refreshes: Bool
    let paused: Bool
    let statusText: String
    let options: [Option]
    /// The page's numbers as JSON.
    let statsHref: String
    let embeds: [Link]
    /// The archive's index; nil where there is none (a range rendered on its own).
    let archiveHref: String?
    let hasEmbeds: Bool
    let hasWindows: Bool
    let hasOptions: Bool
    /// Our own CSS for the inline charts (unescaped).
    let chartStyle: String
    /// The rendered `main` template (unescaped; its data was escaped when it was rendered).
    let main: String

    init(
        title: String, windows: [Option], intervalSeconds: String, refreshes: Bool, paused: Bool, statusText: String, options: [Option],
        statsHref: String, archiveHref: String? = "archive/index.html", embeds: [Link], chartStyle: String, main: String
    ) {
        self.title = title
        self.windows = windows
        self.intervalSeconds = intervalSeconds
        self.refreshes = refreshes
        self.paused = paused
        self.statusText = statusText
        self.options = options
        self.statsHref = statsHref
        self.embeds = embeds
        self.archiveHref = archiveHref
        self.hasEmbeds = !embeds.isEmpty
        self.hasWindows = !windows.isEmpty
        self.hasOptions = !options.isEmpty
        self.chartStyle = chartStyle
        self.main = main
    }
}

struct MainView {
    struct Stat {
        let label: String
        let value: String
        /// The figure against the previous period, when there is one.
        let comparison: Comparison?

        init(label: String, value: String, comparison: Comparison? = nil) {
            self.label = label
            self.value = value
            self.comparison = comparison
        }
    }

    struct Comparison {
        /// `+12.3 %`, `−4.0 %`, `new`.
        let change: String
        /// `up`, `down` or `flat`, for colour.
        let trend: String
        /// `$1,234.56 the previous hour`.
        let previous: String
    }

    struct ChartView {
        let id: String
        let title: String
        /// Our own generated SVG (unescaped).
        let svg: String
        /// Nil on pages whose charts are not published as files (`/report`).
        let embedPath: String?
        let table: DataTable
    }

    let generatedMillis: String
    let generatedISO: String
    let generatedText: String
    /// What the figures cover: `rolling hour 13:07:30–14:07:30 UTC`.
    let windowText: String
    /// What they are compared with; nil on pages without a comparison.
    let comparisonText: String?
    let stats: [Stat]
    let charts: [ChartView]
    let customersTitle: String
    let customersEmbed: String?
    let customers: DataTable
    /// The anomaly panel; nil on pages without one (windows, ranges).
    var anomalies: AnomalyPanel? = nil
}

// Keys by name rather than by reflection: swift-mustache's `Mirror` lookup builds a mirror and
// scans every property for each tag, at each level of the context stack, which was most of the
// cost of a tick's pages (`docs/benchmarks.md`, "Rendering every window").

extension PageView: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "title": title
        case "windows": windows
        case "intervalSeconds": intervalSeconds
        case "refreshes": refreshes
        case "paused": paused
        case "statusText": statusText
        case "options": options
        case "statsHref": statsHref
        case "embeds": embeds
        case "archiveHref": archiveHref
        case "hasEmbeds": hasEmbeds
        case "hasWindows": hasWindows
        case "hasOptions": hasOptions
        case "chartStyle": chartStyle
        case "main": main
        default: nil
        }
    }
}

extension PageView.Option: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "label": label
        case "href": href
        case "current": current
        default: nil
        }
    }
}

extension PageView.Link: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "label": label
        case "href": href
        default: nil
        }
    }
}

extension MainView: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "generatedMillis": generatedMillis
        case "generatedISO": generatedISO
        case "generatedText": generatedText
        case "windowText": windowText
        case "comparisonText": comparisonText
        case "stats": stats
        case "charts": charts
        case "customersTitle": customersTitle
        case "customersEmbed": customersEmbed
        case "customers": customers
        case "anomalies": anomalies
        default: nil
        }
    }
}

extension MainView.Stat: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "label": label
        case "value": value
        case "comparison": comparison
        default: nil
        }
    }
}

extension MainView.Comparison: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "change": change
        case "trend": trend
        case "previous": previous
        default: nil
        }
    }
}

extension MainView.ChartView: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "id": id
        case "title": title
        case "svg": svg
        case "embedPath": embedPath
        case "table": table
        default: nil
        }
    }
}
