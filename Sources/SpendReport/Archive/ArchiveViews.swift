import Mustache

/// View models of the archive templates: stored, already formatted strings only. Rows conform
/// to `MustacheParent` so a list of 10,000 snapshots renders without reflection.
struct ArchiveLink: MustacheParent {
    let label: String
    let href: String

    func child(named name: String) -> Any? {
        switch name {
        case "label": label
        case "href": href
        default: nil
        }
    }
}

struct ArchiveRefresh {
    let seconds: String
    let href: String
}

struct ArchivePlayOption {
    let label: String
    let href: String
    let current: Bool
}

struct ArchiveSnapshotView {
    let title: String
    let refresh: ArchiveRefresh?
    /// The live page's CSS, taken from the rendered page (unescaped: our own).
    let chartStyle: String
    let previous: ArchiveLink?
    let next: ArchiveLink?
    let latestPage: String
    let dayPage: String
    let indexPage: String
    let playOptions: [ArchivePlayOption]
    let playing: Bool
    let stopHref: String
    let generatedISO: String
    let generatedText: String
    let statusText: String
    /// The live page's `<main>` element, taken from the rendered page (unescaped: its data
    /// was escaped when it was rendered).
    let main: String
    let embeds: [ArchiveLink]
}

struct ArchiveRow: MustacheParent {
    let href: String
    let iso: String
    let time: String
    let rate: String
    let customer: String
    let tenant: String

    func child(named name: String) -> Any? {
        switch name {
        case "href": href
        case "iso": iso
        case "time": time
        case "rate": rate
        case "customer": customer
        case "tenant": tenant
        default: nil
        }
    }
}

struct ArchiveDayView {
    let day: String
    let href: String
    let countText: String
    let hasRows: Bool
    let rows: [ArchiveRow]
    let moreText: String?
}

struct ArchiveListView {
    let title: String
    let heading: String
    let links: [ArchiveLink]
    let summary: String
    let days: [ArchiveDayView]
}

struct ArchiveLatestView {
    let href: String
    let label: String
}
