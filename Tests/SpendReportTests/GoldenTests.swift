import Foundation
import Testing

@testable import SpendReport

/// Compares the site rendered from the seeded snapshot with `Golden/`. After a deliberate
/// change, regenerate with `SPENDBOARD_UPDATE_GOLDEN=1 swift test --filter GoldenTests` and
/// review the diff. `stats.json` and `window-*.json` are left out: they are `Snapshot.jsonBytes()`
/// and `WindowReport.jsonBytes()`, SpendCore's to test.
struct GoldenTests {
    /// A page's text up to `</head>` without its `<title>` line, and the rest.
    static func head(of file: RenderedSite.File?) throws -> (withoutTitle: String, body: [UInt8]) {
        let text = String(decoding: try #require(file).bytes, as: UTF8.self)
        let end = try #require(text.range(of: "</head>\n"))
        let head = text[..<end.upperBound].split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.hasPrefix("<title>") }
        return (head.joined(separator: "\n"), Array(text[end.upperBound...].utf8))
    }

    @Test func seededSnapshotMatchesTheGoldenFiles() throws {
        var site = try Fixtures.renderer().render(Fixtures.seededSnapshot)
        #expect(XMLValidator.validate(site) == [])
        let stats = site.files.first { $0.path == "stats.json" }?.bytes
        #expect(stats == Fixtures.seededSnapshot.jsonBytes(), "stats.json is the snapshot's JSON, byte for byte")
        for report in Fixtures.seededSnapshot.windows where report.window != .hour {
            let window = try #require(report.window)
            let json = site.files.first { $0.path == ReportRenderer.jsonPath(window) }?.bytes
            #expect(json == report.jsonBytes(), "\(ReportRenderer.jsonPath(window)) is the window's JSON, byte for byte")
        }
        site.files.removeAll { $0.path.hasSuffix(".json") }
        // Refresh variants join the main part of their window's default page to the page around
        // it (`windowAndRefreshChoicesCombine` checks every one): one whole page per window here,
        // no near-copies.
        site.files.removeAll { $0.path.contains("live-") || $0.path.hasSuffix("paused.html") }
        // The other windows' pages share the hour's `<head>` (styles, script) but for the
        // title: that is checked here, and only their `<body>` is pinned, as `<page>.body.html`.
        let hourHead = try Self.head(of: site["index.html"])
        for index in site.files.indices where site.files[index].path.hasPrefix("window-") {
            let file = site.files[index]
            let head = try Self.head(of: file)
            #expect(head.withoutTitle == hourHead.withoutTitle, "\(file.path): its <head> is the hour's but for the title")
            site.files[index] = .init(
                path: file.path.replacingOccurrences(of: ".html", with: ".body.html"), bytes: head.body, contentType: file.contentType)
        }
        let golden = Fixtures.goldenDirectory
        let manager = FileManager.default
        if ProcessInfo.processInfo.environment["SPENDBOARD_UPDATE_GOLDEN"] == "1" {
            try? manager.removeItem(atPath: golden)
            for file in site.files {
                let path = "\(golden)/\(file.path)"
                try manager.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                try Data(file.bytes).write(to: URL(fileURLWithPath: path))
            }
            return
        }
        let expected = Set(
            (manager.enumerator(atPath: golden)?.allObjects as? [String] ?? []).filter {
                var isDirectory: ObjCBool = false
                return manager.fileExists(atPath: "\(golden)/\($0)", isDirectory: &isDirectory) && !isDirectory.boolValue
            })
        let rendered = Set(site.files.map(\.path))
        #expect(rendered.subtracting(expected).sorted() == [], "rendered but not in Golden/ (missing golden files)")
        #expect(expected.subtracting(rendered).sorted() == [], "in Golden/ but no longer rendered (unexpected files)")
        for file in site.files where expected.contains(file.path) {
            let want = try #require(manager.contents(atPath: "\(golden)/\(file.path)"))
            if Array(want) != file.bytes {
                let got = String(decoding: file.bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
                let exp = String(decoding: want, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
                let line = (0..<min(got.count, exp.count)).first { got[$0] != exp[$0] } ?? min(got.count, exp.count)
                Issue.record(
                    "\(file.path) differs from Golden/ at line \(line + 1): got '\(line < got.count ? got[line].prefix(160) : "")', expected '\(line < exp.count ? exp[line].prefix(160) : "")'"
                )
            }
        }
    }
}
