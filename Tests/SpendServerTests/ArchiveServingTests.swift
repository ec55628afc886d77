import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import SpendCore
import SpendReport
import SpendServer
import Testing

/// `/archive/…` from disk and `/api/archive`, through the real router.
struct ArchiveServingTests {
    static let logger = Logger(label: "spendboard.tests", factory: { _ in SwiftLogNoOpLogHandler() })
    static let renderer = try! ReportRenderer(configuration: .init(templatesDirectory: nil), logger: logger)
    static let site = try! renderer.render(UsageLedger().snapshot(at: APIFixture.now))

    /// An archive of `count` snapshots 5 minutes apart, served by a router.
    func withArchive(
        _ count: Int, _ body: @Sendable (any TestClientProtocol, ArchiveCatalog, String) async throws -> Void
    ) async throws {
        let root = NSTemporaryDirectory() + "spendboard-archive-serving-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let fixture = await APIFixture(history: .seconds(10))
        let archive = ArchiveWriter(
            catalog: ArchiveCatalog(directory: root + "/archive", logger: Self.logger), renderer: try ArchiveRenderer(renderer: Self.renderer),
            configuration: .init(every: .seconds(300), durable: false), clock: fixture.clock, logger: Self.logger
        )
        for index in 0..<count {
            var snapshot = UsageLedger().snapshot(at: APIFixture.now)
            snapshot.generatedAt = APIFixture.now.advanced(by: .seconds(300 * Int64(index)))
            var site = Self.site
            site.generatedAt = snapshot.generatedAt
            try archive.archive(site, entry: ArchiveEntry(snapshot: snapshot))
        }
        await fixture.publishSnapshot()
        let router = SpendboardApplication.router(store: fixture.store, board: fixture.board, settings: fixture.settings, archive: archive)
        try await Application(router: router).test(.router) { client in try await body(client, archive.catalog, root) }
    }

    @Test func listsSnapshotsNewestFirstWithPaging() async throws {
        try await withArchive(5) { client, archive, _ in
            let folders = archive.entries.map(\.folder)
            var next: String? = nil
            var seen: [String] = []
            repeat {
                let uri = "/api/archive?limit=2" + (next.map { "&before=\($0)" } ?? "")
                try await client.execute(uri: uri, method: .get) { response in
                    #expect(response.status == .ok)
                    let json = try response.json
                    #expect(json["total"] as? Int == 5)
                    let snapshots = try #require(json["snapshots"] as? [[String: Any]])
                    seen += snapshots.compactMap { $0["folder"] as? String }
                    #expect(
                        snapshots.allSatisfy {
                            ($0["path"] as? String)?.hasPrefix("/archive/") == true && $0["time"] is String && $0["spendRate"] != nil
                        })
                    next = json["nextBefore"] as? String
                }
            } while next != nil
            #expect(seen == folders)
            #expect(folders == folders.sorted(by: >))
        }
    }

    @Test(arguments: ["/api/archive?limit=0", "/api/archive?limit=x", "/api/archive?before=../../etc"])
    func badArchiveQueriesAre400(uri: String) async throws {
        try await withArchive(1) { client, _, _ in
            try await client.execute(uri: uri, method: .get) { response in
                #expect(response.status == .badRequest)
                #expect(response.errorMessage != nil)
            }
        }
    }

    @Test func servesTheIndexSnapshotPagesAndFilesWithTypesAndETags() async throws {
        try await withArchive(2) { client, archive, _ in
            let folder = archive.entries[0].folder
            try await client.execute(uri: "/archive/", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/html; charset=utf-8")
                #expect(String(buffer: response.body).contains(folder))
            }
            try await client.execute(uri: "/archive", method: .get) { response in
                #expect(response.status == .movedPermanently)
                #expect(response.headers[.location] == "/archive/")
            }
            try await client.execute(uri: "/archive/\(folder)", method: .get) { response in
                #expect(response.status == .movedPermanently)
                #expect(response.headers[.location] == "/archive/\(folder)/")
            }
            var etag = ""
            try await client.execute(uri: "/archive/\(folder)/embed/gauge.svg", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "image/svg+xml")
                #expect(response.headers[.cacheControl] == "public, max-age=86400")
                #expect(response.headers[.crossOriginResourcePolicy] == "cross-origin")
                etag = response.headers[.eTag] ?? ""
            }
            #expect(etag.hasPrefix("\""))
            try await client.execute(uri: "/archive/\(folder)/embed/gauge.svg", method: .get, headers: [.ifNoneMatch: etag]) { response in
                #expect(response.status == .notModified)
                #expect(response.body.readableBytes == 0)
            }
            try await client.execute(uri: "/archive/\(folder)/stats.json", method: .get) { response in
                #expect(response.headers[.contentType] == "application/json")
            }
            try await client.execute(uri: "/archive/\(folder)/", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.cacheControl] == "no-cache")
                #expect(String(buffer: response.body).contains("Archived snapshot of"))
            }
        }
    }

    @Test(arguments: [
        "/archive/../index.html", "/archive/%2e%2e/secret.txt", "/archive/%2E%2E%2Fsecret.txt", "/archive/x%2f..%2fsecret.txt",
        "/archive/.hidden/index.html", "/archive/link/secret.txt", "/archive/nothing-here.html", "/archive/index.html/x",
    ])
    func nothingOutsideTheArchiveIsServed(uri: String) async throws {
        try await withArchive(1) { client, _, root in
            try Data("TOP-SECRET-CONTENT".utf8).write(to: URL(fileURLWithPath: root + "/secret.txt"))
            try FileManager.default.createDirectory(atPath: root + "/archive/.hidden", withIntermediateDirectories: true)
            try Data("HIDDEN-CONTENT".utf8).write(to: URL(fileURLWithPath: root + "/archive/.hidden/index.html"))
            try FileManager.default.createSymbolicLink(atPath: root + "/archive/link", withDestinationPath: root)
            try await client.execute(uri: uri, method: .get) { response in
                #expect(response.status == .notFound)
                #expect(!String(buffer: response.body).contains("TOP-SECRET-CONTENT"))
                #expect(!String(buffer: response.body).contains("HIDDEN-CONTENT"))
            }
        }
    }

    @Test func healthShowsTheArchive() async throws {
        try await withArchive(2) { client, archive, _ in
            try await client.execute(uri: "/api/health", method: .get) { response in
                let json = try response.json
                let section = try #require(json["archive"] as? [String: Any])
                #expect(section["snapshots"] as? Int == 2)
                #expect(section["newest"] as? String == archive.entries[0].generatedAt.iso8601)
                #expect(section["lastError"] is NSNull)
            }
            try await client.execute(uri: "/archive/", method: .post) { response in
                #expect(response.status == .methodNotAllowed)
            }
        }
    }

    /// Each tick publishes, then archives what it published: the archived stats.json and SVGs
    /// are the published files under a second name, and the folder verifies.
    @Test func thePipelineArchivesThePublishedFiles() throws {
        let root = NSTemporaryDirectory() + "spendboard-pipeline-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: root) }
        let clock = ManualTimeSource(APIFixture.now)
        let archive = ArchiveWriter(
            catalog: ArchiveCatalog(directory: root + "/archive", logger: Self.logger), renderer: try ArchiveRenderer(renderer: Self.renderer),
            configuration: .init(every: .seconds(300), durable: false), clock: clock, logger: Self.logger
        )
        let pipeline = SnapshotPipeline(
            renderer: Self.renderer, publisher: Publisher(outputDirectory: root, durable: false, logger: Self.logger),
            sinks: [LiveSite().sink(renderInterval: .seconds(5))], archive: archive
        )
        _ = try pipeline.runBlocking(UsageLedger().snapshot(at: APIFixture.now))
        let folder = try #require(archive.catalog.entries.first?.folder)
        func inode(_ path: String) -> UInt64? {
            var info = stat()
            return stat(path, &info) == 0 ? UInt64(info.st_ino) : nil  // follows Output/stats.json -> .current/…
        }
        for path in ["stats.json", "embed/gauge.svg", "embed/top-customers.svg"] {
            #expect(inode(root + "/archive/" + folder + "/" + path) != nil)
            #expect(inode(root + "/archive/" + folder + "/" + path) == inode(root + "/" + path), "\(path)")
        }
        #expect(try ArchiveVerifier.verify(directory: root + "/archive").problems == [])
    }
}
