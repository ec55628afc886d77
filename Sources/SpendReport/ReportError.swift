#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why the report could not be set up, rendered or published.
///
/// A struct around a private enum, so cases can be added without breaking callers; the
/// description names the template, file or path involved.
public struct ReportError: Error, CustomStringConvertible, Sendable {
    private enum Kind: Sendable {
        case templateMissing(name: String, directory: String)
        case templateDirectoryMissing(directory: String)
        case templateInvalid(name: String, source: String, reason: String)
        case templateRenderedEmpty(name: String)
        case unsafeTemplate(name: String, source: String, tag: String)
        case validationFailed([ValidationIssue])
        case fileSystem(operation: String, path: String, errno: Int32)
        case unknownChart(String)
        case templateWithoutMain(name: String)
    }

    private let kind: Kind

    static func templateMissing(_ name: String, directory: String) -> Self { .init(kind: .templateMissing(name: name, directory: directory)) }
    static func templateDirectoryMissing(_ directory: String) -> Self { .init(kind: .templateDirectoryMissing(directory: directory)) }
    static func templateInvalid(_ name: String, source: String, reason: String) -> Self {
        .init(kind: .templateInvalid(name: name, source: source, reason: reason))
    }
    static func templateRenderedEmpty(_ name: String) -> Self { .init(kind: .templateRenderedEmpty(name: name)) }
    static func unsafeTemplate(_ name: String, source: String, tag: String) -> Self {
        .init(kind: .unsafeTemplate(name: name, source: source, tag: tag))
    }
    /// A snapshot whose files did not validate; the description lists the issues.
    public static func validationFailed(_ issues: [ValidationIssue]) -> Self { .init(kind: .validationFailed(issues)) }
    static func fileSystem(_ operation: String, path: String, errno: Int32) -> Self {
        .init(kind: .fileSystem(operation: operation, path: path, errno: errno))
    }

    static func unknownChart(_ id: String) -> Self { .init(kind: .unknownChart(id)) }
    static func templateWithoutMain(_ name: String) -> Self { .init(kind: .templateWithoutMain(name: name)) }

    /// The validation issues, when the error is a failed validation.
    public var validationIssues: [ValidationIssue] {
        if case .validationFailed(let issues) = kind { return issues }
        return []
    }

    public var description: String {
        switch kind {
        case .templateMissing(let name, let directory):
            "template '\(name)' is missing: expected \(directory)/\(name).mustache"
        case .templateDirectoryMissing(let directory):
            "templates directory '\(directory)' does not exist"
        case .templateInvalid(let name, let source, let reason):
            "template '\(name)' (\(source)) does not parse: \(reason)"
        case .templateRenderedEmpty(let name):
            "template '\(name)' rendered nothing: a partial it uses may be missing"
        case .unsafeTemplate(let name, let source, let tag):
            "template '\(name)' (\(source)) uses the unescaped tag \(tag); only our generated markup (svg, main, chartStyle, rows, bodyRows) may be inserted unescaped"
        case .validationFailed(let issues):
            "validation failed with \(issues.count) issue\(issues.count == 1 ? "" : "s"):\n"
                + issues.prefix(20).map { "  \($0)" }.joined(separator: "\n")
        case .fileSystem(let operation, let path, let errno):
            "\(operation) '\(path)' failed: \(String(cString: strerror(errno)))"
        case .unknownChart(let id):
            "no chart named '\(id)'; the charts are \(ReportRenderer.embedIDs.joined(separator: ", "))"
        case .templateWithoutMain(let name):
            "template '\(name)' never inserts {{{main}}}: its pages would have no figures"
        }
    }
}
