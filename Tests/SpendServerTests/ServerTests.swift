import Foundation
import Hummingbird
import HummingbirdTesting
import SpendCore
import SpendServer
import Testing

struct StatsAndHealthTests {
    @Test func statsIsTheLatestSnapshotWithTheReferenceFields() async throws {
        let fixture = await APIFixture()
        try await fixture.test { client in
            try await client.execute(uri: "/api/stats", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                #expect(response.errorMessage?.contains("no snapshot") == true)
            }
        }
        await fixture.publishSnapshot()
        let snapshot = try #require(fixture.board.latest?.snapshot)
        try await fixture.test { client in
            try await client.execute(uri: "/api/stats", method: .get) { response in
                #expect(response.status == .ok)
                let json = try response.json
                #expect(json["generatedAt"] as? String == APIFixture.now.iso8601)
                #expect(json["totalCostPerHour"] as? Double == Double(snapshot.spendRatePerHour.decimalText))
                let top = try #require(json["topCustomers"] as? [[String: Any]])
                #expect(top.count == min(100, snapshot.customers.count))
                #expect(top.first?["customerId"] as? String == snapshot.customers.first?.customerId)
                #expect(top.first?["tenantId"] as? String == snapshot.customers.first?.tenantId)
                let byModel = try #require(json["costByModel"] as? [String: Double])
                #expect(Set(byModel.keys) == Set(snapshot.costByModel.map(\.model)))
                #expect((json["tokenUsage"] as? [String: Any])?["points"].map { ($0 as? [Any])?.count } == 60)
                #expect((json["spendPerHour"] as? [Any])?.count == 24)
                // The bytes are those published: stats.json and /api/stats never disagree.
                #expect(Array(response.body.readableBytesView) == fixture.board.latest?.json)
            }
        }
    }

    @Test func healthReportsStoreAndSnapshotAge() async throws {
        let fixture = await APIFixture()
        try await fixture.test { client in
            try await client.execute(uri: "/api/health", method: .get) { response in
                let json = try response.json
                #expect(json["status"] as? String == "starting")
            }
        }
        await fixture.publishSnapshot()
        fixture.clock.advance(by: .seconds(2))
        try await fixture.test { client in
            try await client.execute(uri: "/api/health", method: .get) { response in
                let json = try response.json
                #expect(json["status"] as? String == "ok")
                #expect(json["timestamp"] as? String == APIFixture.now.advanced(by: .seconds(2)).iso8601)
                #expect(json["uptime"] as? Double == 92)
                #expect((json["snapshot"] as? [String: Any])?["ageSeconds"] as? Double == 2)
                let store = try #require(json["store"] as? [String: Any])
                #expect((store["rawUpdates"] as? Int ?? 0) > 200_000)
                #expect(store["series"] as? Int == 100)
                #expect((json["updatesPerSecond"] as? Double).map { $0 > 50 && $0 < 90 } == true)
            }
        }
        // Three render intervals without a new snapshot: the renderer is stalled.
        fixture.clock.advance(by: .seconds(15))
        try await fixture.test { client in
            try await client.execute(uri: "/api/health", method: .get) { response in
                let status = try response.json["status"] as? String
                #expect(status == "degraded")
            }
        }
    }
}

struct RoutingTests {
    @Test func unknownPathsAre404InJSON() async throws {
        let fixture = await APIFixture(history: .seconds(10))
        try await fixture.test { client in
            for path in ["/nope", "/api", "/api/metrics/extra", "/../etc/passwd"] {
                try await client.execute(uri: path, method: .get) { response in
                    #expect(response.status == .notFound, "\(path)")
                    #expect(response.errorMessage != nil, "\(path)")
                }
            }
        }
    }

    @Test(arguments: [HTTPRequest.Method.post, .put, .delete, .patch])
    func wrongMethodsAre405WithAllow(method: HTTPRequest.Method) async throws {
        let fixture = await APIFixture(history: .seconds(10))
        try await fixture.test { client in
            try await client.execute(uri: "/api/stats", method: method) { response in
                #expect(response.status == .methodNotAllowed)
                #expect(response.headers[.allow] == "GET, HEAD")
                #expect(response.errorMessage?.contains("\(method.rawValue) is not allowed") == true)
            }
        }
    }

    @Test func headAnswersWithoutBody() async throws {
        let fixture = await APIFixture(history: .seconds(10))
        try await fixture.test { client in
            try await client.execute(uri: "/api/health", method: .head) { response in
                #expect(response.status == .ok)
                #expect(response.body.readableBytes == 0)
            }
        }
    }

    @Test func noCORSByDefault() async throws {
        let fixture = await APIFixture(history: .seconds(10))
        try await fixture.test { client in
            try await client.execute(uri: "/api/health", method: .get, headers: [.origin: "https://evil.example"]) { response in
                #expect(response.headers[.accessControlAllowOrigin] == nil)
            }
        }
    }

    @Test func listedOriginsMayReadButNotWrite() async throws {
        let fixture = await APIFixture(settings: ServerSettings(corsOrigins: ["https://status.example.com"]), history: .seconds(10))
        try await fixture.test { client in
            try await client.execute(uri: "/api/health", method: .get, headers: [.origin: "https://status.example.com"]) { response in
                #expect(response.headers[.accessControlAllowOrigin] == "https://status.example.com")
                #expect(response.headers[.vary] == "Origin")
            }
            try await client.execute(uri: "/api/health", method: .get, headers: [.origin: "https://other.example.com"]) { response in
                #expect(response.headers[.accessControlAllowOrigin] == nil)
            }
            try await client.execute(uri: "/api/stats", method: .options, headers: [.origin: "https://status.example.com"]) { response in
                #expect(response.status == .noContent)
                #expect(response.headers[.accessControlAllowMethods] == "GET, HEAD")
            }
            try await client.execute(uri: "/api/stats", method: .post, headers: [.origin: "https://status.example.com"]) { response in
                #expect(response.headers[.accessControlAllowOrigin] == nil)
            }
        }
    }
}
