import SpendCore
import Testing

@testable import SpendReport

struct EscapingTests {
    @Test func hostileNamesAppearAsTextAndEveryFileValidates() throws {
        let site = try Fixtures.renderer().render(Fixtures.hostileSnapshot)
        #expect(XMLValidator.validate(site) == [])
        let page = Fixtures.text(site["index.html"])
        let customers = Fixtures.text(site["embed/top-customers.svg"])
        let models = Fixtures.text(site["embed/cost-by-model.svg"])
        for text in [page, customers] {
            #expect(!text.contains("<script>x</script>"))
            #expect(text.contains("&lt;script&gt;x&lt;/script&gt;"))
            #expect(!text.contains("<b>ten"))
            #expect(text.contains("&lt;b&gt;ten&amp;ant&lt;/b&gt;"))
            #expect(text.contains("&amp;amp;"), "the literal customer id '&amp;' is escaped once more")
            #expect(!text.contains("\u{1}"))
        }
        for text in [page, models] {
            #expect(!text.contains("<img"))
            #expect(text.contains("&lt;img src=x onerror=alert(1)&gt;"))
        }
        // The only <script> element of the page is our own.
        #expect(page.components(separatedBy: "<script>").count == 2)
    }

    @Test(arguments: [
        ("<a&b>", "&lt;a&amp;b&gt;"), ("\"q\" 'a'", "&quot;q&quot; &#39;a&#39;"), ("]]>", "]]&gt;"), ("x\u{0}y\u{FFFE}", "x\u{FFFD}y\u{FFFD}"),
        ("tab\tok", "tab\tok"), ("plain", "plain"),
    ])
    func escaping(input: String, output: String) {
        #expect(XMLText.escaped(input) == output)
    }

    @Test func everyEscapedStringParsesAsText() {
        for name in Fixtures.hostileCustomers + [Fixtures.hostileTenant, Fixtures.hostileModel] {
            let document = "<r a=\"\(XMLText.escaped(name))\">\(XMLText.escaped(name))</r>"
            #expect(XMLValidator.validate(Array(document.utf8), file: "t.xml") == [], "\(name)")
        }
    }
}

struct UnpricedTests {
    /// Usage of unknown cost is said to be unpriced, never shown as $0.
    @Test func unpricedUsageIsNamedNotShownAsZero() throws {
        let now = Timestamp(iso8601: "2026-11-29T14:00:02Z")!
        func update(_ customer: String, model: String, priced: Bool) -> UsageUpdate {
            UsageUpdate(
                timestamp: now.advanced(by: .seconds(-60)), tenantId: "t", customerId: customer, model: model, calls: 2,
                totalTokens: 100, cost: Money(micros: priced ? 1_500_000 : 0), isPriced: priced, avgLatencyMs: 10
            )
        }
        var ledger = UsageLedger()
        ledger.ingest(
            [
                update("known", model: "gpt-4", priced: true), update("mixed", model: "gpt-4", priced: true),
                update("mixed", model: "mystery-1", priced: false), update("unknown", model: "mystery-1", priced: false),
            ],
            now: now
        )
        let snapshot = ledger.snapshot(at: now, windows: true)
        let site = try Fixtures.renderer().render(snapshot)
        #expect(XMLValidator.validate(site).isEmpty)
        let page = Fixtures.text(site["index.html"])
        #expect(page.contains("Unpriced updates"))
        #expect(Fixtures.text(site["window-24h.html"]).contains("$1.50 + 1 unpriced"))
        #expect(page.contains("$1.50 + 1 unpriced"))  // customer "mixed"
        // The row of the customer whose only update had no price says so instead of $0.00.
        let row = try #require(page.range(of: ">unknown<").map { String(page[$0.upperBound...].prefix { $0 != "\n" }) })
        let rowEnd = try #require(row.range(of: "</tr>"))
        #expect(row[..<rowEnd.lowerBound].contains(">unpriced<"))
        #expect(!row[..<rowEnd.lowerBound].contains("$0.00"))
        let models = Fixtures.text(site["embed/cost-by-model.svg"])
        #expect(models.contains("unpriced"))
        let customers = Fixtures.text(site["embed/top-customers.svg"])
        #expect(customers.contains("unpriced"))
    }
}
