/// View models of the page templates: stored, already formatted strings only (swift-mustache
/// renders computed properties and missing keys as empty text, silently).
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
    let intervalSeconds: String
    let refreshes: Bool
    let paused: Bool
    let statusText: String
    let options: [Option]
    let embeds: [Link]
    /// Our own CSS for the inline charts (unescaped).
    let chartStyle: String
    /// The rendered `main` template (unescaped; its data was escaped when it was rendered).
    let main: String
}

struct MainView {
    struct Stat {
        let label: String
        let value: String
    }

    struct ChartView {
        let id: String
        let title: String
        /// Our own generated SVG (unescaped).
        let svg: String
        let embedPath: String
        let table: DataTable
    }

    let generatedMillis: String
    let generatedISO: String
    let generatedText: String
    let windowText: String
    let stats: [Stat]
    let charts: [ChartView]
    let customers: DataTable
}
