import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import SpendApp
import SpendCore
import Testing

/// The real wiring of `spendboard serve`, started in process: what the binary does, without
/// launching it.
struct ApplicationTests {
    static let logger = Logger(label: "spendboard.tests", factory: { _ in SwiftLogNoOpLogHandler() })

    static func scratch(_ name: String) throws -> String {
        let path = NSTemporaryDirectory() + "spendboard-app-\(name)-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// A server on a free port with its own data and output folders and no simulator.
    static func configuration() throws -> ServeConfiguration {
        let root = try scratch("serve")
        var configuration = ServeConfiguration()
        configuration.port = 0
        configuration.simulator = nil
        configuration.data = root + "/data"
        configuration.report.output = root + "/output"
        configuration.archive.every = .seconds(1)
        return configuration
    }

    @Test func servesPublishesIngestsAndArchivesThroughTheRealWiring() async throws {
        let configuration = try Self.configuration()
        let app = try await buildApplication(configuration, logger: Self.logger)
        // The first snapshot is published before the server accepts a request.
        let output = configuration.report.output
        #expect(FileManager.default.fileExists(atPath: output + "/index.html"))
        #expect(FileManager.default.fileExists(atPath: output + "/embed/gauge.svg"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: output + "/archive").contains { $0.hasSuffix("Z") })
        try await app.test(.live) { client in
            try await client.execute(uri: "/index.html", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains("Spendboard"))
            }
            let now = ISO8601DateFormatter.withMilliseconds.string(from: Date())
            let update =
                #"{"timestamp":"\#(now)","tenantId":"t1","customerId":"c1","model":"gpt-4","metrics":{"totalCalls":2,"totalTokens":100,"totalCost":1.25,"avgLatencyMs":300}}"#
            try await client.execute(
                uri: "/api/metrics", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: "[\(update)]")
            ) { response in
                #expect(response.status == .ok, "\(String(buffer: response.body))")
            }
            try await client.execute(uri: "/api/metrics?since=0", method: .get) { response in
                #expect(response.status == .badRequest)  // more than an hour ago
            }
            try await client.execute(uri: "/api/health", method: .get) { response in
                #expect(response.status == .ok)
                let json = try #require(try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])
                let store = try #require(json["store"] as? [String: Any])
                #expect(store["totalAccepted"] as? Int == 1)
                let archive = try #require(json["archive"] as? [String: Any])
                // The first snapshot was archived at start; later ones as the seconds pass.
                #expect((archive["snapshots"] as? Int).map { $0 >= 1 } == true)
                let snapshot = try #require(json["snapshot"] as? [String: Any])
                #expect(snapshot["cleanupFailures"] as? Int == 0)
            }
            try await client.execute(uri: "/api/archive", method: .get) { response in
                #expect(response.status == .ok)
            }
            // History in reach: the live page links to the archive, an archived snapshot back.
            try await client.execute(uri: "/live-5s.html", method: .get) { response in
                #expect(String(buffer: response.body).contains(#"<a href="archive/index.html">Archive</a>"#))
            }
            var snapshotPage: String?
            try await client.execute(uri: "/archive/index.html", method: .get) { response in
                #expect(response.status == .ok)
                let page = String(buffer: response.body)
                snapshotPage = page.firstRange(of: #/href="(\d{4}-\d\d-\d\dT[\d-]+Z)/index.html"/#).map { String(page[$0].dropFirst(6).dropLast()) }
            }
            let folderPage = try #require(snapshotPage, "the archive index links a snapshot")
            try await client.execute(uri: "/archive/\(folderPage)", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains(#"<a href="../../index.html">Live dashboard</a>"#))
            }
        }
    }

    @Test func aDataFolderThatCannotBeOpenedIsAStartupError() async throws {
        var configuration = try Self.configuration()
        let file = try Self.scratch("file") + "/not-a-folder"
        try #require(FileManager.default.createFile(atPath: file, contents: Data("x".utf8)))
        configuration.data = file
        let error = try await #require(throws: StartupError.self) { try await buildApplication(configuration, logger: Self.logger) }
        #expect(error.description.contains("cannot open the data folder"))
    }

    @Test func missingTemplatesAreAStartupError() async throws {
        var configuration = try Self.configuration()
        configuration.report.templates = "/nonexistent/templates"
        let error = try await #require(throws: StartupError.self) { try await buildApplication(configuration, logger: Self.logger) }
        #expect(error.description.contains("cannot load the templates"))
    }

    /// A default configuration with one setting broken, named by its flag.
    static func broken(_ flag: String) -> ServeConfiguration {
        var configuration = ServeConfiguration()
        switch flag {
        case "--port": configuration.port = 70_000
        case "--render-interval": configuration.report.renderInterval = .milliseconds(50)
        case "--gauge-max": configuration.report.gaugeMax = -1
        case "--load": configuration.simulator?.load = 0
        case "--backfill": configuration.simulator?.backfill = .seconds(2 * 86_400)
        case "--raw-capacity": configuration.rawCapacity = 0
        case "--max-page": configuration.maxPage = 0
        case "--cors-origin": configuration.corsOrigins = ["example.com"]
        case "--archive-every": configuration.archive.every = .milliseconds(500)
        case "--archive-keep": configuration.archive.keep = 0
        case "--idle-timeout": configuration.idleTimeout = .milliseconds(10)
        case "--alert-webhook": configuration.alerts.webhooks = ["ftp://hooks.example.com/x"]
        case "--alert-secret":
            configuration.alerts.webhooks = ["https://hooks.example.com/x"]
            configuration.alerts.secret = "whsec_c2hvcnQ="
        case "--alertmanager": configuration.alerts.alertmanager = "http://user:password@127.0.0.1:9093"
        case "--alertmanager-interval": configuration.alerts.alertmanagerInterval = .zero
        case "--alert-retry-max": configuration.alerts.retry.maximum = .milliseconds(10)
        case "--alert-give-up-after": configuration.alerts.retry.giveUpAfter = .seconds(60)
        default: Issue.record("no way to break \(flag)")
        }
        return configuration
    }

    /// Every rule is checked before anything starts, named by its flag.
    @Test(arguments: [
        "--port", "--render-interval", "--gauge-max", "--load", "--backfill", "--raw-capacity", "--max-page", "--cors-origin",
        "--archive-every", "--archive-keep", "--idle-timeout", "--alert-webhook", "--alert-secret", "--alertmanager",
        "--alertmanager-interval", "--alert-retry-max", "--alert-give-up-after",
    ])
    func badSettingsAreRefusedByName(flag: String) throws {
        #expect(throws: Never.self) { try ServeConfiguration().validate() }
        let error = try #require(throws: ConfigurationError.self) { try Self.broken(flag).validate() }
        #expect(error.description.hasPrefix(flag), "\(error)")
    }

    /// Webhooks are signed: a webhook without a secret is refused at start, with the way to
    /// make one.
    @Test func aWebhookNeedsASecret() throws {
        var configuration = ServeConfiguration()
        configuration.alerts.webhooks = ["https://hooks.example.com/spendboard"]
        let error = try #require(throws: ConfigurationError.self) { try configuration.validate() }
        #expect(error.description.contains("--alert-secret") && error.description.contains("spendboard anomalies secret"), "\(error)")
        configuration.alerts.secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
        #expect(throws: Never.self) { try configuration.validate() }
    }

    @Test func renderNeedsSomeHistory() throws {
        var configuration = RenderConfiguration()
        configuration.source = .simulated(SimulatorSettings(backfill: .zero))
        let error = try #require(throws: ConfigurationError.self) { try configuration.validate() }
        #expect(error.description.hasPrefix("--backfill must be more than 0"))
    }

    /// `render` and `render --from` run the server's pipeline: the same files, validated and
    /// published; a bad file renders nothing and leaves the folder alone.
    @Test func renderJobPublishesTheSiteAndRefusesABadFile() async throws {
        var configuration = RenderConfiguration()
        configuration.report.output = try Self.scratch("render")
        configuration.source = .simulated(SimulatorSettings(backfill: .seconds(600)))
        let result = try await ReportJob(configuration, logger: Self.logger).run()
        #expect(result.accepted > 0)
        #expect(result.outcome.publication != nil)
        let published = FileManager.default.contents(atPath: configuration.report.output + "/stats.json")
        #expect(published.map(Array.init) == result.outcome.site["stats.json"]?.bytes)

        configuration.source = .file(name: "bad.ndjson", bytes: Array("{\"timestamp\": 1}\n".utf8), prices: nil)
        let error = try await #require(throws: ReportJob.InputError.self) { try await ReportJob(configuration, logger: Self.logger).run() }
        #expect(error.description.hasPrefix("bad.ndjson"))
        #expect(FileManager.default.contents(atPath: configuration.report.output + "/stats.json") == published)
    }

    /// `render --from-time/--to-time` and `--window` publish the range's report alone, with the
    /// exact sums of the updates in it; a range it cannot show names the flag and publishes nothing.
    @Test func renderJobPublishesTheReportOfARange() async throws {
        // Three days of one update an hour, each costing its hour of the day in cents.
        let start = Timestamp(iso8601: "2026-11-10T00:00:00Z")!
        var lines: [String] = []
        var yesterdayCents = 0
        for hour in 0..<72 {
            let time = start.advanced(by: .seconds(hour * 3600 + 1800))
            let cents = hour % 24 + 1
            if (24..<48).contains(hour) { yesterdayCents += cents }
            lines.append(
                "{\"timestamp\": \"\(time.iso8601)\", \"tenantId\": \"t\", \"customerId\": \"c\", \"model\": \"m\", "
                    + "\"metrics\": {\"totalCalls\": 2, \"totalTokens\": 10, \"totalCost\": \(Double(cents) / 100), \"avgLatencyMs\": 5}}")
        }
        var configuration = RenderConfiguration()
        configuration.report.output = try Self.scratch("render-range")
        configuration.source = .file(name: "usage.ndjson", bytes: Array(lines.joined(separator: "\n").utf8), prices: nil)
        // The report's time is the end of the file's newest update: relative times count from there.
        configuration.range = .init(from: "now-1d/d", to: "now-1d/d")
        let result = try await ReportJob(configuration, logger: Self.logger).run()
        guard case .range(let report) = result.content else {
            Issue.record("rendered the live site")
            return
        }
        #expect(report.current.start == Timestamp(iso8601: "2026-11-11T00:00:00Z"))
        #expect(report.current.end == Timestamp(iso8601: "2026-11-12T00:00:00Z"))
        let cent: Int64 = 10_000  // micro-dollars
        #expect(report.current.totals.totalCost == Money(micros: Int64(yesterdayCents) * cent))
        #expect(report.current.totals.calls == 48)
        #expect(report.previous?.totals.totalCost == Money(micros: Int64((1...24).reduce(0, +)) * cent))
        let paths = Set(result.outcome.site.files.map(\.path))
        #expect(paths.isSuperset(of: ["index.html", "stats.json", "embed/spend-over-time.svg", "embed/top-customers.svg"]))
        #expect(!paths.contains("live-5s.html"))
        let output = configuration.report.output
        let published = try #require(FileManager.default.contents(atPath: output + "/stats.json"))
        #expect(Array(published) == report.jsonBytes())
        let page = try #require(FileManager.default.contents(atPath: output + "/index.html").map { String(decoding: $0, as: UTF8.self) })
        #expect(page.contains("href=\"embed/spend-over-time.svg\""))
        // "Data generated … UTC; <range> UTC. Compared with <range> UTC.": the range once.
        let generated = try #require(page.firstMatch(of: /<p class="generated">(.*?)<\/p>/)).1
        #expect(generated.matches(of: /UTC/).count == 3, "\(generated)")

        configuration.range = .init(window: "24h")
        let window = try await ReportJob(configuration, logger: Self.logger).run()
        guard case .range(let day) = window.content else {
            Issue.record("rendered the live site")
            return
        }
        #expect(day.window == .day)
        let lastPublished = try #require(FileManager.default.contents(atPath: output + "/stats.json"))
        #expect(Array(lastPublished) == day.jsonBytes())

        for (range, flag) in [
            (RenderConfiguration.RequestedRange(from: "now-40d"), "--from-time: lies outside"),
            (.init(from: "now-2h", to: "now-3h"), "--to-time: must be after"),
            (.init(from: "now-3h", to: "now-150m"), "--from-time: the range holds no whole hour"),
            (.init(window: "3d"), "--window: must be one of"),
        ] {
            configuration.range = range
            let error = try await #require(throws: ReportJob.InputError.self) { try await ReportJob(configuration, logger: Self.logger).run() }
            #expect(error.description.hasPrefix(flag), "\(error)")
            #expect(FileManager.default.contents(atPath: output + "/stats.json") == lastPublished)
        }
    }
}

extension ISO8601DateFormatter {
    static var withMilliseconds: ISO8601DateFormatter {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter
    }
}
