import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import SpendCore
import SpendReport
import SpendServer
import Testing

/// What checking the server against its OpenAPI document found (schemathesis, and reading the
/// code beside the document), each kept as a regression test.
struct ContractFindingsTests {
    /// Any other method on a route with a path parameter was a 404 "nothing is served" instead
    /// of a 405 with `Allow` (schemathesis' unsupported_method check).
    @Test(arguments: [
        ("PUT", "/api/anomalies/spike-customer-1796324200000-637afcc366f08edd", "GET, HEAD"),
        ("DELETE", "/api/anomalies/anything", "GET, HEAD"),
        ("GET", "/api/anomalies/spike-customer-1796324200000-637afcc366f08edd/ack", "POST"),
        ("PATCH", "/api/anomalies/x/ack", "POST"),
    ])
    func anotherMethodOnARouteWithAParameterIs405WithAllow(method: String, path: String, allow: String) async throws {
        let fixture = await APIFixture(history: .zero)
        let router = SpendboardApplication.router(store: fixture.store, board: fixture.board, settings: fixture.settings)
        try await Application(router: router).test(.router) { client in
            try await client.execute(uri: path, method: HTTPRequest.Method(method)!) { response in
                #expect(response.status == .methodNotAllowed)
                #expect(response.headers[.allow] == allow)
                #expect(response.errorMessage?.contains("\(method) is not allowed") == true)
            }
            // A path of another shape is still unknown.
            try await client.execute(uri: "/api/anomalies/a/b/c", method: .get) { #expect($0.status == .notFound) }
        }
    }

    /// `/archive/days` and a snapshot's `embed` folder were redirected to a slash that is a 404:
    /// a folder without a page is not found at once.
    @Test func aFolderWithoutAPageIsNotFoundInsteadOfRedirectedToA404() async throws {
        try await ArchiveServingTests().withArchive(1) { client, archive, _ in
            let folder = try #require(archive.entries.first?.folder)
            for path in ["/archive/days", "/archive/days/", "/archive/\(folder)/embed", "/archive/\(folder)/embed/"] {
                try await client.execute(uri: path, method: .get) { response in
                    #expect(response.status == .notFound, "\(path)")
                    #expect(response.headers[.location] == nil)
                }
            }
            try await client.execute(uri: "/archive/\(folder)", method: .get) { response in
                #expect(response.status == .movedPermanently)
                #expect(response.headers[.location] == "/archive/\(folder)/")
            }
        }
    }

    /// A repeated `limit` or `before` took the last value; every other route answers 400.
    @Test(arguments: ["limit=1&limit=2", "before=2026-11-29T14-05-00Z&before=2026-11-29T14-00-00Z"])
    func aRepeatedArchiveParameterIs400(query: String) async throws {
        try await ArchiveServingTests().withArchive(2) { client, _, _ in
            try await client.execute(uri: "/api/archive?" + query, method: .get) { response in
                #expect(response.status == .badRequest)
                #expect(response.errorMessage?.contains("may be given once") == true)
            }
        }
    }

    /// `/report` compared `If-None-Match` with its tag as a whole: a list of tags, a weak tag
    /// or `*` (as caches send them) got the page again instead of 304.
    @Test func reportAnswers304ToAnyMatchingTagForm() async throws {
        let fixture = await APIFixture(history: .seconds(600))
        let renderer = try ReportRenderer(configuration: .init(templatesDirectory: nil), logger: ArchiveServingTests.logger)
        try await fixture.test(renderer: renderer) { client in
            let etag = try await client.execute(uri: "/report?window=15m", method: .get) { response in
                #expect(response.status == .ok)
                return try #require(response.headers[.eTag])
            }
            for value in ["\"other\", \(etag)", "W/\(etag)", "*"] {
                try await client.execute(uri: "/report?window=15m", method: .get, headers: [.ifNoneMatch: value]) { response in
                    #expect(response.status == .notModified, "If-None-Match: \(value)")
                }
            }
        }
    }

    /// The form's `back` with control characters went into `Location` (as spaces); it goes
    /// to `/` like any other address that is not a plain path of this site.
    @Test func aBackAddressWithControlCharactersGoesHome() async throws {
        try await AnomalyAPITests.withServer { client, store in
            let id = try #require(await store.incidents.first?.id)
            let headers: HTTPFields = [.contentType: "application/x-www-form-urlencoded", .init("Sec-Fetch-Site")!: "same-origin"]
            for back in ["%2Fok%0D%0ASet-Cookie%3A+x%3D1", "%2Fa%09b", "%2Fa%C2%85b", "%2Fa+b"] {
                try await client.execute(
                    uri: "/api/anomalies/\(id)/ack", method: .post, headers: headers, body: ByteBuffer(string: "reason=expected&back=\(back)")
                ) { response in
                    #expect(response.status == .seeOther)
                    #expect(response.headers[.location] == "/", "back=\(back)")
                }
            }
        }
    }
}
