import Foundation
import GRDB
import Synchronization
import Testing

@testable import SpendStorage

/// The real binary with a runaway customer played into its simulator: the anomaly opens,
/// is acknowledged over HTTP and from the page's form in Chromium, and survives `kill -9`.
extension EndToEndTests {
    /// A server whose simulator has 70 minutes of history and a customer at four times its
    /// usage from the start; anomalies open after 5 seconds instead of a minute.
    static func anomalyArguments(data: String, scenario: Bool = true) -> [String] {
        ["--data", data, "--backfill", "70m", "--seed", "5", "--render-interval", "1s", "--archive-every", "0", "--anomaly-open-after", "5s"]
            + (scenario ? ["--scenario", "runaway-customer", "--scenario-start", "0s"] : [])
    }

    /// The open anomalies, once there is one (the detector needs a few seconds of the runaway).
    static func waitForAnomaly(_ server: Server) async throws -> [String: Any] {
        let deadline = ContinuousClock.now + .seconds(120)
        while ContinuousClock.now < deadline {
            let answer = try await server.get("/api/anomalies?state=open")
            let json = try #require(try JSONSerialization.jsonObject(with: answer.body) as? [String: Any])
            if let first = (json["anomalies"] as? [[String: Any]])?.first { return first }
            try await Task.sleep(for: .milliseconds(500))
        }
        Issue.record("no anomaly opened within 120 s")
        throw CancellationError()
    }

    /// `Receivers/webhook-receiver.py`: a Standard Webhooks receiver in another process, with
    /// its own signature check, logging each delivery as a JSON line.
    final class WebhookReceiver: Sendable {
        let process: Process
        let port: Int
        let log: String

        static let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

        struct Delivery: Decodable, Equatable {
            var id: String
            var verified: Bool
            var type: String
            var incident: String
            var status: Int
        }

        init(port: Int = 0, log: String, failing: Bool) throws {
            let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Receivers/webhook-receiver.py").path
            process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3", script, String(port), Self.secret, log, failing ? "1000000" : "0"]
            let output = Pipe()
            process.standardOutput = output
            try process.run()
            var line = Data()
            while let byte = try output.fileHandleForReading.read(upToCount: 1), !byte.isEmpty, byte != Data("\n".utf8) {
                line.append(byte)
            }
            self.port = try #require(Int(String(decoding: line, as: UTF8.self)), "the receiver never said where it listens")
            self.log = log
        }

        var deliveries: [Delivery] {
            get throws {
                guard let text = try? String(contentsOfFile: log, encoding: .utf8) else { return [] }
                return try text.split(separator: "\n").map { try JSONDecoder().decode(Delivery.self, from: Data($0.utf8)) }
            }
        }

        /// SIGKILL: a child of the test process may start with SIGTERM blocked.
        func stop() {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    /// The server's `alerts.webhooks[0]` in `/api/health`, once `until` holds for it.
    static func webhookHealth(_ server: Server, until condition: ([String: Any]) -> Bool) async throws -> [String: Any] {
        // Asked once more after the deadline: a test starved by the rest of the suite must not
        // fail for want of a last look.
        let deadline = ContinuousClock.now + .seconds(60)
        var last: [String: Any] = [:]
        while true {
            let health = try #require(try JSONSerialization.jsonObject(with: try await server.get("/api/health").body) as? [String: Any])
            last = ((health["alerts"] as? [String: Any])?["webhooks"] as? [[String: Any]])?.first ?? [:]
            if condition(last) { return last }
            guard ContinuousClock.now < deadline else { break }
            try await Task.sleep(for: .milliseconds(250))
        }
        Issue.record("the webhook never reached the expected state: \(last)")
        throw CancellationError()
    }

    /// Delivered alerts of `incident`, once there are `count` of them (on a loaded machine the
    /// simulator can fall behind and open other anomalies too).
    static func waitForDeliveries(_ receiver: WebhookReceiver, of incident: String, count: Int) async throws -> [WebhookReceiver.Delivery] {
        let deadline = ContinuousClock.now + .seconds(60)
        while true {
            let delivered = try receiver.deliveries.filter { $0.status == 204 && $0.incident == incident }
            if delivered.count >= count { return delivered }
            guard ContinuousClock.now < deadline else { break }
            try await Task.sleep(for: .milliseconds(250))
        }
        Issue.record("the receiver had \(try receiver.deliveries) after 60 s, not \(count) delivered")
        throw CancellationError()
    }

    /// The anomaly's life through the real binary: opened, acknowledged over HTTP while the
    /// webhook receiver refuses every delivery, `kill -9`, the receiver back, the server back:
    /// the alerts held in the outbox arrive, signed, in order, with the ids they had before.
    @Test func anAcknowledgedAnomalySurvivesKillNine() async throws {
        let data = Self.scratch("data")
        let log = Self.scratch("webhooks.jsonl")
        defer {
            try? FileManager.default.removeItem(atPath: data)
            try? FileManager.default.removeItem(atPath: log)
        }
        let refusing = try WebhookReceiver(log: log, failing: true)
        // Retries at most 2 s apart: however long the refusing phase lasts on a loaded machine,
        // the restarted server tries again within seconds.
        let alerting = [
            "--alert-webhook", "http://127.0.0.1:\(refusing.port)/hook", "--alert-secret", WebhookReceiver.secret, "--alert-retry-max", "2s",
        ]
        let server = try await Server(arguments: Self.anomalyArguments(data: data) + alerting)
        let incident = try await Self.waitForAnomaly(server)
        let id = try #require(incident["id"] as? String)
        #expect(incident["kind"] as? String == "spike" && incident["scope"] as? String == "customer")
        let ack = try await server.post("/api/anomalies/\(id)/ack", body: #"{"reason":"investigating","note":"paged <on-call>"}"#)
        #expect(ack.status == 200, "\(String(decoding: ack.body, as: UTF8.self))")
        let failing = try await Self.webhookHealth(server) { ($0["pending"] as? Int ?? 0) >= 2 && $0["lastError"] is String }
        #expect(failing["target"] as? String == "http://127.0.0.1:\(refusing.port)/…" && failing["delivered"] as? Int == 0)
        #expect(failing["lastError"] as? String == "the receiver answered 503")
        let health = try #require(try JSONSerialization.jsonObject(with: try await server.get("/api/health").body) as? [String: Any])
        #expect(health["status"] as? String == "degraded", "alerts that do not get through make the server degraded")

        _ = await server.stop(with: SIGKILL)
        refusing.stop()
        let refused = try refusing.deliveries
        #expect(!refused.isEmpty && refused.allSatisfy(\.verified))

        // Back without the scenario: the incident is still open (it resolves only after 3 quiet
        // minutes), still acknowledged, and not opened a second time.
        let receiver = try WebhookReceiver(port: refusing.port, log: log, failing: false)
        defer { receiver.stop() }
        let restarted = try await Server(arguments: Self.anomalyArguments(data: data, scenario: false) + alerting)
        let after = try await restarted.get("/api/anomalies/\(id)")
        #expect(after.status == 200)
        let json = try #require(try JSONSerialization.jsonObject(with: after.body) as? [String: Any])
        #expect(json["state"] as? String == "open")
        let acknowledgement = try #require(json["acknowledgement"] as? [String: Any])
        #expect(acknowledgement["reason"] as? String == "investigating" && acknowledgement["note"] as? String == "paged <on-call>")
        let list = try #require(try JSONSerialization.jsonObject(with: try await restarted.get("/api/anomalies").body) as? [String: Any])
        let same = (list["anomalies"] as? [[String: Any]] ?? []).filter { $0["subject"] as? String == incident["subject"] as? String }
        #expect(same.compactMap { $0["id"] as? String } == [id], "opened once")
        let restartedHealth = try #require(try JSONSerialization.jsonObject(with: try await restarted.get("/api/health").body) as? [String: Any])
        #expect((restartedHealth["anomalies"] as? [String: Any])?["openAcknowledged"] as? Int == 1)

        // The alerts held while the receiver refused them arrive after the restart.
        let delivered = try await Self.waitForDeliveries(receiver, of: id, count: 2)
        #expect(delivered.map(\.type) == ["anomaly.opened", "anomaly.acknowledged"] && delivered.allSatisfy { $0.verified && $0.incident == id })
        let refusedOpened = refused.filter { $0.incident == id }
        #expect(refusedOpened.allSatisfy { $0.id == delivered[0].id }, "a retry carries the webhook-id of the first attempt")

        // The command line lists and acknowledges through the same API.
        let address = "http://127.0.0.1:\(restarted.port)"
        let (listed, listing) = try Self.run(["anomalies", "list", "--server", address, "--state", "open"])
        #expect(listed == 0)
        #expect(listing.contains(id) && listing.contains("acknowledged: investigating (paged <on-call>)"), "\(listing)")
        let (acked, acknowledging) = try Self.run(["anomalies", "ack", id, "--reason", "expected", "--note", "known load test", "--server", address])
        #expect(acked == 0 && acknowledging.contains("acknowledged: expected"), "\(acknowledging)")
        let (unknown, unknownText) = try Self.run(["anomalies", "ack", "spike-total-1-0000000000000000", "--reason", "expected", "--server", address])
        #expect(unknown != 0 && unknownText.contains("404") && unknownText.contains("no anomaly has this id"), "\(unknownText)")
        let (malformed, malformedText) = try Self.run(["anomalies", "ack", "../x", "--reason", "expected", "--server", address])
        #expect(malformed != 0 && malformedText.contains("is not an anomaly id"), "\(malformedText)")
        let changed = try #require(try JSONSerialization.jsonObject(with: try await restarted.get("/api/anomalies/\(id)").body) as? [String: Any])
        #expect((changed["acknowledgement"] as? [String: Any])?["note"] as? String == "known load test")
        let third = try await Self.waitForDeliveries(receiver, of: id, count: 3)
        #expect(third.map(\.type) == ["anomaly.opened", "anomaly.acknowledged", "anomaly.acknowledged"])
        let settled = try await Self.webhookHealth(restarted) { ($0["delivered"] as? Int ?? 0) >= 3 && $0["lastError"] is NSNull }
        #expect(settled["abandoned"] as? Int == 0)
        #expect(await restarted.stop(with: SIGTERM) == 0)

        // The outbox holds each change of state once: opened, then each acknowledgement, with
        // the ids the receiver saw.
        let journal = try SQLiteJournal(directory: data)
        let events = try journal.database.read { db in
            try Row.fetchAll(db, sql: "SELECT event_id, kind FROM anomaly_events WHERE body LIKE ? ORDER BY seq", arguments: ["%\"id\":\"\(id)\"%"])
        }
        #expect(events.map { $0["kind"] as String } == ["anomaly.opened", "anomaly.acknowledged", "anomaly.acknowledged"])
        #expect(events.map { $0["event_id"] as String } == third.map(\.id))
    }
}

extension BrowserTests {
    /// The anomaly panel in Chromium with JavaScript off: the anomaly is on the page, its form
    /// acknowledges it with a real click, the browser lands back on the page, and the next
    /// snapshot marks it acknowledged.
    @Test func thePanelAcknowledgesWithoutJavaScript() async throws {
        let output = EndToEndTests.scratch("output")
        let data = EndToEndTests.scratch("data")
        defer {
            try? FileManager.default.removeItem(atPath: output)
            try? FileManager.default.removeItem(atPath: data)
        }
        let server = try await EndToEndTests.Server(arguments: EndToEndTests.anomalyArguments(data: data), output: output)
        let incident = try await EndToEndTests.waitForAnomaly(server)
        let id = try #require(incident["id"] as? String)
        // The panel shows it from the next snapshot on (one render interval).
        let deadline = ContinuousClock.now + .seconds(30)
        while try await !String(decoding: server.get("/paused.html").body, as: UTF8.self).contains("id=\"anomaly-\(id)\""),
            ContinuousClock.now < deadline
        {
            try await Task.sleep(for: .milliseconds(200))
        }
        let base = "http://127.0.0.1:\(server.port)/"
        let seen = try Self.drive(
            scripts: false,
            [
                "load", base + "paused.html", "dump",
                "submit", "#anomaly-\(id) form", "reason=expected&note=planned+load+test", "dump",
            ])
        try #require(seen.count == 2)
        #expect(seen[0].html.contains("id=\"anomaly-\(id)\""))
        #expect(seen[0].html.contains("Spike"))
        #expect(seen[1].url == base + "#anomaly-\(id)", "the form goes back to the page: \(seen[1].url)")
        for page in seen { #expect(page.console.isEmpty, "\(page.url): \(page.console)") }
        let after = try #require(try JSONSerialization.jsonObject(with: try await server.get("/api/anomalies/\(id)").body) as? [String: Any])
        let acknowledgement = try #require(after["acknowledgement"] as? [String: Any])
        #expect(acknowledgement["reason"] as? String == "expected" && acknowledgement["note"] as? String == "planned load test")
        #expect(await server.stop(with: SIGTERM) == 0)
    }
}
