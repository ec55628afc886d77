import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import SpendCore
import Testing

extension IngestAPITests {
    /// A `totalCost` the money type cannot hold (or above the most one update may cost) is a 422
    /// naming the field and the rule, on the fast path (plain digits) and the general one
    /// (exponents), and nothing of the batch is stored.
    @Test(arguments: ["9e9", "9000000000", "1e300", "1000000.000001"])
    func aTotalCostThatDoesNotFitIs422AndStoresNothing(cost: String) async throws {
        try await withServer { client, fixture in
            let before = await fixture.store.status.totalAccepted
            let bad = item(customer: "big-spender").replacingOccurrences(of: "\"totalCost\": 0.25", with: "\"totalCost\": \(cost)")
            try await client.execute(uri: "/api/metrics", method: .post, headers: auth, body: body([item(), bad])) { response in
                #expect(response.status == .unprocessableContent)
                let json = try response.json
                let message = try #require(json["error"] as? String)
                #expect(message.contains("metrics.totalCost") && message.contains("at most 1000000"), "\(message)")
                let problems = try #require(json["problems"] as? [[String: Any]])
                #expect(problems.count == 1)
                #expect(problems.first?["index"] as? Int == 1)
                #expect(problems.first?["field"] as? String == "metrics.totalCost")
                #expect((problems.first?["rule"] as? String)?.contains("at most 1000000") == true)
            }
            #expect(await fixture.store.status.totalAccepted == before)
            let page = try await fixture.store.rawPage(after: .after(timestamp: APIFixture.now.millisecondsSinceEpoch - 120_000), limit: 1000)
            #expect(!page.updates.contains { $0.customerId == "big-spender" || $0.customerId == "cust-x" })
        }
    }

    /// An update whose latency weight (average latency × calls) does not fit Int64 is a 422,
    /// not a crash of the server while it is written to the journal.
    @Test func aLatencyTimesCallsThatDoesNotFitIs422() async throws {
        try await withServer { client, fixture in
            let before = await fixture.store.status.totalAccepted
            let bad = item(calls: "4294967295").replacingOccurrences(of: "\"avgLatencyMs\": 100", with: "\"avgLatencyMs\": 42949672.95")
            try await client.execute(uri: "/api/metrics", method: .post, headers: auth, body: body([bad])) { response in
                #expect(response.status == .unprocessableContent)
                let problems = try #require(try response.json["problems"] as? [[String: Any]])
                #expect(problems.map { $0["field"] as? String } == ["metrics.avgLatencyMs"])
            }
            #expect(await fixture.store.status.totalAccepted == before)
        }
    }
}
