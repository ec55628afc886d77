import Foundation
import Testing

@testable import SpendReport

struct TemplateLoadingTests {
    @Test func templatesThatDoNotParseStopStartUpNamingTheTemplate() throws {
        let directory = try Fixtures.templatesCopy { directory in
            try "<section>{{#charts}}<p>never closed</p>\n".write(toFile: "\(directory)/chart.mustache", atomically: true, encoding: .utf8)
        }
        let error = try #require(throws: ReportError.self) { try Fixtures.renderer(templates: directory) }
        #expect(error.description.contains("template 'chart'"))
        #expect(error.description.contains("does not parse"))
    }

    @Test func aMissingTemplateStopsStartUpNamingIt() throws {
        let directory = try Fixtures.templatesCopy { try FileManager.default.removeItem(atPath: "\($0)/table.mustache") }
        let error = try #require(throws: ReportError.self) { try Fixtures.renderer(templates: directory) }
        #expect(error.description.contains("template 'table' is missing"))
    }

    @Test func aTemplateThatRendersBrokenMarkupStopsStartUpWithTheLine() throws {
        let directory = try Fixtures.templatesCopy { directory in
            let path = "\(directory)/main.mustache"
            let text = try String(contentsOfFile: path, encoding: .utf8).replacingOccurrences(of: "</section>\n</div>", with: "</div>")
            try text.write(toFile: path, atomically: true, encoding: .utf8)
        }
        let error = try #require(throws: ReportError.self) { try Fixtures.renderer(templates: directory) }
        let issue = try #require(error.validationIssues.first)
        #expect(issue.file == "index.html")
        #expect(issue.line > 1)
        #expect(error.description.contains("index.html:"))
    }

    @Test func aPageTemplateWithoutTheMainPartStopsStartUp() throws {
        let directory = try Fixtures.templatesCopy { directory in
            let path = "\(directory)/page.mustache"
            let text = try String(contentsOfFile: path, encoding: .utf8).replacingOccurrences(of: "{{{main}}}", with: "")
            try text.write(toFile: path, atomically: true, encoding: .utf8)
        }
        let error = try #require(throws: ReportError.self) { try Fixtures.renderer(templates: directory) }
        #expect(error.description == "template 'page' never inserts {{{main}}}: its pages would have no figures")
    }

    @Test func unescapedDataInATemplateIsRefused() throws {
        let directory = try Fixtures.templatesCopy { directory in
            let path = "\(directory)/table.mustache"
            let text = try String(contentsOfFile: path, encoding: .utf8).replacingOccurrences(of: "{{text}}</th>", with: "{{{text}}}</th>")
            try text.write(toFile: path, atomically: true, encoding: .utf8)
        }
        let error = try #require(throws: ReportError.self) { try Fixtures.renderer(templates: directory) }
        #expect(error.description.contains("template 'table'"))
        #expect(error.description.contains("{{{text}}}"))
    }

    @Test func aMissingDirectoryFallsBackToTheBundledCopiesOnlyWhenAllowed() throws {
        let missing = NSTemporaryDirectory() + "no-such-templates-\(UUID().uuidString)"
        let renderer = try Fixtures.renderer(templates: missing, fallback: true)
        #expect(renderer.templates.source == "bundled")
        let error = try #require(throws: ReportError.self) { try Fixtures.renderer(templates: missing, fallback: false) }
        #expect(error.description.contains("does not exist"))
    }

    /// Fails when `Templates/` changed without `scripts/generate-bundled-templates.sh`.
    @Test func bundledCopiesMatchTheTemplatesFolder() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Fixtures.templatesDirectory).filter { $0.hasSuffix(".mustache") }
        #expect(Set(files.map { String($0.dropLast(".mustache".count)) }) == Set(BundledTemplates.templates.keys))
        for name in TemplateSet.required {
            let text = try String(contentsOfFile: "\(Fixtures.templatesDirectory)/\(name).mustache", encoding: .utf8)
            let same = BundledTemplates.templates[name] == text
            #expect(same, "Templates/\(name).mustache differs from the bundled copy: run scripts/generate-bundled-templates.sh")
        }
    }

    @Test func bundledAndFolderTemplatesRenderTheSameSite() throws {
        let fromFolder = try Fixtures.renderer().render(Fixtures.seededSnapshot)
        let bundled = try Fixtures.renderer(templates: nil).render(Fixtures.seededSnapshot)
        #expect(fromFolder.files.map(\.path) == bundled.files.map(\.path))
        for (a, b) in zip(fromFolder.files, bundled.files) {
            let same = a.bytes == b.bytes
            #expect(same, "\(a.path)")
        }
    }

    @Test func liveScriptStaysSmall() throws {
        let script = try #require(BundledTemplates.templates["live-script"])
        #expect(script.utf8.count <= 4096)
        #expect(!script.contains("]]>"))
    }
}
