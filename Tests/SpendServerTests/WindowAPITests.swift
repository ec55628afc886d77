import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import SpendCore
import SpendReport
import SpendServer
import Testing

/// `/api/stats?window=`, `?from=&to=` and `/report` through the router.
struct WindowAPITests {
    static let renderer = try! ReportRenderer(configuration: .init(templatesDirectory: nil), logger: Logger(label: "test"))

    @Test func statsOfAWindowAddUpToTheUpdates() async throws {
        let fixture = await APIFixture(history: .seconds(3 * 3600))
        let simulator = Simulator(configuration: .init(seed: 7))
        let updates = simulator.updates(from: APIFixture.now.advanced(by: .seconds(-3 * 3600)), to: APIFixture.now)
        try await fixture.test { client in
            try await client.execute(uri: "/api/stats?window=24h", method: .get) { response in
                #expect(response.status == .ok)
                let json = try response.json
                #expect(json["window"] as? String == "24h")
                let current = try #require(json["current"] as? [String: Any])
                let fromText = try #require(current["from"] as? String)
                let toText = try #require(current["to"] as? String)
                let from = try #require(Timestamp(iso8601: fromText))
                let to = try #require(Timestamp(iso8601: toText))
                let expected = updates.filter { $0.timestamp >= from && $0.timestamp < to }.reduce(Money.zero) { $0 + $1.cost.total }
                let totals = try #require(current["totals"] as? [String: Any])
                // Exact decimals: compare the text, never a double.
                let body = String(decoding: response.body.readableBytesView, as: UTF8.self)
                #expect(body.contains("\"totalCost\":\(expected.decimalText)"))
                #expect(totals["calls"] as? Int == updates.filter { $0.timestamp >= from && $0.timestamp < to }.reduce(0) { $0 + Int($1.calls) })
                #expect((json["points"] as? [Any])?.count ?? 0 >= 60)
            }
            try await client.execute(uri: "/api/stats?from=now-2h&to=now-1h", method: .get) { response in
                #expect(response.status == .ok)
                let json = try response.json
                #expect(json["window"] is NSNull)
                let current = try #require(json["current"] as? [String: Any])
                #expect(current["from"] as? String == "2026-11-29T12:00:00.000Z")
                #expect(current["to"] as? String == "2026-11-29T13:00:00.000Z")
            }
            // Without a range: the live snapshot, as before.
            try await client.execute(uri: "/api/stats", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
            }
        }
    }

    @Test(arguments: [
        ("/api/stats?window=2h", "window: must be one of"),
        ("/api/stats?from=yesterday", "from: must be an ISO-8601"),
        ("/api/stats?from=now-1h&to=now-2h", "to: must be after from"),
        ("/api/stats?from=now-40d", "from: lies outside the retention of 30 days"),
        ("/api/stats?from=now-30d&to=now%2B3d", "to: the range may be at most 31 days long"),
        ("/api/stats?from=now-3d&to=now-3d%2B20m", "from: the range holds no whole hour"),
        ("/api/stats?from=now-1h&from=now-2h", "from: give it once"),
        ("/report?from=nonsense", "from: must be an ISO-8601"),
        ("/report", "from: is required"),
    ])
    func badRangesGet400NamingTheParameter(uri: String, message: String) async throws {
        let fixture = await APIFixture()
        try await fixture.test(renderer: Self.renderer) { client in
            try await client.execute(uri: uri, method: .get) { response in
                #expect(response.status == .badRequest)
                let error = try #require(response.errorMessage)
                #expect(error.hasPrefix(message), "\(error)")
            }
        }
    }

    @Test func reportPageIsValidatedCachedAndConditional() async throws {
        let fixture = await APIFixture(history: .seconds(2 * 3600))
        try await fixture.test(renderer: Self.renderer) { client in
            let (etag, page) = try await client.execute(uri: "/report?from=now-90m&to=now", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == RenderedSite.htmlContentType)
                let page = String(decoding: response.body.readableBytesView, as: UTF8.self)
                #expect(page.contains("Spend over time"))
                #expect(page.contains("Compared with"))
                #expect(!page.contains("http-equiv=\"refresh\""))
                #expect(
                    XMLValidator.validate(
                        RenderedSite(generatedAt: APIFixture.now, files: [.init(path: "r.html", bytes: Array(page.utf8), contentType: "text/html")])
                    ).isEmpty)
                // No embeds on demand (nothing serves them), and no empty links.
                #expect(!page.contains("href=\"\""))
                #expect(!page.contains(".svg\""))
                return (try #require(response.headers[.eTag]), page)
            }
            // The page links its own numbers as JSON: the same range, cut the same way.
            let link = try #require(page.firstMatch(of: /href="(api\/stats\?[^"]+)"/)).1.replacingOccurrences(of: "&amp;", with: "&")
            try await client.execute(uri: "/" + link, method: .get) { response in
                #expect(response.status == .ok)
                let json = String(decoding: response.body.readableBytesView, as: UTF8.self)
                let range = try #require(link.firstMatch(of: /from=([^&]+)&to=(.+)$/))
                #expect(json.contains("\"current\":{\"from\":\"\(range.1)\",\"to\":\"\(range.2)\""), "\(json.prefix(300))")
            }
            try await client.execute(uri: "/report?from=now-90m&to=now", method: .get, headers: [.ifNoneMatch: etag]) { response in
                #expect(response.status == .notModified)
            }
            try await client.execute(uri: "/report?window=7d", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(decoding: response.body.readableBytesView, as: UTF8.self).contains("last 7 days"))
            }
        }
    }
}
