import Foundation
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Several real `spendboard serve` processes on one real PostgreSQL, which each test starts
/// itself (`scripts/postgres-test-server.sh`) so that it can kill and restart it. Runs when
/// PostgreSQL's server programs are installed; `SPENDBOARD_REQUIRE_POSTGRES=1` (CI) makes a
/// missing server a failure instead of a skip.
@Suite(.serialized, .enabled(if: PostgresServer.available, "PostgreSQL's server programs are not installed"))
struct ClusterEndToEndTests {
    typealias Server = EndToEndTests.Server

    /// A batch of updates with event ids, and what it adds up to.
    struct Batch: Sendable {
        var body: String
        var ids: [String]
        var calls: Int
        var cents: Int

        /// `count` updates `first..<first+count` of the last ten minutes; update `i` has
        /// `i % 5 + 1` calls and costs `i % 7 + 1` cents.
        init(first: Int, count: Int, now: Date = Date()) {
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            var lines: [String] = []
            (ids, calls, cents) = ([], 0, 0)
            for index in first..<(first + count) {
                let at = formatter.string(from: now.addingTimeInterval(-Double(index % 600)))
                let callCount = index % 5 + 1
                let cost = index % 7 + 1
                ids.append("u\(index)")
                calls += callCount
                cents += cost
                lines.append(
                    "{\"eventId\": \"u\(index)\", \"timestamp\": \"\(at)\", \"tenantId\": \"t\(index % 3)\", \"customerId\": \"c\(index % 11)\", "
                        + "\"model\": \"m\(index % 2)\", \"metrics\": {\"totalCalls\": \(callCount), \"totalTokens\": 100, "
                        + "\"totalCost\": 0.\(String(format: "%02d", cost)), \"avgLatencyMs\": 40}}")
            }
            body = "[" + lines.joined(separator: ",") + "]"
        }
    }

    /// Totals of the last hour as a node reports them.
    struct Totals: Equatable, CustomStringConvertible {
        var updates: Int
        var calls: Int
        var cents: Int
        var description: String { "\(updates) updates, \(calls) calls, \(cents) cents" }
    }

    static func totals(of server: Server) async throws -> Totals {
        let (status, body) = try await server.get("/api/stats")
        try #require(status == 200)
        let json = try #require(try JSONSerialization.jsonObject(with: body) as? [String: Any])
        let hour = try #require(json["hour"] as? [String: Any])
        let cost = try #require(hour["totalCost"] as? Double)
        return Totals(
            updates: try #require(hour["updates"] as? Int), calls: try #require(hour["calls"] as? Int), cents: Int((cost * 100).rounded()))
    }

    /// Waits until `server` reports `expected` (30 s; one more look after the deadline, for a
    /// machine the rest of the suite keeps busy).
    static func waitForTotals(_ expected: Totals, on server: Server) async throws -> Totals {
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(30)
        var seen = try await totals(of: server)
        while seen != expected && clock.now < deadline {
            try await clock.sleep(for: .milliseconds(250))
            seen = try await totals(of: server)
        }
        return seen
    }

    /// Posts until a node answers 200 (a producer's retry loop): `nodes` in turn, starting
    /// with the first; what fails (503, a connection refused by a dead node) goes to the next.
    static func deliver(_ batch: Batch, to nodes: [Server]) async throws -> (attempts: Int, unavailable: Int) {
        var attempts = 0
        var unavailable = 0
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(120)
        while clock.now < deadline {
            let node = nodes[attempts % nodes.count]
            attempts += 1
            do {
                let (status, _) = try await node.post("/api/metrics", body: batch.body)
                if status == 200 { return (attempts, unavailable) }
                #expect(status == 503, "a node answered \(status)")
                unavailable += 1
            } catch {
                // The node is gone (killed): the producer tries another.
            }
            try await clock.sleep(for: .milliseconds(200))
        }
        Issue.record("no node accepted a batch within 2 minutes")
        return (attempts, unavailable)
    }

    static func nodeArguments(_ url: String) -> [String] {
        ["--store", url, "--no-simulator", "--render-interval", "1s", "--archive-every", "2s", "--data", EndToEndTests.scratch("unused")]
    }

    /// Three nodes take distinct batches, batches retried against another node, and one node
    /// is killed with `kill -9` while it ingests: every surviving node ends with the totals of
    /// the distinct updates sent, computed here independently.
    @Test func threeNodesAgreeWithAnIndependentRecomputationAfterRetriesAndAKillNine() async throws {
        let database = try PostgresServer.start()
        defer { database.destroy() }
        let outputs = (0..<3).map { EndToEndTests.scratch("output-\($0)") }
        var nodes: [Server] = []
        for output in outputs { nodes.append(try await Server(arguments: Self.nodeArguments(database.url), output: output)) }
        var expected = Totals(updates: 0, calls: 0, cents: 0)
        func count(_ batch: Batch) {
            expected.updates += batch.ids.count
            expected.calls += batch.calls
            expected.cents += batch.cents
        }
        // Distinct batches, round robin.
        for index in 0..<9 {
            let batch = Batch(first: index * 200, count: 200)
            _ = try await Self.deliver(batch, to: [nodes[index % 3]])
            count(batch)
        }
        // The same batches again at other nodes (a producer that never saw the 200): nothing new.
        for index in 0..<9 {
            let batch = Batch(first: index * 200, count: 200)
            _ = try await Self.deliver(batch, to: [nodes[(index + 1) % 3]])
        }
        // Overlapping batches: half already sent, half new.
        let overlapping = Batch(first: 1700, count: 200)
        _ = try await Self.deliver(overlapping, to: [nodes[2]])
        count(Batch(first: 1800, count: 100))

        // Exactly one node leads, and only the leader's output holds an archive.
        let leader = try await Self.waitForOneLeader(among: nodes)
        for (index, output) in outputs.enumerated() {
            let archived = Self.archivedSnapshots(in: output)
            #expect((archived > 0) == (index == leader), "node \(index + 1) archived \(archived) snapshots; node \(leader + 1) leads")
        }

        // The leader ingests a stream of batches and is killed in the middle of it; each batch it
        // did not answer goes to another node instead.
        let stream = (0..<40).map { Batch(first: 10_000 + $0 * 100, count: 100) }
        let victim = nodes[leader]
        let survivors = nodes.indices.filter { $0 != leader }.map { nodes[$0] }
        let sender = Task {
            for batch in stream { _ = try await Self.deliver(batch, to: [victim, survivors[0]]) }
        }
        try await ContinuousClock().sleep(for: .milliseconds(700))
        let status = await victim.stop(with: SIGKILL)
        let killed = ContinuousClock.now
        #expect(status == SIGKILL, "the node did not die of SIGKILL: \(String(describing: status))")
        // Another node takes the archive over within two archive intervals (2 s each); the bound
        // leaves a second for a machine the suite keeps busy.
        let successor = try await Self.waitForOneLeader(among: survivors)
        let takeover = ContinuousClock.now - killed
        #expect(takeover < .seconds(5), "the archive was taken over after \(takeover)")
        try await sender.value
        for batch in stream { count(batch) }
        // It goes on archiving: a new snapshot within two intervals, or 30 s on a machine the
        // rest of the suite keeps busy (renders and fsyncs queue behind the other tests').
        let successorOutput = outputs[nodes.indices.filter { $0 != leader }[successor]]
        let before = Self.archivedSnapshots(in: successorOutput)
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(30)
        while Self.archivedSnapshots(in: successorOutput) <= before && clock.now < deadline {
            try await clock.sleep(for: .milliseconds(250))
        }
        if Self.archivedSnapshots(in: successorOutput) <= before {
            let health = try await survivors[successor].get("/api/health")
            Issue.record(
                "the new leader does not archive: \(before) snapshots 30 s later; /api/health: \(String(decoding: health.body, as: UTF8.self))\nits log:\n\(survivors[successor].recentLog)"
            )
        }

        for (index, node) in survivors.enumerated() {
            let seen = try await Self.waitForTotals(expected, on: node)
            #expect(seen == expected, "node \(index + 1) reports \(seen); the updates sent add up to \(expected)")
        }
        // Both followed the log to the same position.
        var positions: Set<Int> = []
        for node in survivors {
            let cluster = try await Self.cluster(of: node)
            positions.insert(try #require(cluster["position"] as? Int))
        }
        #expect(positions.count == 1, "the nodes followed the log to different positions: \(positions)")
        for node in survivors { _ = await node.stop(with: SIGKILL) }
    }

    static func cluster(of node: Server) async throws -> [String: Any] {
        let (_, body) = try await node.get("/api/health")
        let health = try #require(try JSONSerialization.jsonObject(with: body) as? [String: Any])
        return try #require(health["cluster"] as? [String: Any])
    }

    /// The index of the one node that leads, once exactly one does (10 s).
    static func waitForOneLeader(among nodes: [Server]) async throws -> Int {
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(10)
        while true {
            var leaders: [Int] = []
            for (index, node) in nodes.enumerated() where try await cluster(of: node)["leader"] as? Bool == true { leaders.append(index) }
            if leaders.count == 1 { return leaders[0] }
            guard clock.now < deadline else {
                Issue.record("\(leaders.count) nodes lead")
                return leaders.first ?? 0
            }
            try await clock.sleep(for: .milliseconds(100))
        }
    }

    /// How many snapshots `output/archive` holds (folders named by their UTC second).
    static func archivedSnapshots(in output: String) -> Int {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: output + "/archive")) ?? []
        return entries.count { $0.hasPrefix("20") && !$0.contains(".") }
    }

    /// PostgreSQL is killed (`kill -9`, so only what it had committed survives) and restarted
    /// while a producer sends batches: the node answers 503 meanwhile, and every batch it
    /// acknowledged — before, during and after — is counted once.
    @Test func killingPostgresDuringIngestLosesNothingAcknowledged() async throws {
        let database = try PostgresServer.start()
        defer { database.destroy() }
        let node = try await Server(arguments: Self.nodeArguments(database.url))
        let batches = (0..<60).map { Batch(first: $0 * 50, count: 50) }
        let sender = Task {
            var unavailable = 0
            for batch in batches {
                unavailable += try await Self.deliver(batch, to: [node]).unavailable
                try await ContinuousClock().sleep(for: .milliseconds(50))
            }
            return unavailable
        }
        try await ContinuousClock().sleep(for: .seconds(1))
        try database.run("kill")
        // Longer than the node waits for a connection (5 s), so that some request sees the outage.
        try await ContinuousClock().sleep(for: .seconds(7))
        try database.run("start")
        let unavailable = try await sender.value
        #expect(unavailable > 0, "the node never answered 503 while PostgreSQL was down")
        let expected = Totals(
            updates: batches.reduce(0) { $0 + $1.ids.count }, calls: batches.reduce(0) { $0 + $1.calls },
            cents: batches.reduce(0) { $0 + $1.cents })
        let seen = try await Self.waitForTotals(expected, on: node)
        #expect(seen == expected, "the node reports \(seen); the batches acknowledged add up to \(expected)")
        // A node started now rebuilds the same totals from the database alone.
        let fresh = try await Server(arguments: Self.nodeArguments(database.url))
        let rebuilt = try await Self.waitForTotals(expected, on: fresh)
        #expect(rebuilt == expected, "a new node rebuilt \(rebuilt) from the database")
        let (_, body) = try await node.get("/api/health")
        let health = try #require(try JSONSerialization.jsonObject(with: body) as? [String: Any])
        #expect((health["cluster"] as? [String: Any])?["problem"] is NSNull, "the node did not recover: \(health)")
        _ = await fresh.stop(with: SIGKILL)
        _ = await node.stop(with: SIGKILL)
    }
}

/// A throw-away PostgreSQL server of one test: `scripts/postgres-test-server.sh` in a folder of
/// its own, on a free port.
struct PostgresServer {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("scripts/postgres-test-server.sh").path
    static let required = ProcessInfo.processInfo.environment["SPENDBOARD_REQUIRE_POSTGRES"] == "1"
    static let installed: Bool = {
        let folders = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        return folders.contains { FileManager.default.isExecutableFile(atPath: "/usr/lib/postgresql/\($0)/bin/postgres") }
    }()
    static let available = installed || required

    let folder: String
    let port: Int
    let url: String

    static func start() throws -> PostgresServer {
        let folder = "/tmp/spendboard-pg-\(UUID().uuidString.prefix(8))"
        let port = try freePort()
        let output = try Self.run(["start", folder, "\(port)"])
        return PostgresServer(folder: folder, port: port, url: output.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// `kill`, `stop` or `start` this server.
    func run(_ command: String) throws {
        _ = try Self.run(command == "start" ? [command, folder, "\(port)"] : [command, folder])
    }

    func destroy() {
        do {
            _ = try Self.run(["destroy", folder])
        } catch {
            Issue.record("the test's PostgreSQL was not removed: \(error)")
        }
    }

    struct ScriptError: Error, CustomStringConvertible {
        var description: String
    }

    @discardableResult
    static func run(_ arguments: [String]) throws -> String {
        // Files, not pipes: the server the script starts may inherit a pipe's write end, and a
        // reader would then wait for an end of file that never comes.
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("pg-script-\(UUID().uuidString)").path
        defer {
            try? FileManager.default.removeItem(atPath: scratch + ".out")
            try? FileManager.default.removeItem(atPath: scratch + ".err")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-c", "exec \"$0\" \"$@\" > \"\(scratch).out\" 2> \"\(scratch).err\" < /dev/null", script] + arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        let text = (try? String(contentsOfFile: scratch + ".out", encoding: .utf8)) ?? ""
        let problems = (try? String(contentsOfFile: scratch + ".err", encoding: .utf8)) ?? ""
        guard process.terminationStatus == 0 else {
            throw ScriptError(description: "postgres-test-server.sh \(arguments.joined(separator: " ")) failed: \(problems)")
        }
        return text
    }

    /// A port nothing listens on now (the kernel's choice for a socket bound to port 0).
    static func freePort() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw ScriptError(description: "socket() failed") }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) == 0 && getsockname(descriptor, $0, &length) == 0 }
        }
        guard bound else { throw ScriptError(description: "cannot find a free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
