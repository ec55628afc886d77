import Foundation
import Hummingbird
import HummingbirdTesting
import SpendCore
import SpendServer
import Testing

struct MetricsAPITests {
    static let nowMs = APIFixture.now.millisecondsSinceEpoch

    /// Every way `since` can be wrong, with the rule its message must name.
    @Test(arguments: [
        ("since=", "got an empty value"),
        ("since=abc", "digits only"),
        ("since=-1", "digits only"),
        ("since=%2B5", "digits only"),
        ("since=1e3", "digits only"),
        ("since=1.5", "digits only"),
        ("since=%205", "digits only"),
        ("since=0x10", "digits only"),
        ("since=12abc", "digits only"),
        ("since=9007199254740992", "at most 9007199254740991"),
        ("since=99999999999999999999999999", "at most 9007199254740991"),
        ("since=\(nowMs + 1)", "must not lie in the future"),
        ("since=\(nowMs - 3_600_001)", "at most 1h ago"),
        ("since=0", "at most 1h ago"),
        ("since=\(nowMs - 1000)&since=\(nowMs - 2000)", "at most once"),
        ("since=\(nowMs - 1000)&cursor=\(nowMs - 1000).5", "either since or cursor"),
        ("cursor=abc", "cursor must be the nextCursor"),
        ("cursor=\(nowMs - 3_700_000).1", "more than 1h into the past"),
        ("limit=0", "limit must be a base-10 integer from 1 to 10000"),
        ("limit=10001", "limit must be a base-10 integer from 1 to 10000"),
    ])
    func badQueriesGet400WithTheRule(query: String, rule: String) async throws {
        let fixture = await APIFixture()
        try await fixture.test { client in
            try await client.execute(uri: "/api/metrics?\(query)", method: .get) { response in
                #expect(response.status == .badRequest)
                #expect(response.headers[.contentType] == "application/json; charset=utf-8")
                let message = try #require(response.errorMessage)
                #expect(message.contains(rule), "\(message)")
                if query.hasPrefix("since") || query.hasPrefix("cursor") || query.hasPrefix("limit") {
                    #expect(message.hasPrefix(String(query.prefix { $0 != "=" })) || message.hasPrefix("give"))
                }
            }
        }
    }

    @Test(arguments: [Int64(0), 1, 2_000, 3_600_000])
    func sinceWithinTheHourReturnsOnlyLaterUpdatesOldestFirst(ago: Int64) async throws {
        let fixture = await APIFixture()
        let since = Self.nowMs - ago
        try await fixture.test { client in
            try await client.execute(uri: "/api/metrics?since=\(since)", method: .get) { response in
                #expect(response.status == .ok)
                let json = try response.json
                let metrics = try #require(json["metrics"] as? [[String: Any]])
                let stamps = metrics.compactMap { ($0["timestamp"] as? String).flatMap { Timestamp(iso8601: $0) } }
                #expect(stamps.count == metrics.count)
                #expect(stamps.allSatisfy { $0.millisecondsSinceEpoch > since })
                #expect(stamps == stamps.sorted())
                if ago == 2_000 { #expect((100...200).contains(metrics.count)) }
                if ago == 0 { #expect(metrics.isEmpty) }
                #expect(json["nextPollAfter"] as? Int == (json["truncated"] as? Bool == true ? 0 : 2000))
            }
        }
    }

    @Test func withoutSinceTheLastFiveMinutes() async throws {
        let fixture = await APIFixture()
        try await fixture.test { client in
            try await client.execute(uri: "/api/metrics", method: .get) { response in
                let json = try response.json
                let metrics = try #require(json["metrics"] as? [[String: Any]])
                let first = try #require((metrics.first?["timestamp"] as? String).flatMap { Timestamp(iso8601: $0) })
                #expect(first > APIFixture.now.advanced(by: .seconds(-300)))
                #expect(first < APIFixture.now.advanced(by: .seconds(-299)))
                // Five minutes at about 70 updates/s exceed one page of 10,000: the page is cut at
                // a millisecond boundary and says where to continue.
                #expect((9_900...10_000).contains(metrics.count))
                #expect(json["truncated"] as? Bool == true)
                let nextSince = try #require(json["nextSince"] as? Int64)
                #expect(metrics.last?["timestamp"] as? String == Timestamp(millisecondsSinceEpoch: nextSince).iso8601)
            }
        }
    }

    @Test func pagesFollowTheCursorWithoutLossOrRepeats() async throws {
        let settings = ServerSettings(maxPage: 997)
        let fixture = await APIFixture(settings: settings, history: .seconds(120))
        let expected = try await fixture.store.rawPage(after: .after(timestamp: Self.nowMs - 60_000), limit: 1_000_000).updates
        try await fixture.test { client in
            var collected: [String] = []
            var uri = "/api/metrics?since=\(Self.nowMs - 60_000)"
            var pages = 0
            while true {
                let json = try await client.execute(uri: uri, method: .get) { try $0.json }
                let metrics = try #require(json["metrics"] as? [[String: Any]])
                #expect(metrics.count <= 997)
                collected += metrics.map { "\($0["timestamp"]!)|\($0["customerId"]!)" }
                pages += 1
                guard json["truncated"] as? Bool == true else { break }
                #expect(json["nextPollAfter"] as? Int == 0)
                uri = "/api/metrics?cursor=\(try #require(json["nextCursor"] as? String))"
            }
            #expect(pages == (expected.count + 996) / 997 || pages == (expected.count + 996) / 997 + 1)
            #expect(collected == expected.map { "\($0.timestamp.iso8601)|\($0.customerId)" })
        }
    }

    @Test func sinceOlderThanWhatIsKeptIsRefused() async throws {
        let fixture = await APIFixture(history: .seconds(600), rawCapacity: 1000)
        try await fixture.test { client in
            try await client.execute(uri: "/api/metrics?since=\(Self.nowMs - 300_000)", method: .get) { response in
                #expect(response.status == .badRequest)
                #expect(response.errorMessage?.contains("holds only the newest 1000 updates") == true)
            }
            try await client.execute(uri: "/api/metrics?since=\(Self.nowMs - 5_000)", method: .get) { response in
                #expect(response.status == .ok)
            }
        }
    }
}
