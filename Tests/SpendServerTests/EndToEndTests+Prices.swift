import Foundation
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

extension EndToEndTests {
    /// `kill -HUP` reloads `--prices`: a bad file is refused with every problem named while the
    /// old prices stay in force; a good one prices every batch after it.
    @Test func sighupReloadsThePricesAndRefusesABadFile() async throws {
        let folder = Self.scratch("prices")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let file = folder + "/prices.json"
        func writePrices(_ entries: String) throws {
            try "{\"prices\": [\(entries)]}".write(toFile: file, atomically: true, encoding: .utf8)
        }
        try writePrices(#"{"model": "m", "effectiveFrom": "2020-01-01T00:00:00Z", "inputPerMillion": 1, "outputPerMillion": 2}"#)
        let server = try await Server(arguments: ["--data", folder + "/data", "--no-simulator", "--render-interval", "1s", "--prices", file])
        let start = Date()
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]

        /// Posts 1,000 input tokens of `m` without a cost and returns the cost it was booked at.
        func post(_ index: Int) async throws -> String? {
            let at = formatter.string(from: start.addingTimeInterval(Double(index - 10)))
            let line =
                #"{"eventId": "p\#(index)", "timestamp": "\#(at)", "tenantId": "t", "customerId": "c", "model": "m", "metrics": {"totalCalls": 1, "totalTokens": 1000, "inputTokens": 1000, "outputTokens": 0, "avgLatencyMs": 5}}"#
            let posted = try await server.post("/api/metrics", body: line, contentType: "application/x-ndjson")
            #expect(posted.status == 200, "\(String(decoding: posted.body, as: UTF8.self))")
            let since = Int64(start.addingTimeInterval(Double(index - 10)).timeIntervalSince1970 * 1000) - 1
            let page = try await server.get("/api/metrics?since=\(since)").body
            // The cost as the server wrote it: the number's text.
            let text = String(decoding: page, as: UTF8.self)
            guard let range = text.range(of: #""totalCost":"#) else { return nil }
            return String(text[range.upperBound...].prefix { $0 != "," && $0 != "}" })
        }
        /// The `prices` section of `/api/health` once `done` holds (the reload runs after the signal).
        func prices(until done: ([String: Any]) -> Bool) async throws -> [String: Any] {
            let deadline = ContinuousClock.now + .seconds(20)
            while true {
                let health = try #require(try JSONSerialization.jsonObject(with: try await server.get("/api/health").body) as? [String: Any])
                let prices = try #require(health["prices"] as? [String: Any])
                if done(prices) || ContinuousClock.now > deadline { return prices.merging(["status": health["status"] ?? ""]) { a, _ in a } }
                try await Task.sleep(for: .milliseconds(50))
            }
        }

        #expect(try await post(0) == "0.001")

        try writePrices(
            #"{"model": "m", "effectiveFrom": "2020-01-01T00:00:00Z", "inputPerMillion": 0.0000001, "outputPerMillion": 2}, {"model": "m", "effectiveFrom": "2020-01-01T00:00:00Z", "outputPerMillion": 2}"#
        )
        kill(server.process.processIdentifier, SIGHUP)
        let refused = try await prices { ($0["failedReloads"] as? Int) == 1 }
        let problems = try #require(refused["lastReloadProblems"] as? [String], "\(refused)")
        #expect(problems.count == 3, "\(problems)")
        #expect(problems.contains { $0.hasPrefix("prices[0].inputPerMillion") })
        #expect(problems.contains { $0.hasPrefix("prices[1].inputPerMillion") })
        #expect(problems.contains { $0.hasPrefix("prices[1].effectiveFrom") })
        #expect(refused["status"] as? String == "degraded")
        #expect(try await post(1) == "0.001", "the old prices stay in force")

        try writePrices(#"{"model": "m", "effectiveFrom": "2020-01-01T00:00:00Z", "inputPerMillion": 3.000001, "outputPerMillion": 2}"#)
        kill(server.process.processIdentifier, SIGHUP)
        let reloaded = try await prices { ($0["reloads"] as? Int) == 1 }
        #expect(reloaded["lastReloadProblems"] is NSNull)
        #expect(try await post(2) == "0.003000001")
        #expect(await server.stop(with: SIGTERM) == 0, "SIGHUP never ends the server")
    }
}
