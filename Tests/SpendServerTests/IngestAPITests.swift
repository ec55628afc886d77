import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import SpendCore
import SpendStorage
import Testing

@testable import SpendServer

struct IngestAPITests {
    static let token = "s3cret-token"

    func body(_ items: [String]) -> ByteBuffer {
        ByteBuffer(string: "[" + items.joined(separator: ",") + "]")
    }

    func item(id: String? = nil, customer: String = "cust-x", calls: String = "3", at: String = "2026-11-29T13:59:00.000Z") -> String {
        let event = id.map { "\"eventId\": \"\($0)\", " } ?? ""
        return "{\(event)\"timestamp\": \"\(at)\", \"tenantId\": \"t1\", \"customerId\": \"\(customer)\", \"model\": \"gpt-4\", "
            + "\"metrics\": {\"totalCalls\": \(calls), \"totalTokens\": 1000, \"totalCost\": 0.25, \"avgLatencyMs\": 100}}"
    }

    func withServer(token: String? = IngestAPITests.token, _ body: @Sendable (any TestClientProtocol, APIFixture) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("spendboard-ingest-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let fixture = await APIFixture(
            settings: ServerSettings(ingestToken: token), history: .seconds(10), journal: try SQLiteJournal(directory: directory))
        let router = SpendboardApplication.router(store: fixture.store, board: fixture.board, settings: fixture.settings)
        try await Application(router: router).test(.router) { client in try await body(client, fixture) }
    }

    var auth: HTTPFields { [.authorization: "Bearer \(Self.token)", .contentType: "application/json"] }

    @Test func aBatchIsStoredAndCountedOnceWhenRetried() async throws {
        try await withServer { client, fixture in
            let before = await fixture.store.status.totalAccepted
            let batch = body([item(id: "e1"), item(id: "e2"), item(id: "e1"), item()])
            try await client.execute(uri: "/api/metrics", method: .post, headers: auth, body: batch) { response in
                #expect(response.status == .ok)
                let json = try response.json
                #expect(json["accepted"] as? Int == 3)
                #expect(json["duplicates"] as? Int == 1)
            }
            // The producer retries the whole batch: only the update without an id is new.
            try await client.execute(uri: "/api/metrics", method: .post, headers: auth, body: batch) { response in
                #expect(response.status == .ok)
                let json = try response.json
                #expect(json["accepted"] as? Int == 1)
                #expect(json["duplicates"] as? Int == 3)
            }
            #expect(await fixture.store.status.totalAccepted == before + 4)
            let page = try await fixture.store.rawPage(after: .after(timestamp: APIFixture.now.millisecondsSinceEpoch - 120_000), limit: 100)
            #expect(page.updates.filter { $0.customerId == "cust-x" }.count == 4)
        }
    }

    @Test func ndjsonIsAccepted() async throws {
        try await withServer { client, _ in
            var headers = auth
            headers[.contentType] = "application/x-ndjson"
            try await client.execute(uri: "/api/metrics", method: .post, headers: headers, body: ByteBuffer(string: item() + "\n" + item() + "\n")) {
                response in
                #expect(response.status == .ok)
                let accepted = try response.json["accepted"] as? Int
                #expect(accepted == 2)
            }
        }
    }

    @Test func anInvalidItemRejectsTheWholeBatchAndNamesEveryProblem() async throws {
        try await withServer { client, fixture in
            let before = await fixture.store.status.totalAccepted
            let batch = body([item(), item(calls: "-1"), item(at: "2020-01-01T00:00:00Z")])
            try await client.execute(uri: "/api/metrics", method: .post, headers: auth, body: batch) { response in
                #expect(response.status == .unprocessableContent)
                let json = try response.json
                let problems = try #require(json["problems"] as? [[String: Any]])
                #expect(problems.map { $0["index"] as? Int } == [1, 2])
                #expect(problems.map { $0["field"] as? String } == ["metrics.totalCalls", "timestamp"])
                #expect((json["error"] as? String)?.contains("nothing was stored") == true)
            }
            #expect(await fixture.store.status.totalAccepted == before)
        }
    }

    @Test func malformedJSONIs400WithLineAndColumn() async throws {
        try await withServer { client, _ in
            try await client.execute(uri: "/api/metrics", method: .post, headers: auth, body: ByteBuffer(string: "[\n{\"a\": tru}]")) { response in
                #expect(response.status == .badRequest)
                let json = try response.json
                #expect(json["line"] as? Int == 2)
                #expect(json["column"] as? Int == 7)
                #expect((json["error"] as? String)?.contains("line 2, column 7") == true)
            }
        }
    }

    @Test func tooLargeIs413() async throws {
        try await withServer { client, _ in
            let big = ByteBuffer(string: "[" + String(repeating: " ", count: 1 << 20) + "]")
            try await client.execute(uri: "/api/metrics", method: .post, headers: auth, body: big) { response in
                #expect(response.status == .contentTooLarge)
                #expect(response.errorMessage?.contains("1 MiB") == true)
            }
            let many = body(Array(repeating: "{}", count: 10_001))
            try await client.execute(uri: "/api/metrics", method: .post, headers: auth, body: many) { response in
                #expect(response.status == .contentTooLarge)
                #expect(response.errorMessage?.contains("at most 10000 updates") == true)
            }
        }
    }

    @Test func otherContentTypesAre415() async throws {
        try await withServer { client, _ in
            var headers = auth
            headers[.contentType] = "text/csv"
            try await client.execute(uri: "/api/metrics", method: .post, headers: headers, body: body([item()])) { response in
                #expect(response.status == .unsupportedMediaType)
            }
        }
    }

    @Test(arguments: [nil, "Bearer wrong", "Bearer s3cret-token-longer", "Basic czNjcmV0", "s3cret-token", "Bearer "])
    func withATokenWritesNeedIt(authorization: String?) async throws {
        try await withServer { client, fixture in
            let before = await fixture.store.status.totalAccepted
            var headers: HTTPFields = [.contentType: "application/json"]
            if let authorization { headers[.authorization] = authorization }
            try await client.execute(uri: "/api/metrics", method: .post, headers: headers, body: body([item()])) { response in
                #expect(response.status == .unauthorized)
                #expect(response.headers[.wwwAuthenticate]?.hasPrefix("Bearer") == true)
            }
            #expect(await fixture.store.status.totalAccepted == before)
        }
    }

    @Test func withoutATokenOnlyLoopbackMayWrite() async throws {
        // The router test client has no peer address, like a remote one.
        try await withServer(token: nil) { client, _ in
            try await client.execute(uri: "/api/metrics", method: .post, headers: [.contentType: "application/json"], body: body([item()])) {
                response in
                #expect(response.status == .forbidden)
                #expect(response.errorMessage?.contains("loopback only") == true)
            }
        }
        #expect(IngestRoute.isLoopback(try SocketAddress(ipAddress: "127.0.0.1", port: 1)))
        #expect(IngestRoute.isLoopback(try SocketAddress(ipAddress: "127.8.9.10", port: 1)))
        #expect(IngestRoute.isLoopback(try SocketAddress(ipAddress: "::1", port: 1)))
        #expect(!IngestRoute.isLoopback(try SocketAddress(ipAddress: "10.0.0.1", port: 1)))
        #expect(!IngestRoute.isLoopback(try SocketAddress(ipAddress: "::2", port: 1)))
        #expect(!IngestRoute.isLoopback(nil))
    }

    @Test func tokensCompareWholly() {
        #expect(IngestRoute.constantTimeEquals(Array("abc".utf8), Array("abc".utf8)))
        #expect(!IngestRoute.constantTimeEquals(Array("abc".utf8), Array("abd".utf8)))
        #expect(!IngestRoute.constantTimeEquals(Array("abc".utf8), Array("abcd".utf8)))
        #expect(!IngestRoute.constantTimeEquals([], Array("a".utf8)))
    }
}
