import Foundation
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `/metrics` of the real binary read by real consumers: `promtool check metrics` (the format
/// and Prometheus' naming rules) and a Prometheus server that scrapes it with a bearer token.
/// Runs when Debian's `prometheus` is installed; `SPENDBOARD_REQUIRE_PROMETHEUS=1` (set by
/// `.ci/run`) makes it fail instead of skip without it.
@Suite(.serialized, .enabled(if: PrometheusServer.promtool != nil || PrometheusServer.required, "Debian's prometheus is not installed"))
struct PrometheusEndToEndTests {
    static let token = "scrape-secret"

    /// Posts `count` updates of `cost` dollars each for tenant `tenant` (loopback, no token).
    static func post(_ server: EndToEndTests.Server, tenant: String, count: Int, cost: String, batch: Int = 0) async throws {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let now = formatter.string(from: Date())
        let items = (0..<count).map { index in
            "{\"eventId\": \"\(tenant)-\(batch)-\(index)\", \"timestamp\": \"\(now)\", \"tenantId\": \"\(tenant)\", \"customerId\": \"c-\(index % 3)\", "
                + "\"model\": \"gpt-4\", \"metrics\": {\"totalCalls\": 2, \"totalTokens\": 300, \"totalCost\": \(cost), \"avgLatencyMs\": 90}}"
        }
        let (status, body) = try await server.post("/api/metrics", body: "[" + items.joined(separator: ",") + "]")
        #expect(status == 200, "\(String(decoding: body, as: UTF8.self))")
    }

    static func scrape(_ server: EndToEndTests.Server, token: String?) async throws -> (status: Int, text: String) {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(server.port)/metrics")!)
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }

    @Test func promtoolAcceptsTheScrapeAndPrometheusScrapesTheServerWithItsToken() async throws {
        let server = try await EndToEndTests.Server(arguments: [
            "--data", EndToEndTests.scratch("data"), "--no-simulator", "--render-interval", "1s", "--metrics-token", Self.token,
        ])
        defer { _ = server.process.isRunning ? kill(server.process.processIdentifier, SIGKILL) : 0 }
        // 0.1 dollar seven times: an exact 0.7, which seven binary additions of 0.1 miss.
        for batch in 0..<7 { try await Self.post(server, tenant: "t-prom", count: 1, cost: "0.1", batch: batch) }
        try await Self.post(server, tenant: "t-other", count: 4, cost: "0.25")
        _ = try await server.get("/nothing-here")
        // Answered by the live site's fast path, ahead of the router: counted all the same.
        for _ in 0..<3 { #expect(try await server.get("/embed/gauge.svg").status == 200) }

        #expect(try await Self.scrape(server, token: nil).status == 401)
        #expect(try await Self.scrape(server, token: "wrong").status == 401)
        let (status, text) = try await Self.scrape(server, token: Self.token)
        #expect(status == 200)
        let check = try PrometheusServer.promtoolCheck(text)
        #expect(check.status == 0, "promtool check metrics: \(check.output)")
        for family in [
            "http_server_request_duration_seconds", "http_server_requests_total", "spendboard_spend_dollars_total", "spendboard_calls_total",
            "spendboard_tokens_total", "spendboard_ingest_requests_total", "spendboard_snapshot_step_duration_seconds",
            "spendboard_snapshot_age_seconds", "spendboard_raw_log_used_ratio",
        ] {
            #expect(text.contains("# TYPE \(family) "), "\(family) is missing")
        }

        let prometheus = try await PrometheusServer.start(scraping: server.port, token: Self.token)
        defer { prometheus.stop() }
        let spend = try await prometheus.waitForValue(#"spendboard_spend_dollars_total{tenant="t-prom",model="gpt-4"}"#)
        #expect(spend == "0.7")
        #expect(try await prometheus.waitForValue(#"spendboard_spend_dollars_total{tenant="t-other",model="gpt-4"}"#) == "1")
        #expect(try await prometheus.waitForValue(#"sum(spendboard_calls_total)"#) == "22")
        #expect(try await prometheus.waitForValue(#"up{job="spendboard"}"#) == "1")
        let stored = try await prometheus.waitForValue(#"spendboard_ingest_requests_total{result="stored",reason="ok"}"#)
        #expect(stored == "8")
        let routes = try await prometheus.waitForValue(
            #"sum(http_server_requests_total{http_route="/api/metrics",http_request_method="POST",http_response_status_code="200"})"#)
        #expect(routes == "8")
        #expect(
            try await prometheus.waitForValue(
                #"http_server_requests_total{http_route="/embed/{chart}.svg",http_request_method="GET",http_response_status_code="200"}"#)
                == "3")

        // The example Grafana dashboard's queries are valid PromQL over these names: each panel
        // shows data (Grafana's variables set to "All").
        let dashboard = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: Self.repository.appendingPathComponent("docs/grafana-dashboard.json")))
                as? [String: Any])
        let panels = try #require(dashboard["panels"] as? [[String: Any]])
        #expect(panels.count >= 10)
        // Rates need two scrapes inside their window.
        _ = try await prometheus.waitForValue("count(rate(spendboard_calls_total[1m]))")
        for panel in panels {
            let title = panel["title"] as? String ?? "?"
            var shown = 0
            for target in panel["targets"] as? [[String: Any]] ?? [] {
                let expression = try #require(target["expr"] as? String)
                let (status, results) = try await prometheus.query(Self.grafana(expression))
                #expect(status == "success", "\(title): \(expression)")
                shown += results
            }
            #expect(shown > 0, "the panel \(title) shows nothing")
        }
    }

    /// The repository's root, from this file's path.
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// A dashboard query as Grafana sends it, with every variable set to all values.
    static func grafana(_ expression: String) -> String {
        expression.replacingOccurrences(of: "$__rate_interval", with: "1m").replacingOccurrences(of: "$__range", with: "1h")
            .replacingOccurrences(of: "$tenant", with: ".*").replacingOccurrences(of: "$model", with: ".*")
            .replacingOccurrences(of: "$instance", with: ".*")
    }
}

/// A throw-away Prometheus server on a free loopback port, with its own folder.
struct PrometheusServer {
    static let required = ProcessInfo.processInfo.environment["SPENDBOARD_REQUIRE_PROMETHEUS"] == "1"
    static let promtool = ["/usr/bin/promtool", "/usr/local/bin/promtool"].first { FileManager.default.isExecutableFile(atPath: $0) }
    static let binary = ["/usr/bin/prometheus", "/usr/local/bin/prometheus"].first { FileManager.default.isExecutableFile(atPath: $0) }

    let process: Process
    let directory: String
    let url: String

    /// `promtool check metrics` on `text`: its exit status and what it printed.
    static func promtoolCheck(_ text: String) throws -> (status: Int32, output: String) {
        let tool = try #require(promtool, "install Debian's prometheus to run the promtool check")
        let directory = EndToEndTests.scratch("promtool")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try text.write(toFile: directory + "/scrape.txt", atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "exec \"$0\" check metrics < \"$1/scrape.txt\" > \"$1/out.txt\" 2>&1", tool, directory]
        try process.run()
        process.waitUntilExit()
        return (process.terminationStatus, (try? String(contentsOfFile: directory + "/out.txt", encoding: .utf8)) ?? "")
    }

    /// Starts Prometheus scraping `127.0.0.1:port/metrics` every second with `token`, and waits
    /// until it answers.
    static func start(scraping port: Int, token: String) async throws -> PrometheusServer {
        let binary = try #require(binary, "install Debian's prometheus to run the Prometheus check")
        let directory = EndToEndTests.scratch("prometheus")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let config = """
            global:
              scrape_interval: 1s
              scrape_timeout: 1s
            scrape_configs:
              - job_name: spendboard
                authorization:
                  credentials: \(token)
                static_configs:
                  - targets: ["127.0.0.1:\(port)"]

            """
        try config.write(toFile: directory + "/prometheus.yml", atomically: true, encoding: .utf8)
        let listen = try PostgresServer.freePort()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = [
            "-c", "exec \"$0\" \"$@\" > \"\(directory)/prometheus.log\" 2>&1 < /dev/null", binary, "--config.file=\(directory)/prometheus.yml",
            "--storage.tsdb.path=\(directory)/data", "--web.listen-address=127.0.0.1:\(listen)",
        ]
        try process.run()
        let prometheus = PrometheusServer(process: process, directory: directory, url: "http://127.0.0.1:\(listen)")
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(120)
        while process.isRunning && clock.now < deadline {
            if let (_, response) = try? await URLSession.shared.data(from: URL(string: prometheus.url + "/-/ready")!),
                (response as? HTTPURLResponse)?.statusCode == 200
            {
                return prometheus
            }
            try await clock.sleep(for: .milliseconds(200))
        }
        let log = (try? String(contentsOfFile: directory + "/prometheus.log", encoding: .utf8)) ?? ""
        prometheus.stop()
        Issue.record("Prometheus was not ready within 120 s; it said: \(log.suffix(2000))")
        throw CancellationError()
    }

    /// The value of an instant query once it has exactly one result (60 s at most: scrapes are
    /// a second apart), as Prometheus writes it.
    func waitForValue(_ query: String) async throws -> String? {
        var components = URLComponents(string: url + "/api/v1/query")!
        components.queryItems = [URLQueryItem(name: "query", value: query)]
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(60)
        var last = ""
        repeat {
            let (data, _) = try await URLSession.shared.data(from: components.url!)
            last = String(decoding: data, as: UTF8.self)
            let json = try JSONSerialization.jsonObject(with: data) as? [String: Any]
            let results = (json?["data"] as? [String: Any])?["result"] as? [[String: Any]] ?? []
            if results.count == 1, let value = results[0]["value"] as? [Any], value.count == 2, let text = value[1] as? String {
                return text
            }
            try await clock.sleep(for: .milliseconds(250))
        } while clock.now < deadline
        Issue.record("\(query) had no single result within 60 s: \(last.prefix(500))")
        return nil
    }

    /// An instant query's status and number of results.
    func query(_ query: String) async throws -> (status: String, results: Int) {
        var components = URLComponents(string: url + "/api/v1/query")!
        components.queryItems = [URLQueryItem(name: "query", value: query)]
        let (data, _) = try await URLSession.shared.data(from: components.url!)
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let results = (json["data"] as? [String: Any])?["result"] as? [Any] ?? []
        return (json["status"] as? String ?? "?", results.count)
    }

    func stop() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        try? FileManager.default.removeItem(atPath: directory)
    }
}
