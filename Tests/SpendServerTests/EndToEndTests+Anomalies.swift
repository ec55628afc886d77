import Foundation
import GRDB
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

    @Test func anAcknowledgedAnomalySurvivesKillNine() async throws {
        let data = Self.scratch("data")
        defer { try? FileManager.default.removeItem(atPath: data) }
        let server = try await Server(arguments: Self.anomalyArguments(data: data))
        let incident = try await Self.waitForAnomaly(server)
        let id = try #require(incident["id"] as? String)
        #expect(incident["kind"] as? String == "spike" && incident["scope"] as? String == "customer")
        let ack = try await server.post("/api/anomalies/\(id)/ack", body: #"{"reason":"investigating","note":"paged <on-call>"}"#)
        #expect(ack.status == 200, "\(String(decoding: ack.body, as: UTF8.self))")

        _ = await server.stop(with: SIGKILL)

        // Back without the scenario: the incident is still open (it resolves only after 3 quiet
        // minutes), still acknowledged, and not opened a second time.
        let restarted = try await Server(arguments: Self.anomalyArguments(data: data, scenario: false))
        let after = try await restarted.get("/api/anomalies/\(id)")
        #expect(after.status == 200)
        let json = try #require(try JSONSerialization.jsonObject(with: after.body) as? [String: Any])
        #expect(json["state"] as? String == "open")
        let acknowledgement = try #require(json["acknowledgement"] as? [String: Any])
        #expect(acknowledgement["reason"] as? String == "investigating" && acknowledgement["note"] as? String == "paged <on-call>")
        let list = try #require(try JSONSerialization.jsonObject(with: try await restarted.get("/api/anomalies").body) as? [String: Any])
        #expect((list["anomalies"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == [id])
        let health = try #require(try JSONSerialization.jsonObject(with: try await restarted.get("/api/health").body) as? [String: Any])
        #expect((health["anomalies"] as? [String: Any])?["openAcknowledged"] as? Int == 1)

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
        #expect(await restarted.stop(with: SIGTERM) == 0)

        // The outbox holds each change of state once: opened, then each acknowledgement.
        let journal = try SQLiteJournal(directory: data)
        let kinds = try await journal.database.read { db in
            try String.fetchAll(db, sql: "SELECT kind FROM anomaly_events WHERE body LIKE ? ORDER BY seq", arguments: ["%\"id\":\"\(id)\"%"])
        }
        #expect(kinds == ["anomaly.opened", "anomaly.acknowledged", "anomaly.acknowledged"])
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
