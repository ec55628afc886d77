import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import SpendCore
import SpendReport
import Testing

@testable import SpendServer

/// The OpenAPI document (`docs/openapi.json`) against what the server really serves: every
/// route of the router, every file of the live site and of the archive is in the document with
/// its methods, and every path and method of the document is served. The binary's copy is the
/// file's.
struct OpenAPIDocumentTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let logger = Logger(label: "spendboard.tests", factory: { _ in SwiftLogNoOpLogHandler() })

    /// The document's operations: path template → methods (lowercase, as OpenAPI writes them).
    static func documented() throws -> [String: Set<String>] {
        let data = try Data(contentsOf: repository.appendingPathComponent("docs/openapi.json"))
        let document = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect((document["openapi"] as? String)?.hasPrefix("3.1") == true)
        let paths = try #require(document["paths"] as? [String: [String: Any]])
        let verbs: Set<String> = ["get", "head", "post", "put", "delete", "patch", "options", "trace"]
        return paths.mapValues { Set($0.keys).intersection(verbs) }
    }

    /// A path template as a pattern: each `{name}` stands for one non-empty segment part.
    static func matches(_ template: String, _ path: String) -> Bool {
        var pattern = "^"
        var rest = Substring(template)
        while let open = rest.firstIndex(of: "{"), let close = rest[open...].firstIndex(of: "}") {
            pattern += NSRegularExpression.escapedPattern(for: String(rest[..<open])) + "[^/]+"
            rest = rest[rest.index(after: close)...]
        }
        pattern += NSRegularExpression.escapedPattern(for: String(rest)) + "$"
        return path.range(of: pattern, options: .regularExpression) != nil
    }

    /// The router of a server with everything on: the report route, the archive and metrics.
    static func router(archive: ArchiveWriter, store: UsageStore, board: SnapshotBoard) throws -> Router<SpendRequestContext> {
        let renderer = try ReportRenderer(configuration: .init(templatesDirectory: nil), logger: logger)
        return SpendboardApplication.router(
            store: store, board: board, site: LiveSite(), settings: ServerSettings(), archive: archive, renderer: renderer,
            metrics: SpendboardMetrics())
    }

    /// Every path the live site and an archive of one snapshot serve with GET and HEAD.
    static func servedFiles(site: RenderedSite, archiveRoot: String) throws -> [String] {
        var paths = ["/"] + site.files.map { "/" + $0.path }
        paths += ["/archive", "/archive/"]
        let archiveFolder = archiveRoot + "/archive"
        let enumerator = try #require(FileManager.default.enumerator(atPath: archiveFolder))
        for case let relative as String in enumerator where !relative.split(separator: "/").contains(where: { $0.hasPrefix(".") }) {
            var isDirectory: ObjCBool = false
            let exists = FileManager.default.fileExists(atPath: archiveFolder + "/" + relative, isDirectory: &isDirectory)
            if exists && isDirectory.boolValue {
                // Redirected to the slash; the slash serves the folder's page, if it has one.
                paths.append("/archive/" + relative)
                if FileManager.default.fileExists(atPath: archiveFolder + "/" + relative + "/index.html") {
                    paths.append("/archive/" + relative + "/")
                }
            } else {
                paths.append("/archive/" + relative)
            }
        }
        return paths
    }

    @Test func theBinarysCopyIsTheDocument() throws {
        let file = try String(contentsOf: Self.repository.appendingPathComponent("docs/openapi.json"), encoding: .utf8)
        #expect(
            BundledOpenAPI.json == file || BundledOpenAPI.json == file + "\n",
            "run scripts/generate-bundled-openapi.sh after editing docs/openapi.json")
    }

    @Test func everyRouteAndFileIsDocumentedAndEveryDocumentedOperationIsServed() async throws {
        let documented = try Self.documented()
        let root = NSTemporaryDirectory() + "spendboard-openapi-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let fixture = await APIFixture(history: .seconds(10))
        let archive = ArchiveWriter(
            catalog: ArchiveCatalog(directory: root + "/archive", logger: Self.logger),
            renderer: try ArchiveRenderer(renderer: ArchiveServingTests.renderer),
            configuration: .init(every: .seconds(300), durable: false), clock: fixture.clock, logger: Self.logger
        )
        try archive.archive(ArchiveServingTests.site, entry: ArchiveEntry(snapshot: UsageLedger().snapshot(at: APIFixture.now)))
        let router = try Self.router(archive: archive, store: fixture.store, board: fixture.board)

        // The router's routes, with the HEAD it generates for each GET.
        var served: [String: Set<String>] = [:]
        for route in router.routes {
            let path = route.path.description
            served[path, default: []].insert(route.method.rawValue.lowercased())
            if route.method == .get { served[path, default: []].insert("head") }
        }
        #expect(served["/api/anomalies/{id}/ack"] == ["post"], "route paths are written as OpenAPI templates: \(served.keys.sorted())")
        for (path, methods) in served {
            #expect(
                documented[path] == methods, "\(path): the router answers \(methods.sorted()), the document has \(documented[path]?.sorted() ?? [])")
        }

        // The files: each matches a documented template with GET and HEAD, and each template
        // that is no route matches some file.
        // A site of a store with usage: every window's pages, embeds and JSON.
        let site = try ArchiveServingTests.renderer.render(await fixture.store.snapshot())
        let files = try Self.servedFiles(site: site, archiveRoot: root)
        #expect(files.contains("/window-24h.json"))
        #expect(files.contains("/embed/gauge.svg"))
        #expect(files.contains { $0.hasPrefix("/archive/days/") })
        for file in files {
            let templates = documented.filter { served[$0.key] == nil && Self.matches($0.key, file) }
            #expect(!templates.isEmpty, "\(file) is served but no path of the document matches it")
            for (template, methods) in templates {
                #expect(methods == ["get", "head"], "\(template) (serving \(file)) has \(methods.sorted()); files answer GET and HEAD only")
            }
        }
        for template in documented.keys where served[template] == nil {
            #expect(files.contains { Self.matches(template, $0) }, "the document's \(template) matches nothing the server serves")
        }
    }

    @Test func theServerServesTheDocumentWithAnETag() async throws {
        let fixture = await APIFixture(history: .zero)
        let router = SpendboardApplication.router(store: fixture.store, board: fixture.board, settings: fixture.settings)
        try await Application(router: router).test(.router) { client in
            let etag = try await client.execute(uri: "/api/openapi.json", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "application/json; charset=utf-8")
                let json = try response.json
                #expect((json["openapi"] as? String)?.hasPrefix("3.1") == true)
                #expect((json["paths"] as? [String: Any])?["/api/stats"] != nil)
                return try #require(response.headers[.eTag])
            }
            try await client.execute(uri: "/api/openapi.json", method: .get, headers: [.ifNoneMatch: etag]) { response in
                #expect(response.status == .notModified)
                #expect(response.body.readableBytes == 0)
            }
            try await client.execute(uri: "/api/openapi.json", method: .post) { #expect($0.status == .methodNotAllowed) }
        }
    }
}
