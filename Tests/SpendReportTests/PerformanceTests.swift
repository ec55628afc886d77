import SpendCore
import Testing

@testable import SpendReport

/// Sizes that hold in any build; timings are measured in release builds (see docs).
struct SizeTests {
    @Test func pageStaysUnder150KB() throws {
        let site = try Fixtures.renderer().render(Fixtures.seededSnapshot)
        for file in site.files where file.path.hasSuffix(".html") {
            #expect(file.bytes.count <= 150_000, "\(file.path): \(file.bytes.count) bytes")
        }
        var expected = [
            "embed/cost-by-class.svg", "embed/cost-by-model.svg", "embed/gauge.svg", "embed/spend-over-time.svg", "embed/spend-per-hour.svg",
            "embed/token-usage.svg", "embed/top-customers.svg", "embed/anomalies.svg", "index.html", "live-10s.html", "live-1s.html", "live-2s.html",
            "live-5s.html",
            "paused.html", "stats.json",
        ]
        for window in ["5m", "15m", "24h", "7d", "30d"] {
            expected += ["", "-live-1s", "-live-2s", "-live-5s", "-live-10s", "-paused"].map { "window-\(window)\($0).html" }
            expected += ["spend-over-time", "token-usage", "cost-by-model", "cost-by-class", "top-customers"].map { "embed/\(window)/\($0).svg" }
            expected.append("window-\(window).json")
        }
        #expect(site.files.map(\.path).sorted() == expected.sorted())
    }

    @Test func pageVariantsRefreshToThemselves() throws {
        let site = try Fixtures.renderer().render(Fixtures.seededSnapshot)
        #expect(Fixtures.text(site["index.html"]).contains("<meta http-equiv=\"refresh\" content=\"5\"/>"))
        #expect(Fixtures.text(site["live-1s.html"]).contains("<meta http-equiv=\"refresh\" content=\"1\"/>"))
        #expect(Fixtures.text(site["live-10s.html"]).contains("<a href=\"live-10s.html\" aria-current=\"page\">"))
        #expect(!Fixtures.text(site["paused.html"]).contains("http-equiv=\"refresh\""))
        #expect(Fixtures.text(site["index.html"]).contains("<time datetime=\"2026-11-29T14:05:02.500Z\">2026-11-29 14:05:02 UTC</time>"))
    }

    /// The window and the refresh choice combine: every link keeps the other choice.
    @Test func windowAndRefreshChoicesCombine() throws {
        let site = try Fixtures.renderer().render(Fixtures.seededSnapshot)
        let page = Fixtures.text(site["window-24h-live-10s.html"])
        #expect(page.contains("<meta http-equiv=\"refresh\" content=\"10\"/>"))
        #expect(page.contains("<a href=\"window-24h-live-10s.html\" aria-current=\"page\">10 s</a>"))
        #expect(page.contains("<a href=\"window-24h-live-10s.html\" aria-current=\"page\">24h</a>"))
        #expect(page.contains("<a href=\"window-7d-live-10s.html\">7d</a>"))
        #expect(page.contains("<a href=\"live-10s.html\">1h</a>"))
        #expect(page.contains("<a href=\"window-24h-paused.html\">Pause</a>"))
        #expect(page.contains("<a href=\"archive/index.html\">Archive</a>"))
        #expect(page.contains("<a href=\"embed/24h/spend-over-time.svg\">"))
        let hour = Fixtures.text(site["paused.html"])
        #expect(hour.contains("<a href=\"window-5m-paused.html\">5m</a>"))
        #expect(hour.contains("<a href=\"paused.html\" aria-current=\"page\">1h</a>"))
        // Every variant holds the same main part, rendered once.
        func main(_ path: String) -> Substring {
            let text = Fixtures.text(site[path])
            return text[text.range(of: "<main")!.lowerBound..<text.range(of: "</main>")!.upperBound]
        }
        #expect(main("window-7d.html").contains("Spend over time, last 7 days"))
        // Every refresh variant of every window: the main part of its default page (which the
        // goldens pin, one per window), the refresh it names, and both current choices.
        for window in TimeWindow.all {
            let auto = ReportRenderer.pagePath(window, .auto)
            for refresh in ReportRenderer.Refresh.all where refresh != .auto {
                let path = ReportRenderer.pagePath(window, refresh)
                #expect(main(path) == main(auto), "\(path)")
                let text = Fixtures.text(site[path])
                let label: String
                switch refresh {
                case .every(let seconds):
                    label = "\(seconds) s"
                    #expect(text.contains("<meta http-equiv=\"refresh\" content=\"\(seconds)\"/>"), "\(path)")
                default:
                    label = "Pause"
                    #expect(!text.contains("http-equiv=\"refresh\""), "\(path)")
                }
                #expect(text.contains("<a href=\"\(path)\" aria-current=\"page\">\(label)</a>"), "\(path)")
                #expect(text.contains("<a href=\"\(path)\" aria-current=\"page\">\(window.id)</a>"), "\(path)")
            }
        }
    }
}
