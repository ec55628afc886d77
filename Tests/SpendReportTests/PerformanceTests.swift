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
        #expect(
            site.files.map(\.path).sorted() == [
                "embed/cost-by-class.svg", "embed/cost-by-model.svg", "embed/gauge.svg", "embed/spend-per-hour.svg", "embed/token-usage.svg",
                "embed/top-customers.svg", "index.html", "live-10s.html", "live-1s.html", "live-2s.html", "live-5s.html",
                "paused.html", "stats.json",
            ])
    }

    @Test func pageVariantsRefreshToThemselves() throws {
        let site = try Fixtures.renderer().render(Fixtures.seededSnapshot)
        #expect(Fixtures.text(site["index.html"]).contains("<meta http-equiv=\"refresh\" content=\"5\"/>"))
        #expect(Fixtures.text(site["live-1s.html"]).contains("<meta http-equiv=\"refresh\" content=\"1\"/>"))
        #expect(Fixtures.text(site["live-10s.html"]).contains("<a href=\"live-10s.html\" aria-current=\"page\">"))
        #expect(!Fixtures.text(site["paused.html"]).contains("http-equiv=\"refresh\""))
        #expect(Fixtures.text(site["index.html"]).contains("<time datetime=\"2026-11-29T14:05:02.500Z\">2026-11-29 14:05:02 UTC</time>"))
    }
}
