import SpendCore

/// Renders the archive's pages: each snapshot's page and its playback variants, the archive
/// index, one page per day, and `latest.html`. Pure: entries in, bytes out.
///
/// A snapshot page reuses the live page's `<style>` and `<main>` exactly as they were rendered
/// (so it shows the same figures, tables and inline charts) and wraps them in archive
/// navigation instead of the live refresh controls: no meta-refresh except while playing,
/// no script, relative links only, so the folder works opened straight from disk.
///
/// ```swift
/// let archive = try ArchiveRenderer(renderer: renderer)
/// let parts = try ArchiveRenderer.PageParts(page: site["index.html"]!.bytes)
/// let pages = try archive.snapshotPages(entry, parts: parts, previous: older, next: nil)
/// ```
public struct ArchiveRenderer: Sendable {
    /// Snapshot rows shown on the archive index before it refers to the day pages.
    public var indexRows: Int
    let templates: TemplateSet

    public init(renderer: ReportRenderer, indexRows: Int = 100) throws {
        self.templates = renderer.templates
        self.indexRows = indexRows
        // Probe every archive template now, so a broken one stops start-up with its name.
        let probe = ArchiveEntry(snapshot: ReportRenderer.emptySnapshot)
        let site = try renderer.render(ReportRenderer.emptySnapshot)
        var files = try snapshotPages(probe, parts: PageParts(page: site["index.html"]!.bytes), previous: probe, next: probe)
        files += try listPages([probe])
        var issues: [ValidationIssue] = []
        for (path, bytes) in files { issues += XMLValidator.validate(bytes, file: "archive/" + path) }
        guard issues.isEmpty else { throw ReportError.validationFailed(issues) }
    }

    /// The parts of a rendered page that an archived page reuses.
    public struct PageParts: Sendable, Equatable {
        /// The text of the first `<style>` element.
        public var style: String
        /// The whole `<main …>…</main>` element.
        public var main: String

        /// Takes the parts from a live page or an archived one (both hold one `<main>` and put
        /// the dashboard's CSS in their first `<style>`).
        public init(page: [UInt8]) throws(ArchiveError) {
            func find(_ needle: String, from start: Int, backwards: Bool = false) -> Int? {
                let n = Array(needle.utf8)
                guard page.count >= n.count + start else { return nil }
                let last = page.count - n.count
                var index = backwards ? last : start
                while backwards ? index >= start : index <= last {
                    if page[index] == n[0] && page[index..<(index + n.count)].elementsEqual(n) { return index }
                    index += backwards ? -1 : 1
                }
                return nil
            }
            guard let styleOpen = find("<style>", from: 0), let styleClose = find("</style>", from: styleOpen + 7),
                let mainOpen = find("<main", from: styleClose), let mainClose = find("</main>", from: mainOpen, backwards: true)
            else { throw ArchiveError("the page has no <style> or no <main> element to archive") }
            var styleStart = styleOpen + 7
            var styleEnd = styleClose
            while styleStart < styleEnd && page[styleStart] == UInt8(ascii: "\n") { styleStart += 1 }
            while styleEnd > styleStart && page[styleEnd - 1] == UInt8(ascii: "\n") { styleEnd -= 1 }
            self.style = String(decoding: page[styleStart..<styleEnd], as: UTF8.self)
            self.main = String(decoding: page[mainOpen..<(mainClose + 7)], as: UTF8.self)
        }
    }

    // MARK: - Snapshot folder

    /// `index.html` (stopped) and `play-1s.html`, `play-2s.html`, `play-5s.html`: each play
    /// page meta-refreshes to the same speed's page of the next snapshot; at the newest it
    /// stops. Paths are relative to the snapshot folder.
    public func snapshotPages(
        _ entry: ArchiveEntry, parts: PageParts, previous: ArchiveEntry?, next: ArchiveEntry?
    ) throws -> [(path: String, bytes: [UInt8])] {
        let when = Format.dateTime(entry.generatedAt)
        let moment = Self.preciseTime(entry.generatedAt)
        let embeds = ReportRenderer.embedIDs.map { ArchiveLink(label: "\($0).svg", href: "embed/\($0).svg") }
        func link(_ other: ArchiveEntry?, page: String) -> ArchiveLink? {
            other.map { ArchiveLink(label: Self.label($0.generatedAt, relativeTo: entry.generatedAt), href: "../\($0.folder)/\(page)") }
        }
        var pages: [(String, [UInt8])] = []
        for seconds in [nil] + ArchiveName.playbackSeconds {
            let page = seconds.map(ArchiveName.playPage) ?? ArchiveName.snapshotPage
            let options = ArchiveName.playbackSeconds.map {
                ArchivePlayOption(label: "\($0) s", href: ArchiveName.playPage(seconds: $0), current: $0 == seconds)
            }
            let status: String
            var refresh: ArchiveRefresh?
            if let seconds {
                if let next {
                    refresh = ArchiveRefresh(seconds: String(seconds), href: "../\(next.folder)/\(page)")
                    status = "Playing: the next snapshot follows in \(seconds) s. Choose Stop to stay here."
                } else {
                    status = "Playback stopped: this is the newest archived snapshot."
                }
            } else {
                status = "This page is a record of that moment and does not refresh."
            }
            let view = ArchiveSnapshotView(
                title: "Spendboard archive \u{00B7} \(when)", refresh: refresh, chartStyle: parts.style,
                previous: link(previous, page: page), next: link(next, page: page),
                latestPage: ArchiveName.latestPage, dayPage: ArchiveName.dayPage(entry.day), indexPage: ArchiveName.indexPage,
                playOptions: options, playing: seconds != nil, stopHref: ArchiveName.snapshotPage,
                generatedISO: entry.generatedAt.iso8601, generatedText: moment, statusText: status, main: parts.main, embeds: embeds
            )
            pages.append((page, Array(try templates.render(view, template: "archive-page").utf8)))
        }
        return pages
    }

    // MARK: - Index, days, latest

    /// `index.html`, `days/<day>.html` for every day (or only the days in `only`), and
    /// `latest.html`, for `entries` in any order. Paths are relative to `archive/`.
    public func listPages(_ entries: [ArchiveEntry], only: Set<String>? = nil) throws -> [(path: String, bytes: [UInt8])] {
        let newestFirst = entries.sorted { $0.folder > $1.folder }
        var days: [(day: String, entries: ArraySlice<ArchiveEntry>)] = []
        var start = 0
        while start < newestFirst.count {
            let day = newestFirst[start].day
            var end = start + 1
            while end < newestFirst.count && newestFirst[end].day == day { end += 1 }
            days.append((day, newestFirst[start..<end]))
            start = end
        }
        var pages: [(String, [UInt8])] = []

        // The index: days newest first; the newest `indexRows` snapshots in full.
        var budget = indexRows
        var dayViews: [ArchiveDayView] = []
        dayViews.reserveCapacity(days.count)
        for (day, dayEntries) in days {
            let shown = dayEntries.prefix(max(0, budget))
            budget -= shown.count
            let rows = Self.rows(shown, prefix: "")
            let more: String? = shown.count == dayEntries.count ? nil : "All \(Self.count(dayEntries.count)) of \(day)"
            dayViews.append(
                ArchiveDayView(
                    day: day, href: ArchiveName.dayPage(day), countText: Self.count(dayEntries.count), hasRows: !shown.isEmpty,
                    rows: rows, moreText: more
                ))
        }
        let summary: String
        if let newest = newestFirst.first, let oldest = newestFirst.last {
            summary =
                "\(Self.count(newestFirst.count)) from \(Format.dateTime(oldest.generatedAt)) to \(Format.dateTime(newest.generatedAt)), newest first, grouped by day. Times are UTC."
        } else {
            summary = "No snapshot has been archived yet."
        }
        let index = ArchiveListView(
            title: "Spendboard archive", heading: "Spendboard archive",
            links: [
                ArchiveLink(label: "Latest snapshot", href: ArchiveName.latestPage), ArchiveLink(label: "Live dashboard", href: "../index.html"),
            ],
            summary: summary, days: dayViews
        )
        pages.append((ArchiveName.indexPage, Array(try templates.render(index, template: "archive-list").utf8)))

        // One page per day, with every snapshot of that day.
        for (position, (day, dayEntries)) in days.enumerated() where only?.contains(day) ?? true {
            var links: [ArchiveLink] = []
            if position + 1 < days.count {
                links.append(ArchiveLink(label: "\u{2190} \(days[position + 1].day)", href: "\(days[position + 1].day).html"))
            }
            if position > 0 { links.append(ArchiveLink(label: "\(days[position - 1].day) \u{2192}", href: "\(days[position - 1].day).html")) }
            links += [
                ArchiveLink(label: "All snapshots", href: "../" + ArchiveName.indexPage),
                ArchiveLink(label: "Latest snapshot", href: "../" + ArchiveName.latestPage),
                ArchiveLink(label: "Live dashboard", href: "../../index.html"),
            ]
            let view = ArchiveListView(
                title: "Spendboard archive \u{00B7} \(day)", heading: "Spendboard archive \u{00B7} \(day)", links: links,
                summary: "\(Self.count(dayEntries.count)) on \(day), newest first. Times are UTC.",
                days: [
                    ArchiveDayView(
                        day: day, href: "\(day).html", countText: Self.count(dayEntries.count), hasRows: true,
                        rows: Self.rows(dayEntries, prefix: "../"), moreText: nil
                    )
                ]
            )
            pages.append((ArchiveName.dayPage(day), Array(try templates.render(view, template: "archive-list").utf8)))
        }

        let latest =
            newestFirst.first.map {
                ArchiveLatestView(
                    href: "\($0.folder)/\(ArchiveName.snapshotPage)", label: "Latest archived snapshot: \(Format.dateTime($0.generatedAt))")
            } ?? ArchiveLatestView(href: ArchiveName.indexPage, label: "No snapshot has been archived yet.")
        pages.append((ArchiveName.latestPage, Array(try templates.render(latest, template: "archive-latest").utf8)))
        return pages
    }

    // MARK: - Formatting

    /// `<tr>` rows of a snapshot table, newest first as given. Every value is escaped with
    /// `XMLText.escaped`; folder names and times are our own ASCII.
    static func rows(_ entries: some Collection<ArchiveEntry>, prefix: String) -> String {
        var html = ""
        html.reserveCapacity(entries.count * 220)
        for entry in entries {
            let iso = entry.generatedAt.iso8601
            html += "<tr><td><a href=\""
            html += prefix
            html += entry.folder
            html += "/index.html\"><time datetime=\""
            html += iso
            html += "\">"
            html += iso.dropFirst(11).prefix(8)
            html += "</time></a></td><td class=\"n\">"
            html += entry.spendRatePerHour.headline
            html += "/h</td><td>"
            html += entry.topCustomer.map { XMLText.escaped($0.customerId) } ?? "\u{2013}"
            html += "</td><td>"
            html += entry.topCustomer.map { XMLText.escaped($0.tenantId) } ?? "\u{2013}"
            html += "</td></tr>\n"
        }
        return html
    }

    static func count(_ n: Int) -> String { n == 1 ? "1 snapshot" : "\(Format.grouped(Int64(n))) snapshots" }

    /// `14:05:00` on the same day as `reference`, else `2026-11-28 23:55:00`.
    static func label(_ time: Timestamp, relativeTo reference: Timestamp) -> String {
        let date = String(time.iso8601.prefix(10))
        return date == String(reference.iso8601.prefix(10)) ? Format.clock(time) : date + " " + Format.clock(time)
    }

    /// `2026-11-29 14:05:00.123 UTC`.
    static func preciseTime(_ time: Timestamp) -> String {
        let iso = time.iso8601
        return String(iso.prefix(10)) + " " + String(iso.dropFirst(11).prefix(12)) + " UTC"
    }
}
