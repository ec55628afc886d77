import CLibXML2

/// One problem libxml2 found in a file.
public struct ValidationIssue: Hashable, Sendable, CustomStringConvertible {
    public enum Severity: String, Sendable {
        case warning, error, fatal
    }

    /// The file's path in the site (`index.html`, `embed/gauge.svg`).
    public var file: String
    /// 1-based line, 0 when libxml2 gives none.
    public var line: Int
    public var column: Int
    public var severity: Severity
    public var message: String

    public init(file: String, line: Int, column: Int, severity: Severity, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.severity = severity
        self.message = message
    }

    public var description: String { "\(file):\(line):\(column): \(severity.rawValue): \(message)" }
}

/// Checks that pages and SVGs are well-formed XML with libxml2, the only file that touches it.
///
/// Pages are polyglot HTML5, so the XML parser (not libxml2's HTML4-era HTML parser) checks
/// them. Every message is collected through a structured error handler installed for one
/// synchronous parse on the current thread (libxml2 keeps it per thread) and removed after.
/// Parsing never touches the network (`XML_PARSE_NONET`), never loads a DTD and never
/// substitutes entities; it runs in recovery mode (`XML_PARSE_RECOVER`) so that the errors after
/// the first one are reported too, not only the first fatal one.
///
/// ```swift
/// let issues = XMLValidator.validate(site)
/// for issue in issues { print(issue) }   // index.html:12:7: fatal: Opening and ending tag mismatch…
/// ```
public enum XMLValidator {
    /// Issues in every HTML and SVG file of the site; an empty array means it may be published.
    public static func validate(_ site: RenderedSite) -> [ValidationIssue] {
        var issues: [ValidationIssue] = []
        for file in site.files where !file.isReused && (file.path.hasSuffix(".html") || file.path.hasSuffix(".svg")) {
            issues += validate(file.bytes, file: file.path)
        }
        return issues
    }

    /// Issues in one document, in the order libxml2 reported them.
    public static func validate(_ bytes: [UInt8], file: String) -> [ValidationIssue] {
        _ = initialized
        let collector = Collector(file: file)
        guard !bytes.isEmpty else {
            return [ValidationIssue(file: file, line: 0, column: 0, severity: .fatal, message: "the file is empty")]
        }
        let options = Int32(XML_PARSE_NONET.rawValue | XML_PARSE_RECOVER.rawValue)
        let context = Unmanaged.passRetained(collector)
        xmlSetStructuredErrorFunc(context.toOpaque(), structuredHandler)
        // A SAX2 handler without callbacks: libxml2 checks everything it checks when it builds
        // a tree (tags, attributes, namespaces, entities, encoding) without building one.
        var handler = xmlSAXHandler()
        handler.initialized = XML_SAX2_MAGIC
        var parsed = false
        if let parser = xmlCreatePushParserCtxt(&handler, nil, nil, 0, file) {
            xmlCtxtUseOptions(parser, options)
            bytes.withUnsafeBufferPointer { buffer in
                buffer.withMemoryRebound(to: CChar.self) { chars in
                    _ = xmlParseChunk(parser, chars.baseAddress, Int32(chars.count), 1)
                }
            }
            parsed = parser.pointee.wellFormed != 0
            xmlFreeParserCtxt(parser)
        }
        xmlSetStructuredErrorFunc(nil, nil)
        context.release()
        if !parsed && collector.issues.isEmpty {
            collector.issues.append(ValidationIssue(file: file, line: 0, column: 0, severity: .fatal, message: "the document could not be parsed"))
        }
        return collector.issues
    }

    private static let initialized: Void = { xmlInitParser() }()

    private final class Collector {
        let file: String
        var issues: [ValidationIssue] = []
        init(file: String) { self.file = file }
    }

    private static let structuredHandler: xmlStructuredErrorFunc = { context, error in
        guard let context, let error else { return }
        let collector = Unmanaged<Collector>.fromOpaque(context).takeUnretainedValue()
        let severity: ValidationIssue.Severity =
            switch error.pointee.level {
            case XML_ERR_WARNING: .warning
            case XML_ERR_FATAL: .fatal
            default: .error
            }
        var message = error.pointee.message.map { String(cString: $0) } ?? "code \(error.pointee.code)"
        while message.last?.isWhitespace == true { message.removeLast() }
        collector.issues.append(
            ValidationIssue(
                file: collector.file, line: Int(error.pointee.line), column: Int(error.pointee.int2), severity: severity, message: message)
        )
    }
}
