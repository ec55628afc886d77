import Foundation
import Hummingbird
import HummingbirdTesting
import Metrics
import SpendCore
import SpendReport
import SpendServer
import Testing

/// `/metrics`: names, labels and values of the Prometheus exposition, the exact business
/// counters, ingest outcomes, Hummingbird's request metrics, and the access rule.
struct PrometheusMetricsTests {
    static let token = "metrics-secret"
    static let ingestToken = "ingest-secret"
    var scrapeHeaders: HTTPFields { [.authorization: "Bearer \(Self.token)"] }
    var ingestHeaders: HTTPFields { [.authorization: "Bearer \(Self.ingestToken)", .contentType: "application/json"] }

    /// A server with an empty store, `/metrics` behind a token, and its own registry bound as
    /// the task's swift-metrics factory (so Hummingbird's request metrics land in it).
    func withServer(
        metricsToken: String? = PrometheusMetricsTests.token,
        _ body: @Sendable (any TestClientProtocol, UsageStore, SpendboardMetrics) async throws -> Void
    ) async throws {
        let fixture = await APIFixture(
            settings: ServerSettings(ingestToken: Self.ingestToken, metricsToken: metricsToken), history: .zero)
        let metrics = SpendboardMetrics()
        let router = SpendboardApplication.router(
            store: fixture.store, board: fixture.board, settings: fixture.settings, metrics: metrics)
        try await withMetricsFactory(metrics.factory) {
            try await Application(router: router).test(.router) { client in try await body(client, fixture.store, metrics) }
        }
    }

    func update(tenant: String = "acme", model: String = "gpt-4", cost: String, calls: Int = 1, tokens: Int = 100) -> String {
        let name = String(decoding: try! JSONSerialization.data(withJSONObject: [tenant], options: [.withoutEscapingSlashes]), as: UTF8.self)
        return "{\"timestamp\": \"2026-11-29T13:59:00.000Z\", \"tenantId\": \(name.dropFirst().dropLast()), \"customerId\": \"cust-zq9\", "
            + "\"model\": \"\(model)\", \"metrics\": {\"totalCalls\": \(calls), \"totalTokens\": \(tokens), \"inputTokens\": \(tokens / 2), "
            + "\"outputTokens\": \(tokens / 2), \"totalCost\": \(cost), \"avgLatencyMs\": 100}}"
    }

    func post(_ client: any TestClientProtocol, _ items: [String]) async throws {
        try await client.execute(
            uri: "/api/metrics", method: .post, headers: ingestHeaders, body: ByteBuffer(string: "[" + items.joined(separator: ",") + "]")
        ) { response in
            #expect(response.status == .ok, "\(String(buffer: response.body))")
        }
    }

    func scrape(_ client: any TestClientProtocol) async throws -> Exposition {
        try await client.execute(uri: "/metrics", method: .get, headers: scrapeHeaders) { response in
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "text/plain; version=0.0.4; charset=utf-8")
            return Exposition(String(buffer: response.body))
        }
    }

    @Test func spendIsTheExactSumConvertedOnceNotADriftingSumOfDoubles() async throws {
        try await withServer { client, _, _ in
            // Ten batches of 0.1 dollar: as doubles, 0.1 added ten times is 0.9999999999999999.
            for _ in 0..<10 { try await post(client, [update(cost: "0.1")]) }
            var scraped = try await scrape(client)
            #expect(scraped.value("spendboard_spend_dollars_total", ["tenant": "acme", "model": "gpt-4"]) == 1.0)
            #expect(scraped.value("spendboard_calls_total", ["tenant": "acme", "model": "gpt-4"]) == 10)
            #expect(scraped.value("spendboard_tokens_total", ["tenant": "acme", "model": "gpt-4"]) == 1000)
            #expect(scraped.value("spendboard_input_tokens_total", ["tenant": "acme", "model": "gpt-4"]) == 500)
            #expect(scraped.value("spendboard_usage_updates_total", ["tenant": "acme", "model": "gpt-4"]) == 10)

            // Between scrapes the counter moves by the exact difference: 1 + 2.000000000001.
            try await post(client, [update(cost: "1.000000000001", calls: 2), update(cost: "1", calls: 3)])
            scraped = try await scrape(client)
            #expect(scraped.value("spendboard_spend_dollars_total", ["tenant": "acme", "model": "gpt-4"]) == 3.000000000001)
            #expect(scraped.value("spendboard_calls_total", ["tenant": "acme", "model": "gpt-4"]) == 15)
            // A scrape without new usage changes nothing.
            #expect(try await scrape(client).value("spendboard_spend_dollars_total", ["tenant": "acme", "model": "gpt-4"]) == 3.000000000001)
        }
    }

    @Test func spendIsLabelledByTenantAndModelNeverByCustomerAndNamesAreEscaped() async throws {
        try await withServer { client, _, _ in
            let hostile = #"ev"il\ten{ant} "#
            try await post(client, [update(tenant: hostile, model: "claude-3-opus", cost: "2.5"), update(tenant: "acme", cost: "1")])
            let scraped = try await scrape(client)
            #expect(scraped.text.contains(#"tenant="ev\"il\\ten{ant} ",model="claude-3-opus""#))
            #expect(scraped.value("spendboard_spend_dollars_total", ["tenant": hostile, "model": "claude-3-opus"]) == 2.5)
            #expect(scraped.value("spendboard_spend_dollars_total", ["tenant": "acme", "model": "gpt-4"]) == 1)
            #expect(!scraped.text.contains("customer=\""))
            #expect(!scraped.text.contains("cust-zq9"))
        }
    }

    @Test func ingestOutcomesAreCountedByResultAndReason() async throws {
        try await withServer { client, _, _ in
            try await post(client, [update(cost: "1"), update(cost: "2")])
            try await client.execute(
                uri: "/api/metrics", method: .post, headers: [.authorization: "Bearer \(Self.ingestToken)"], body: ByteBuffer(string: "[")
            ) {
                #expect($0.status == .badRequest)
            }
            try await client.execute(uri: "/api/metrics", method: .post, headers: ingestHeaders, body: ByteBuffer(string: "[{\"timestamp\": 1}]")) {
                #expect($0.status == .unprocessableContent)
            }
            try await client.execute(uri: "/api/metrics", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: "[]"))
            {
                #expect($0.status == .unauthorized)
            }
            try await client.execute(
                uri: "/api/metrics", method: .post, headers: [.authorization: "Bearer \(Self.ingestToken)", .contentType: "text/csv"],
                body: ByteBuffer(string: "a,b")
            ) { #expect($0.status == .unsupportedMediaType) }
            let scraped = try await scrape(client)
            #expect(scraped.value("spendboard_ingest_requests_total", ["result": "stored", "reason": "ok"]) == 1)
            #expect(scraped.value("spendboard_ingest_requests_total", ["result": "refused", "reason": "malformed"]) == 1)
            #expect(scraped.value("spendboard_ingest_requests_total", ["result": "refused", "reason": "invalid_updates"]) == 1)
            #expect(scraped.value("spendboard_ingest_requests_total", ["result": "refused", "reason": "unauthorized"]) == 1)
            #expect(scraped.value("spendboard_ingest_requests_total", ["result": "refused", "reason": "unsupported_media_type"]) == 1)
            #expect(scraped.value("spendboard_ingest_updates_total", ["result": "accepted"]) == 2)
        }
    }

    @Test func requestDurationsAreRecordedByRouteMethodAndStatusErrorsIncluded() async throws {
        try await withServer { client, _, _ in
            try await client.execute(uri: "/api/anomalies/not-an-id", method: .get) { #expect($0.status == .notFound) }
            try await client.execute(uri: "/api/health", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/nothing/here", method: .get) { #expect($0.status == .notFound) }
            let scraped = try await scrape(client)
            let notFound = ["http_route": "/api/anomalies/{id}", "http_request_method": "GET", "http_response_status_code": "404"]
            #expect(scraped.value("http_server_request_duration_seconds_count", notFound) == 1)
            #expect(scraped.value("http_server_requests_total", notFound) == 1)
            let health = ["http_route": "/api/health", "http_request_method": "GET", "http_response_status_code": "200"]
            #expect(scraped.value("http_server_request_duration_seconds_count", health) == 1)
            // Unknown paths share one label: their names are not labels.
            #expect(
                scraped.value(
                    "http_server_requests_total", ["http_route": "NotFound", "http_request_method": "GET", "http_response_status_code": "404"]) == 1)
            #expect(!scraped.text.contains("/nothing/here"))
            #expect(scraped.text.contains("# HELP http_server_request_duration_seconds "))
            #expect(scraped.text.contains("# TYPE http_server_request_duration_seconds histogram"))
        }
    }

    @Test func storeGaugesAndSnapshotStepsAreExposed() async throws {
        try await withServer { client, store, metrics in
            try await post(client, [update(cost: "1"), update(tenant: "other", cost: "1")])
            var timings = SnapshotPipeline.Timings()
            timings.render = .milliseconds(30)
            timings.validate = .milliseconds(3)
            metrics.recordSnapshot(timings, archived: false)
            metrics.recordSnapshotFailure(step: "validate")
            let scraped = try await scrape(client)
            let status = await store.status
            #expect(scraped.value("spendboard_raw_log_updates", [:]) == Double(status.rawUpdates))
            #expect(scraped.value("spendboard_raw_log_capacity_updates", [:]) == Double(status.rawCapacity))
            #expect(scraped.value("spendboard_store_models", [:]) == 1)
            #expect(scraped.value("spendboard_snapshot_step_duration_seconds_count", ["step": "render"]) == 1)
            #expect(scraped.value("spendboard_snapshot_step_duration_seconds_sum", ["step": "render"]) == 0.03)
            #expect(scraped.value("spendboard_snapshot_step_duration_seconds_bucket", ["step": "render", "le": "0.05"]) == 1)
            #expect(scraped.value("spendboard_snapshot_step_duration_seconds_bucket", ["step": "render", "le": "0.025"]) == 0)
            // Not archived this time: no archive duration.
            #expect(scraped.value("spendboard_snapshot_step_duration_seconds_count", ["step": "archive"]) == 0)
            #expect(scraped.value("spendboard_snapshot_failures_total", ["step": "validate"]) == 1)
            // No snapshot published yet.
            #expect(scraped.value("spendboard_snapshot_age_seconds", [:])?.isNaN == true)
        }
    }

    @Test(arguments: [nil, "Bearer wrong", "Basic bWV0cmljcy1zZWNyZXQ="])
    func withATokenMetricsNeedIt(authorization: String?) async throws {
        try await withServer { client, _, _ in
            var headers: HTTPFields = [:]
            if let authorization { headers[.authorization] = authorization }
            try await client.execute(uri: "/metrics", method: .get, headers: headers) { response in
                #expect(response.status == .unauthorized)
                #expect(response.headers[.wwwAuthenticate]?.hasPrefix("Bearer") == true)
                #expect(response.errorMessage?.contains("metrics token") == true)
                #expect(!String(buffer: response.body).contains("spendboard_"))
            }
        }
    }

    @Test func withoutATokenMetricsAreServedToLoopbackOnly() async throws {
        // The router test client has no peer address, like a remote one.
        try await withServer(metricsToken: nil) { client, _, _ in
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.status == .forbidden)
                #expect(response.errorMessage?.contains("loopback only") == true)
                #expect(response.errorMessage?.contains("--metrics-token") == true)
            }
            // The ingest token does not open /metrics.
            try await client.execute(uri: "/metrics", method: .get, headers: [.authorization: "Bearer \(Self.ingestToken)"]) {
                #expect($0.status == .forbidden)
            }
        }
    }
}

/// Reads the Prometheus text format: sample lines by name and labels.
struct Exposition {
    let text: String
    /// `name{labels}` as written → value.
    private var samples: [String: String] = [:]

    init(_ text: String) {
        self.text = text
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " ") else { continue }
            samples[String(line[..<space])] = String(line[line.index(after: space)...])
        }
    }

    /// The value of the sample with exactly these labels (in any order), nil when absent.
    func value(_ name: String, _ labels: [String: String]) -> Double? {
        for (key, value) in samples {
            guard key == name || key.hasPrefix(name + "{") else { continue }
            if Self.labels(of: key, name: name) == labels { return Double(value) }
        }
        return nil
    }

    /// The labels of `name{a="x",b="y"}`, with the format's escapes undone.
    static func labels(of key: String, name: String) -> [String: String] {
        var labels: [String: String] = [:]
        var rest = key.dropFirst(name.count)
        guard rest.first == "{" else { return labels }
        rest = rest.dropFirst().dropLast()
        while let equals = rest.firstIndex(of: "=") {
            let label = String(rest[..<equals])
            var value = ""
            var index = rest.index(equals, offsetBy: 2)
            while rest[index] != "\"" {
                if rest[index] == "\\" {
                    index = rest.index(after: index)
                    value.append(rest[index] == "n" ? "\n" : rest[index])
                } else {
                    value.append(rest[index])
                }
                index = rest.index(after: index)
            }
            labels[label] = value
            rest = rest[rest.index(after: index)...].drop { $0 == "," }
        }
        return labels
    }
}
