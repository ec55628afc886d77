import Foundation
import Hummingbird
import HummingbirdTesting
import SpendCore
import SpendServer
import Testing

/// `/api/anomalies` over a store in which a customer ran away and another tenant went silent.
@Suite("Anomaly API")
struct AnomalyAPITests {
    static let start = Timestamp(iso8601: "2026-11-29T14:00:00.000Z")!

    /// A store with two open incidents: a spike of one customer and a drop of the other tenant.
    static func store() async throws -> UsageStore {
        let reference = Simulator(configuration: .init(seed: 11, tenantCount: 2, customerCount: 6))
        let largest = reference.customers.max { reference.expectedDollarsPerHour($0) < reference.expectedDollarsPerHour($1) }!
        let other = reference.customers.first { $0.tenantId != largest.tenantId }!.tenantId
        let from = start.advanced(by: .seconds(180))
        let scenario = Scenario(
            name: "test",
            effects: [
                .init(target: .init(tenant: largest.tenantId, customer: largest.customerId), from: from, until: nil, change: .usage(times: 4)),
                .init(target: .init(tenant: other), from: from, until: nil, change: .silence),
            ])
        let simulator = Simulator(configuration: .init(seed: 11, tenantCount: 2, customerCount: 6, scenarios: [scenario]))
        let clock = ManualTimeSource(start)
        let store = UsageStore(clock: clock)
        for batch in simulator.hourlyUpdates(from: start.advanced(by: .seconds(-45 * 60)), to: start) { try await store.ingest(batch) }
        while clock.now < start.advanced(by: .seconds(8 * 60)) {
            let now = clock.now
            clock.advance(by: .seconds(5))
            try await store.ingest(simulator.updates(from: now, to: clock.now))
            _ = await store.snapshot()
        }
        return store
    }

    static func withServer(token: String? = nil, _ body: @Sendable (any TestClientProtocol, UsageStore) async throws -> Void) async throws {
        let store = try await store()
        let router = SpendboardApplication.router(store: store, board: SnapshotBoard(), settings: ServerSettings(ingestToken: token))
        // Live, on loopback: the write rule sees a real peer address.
        try await Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0))).test(.live) { client in
            try await body(client, store)
        }
    }

    struct Answer: Sendable {
        var status: HTTPResponse.Status
        var body: Data
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:] }
        var count: Int? { (json["anomalies"] as? [Any])?.count }
        var ids: [String] { (json["anomalies"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String } }
        var nextCursor: String? { json["nextCursor"] as? String }
    }

    static func list(_ client: any TestClientProtocol, _ query: String) async throws -> Answer {
        try await client.execute(uri: "/api/anomalies" + query, method: .get) { response in
            Answer(status: response.status, body: Data(buffer: response.body))
        }
    }

    @Test("listing filters by state, kind, scope and names, and pages without loss or repeats")
    func listing() async throws {
        try await Self.withServer { client, store in
            let all = await store.incidents
            #expect(all.count == 2, "\(all.map { "\($0.kind) \($0.subject) \($0.start)" })")
            let answer = try await Self.list(client, "")
            #expect(answer.status == .ok)
            #expect(answer.ids == all.map(\.id))
            #expect(answer.json["nextCursor"] is NSNull)
            let spike = try #require(all.first { $0.kind == .spike })
            let first = try #require((answer.json["anomalies"] as? [[String: Any]])?.first { $0["id"] as? String == spike.id })
            #expect(first["kind"] as? String == "spike" && first["scope"] as? String == "customer" && first["state"] as? String == "open")
            #expect(first["tenantId"] as? String == spike.subject.tenant && first["customerId"] as? String == spike.subject.customer)
            #expect((first["contributors"] as? [[String: Any]])?.isEmpty == false)
            #expect(first["acknowledgement"] is NSNull)

            #expect(try await Self.list(client, "?kind=drop").count == 1)
            // The silent tenant is nearly all one customer: the drop is that customer's.
            #expect(try await Self.list(client, "?scope=customer&kind=drop&state=open").count == 1)
            #expect(try await Self.list(client, "?scope=tenant").count == 0)
            #expect(try await Self.list(client, "?state=resolved").count == 0)
            #expect(try await Self.list(client, "?tenantId=\(spike.subject.tenant!)&customerId=\(spike.subject.customer!)").count == 1)
            #expect(try await Self.list(client, "?acknowledged=true").count == 0)

            // Pages of one: every incident once, in order.
            var seen: [String] = []
            var cursor: String?
            repeat {
                let page = try await Self.list(client, "?limit=1" + (cursor.map { "&cursor=\($0)" } ?? ""))
                seen += page.ids
                cursor = page.nextCursor
            } while cursor != nil && seen.count < 5
            #expect(seen == all.map(\.id))
        }
    }

    @Test(
        "bad parameters are 400s that name the parameter and the rule",
        arguments: [
            ("?state=closed", "state must be one of open, resolved"), ("?kind=x", "kind must be one of spike, drop"),
            ("?limit=0", "limit must be a whole number from 1 to 500"), ("?limit=abc", "limit must be"), ("?cursor=zzz", "cursor must be"),
            ("?acknowledged=yes", "acknowledged must be true or false"), ("?color=red", "unknown parameter color"),
            ("?state=open&state=resolved", "state may be given once"),
        ])
    func badParameters(query: String, message: String) async throws {
        try await Self.withServer { client, _ in
            let answer = try await Self.list(client, query)
            #expect(answer.status == .badRequest)
            #expect((answer.json["error"] as? String)?.contains(message) == true, "\(answer.json)")
        }
    }

    @Test("one incident by id; unknown and malformed ids are 404s")
    func byId() async throws {
        try await Self.withServer { client, store in
            let id = try #require(await store.incidents.first?.id)
            try await client.execute(uri: "/api/anomalies/\(id)", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains("\"id\":\"\(id)\""))
            }
            for path in ["/api/anomalies/spike-total-1-0000000000000000", "/api/anomalies/..%2F..%2Fetc", "/api/anomalies/ABC"] {
                try await client.execute(uri: path, method: .get) { response in
                    #expect(response.status == .notFound, "\(path)")
                }
            }
        }
    }

    @Test("acknowledging by JSON marks the incident and keeps it; the rules of the body are checked")
    func acknowledgeByJSON() async throws {
        try await Self.withServer { client, store in
            let id = try #require(await store.incidents.first?.id)
            let uri = "/api/anomalies/\(id)/ack"
            let json: HTTPFields = [.contentType: "application/json"]
            for (body, status, message) in [
                (#"{"reason":"bored"}"#, HTTPResponse.Status.unprocessableContent, "reason must be one of expected, not-an-issue, investigating"),
                (#"{"note":"x"}"#, .unprocessableContent, "reason is required"),
                (#"{"reason":"expected","note":"\#(String(repeating: "é", count: 501))"}"#, .unprocessableContent, "at most 500 characters"),
                (#"{"reason":"expected","by":"me"}"#, .unprocessableContent, "unknown field by"),
                (#"{"reason":"expected""#, .badRequest, "not valid JSON"),
                (#"["expected"]"#, .unprocessableContent, "JSON object"),
            ] {
                try await client.execute(uri: uri, method: .post, headers: json, body: ByteBuffer(string: body)) { response in
                    #expect(response.status == status, "\(body)")
                    #expect(response.errorMessage?.contains(message) == true, "\(response.errorMessage ?? "")")
                }
            }
            #expect(await store.incident(id)?.acknowledgement == nil)
            try await client.execute(
                uri: uri, method: .post, headers: json, body: ByteBuffer(string: #"{"reason":"not-an-issue","note":"  a <b>load test</b>  "}"#)
            ) { response in
                #expect(response.status == .ok)
            }
            let acknowledged = await store.incident(id)?.acknowledgement
            #expect(acknowledged?.reason == .notAnIssue && acknowledged?.note == "a <b>load test</b>")
            #expect(await store.incident(id)?.state == .open)
            try await client.execute(
                uri: "/api/anomalies/spike-total-1-0000000000000000/ack", method: .post, headers: json,
                body: ByteBuffer(string: #"{"reason":"expected"}"#)
            ) { response in
                #expect(response.status == .notFound)
            }
        }
    }

    @Test("the page's form acknowledges and goes back; a cross-site post is refused and changes nothing")
    func acknowledgeByForm() async throws {
        try await Self.withServer { client, store in
            let id = try #require(await store.incidents.first?.id)
            let uri = "/api/anomalies/\(id)/ack"
            let form: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
            for (header, value) in [("Sec-Fetch-Site", "cross-site"), ("Origin", "https://evil.example")] {
                var headers = form
                headers.append(.init(name: .init(header)!, value: value))
                try await client.execute(uri: uri, method: .post, headers: headers, body: ByteBuffer(string: "reason=expected")) { response in
                    #expect(response.status == .forbidden)
                    #expect(response.errorMessage?.contains("cross-site") == true)
                }
            }
            #expect(await store.incident(id)?.acknowledgement == nil)
            var headers = form
            headers.append(.init(name: .init("Sec-Fetch-Site")!, value: "same-origin"))
            try await client.execute(
                uri: uri, method: .post, headers: headers, body: ByteBuffer(string: "reason=investigating&note=on+it%21&back=%2Fwindow-24h.html")
            ) { response in
                #expect(response.status == .seeOther)
                #expect(response.headers[.location] == "/window-24h.html")
            }
            #expect(await store.incident(id)?.acknowledgement?.note == "on it!")
            // Never back to another site.
            try await client.execute(uri: uri, method: .post, headers: headers, body: ByteBuffer(string: "reason=expected&back=%2F%2Fevil.example")) {
                response in
                #expect(response.headers[.location] == "/")
            }
        }
    }

    @Test("with a token, acknowledging needs it, as a bearer header or the form's field")
    func tokenRule() async throws {
        try await Self.withServer(token: "s3cret") { client, store in
            let id = try #require(await store.incidents.first?.id)
            let uri = "/api/anomalies/\(id)/ack"
            try await client.execute(
                uri: uri, method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: #"{"reason":"expected"}"#)
            ) {
                response in
                #expect(response.status == .unauthorized)
                #expect(response.headers[.wwwAuthenticate]?.hasPrefix("Bearer") == true)
            }
            try await client.execute(
                uri: uri, method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                body: ByteBuffer(string: "reason=expected&token=wrong")
            ) { response in
                #expect(response.status == .unauthorized)
            }
            #expect(await store.incident(id)?.acknowledgement == nil)
            try await client.execute(
                uri: uri, method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                body: ByteBuffer(string: "reason=expected&token=s3cret")
            ) { response in
                #expect(response.status == .seeOther)
            }
            try await client.execute(
                uri: uri, method: .post, headers: [.contentType: "application/json", .authorization: "Bearer s3cret"],
                body: ByteBuffer(string: #"{"reason":"investigating"}"#)
            ) { response in
                #expect(response.status == .ok)
            }
            #expect(await store.incident(id)?.acknowledgement?.reason == .investigating)
        }
    }
}
