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
