import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import SpendCore
import SpendReport
import SpendServer
import Testing

struct SiteServingTests {
    static let page = "<!DOCTYPE html><html><body>" + String(repeating: "<p>spend</p>", count: 400) + "</body></html>"

    func site(page: String = SiteServingTests.page, at generatedAt: Timestamp = APIFixture.now) -> RenderedSite {
        RenderedSite(
            generatedAt: generatedAt,
            files: [
                .init(path: "index.html", bytes: Array(page.utf8), contentType: RenderedSite.htmlContentType),
                .init(path: "stats.json", bytes: Array("{}".utf8), contentType: RenderedSite.jsonContentType),
                .init(
                    path: "embed/gauge.svg", bytes: Array("<svg xmlns=\"http://www.w3.org/2000/svg\"/>".utf8),
                    contentType: RenderedSite.svgContentType),
            ]
        )
    }

    /// Runs `body` twice: against the router (`SiteMiddleware`), and against a live server whose
    /// fast path (`LiveSiteHTTP1Channel`) answers the site ahead of the router; both must agree.
    func withServer(_ body: @Sendable (any TestClientProtocol, LiveSite, APIFixture) async throws -> Void) async throws {
        for fastPath in [false, true] {
            let fixture = await APIFixture(history: .seconds(10))
            let live = LiveSite()
            live.publish(site(), expiresAt: APIFixture.now.advanced(by: .seconds(5)))
            fixture.clock.advance(by: .seconds(1))
            let router = SpendboardApplication.router(store: fixture.store, board: fixture.board, site: live, settings: fixture.settings)
            if fastPath {
                let app = Application(
                    router: router, server: SpendboardApplication.httpServer(site: live, clock: fixture.clock, settings: fixture.settings),
                    configuration: .init(address: .hostname("127.0.0.1", port: 0)))
                try await app.test(.live) { client in try await body(client, live, fixture) }
            } else {
                try await Application(router: router).test(.router) { client in try await body(client, live, fixture) }
            }
        }
    }

    @Test func rootIsTheDashboardWithContentTypeETagAndExpiry() async throws {
        try await withServer { client, _, _ in
            try await client.execute(uri: "/", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/html; charset=utf-8")
                #expect(String(buffer: response.body) == Self.page)
                #expect(response.headers[.eTag]?.hasPrefix("\"") == true)
                // Published at 14:00:00 for 5 s, asked at 14:00:01: expires with the next render.
                #expect(response.headers[.cacheControl] == "public, max-age=4")
                #expect(response.headers[.crossOriginResourcePolicy] == "same-origin")
                #expect(response.headers[.contentSecurityPolicy]?.contains("default-src 'none'") == true)
                // The anomaly panel's form posts to this server, and nowhere else.
                #expect(response.headers[.contentSecurityPolicy]?.contains("form-action 'self'") == true)
            }
            try await client.execute(uri: "/embed/gauge.svg", method: .get) { response in
                #expect(response.headers[.contentType] == "image/svg+xml")
                #expect(response.headers[.crossOriginResourcePolicy] == "cross-origin")
            }
        }
    }

    @Test func revalidationAnswers304UntilTheContentChanges() async throws {
        try await withServer { client, live, _ in
            let etag = try await client.execute(uri: "/index.html", method: .get) { try #require($0.headers[.eTag]) }
            for header in [etag, "W/\(etag)", "\"other\", \(etag)", "*"] {
                try await client.execute(uri: "/index.html", method: .get, headers: [.ifNoneMatch: header]) { response in
                    #expect(response.status == .notModified, "\(header)")
                    #expect(response.body.readableBytes == 0)
                    #expect(response.headers[.eTag] == etag)
                }
            }
            // Same length, same second, different bytes: the tag must change.
            live.publish(site(page: Self.page.replacingOccurrences(of: "spend", with: "SPEND")), expiresAt: APIFixture.now.advanced(by: .seconds(5)))
            try await client.execute(uri: "/index.html", method: .get, headers: [.ifNoneMatch: etag]) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.eTag] != etag)
                #expect(String(buffer: response.body).contains("SPEND"))
            }
        }
    }

    @Test func gzipWhenAcceptedWithItsOwnTag() async throws {
        try await withServer { client, _, _ in
            let plain = try await client.execute(uri: "/", method: .get) { $0 }
            let zipped = try await client.execute(uri: "/", method: .get, headers: [.acceptEncoding: "br, gzip;q=0.8"]) { $0 }
            #expect(zipped.headers[.contentEncoding] == "gzip")
            #expect(zipped.headers[.vary] == "Accept-Encoding")
            #expect(zipped.body.readableBytes < plain.body.readableBytes / 5)
            #expect(zipped.headers[.eTag] != plain.headers[.eTag])
            #expect(Array(zipped.body.readableBytesView.prefix(2)) == [0x1f, 0x8b])
            let refused = try await client.execute(uri: "/", method: .get, headers: [.acceptEncoding: "gzip;q=0"]) { $0 }
            #expect(refused.headers[.contentEncoding] == nil)
            // Tiny files are not worth compressing.
            let small = try await client.execute(uri: "/stats.json", method: .get, headers: [.acceptEncoding: "gzip"]) { $0 }
            #expect(small.headers[.contentEncoding] == nil)
        }
    }

    @Test(arguments: [
        "/../Package.swift", "/..%2fPackage.swift", "/%2e%2e/%2e%2e/etc/passwd", "/embed/..%2fstats.json",
        "/embed%2fgauge.svg", "/embed/", "/index.html/", "//index.html", "/Index.html", "/archive/../index.html",
        "/.%2e/Sources/SpendCore/Store/UsageLedger.swift", "/%00index.html",
    ])
    func nothingOutsideThePublishedFilesIsServed(path: String) async throws {
        try await withServer { client, _, _ in
            try await client.execute(uri: path, method: .get) { response in
                #expect(response.status == .notFound, "\(path)")
                #expect(response.errorMessage != nil)
            }
        }
    }

    @Test func writesToPagesAre405() async throws {
        try await withServer { client, _, _ in
            try await client.execute(uri: "/index.html", method: .post) { response in
                #expect(response.status == .methodNotAllowed)
                #expect(response.headers[.allow] == "GET, HEAD")
            }
        }
    }
}

struct SnapshotServiceTests {
    struct Broken: Error, CustomStringConvertible {
        var description: String { "render failed: template exploded" }
    }

    @Test func aFailingPipelineKeepsThePreviousSnapshotAndSaysWhy() async throws {
        let fixture = await APIFixture(history: .seconds(60))
        let failing = ManagedFlag()
        let service = SnapshotService(
            store: fixture.store, board: fixture.board, interval: .seconds(5), clock: ContinuousClock(),
            logger: Logger(label: "test"), pipeline: { _ in if failing.value { throw Broken() } }
        )
        await service.tick()
        let first = try #require(fixture.board.latest?.snapshot.generatedAt)
        #expect(fixture.board.lastError == nil)

        fixture.clock.advance(by: .seconds(5))
        failing.value = true
        await service.tick()
        #expect(fixture.board.latest?.snapshot.generatedAt == first)
        #expect(fixture.board.lastError == "render failed: template exploded")

        fixture.clock.advance(by: .seconds(5))
        failing.value = false
        await service.tick()
        #expect(fixture.board.latest?.snapshot.generatedAt == first.advanced(by: .seconds(10)))
        #expect(fixture.board.lastError == nil)
    }
}

struct PublishingHealthTests {
    /// Old snapshots the publisher could not delete: the health says so and how many, until a
    /// publish cleans up completely (the count stays).
    @Test func cleanupFailuresDegradeTheHealthUntilCleared() async throws {
        let fixture = await APIFixture(history: .seconds(10))
        await fixture.publishSnapshot()
        fixture.board.recordCleanup(["unlink 'Output/.snapshots/x/index.html' failed: Read-only file system"])
        try await fixture.test { client in
            try await client.execute(uri: "/api/health", method: .get) { response in
                let json = try response.json
                #expect(json["status"] as? String == "degraded")
                let snapshot = try #require(json["snapshot"] as? [String: Any])
                #expect(snapshot["cleanupFailures"] as? Int == 1)
                #expect((snapshot["lastCleanupError"] as? String)?.contains("Read-only") == true)
            }
        }
        fixture.board.recordCleanup([])
        try await fixture.test { client in
            try await client.execute(uri: "/api/health", method: .get) { response in
                let json = try response.json
                #expect(json["status"] as? String == "ok")
                #expect((json["snapshot"] as? [String: Any])?["cleanupFailures"] as? Int == 1)
            }
        }
    }
}

/// A flag shared with a `@Sendable` closure.
final class ManagedFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var stored = false
    var value: Bool {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }
}
