import ArgumentParser
import Foundation
import SpendAlerts
import SpendCore

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `spendboard anomalies …`: the anomaly detector from the command line.
struct Anomalies: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List and acknowledge the anomalies of a running server; measure the detector.",
        subcommands: [List.self, Ack.self, Evaluate.self, Secret.self]
    )

    /// Where the server is and the token writes need.
    struct Server: ParsableArguments {
        @Option(help: "The running server's address.")
        var server = "http://127.0.0.1:8080"

        @Option(help: "Bearer token, when the server has --ingest-token (or SPENDBOARD_INGEST_TOKEN).")
        var token: String?

        var bearer: String? { token ?? ProcessInfo.processInfo.environment["SPENDBOARD_INGEST_TOKEN"].flatMap { $0.isEmpty ? nil : $0 } }

        func validate() throws {
            guard let url = URL(string: server), url.scheme == "http" || url.scheme == "https", url.host != nil else {
                throw ValidationError("--server must be an http(s) address such as http://127.0.0.1:8080; got '\(server)'")
            }
        }

        /// Sends the request; returns the body, or exits with the server's error message.
        func send(_ path: String, method: String = "GET", body: [UInt8]? = nil) async throws -> [UInt8] {
            let base = server.hasSuffix("/") ? String(server.dropLast()) : server
            guard let url = URL(string: base + path) else { throw ValidationError("cannot make an address of \(base + path)") }
            var request = URLRequest(url: url, timeoutInterval: 30)
            request.httpMethod = method
            if let body {
                request.httpBody = Data(body)
                request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            }
            if let bearer { request.setValue("Bearer \(bearer)", forHTTPHeaderField: "Authorization") }
            let data: Data
            let response: URLResponse
            do {
                (data, response) = try await URLSession.shared.data(for: request)
            } catch {
                printError("cannot reach \(server): \(error.localizedDescription)")
                throw ExitCode.failure
            }
            let status = (response as? HTTPURLResponse)?.statusCode ?? 0
            guard (200..<300).contains(status) else {
                let message = (try? JSONParser.parse(Array(data)))?["error"].flatMap { value -> String? in
                    if case .string(let text) = value { return text }
                    return nil
                }
                printError("\(server) answered \(status): \(message ?? String(decoding: data, as: UTF8.self))")
                throw ExitCode.failure
            }
            return Array(data)
        }
    }

    /// `spendboard anomalies secret`: a new webhook signing secret.
    struct Secret: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a new random webhook signing secret (whsec_ and 32 bytes in base64) for --alert-secret.")

        func run() {
            print(StandardWebhookSigner.newSecret())
        }
    }

    /// `spendboard anomalies list`: the server's incidents, newest first, one line each.
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List a running server's anomalies, newest first (GET /api/anomalies).")

        @OptionGroup var server: Server

        @Option(help: "open or resolved.")
        var state: Incident.State?

        @Option(help: "spike or drop.")
        var kind: Incident.Kind?

        @Option(help: "Most anomalies listed (1 to 500).")
        var limit = 50

        @Flag(help: "Print the server's JSON instead of lines.")
        var json = false

        func validate() throws {
            guard (1...500).contains(limit) else { throw ValidationError("--limit must be from 1 to 500; got \(limit)") }
        }

        func run() async throws {
            var query = ["limit=\(limit)"]
            if let state { query.append("state=\(state.rawValue)") }
            if let kind { query.append("kind=\(kind.rawValue)") }
            let body = try await server.send("/api/anomalies?" + query.joined(separator: "&"))
            if json {
                print(String(decoding: body, as: UTF8.self))
                return
            }
            guard case .array(let items)? = (try JSONParser.parse(body))["anomalies"] else {
                printError("\(server.server) did not answer a list of anomalies")
                throw ExitCode.failure
            }
            for item in items {
                let incident = try Incident(json: item)
                let ack = incident.acknowledgement.map { "  acknowledged: \($0.reason.rawValue)\($0.note.map { " (\($0))" } ?? "")" } ?? ""
                print(
                    "\(incident.id)  \(incident.state.rawValue)  \(incident.kind.rawValue)  \(incident.subject)  since \(incident.start)  "
                        + "\(Evaluate.fixed(incident.actualPerHour, 2)) $/h against \(Evaluate.fixed(incident.expectedPerHour, 2))  impact \(Evaluate.fixed(incident.impact, 2)) $\(ack)"
                )
            }
            print("\(items.count) anomal\(items.count == 1 ? "y" : "ies")")
        }
    }

    /// `spendboard anomalies ack ID --reason …`: acknowledges one incident.
    struct Ack: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Acknowledge one anomaly of a running server (POST /api/anomalies/ID/ack).")

        @OptionGroup var server: Server

        @Argument(help: "The anomaly's id, as `anomalies list` prints it.")
        var id: String

        @Option(help: "expected, not-an-issue or investigating.")
        var reason: Incident.Acknowledgement.Reason

        @Option(help: "A note of up to 500 characters.")
        var note: String?

        func validate() throws {
            guard Incident.isWellFormedId(id) else { throw ValidationError("'\(id)' is not an anomaly id; `spendboard anomalies list` prints them") }
            if let note, note.count > Incident.Acknowledgement.maximumNoteLength {
                throw ValidationError("--note must be at most \(Incident.Acknowledgement.maximumNoteLength) characters")
            }
        }

        func run() async throws {
            var writer = JSONWriter()
            writer.object { o in
                o.field("reason") { $0.string(reason.rawValue) }
                if let note { o.field("note") { $0.string(note) } }
            }
            let body = try await server.send("/api/anomalies/\(id)/ack", method: "POST", body: writer.bytes)
            let incident = try Incident(json: JSONParser.parse(body))
            print("\(incident.id) acknowledged: \(reason.rawValue); \(incident.state.rawValue) \(incident.kind.rawValue) of \(incident.subject)")
        }
    }

    /// Plays labelled simulated weeks through the detector and prints what it caught, how
    /// fast, what it opened for nothing, and what a tick costs (docs/benchmarks.md).
    struct Evaluate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Measure detection on labelled simulated traffic (docs/benchmarks.md, \"Anomaly detection\"); build with -c release."
        )

        @Option(name: .customLong("seed"), help: "Seeds of the simulated traffic; repeat for more.")
        var seeds: [UInt64] = [1, 2, 3]

        @Option(help: "Simulated days judged per seed; 0 measures only the cost of a tick.")
        var days = 7

        @Option(name: .customLong("cost-customers"), help: "Customer counts to time a tick with (30 simulated minutes each); repeat for more.")
        var costCustomers: [Int] = [100, 10_000]

        func validate() throws {
            guard (0...60).contains(days) else { throw ValidationError("--days must be from 0 to 60; got \(days)") }
            guard !seeds.isEmpty else { throw ValidationError("--seed: at least one") }
            for count in costCustomers where !(1...100_000).contains(count) {
                throw ValidationError("--cost-customers must be from 1 to 100000; got \(count)")
            }
        }

        func run() throws {
            let start = Timestamp(secondsSinceEpoch: 1_790_000_000).floored(to: .seconds(86_400))
            var labelled: [AnomalyEvaluation.Labelled] = []
            var falses: [Incident] = []
            var judged = Duration.zero
            var shiftIncidents: [Int] = []
            var shiftFalse = 0
            print("| seed | days | false anomalies | 3x caught | 2x caught | silent tenants caught | level shift: anomalies |")
            print("|---|---|---|---|---|---|---|")
            for seed in seeds where days > 0 {
                let week = AnomalyEvaluation(.init(seed: seed, duration: .seconds(Int64(days) * 86_400))).run(start: start)
                let shift = AnomalyEvaluation(.init(seed: seed, duration: .seconds(6 * 3600))).run(start: start, levelShift: true)
                labelled += week.labelled
                falses += week.falseAnomalies
                judged += week.judged
                shiftIncidents.append(shift.labelled.first?.incidents ?? 0)
                shiftFalse += shift.falseAnomalies.count
                func caught(_ kind: AnomalyEvaluation.Labelled.Kind) -> String {
                    let all = week.labelled.filter { $0.kind == kind }
                    return "\(all.count { $0.detectedBy != nil })/\(all.count)"
                }
                print(
                    "| \(seed) | \(days) | \(week.falseAnomalies.count) | \(caught(.triple)) | \(caught(.double)) | \(caught(.outage)) | \(shift.labelled.first?.incidents ?? 0) (+\(shift.falseAnomalies.count) unexplained) |"
                )
            }
            if days > 0 {
                print("")
                let perDay = Double(falses.count) / (Double(judged.milliseconds) / 86_400_000)
                print("False anomalies: \(falses.count) in \(Int(judged.milliseconds / 86_400_000)) simulated days, \(Self.fixed(perDay, 2)) a day")
                for incident in falses.prefix(20) {
                    print(
                        "  \(incident.kind.rawValue) \(incident.subject) at \(incident.start), \(Int(incident.actualPerHour)) $/h against \(Int(incident.expectedPerHour))"
                    )
                }
                for kind in [AnomalyEvaluation.Labelled.Kind.triple, .double, .outage] {
                    let all = labelled.filter { $0.kind == kind }
                    let delays = all.compactMap(\.delay).map { Double($0.milliseconds) / 1000 }.sorted()
                    let duplicates = all.count { $0.incidents > 1 }
                    print(
                        "\(kind.rawValue): caught \(delays.count)/\(all.count) (\(Self.fixed(100 * Double(delays.count) / Double(max(1, all.count)), 1)) %), start to open median \(Self.seconds(delays, 0.5)), p90 \(Self.seconds(delays, 0.9)), max \(delays.last.map { "\(Int($0)) s" } ?? "-"); more than one incident: \(duplicates)"
                    )
                    for missed in all.filter({ $0.detectedBy == nil }).prefix(5) {
                        print("  missed: \(missed.effect.target) from \(missed.effect.from)")
                    }
                }
                print(
                    "Level shift (one tenant at 2x for good, 6 h): anomalies \(shiftIncidents.map(String.init).joined(separator: ", ")) per seed; unexplained \(shiftFalse)"
                )
                print("")
            }
            print("")
            print("| customers | series followed | detection p50 | p99 | max | snapshot of the hour p50 (same run) |")
            print("|---|---|---|---|---|---|")
            for customers in costCustomers {
                let run = AnomalyEvaluation(.init(seed: seeds[0], duration: .seconds(1800), customers: customers)).run(
                    start: start, timingSnapshots: true)
                func micros(_ values: [Int64], _ q: Double) -> String {
                    let sorted = values.sorted()
                    guard !sorted.isEmpty else { return "-" }
                    return Self.fixed(Double(sorted[min(sorted.count - 1, Int(Double(sorted.count) * q))]) / 1000, 0) + " µs"
                }
                let ticks = run.tickNanoseconds
                print(
                    "| \(customers) | \(run.trackedSeries) | \(micros(ticks, 0.5)) | \(micros(ticks, 0.99)) | \(micros(ticks, 1)) | \(micros(run.snapshotNanoseconds, 0.5)) |"
                )
            }
        }

        static func fixed(_ value: Double, _ places: Int) -> String {
            var scale = 1.0
            for _ in 0..<places { scale *= 10 }
            let rounded = (value * scale).rounded() / scale
            return places == 0 ? String(Int(rounded)) : String(rounded)
        }

        static func seconds(_ sorted: [Double], _ q: Double) -> String {
            guard !sorted.isEmpty else { return "-" }
            return "\(Int(sorted[min(sorted.count - 1, Int(Double(sorted.count) * q))])) s"
        }
    }
}
