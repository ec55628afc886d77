import ArgumentParser
import SpendCore

/// `spendboard anomalies …`: the anomaly detector from the command line.
struct Anomalies: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Anomalies: measure the detector on labelled simulated traffic.",
        subcommands: [Evaluate.self]
    )

    /// Plays labelled simulated weeks through the detector and prints what it caught, how
    /// fast, what it opened for nothing, and what a tick costs (docs/benchmarks.md).
    struct Evaluate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Measure detection on labelled simulated traffic (docs/benchmarks.md, \"Anomaly detection\"); build with -c release."
        )

        @Option(name: .customLong("seed"), help: "Seeds of the simulated traffic; repeat for more.")
        var seeds: [UInt64] = [1, 2, 3]

        @Option(help: "Simulated days judged per seed.")
        var days = 7

        @Option(name: .customLong("cost-customers"), help: "Customer counts to time a tick with (30 simulated minutes each); repeat for more.")
        var costCustomers: [Int] = [100, 10_000]

        func validate() throws {
            guard (1...60).contains(days) else { throw ValidationError("--days must be from 1 to 60; got \(days)") }
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
            for seed in seeds {
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
            print("| customers | series followed | tick p50 | tick p99 | tick max |")
            print("|---|---|---|---|---|")
            for customers in costCustomers {
                let run = AnomalyEvaluation(.init(seed: seeds[0], duration: .seconds(1800), customers: customers)).run(start: start)
                let ticks = run.tickNanoseconds.sorted()
                func micros(_ q: Double) -> String {
                    Self.fixed(Double(ticks[min(ticks.count - 1, Int(Double(ticks.count) * q))]) / 1000, 0) + " µs"
                }
                print("| \(customers) | \(run.trackedSeries) | \(micros(0.5)) | \(micros(0.99)) | \(micros(1)) |")
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
