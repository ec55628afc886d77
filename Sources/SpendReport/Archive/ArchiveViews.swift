import Mustache

/// View models of the archive templates: stored, already formatted strings only. Rows conform
/// to `MustacheParent`, so rendering needs no reflection (`Mirror` dominated the archive
/// step's time).
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

struct ArchiveRefresh: MustacheParent {
    let seconds: String
    let href: String

    func child(named name: String) -> Any? {
        switch name {
        case "seconds": seconds
        case "href": href
        default: nil
        }
    }
}

struct ArchivePlayOption: MustacheParent {
    let label: String
    let href: String
    let current: Bool

    func child(named name: String) -> Any? {
        switch name {
        case "label": label
        case "href": href
        case "current": current
        default: nil
        }
    }
}

struct ArchiveSnapshotView: MustacheParent {
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

    func child(named name: String) -> Any? {
        switch name {
        case "title": title
        case "refresh": refresh
        case "chartStyle": chartStyle
        case "previous": previous
        case "next": next
        case "latestPage": latestPage
        case "dayPage": dayPage
        case "indexPage": indexPage
        case "playOptions": playOptions
        case "playing": playing
        case "stopHref": stopHref
        case "generatedISO": generatedISO
        case "generatedText": generatedText
        case "statusText": statusText
        case "main": main
        case "embeds": embeds
        default: nil
        }
    }
}

struct ArchiveDayView: MustacheParent {
    let day: String
    let href: String
    let countText: String
    let hasRows: Bool
    /// The table rows, built by `ArchiveRenderer.rows` with every value escaped (unescaped
    /// here: 10,000 rows through Mustache's reflection would cost over 100 ms).
    let rows: String
    let moreText: String?

    func child(named name: String) -> Any? {
        switch name {
        case "day": day
        case "href": href
        case "countText": countText
        case "hasRows": hasRows
        case "rows": rows
        case "moreText": moreText
        default: nil
        }
    }
}

struct ArchiveListView: MustacheParent {
    let title: String
    let heading: String
    let links: [ArchiveLink]
    let summary: String
    let days: [ArchiveDayView]

    func child(named name: String) -> Any? {
        switch name {
        case "title": title
        case "heading": heading
        case "links": links
        case "summary": summary
        case "days": days
        default: nil
        }
    }
}

struct ArchiveLatestView: MustacheParent {
    let href: String
    let label: String

    func child(named name: String) -> Any? {
        switch name {
        case "href": href
        case "label": label
        default: nil
        }
    }
}
