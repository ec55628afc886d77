import Foundation
import SpendAlerts
import SpendCore
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Open anomalies posted to a real Alertmanager (Debian's `prometheus-alertmanager`) and read
/// back from its API. Runs when it is installed; `SPENDBOARD_REQUIRE_ALERTMANAGER=1` (set by
/// `.ci/run`) makes a missing Alertmanager a failure instead of a skip.
@Suite(.serialized, .enabled(if: Alertmanager.path != nil || Alertmanager.required, "prometheus-alertmanager is not installed"))
struct AlertmanagerTests {
    @Test func postsOpenAnomaliesWithTheirLabelsAndLeavesResolvedOnesOut() async throws {
        let alertmanager = try await Alertmanager.start()
        defer { alertmanager.stop() }
        let now = WallClock().now
        let open = AlertFixtures.incident(tenant: #""acme" <ops>"#, customer: "cust-ü7", start: now.advanced(by: .seconds(-300)))
        var acknowledged = AlertFixtures.incident(customer: "cust-042", start: now.advanced(by: .seconds(-600)))
        acknowledged.acknowledgement = .init(at: now, reason: .investigating, note: "paged on-call")
        let justResolved = AlertFixtures.resolved(
            AlertFixtures.incident(customer: "cust-100", start: now.advanced(by: .seconds(-900))), at: now.advanced(by: .seconds(-120)))
        let longResolved = AlertFixtures.resolved(
            AlertFixtures.incident(customer: "cust-200", start: now.advanced(by: .seconds(-9000))), at: now.advanced(by: .seconds(-7200)))
        let incidents = [open, acknowledged, justResolved, longResolved]
        let service = AlertmanagerService(
            url: alertmanager.url, incidents: { incidents }, clock: ManualTimeSource(now),
            logger: AlertFixtures.logger)
        await service.post()
        try await service.shutdown()
        let status = service.status
        #expect(status.lastError == nil && status.lastSuccess == now)
        #expect(status.alertsSent == 3, "open, acknowledged and resolved in the last 15 minutes; not the one resolved 2 hours ago")

        let alerts = try await alertmanager.alerts()
        let byID = Dictionary(uniqueKeysWithValues: alerts.compactMap { alert in (alert.labels["anomaly_id"]).map { ($0, alert) } })
        #expect(Set(byID.keys) == [open.id, acknowledged.id], "Alertmanager lists the firing alerts only: \(byID.keys.sorted())")
        let firing = try #require(byID[open.id])
        #expect(
            firing.labels == [
                "alertname": "SpendboardAnomaly", "anomaly_id": open.id, "kind": "spike", "scope": "customer", "tenant": #""acme" <ops>"#,
                "customer": "cust-ü7",
            ])
        #expect(firing.annotations["summary"] == #"Spike: "acme" <ops> / cust-ü7 at $2140.50/h, expected $620.00/h"#)
        #expect(firing.annotations["impact"] == "$283.40" && firing.annotations["acknowledged"] == nil)
        #expect(firing.state == "active")
        #expect(byID[acknowledged.id]?.annotations["acknowledged"] == "investigating (paged on-call)")
    }

    @Test func anUnreachableAlertmanagerIsReportedNotThrown() async throws {
        let service = AlertmanagerService(
            url: "http://127.0.0.1:1", incidents: { [AlertFixtures.incident(start: WallClock().now)] }, logger: AlertFixtures.logger)
        await service.post()
        try await service.shutdown()
        #expect(service.status.lastError?.isEmpty == false && service.status.lastSuccess == nil)
        #expect(AlertHealth(alertmanager: service.status).isFailing)
    }

    @Test func firingAlertsLastFourIntervalsAndResolvedOnesEndWhenTheyEnded() throws {
        let now = AlertFixtures.start.advanced(by: .seconds(3600))
        let open = AlertFixtures.incident()
        let resolved = AlertFixtures.resolved(AlertFixtures.incident(customer: "b"), at: now.advanced(by: .seconds(-60)))
        // Resolved 3 minutes after its end: re-sent for 15 minutes from then, so 18 from the end.
        let stillSent = AlertFixtures.resolved(AlertFixtures.incident(customer: "c"), at: now.advanced(by: .seconds(-17 * 60)))
        let done = AlertFixtures.resolved(AlertFixtures.incident(customer: "d"), at: now.advanced(by: .seconds(-19 * 60)))
        #expect(AlertmanagerService.alerts([stillSent, done], now: now, interval: .seconds(30), resolveAfter: .seconds(180)).count == 1)
        let (body, count) = AlertmanagerService.alerts([resolved, open], now: now, interval: .seconds(30), resolveAfter: .seconds(180))
        #expect(count == 2)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(body)) as? [[String: Any]])
        let ends = json.compactMap { $0["endsAt"] as? String }
        let expected = [open, resolved].sorted { $0.id < $1.id }.map { ($0.end ?? now.advanced(by: .seconds(120))).description }
        #expect(ends == expected)
        #expect(json.compactMap { $0["startsAt"] as? String } == [open, resolved].sorted { $0.id < $1.id }.map(\.start.description))
    }
}

/// A throw-away Alertmanager on a free loopback port, with its own folder.
struct Alertmanager {
    static let required = ProcessInfo.processInfo.environment["SPENDBOARD_REQUIRE_ALERTMANAGER"] == "1"
    static let path: String? = ["/usr/bin/prometheus-alertmanager", "/usr/bin/alertmanager", "/usr/local/bin/alertmanager"]
        .first { FileManager.default.isExecutableFile(atPath: $0) }

    let process: Process
    let directory: String
    let url: String

    struct Alert {
        var labels: [String: String]
        var annotations: [String: String]
        var state: String?
    }

    static func start() async throws -> Alertmanager {
        let binary = try #require(path, "install Debian's prometheus-alertmanager to run the Alertmanager check")
        let directory = try AlertFixtures.temporaryDirectory()
        let config = directory + "/alertmanager.yml"
        try "route:\n  receiver: none\nreceivers:\n  - name: none\n".write(toFile: config, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        // Port 0: the kernel picks a free port as Alertmanager binds, and its log names it. (A
        // port found free beforehand may be taken by another test's server before it binds.)
        process.arguments = [
            "--config.file=\(config)", "--storage.path=\(directory)/data", "--web.listen-address=127.0.0.1:0", "--cluster.listen-address=",
        ]
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        let log = directory + "/alertmanager.log"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        process.standardError = FileHandle(forWritingAtPath: log)
        try process.run()
        func output() -> String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }
        // Each probe may take 2 s. In the full suite on 2 cores (Chromium, servers, builds of
        // test processes) Alertmanager was once seen still starting after 90 s: the wait is for
        // it to listen, however long the machine takes, within 5 minutes.
        let deadline = ContinuousClock.now + .seconds(300)
        var last = "no answer"
        var url: String?
        // Looked at once more after the deadline: a test starved by the rest of the suite must
        // not fail for want of a last look.
        while process.isRunning {
            if url == nil, let port = listeningPort(in: output()) { url = "http://127.0.0.1:\(port)" }
            if let url {
                let probe = URLRequest(url: URL(string: url + "/-/ready")!, timeoutInterval: 2)
                do {
                    let (_, response) = try await URLSession.shared.data(for: probe)
                    let status = (response as? HTTPURLResponse)?.statusCode ?? 0
                    if status == 200 { return Alertmanager(process: process, directory: directory, url: url) }
                    last = "status \(status)"
                } catch {
                    last = "\(error)"
                }
            } else {
                last = "not listening yet"
            }
            guard ContinuousClock.now < deadline else { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        let running = process.isRunning
        let said = output()
        Alertmanager(process: process, directory: directory, url: url ?? "").stop()
        Issue.record(
            "Alertmanager at \(url ?? "no address") was not ready within 300 s (running: \(running), last probe: \(last)); it said: \(said.suffix(2000))"
        )
        throw CancellationError()
    }

    /// The port of Alertmanager's `msg="Listening on" address=127.0.0.1:PORT` log line.
    static func listeningPort(in log: String) -> Int? {
        for line in log.split(separator: "\n") where line.contains("msg=\"Listening on\"") {
            guard let range = line.range(of: "address=127.0.0.1:") else { continue }
            if let port = Int(line[range.upperBound...].prefix { $0.isNumber }), port > 0 { return port }
        }
        return nil
    }

    func alerts() async throws -> [Alert] {
        let (data, _) = try await URLSession.shared.data(from: URL(string: url + "/api/v2/alerts")!)
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [[String: Any]])
        return json.map { alert in
            Alert(
                labels: alert["labels"] as? [String: String] ?? [:], annotations: alert["annotations"] as? [String: String] ?? [:],
                state: (alert["status"] as? [String: Any])?["state"] as? String)
        }
    }

    func stop() {
        process.terminate()
        process.waitUntilExit()
        try? FileManager.default.removeItem(atPath: directory)
    }
}
