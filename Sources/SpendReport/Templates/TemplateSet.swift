import Foundation
import Mustache

/// The dashboard's Mustache templates, loaded and checked once at start-up.
///
/// swift-mustache fails silently (a missing folder gives an empty library, a missing partial
/// renders as nothing), so every required template is checked here by name, and templates may
/// use unescaped tags (`{{{…}}}`, `{{& …}}`) only for our own generated markup.
struct TemplateSet: Sendable {
    /// Every template the renderer uses, by name (file `<name>.mustache`).
    static let required = [
        "page", "main", "chart", "table", "anomalies", "style", "live-script",
        "archive-page", "archive-list", "archive-latest", "archive-style",
    ]
    /// The only keys that may be rendered unescaped: markup we generate ourselves.
    static let unescapedKeys: Set<String> = ["svg", "main", "chartStyle", "rows", "bodyRows"]

    let library: MustacheLibrary
    /// Where the templates came from, for logs: a directory or "bundled".
    let source: String

    /// Loads templates from `directory`, or the bundled copies when `directory` is nil or (with
    /// `fallbackToBundled`) does not exist. A directory that exists must hold every template.
    init(directory: String?, fallbackToBundled: Bool) throws {
        var texts: [String: String] = [:]
        let origin: String
        var isDirectory: ObjCBool = false
        if let directory, FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue {
            for name in Self.required {
                let path = (directory as NSString).appendingPathComponent(name + ".mustache")
                guard let data = FileManager.default.contents(atPath: path) else {
                    throw ReportError.templateMissing(name, directory: directory)
                }
                guard let text = String(data: data, encoding: .utf8) else {
                    throw ReportError.templateInvalid(name, source: path, reason: "not UTF-8")
                }
                texts[name] = text
            }
            origin = directory
        } else if let directory, !fallbackToBundled {
            throw ReportError.templateDirectoryMissing(directory)
        } else {
            texts = BundledTemplates.templates
            origin = "bundled"
        }
        try self.init(texts: texts, source: origin)
    }

    /// Parses and checks template texts by name.
    init(texts: [String: String], source: String) throws {
        var library = MustacheLibrary()
        for name in Self.required {
            guard let text = texts[name] else { throw ReportError.templateMissing(name, directory: source) }
            let whereClause = source == "bundled" ? "bundled" : (source as NSString).appendingPathComponent(name + ".mustache")
            if let tag = Self.firstUnsafeTag(in: text) {
                throw ReportError.unsafeTemplate(name, source: whereClause, tag: tag)
            }
            do {
                library.register(try MustacheTemplate(string: text), named: name)
            } catch {
                throw ReportError.templateInvalid(name, source: whereClause, reason: "\(error)")
            }
            guard library.getTemplate(named: name) != nil else {
                throw ReportError.templateInvalid(name, source: whereClause, reason: "not registered")
            }
        }
        self.library = library
        self.source = source
    }

    /// Renders `object` with the template `name`; an empty result is an error, never a page.
    func render(_ object: Any, template name: String) throws -> String {
        guard let text = library.render(object, withTemplate: name), !text.isEmpty else {
            throw ReportError.templateRenderedEmpty(name)
        }
        return text
    }

    /// The first `{{{key}}}` or `{{& key}}` whose key is not in `unescapedKeys`.
    static func firstUnsafeTag(in text: String) -> String? {
        var rest = Substring(text)
        while let open = rest.range(of: "{{") {
            rest = rest[open.upperBound...]
            let isTriple = rest.hasPrefix("{")
            let isAmpersand = rest.hasPrefix("&")
            guard isTriple || isAmpersand else { continue }
            guard let close = rest.range(of: "}}") else { return "{{" + rest.prefix(20) }
            var key = rest[rest.index(after: rest.startIndex)..<close.lowerBound]
            key = key.drop(while: { $0 == " " })
            while key.last == " " { key = key.dropLast() }
            if !unescapedKeys.contains(String(key)) {
                return isTriple ? "{{{\(key)}}}" : "{{& \(key)}}"
            }
            rest = rest[close.upperBound...]
        }
        return nil
    }
}
