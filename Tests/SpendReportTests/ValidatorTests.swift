import Testing

@testable import SpendReport

struct ValidatorTests {
    @Test func collectsEveryErrorWithFileAndLine() {
        let document = "<html>\n<body>\n<p>one</b>\n<br>\n<p>two &nbsp; </p>\n</body>\n</html>\n"
        let issues = XMLValidator.validate(Array(document.utf8), file: "index.html")
        #expect(issues.count >= 2)
        #expect(issues.allSatisfy { $0.file == "index.html" })
        #expect(issues.contains { $0.line == 3 && $0.message.contains("mismatch") })
        #expect(issues.contains { $0.line == 5 && $0.message.contains("nbsp") })
        #expect(issues[0].description.hasPrefix("index.html:3:"))
    }

    @Test func wellFormedPolyglotPassesAndNothingIsFetched() {
        let document = """
            <!DOCTYPE html>
            <html xmlns="http://www.w3.org/1999/xhtml"><head><title>t</title></head>
            <body><p>a&#160;b<br/></p><svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/></body></html>
            """
        #expect(XMLValidator.validate(Array(document.utf8), file: "ok.html") == [])
        let external = """
            <?xml version="1.0"?><!DOCTYPE r SYSTEM "http://example.invalid/x.dtd"><r>&ext;</r>
            """
        #expect(!XMLValidator.validate(Array(external.utf8), file: "ext.xml").isEmpty, "undeclared entity, and no DTD is loaded")
    }

    /// No tree is built, yet namespaces, attributes and the end of the document are checked.
    @Test func namespacesAttributesAndTruncationAreChecked() {
        let cases = [
            ("<svg xmlns=\"http://www.w3.org/2000/svg\"><xlink:a/></svg>", "xlink"),
            ("<p class=\"a\" class=\"b\">x</p>", "class"),
            ("<html><body><p>cut off", "end"),
            ("<p>\u{1}</p>", "Char"),
        ]
        for (document, word) in cases {
            let issues = XMLValidator.validate(Array(document.utf8), file: "x.html")
            #expect(!issues.isEmpty, "\(document)")
            #expect(issues.contains { $0.message.contains(word) }, "\(document): \(issues)")
        }
    }

    @Test func emptyFileIsAnIssue() {
        #expect(XMLValidator.validate([], file: "e.svg").first?.severity == .fatal)
    }

    @Test func theHandlerIsRemovedAfterEachParse() {
        _ = XMLValidator.validate(Array("<a>".utf8), file: "first.xml")
        let issues = XMLValidator.validate(Array("<b></c>".utf8), file: "second.xml")
        #expect(issues.allSatisfy { $0.file == "second.xml" })
    }
}
