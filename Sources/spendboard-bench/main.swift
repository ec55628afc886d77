// Benchmarks of the store, the snapshot and the `since` query. Run in release:
//
//     swift run -c release spendboard-bench [store|all] [--quick]
//     swift run -c release spendboard-bench archive [--quick] [--dir FOLDER] [--settle SECONDS]
//
// Figures are medians of repeated runs; docs/benchmarks.md records them with the machine.
import Foundation
import SpendCore

let arguments = CommandLine.arguments.dropFirst()
let quick = arguments.contains("--quick")
if arguments.first == "archive" {
    func option(_ name: String) -> String? {
        arguments.firstIndex(of: name).flatMap { arguments.index(after: $0) < arguments.endIndex ? arguments[arguments.index(after: $0)] : nil }
    }
    runArchiveBenchmark(quick: quick, directory: option("--dir"), settle: option("--settle").flatMap(Double.init) ?? 65)
    exit(0)
}
let clock = ContinuousClock()

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}

func milliseconds(_ duration: Duration) -> Double { duration.secondsDouble * 1000 }

func report(_ name: String, _ value: String, target: String) {
    print("\(name.padding(toLength: 58, withPad: " ", startingAt: 0)) \(value.padding(toLength: 20, withPad: " ", startingAt: 0)) target \(target)")
    fflush(nil)  // shows each line as it comes when the output is a file or a pipe
}

func residentMegabytes() -> Double {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
        let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") })
    else { return .nan }
    return Double(line.split(separator: " ").dropFirst().first ?? "0").map { $0 / 1024 } ?? .nan
}

/// Fills a ledger with `hours` of simulated history ending at `now`, timing ingest per hour.
func fill(load: Double, hours: Double, now: Timestamp) -> (UsageLedger, ingestRates: [Double], updates: Int) {
    let simulator = Simulator(configuration: .init(seed: 1, load: load))
    var ledger = UsageLedger()
    var rates: [Double] = []
    var total = 0
    let end = now.floored(to: .seconds(1))
    var from = end.advanced(by: .milliseconds(-Int64(hours * 3_600_000)))
    let chunk: Duration = load > 10 ? .seconds(60) : .seconds(3600)
    while from < end {
        let to = min(end, from.advanced(by: chunk))
        let updates = simulator.updates(from: from, to: to)
        let elapsed = clock.measure { ledger.ingest(updates, now: now) }
        rates.append(Double(updates.count) / elapsed.secondsDouble)
        total += updates.count
        from = to
    }
    return (ledger, rates, total)
}

func timeSnapshots(_ ledger: UsageLedger, at now: Timestamp, runs: Int) -> Double {
    var times: [Double] = []
    for _ in 0..<runs {
        var snapshot: Snapshot?
        times.append(milliseconds(clock.measure { snapshot = ledger.snapshot(at: now) }))
        precondition(snapshot?.customers.isEmpty == false)
    }
    return median(times)
}

/// The hourly pass that forgets names nobody uses (it marks every key and raw update held).
func timeCompaction(_ ledger: UsageLedger) -> Double {
    var times: [Double] = []
    for _ in 0..<20 {
        var copy = ledger
        times.append(milliseconds(clock.measure { copy.compactNames() }))
    }
    return median(times)
}

print("spendboard-bench: \(ProcessInfo.processInfo.processorCount) cores, \(quick ? "quick" : "full") run")
let now = WallClock().now

// 1. 24 hours at the reference rate: ingest rate, snapshot time, memory.
let hours = quick ? 2.0 : 24.0
let rssBefore = residentMegabytes()
let (reference, ingestRates, count) = fill(load: 1, hours: hours, now: now)
report("ingest, \(count) updates over \(Int(hours)) h (median of hourly batches)", String(format: "%.2f M updates/s", median(ingestRates) / 1e6), target: "≥ 1 M/s on one core")
report("snapshot, \(Int(hours)) h of history at 1× (median of 200)", String(format: "%.3f ms", timeSnapshots(reference, at: now, runs: 200)), target: "≤ 5 ms")
let status = reference.status
report("rollup memory after \(Int(hours)) h at 1×", String(format: "%.2f MB", Double(status.rollupBytes) / 1_048_576), target: "≤ 8 MB")
report("raw update size (MemoryLayout<RawUsage>.stride)", "\(MemoryLayout<RawUsage>.stride) bytes", target: "≤ 64 bytes")
report("raw updates held (1 h window)", "\(status.rawUpdates)", target: "-")
report("forgetting unused names, hourly (nothing to forget; median of 20)", String(format: "%.2f ms", timeCompaction(reference)), target: "-")
_ = rssBefore

// 2. `since` for the last 2 s with a full hour of raw history.
var queryTimes: [Double] = []
var pageSize = 0
for _ in 0..<2000 {
    let since = RawCursor.after(timestamp: now.millisecondsSinceEpoch - 2000)
    queryTimes.append(milliseconds(clock.measure {
        let page = try! reference.rawPage(after: since, limit: 10_000, now: now)
        pageSize = page.updates.count
    }))
}
report("since = now − 2 s over \(status.rawUpdates) raw updates (\(pageSize) returned)", String(format: "%.4f ms", median(queryTimes)), target: "≤ 1 ms")
var encodeTimes: [Double] = []
let page = try! reference.rawPage(after: .after(timestamp: now.millisecondsSinceEpoch - 600_000), limit: 10_000, now: now)
for _ in 0..<50 {
    encodeTimes.append(milliseconds(clock.measure {
        var writer = JSONWriter(capacity: page.updates.count * 220)
        writer.array(page.updates) { w, update in w.usageUpdate(update) }
        precondition(!writer.bytes.isEmpty)
    }))
}
report("JSON for a full page of \(page.updates.count) updates", String(format: "%.2f ms", median(encodeTimes)), target: "-")

// 3. 100× the reference rate: the snapshot must cost the same.
let fastHours = quick ? 0.25 : 70.0 / 60.0
let (fast, fastRates, fastCount) = fill(load: 100, hours: fastHours, now: now)
report("ingest at 100×, \(fastCount) updates (median of 1-min batches)", String(format: "%.2f M updates/s", median(fastRates) / 1e6), target: "≥ 1 M/s on one core")
report("snapshot, \(Int(fastHours * 60)) min of history at 100× (median of 200)", String(format: "%.3f ms", timeSnapshots(fast, at: now, runs: 200)), target: "≤ 5 ms, same as 1×")
report("forgetting unused names at 100× (median of 20)", String(format: "%.2f ms", timeCompaction(fast)), target: "-")
report("rollup memory at 100×", String(format: "%.2f MB", Double(fast.status.rollupBytes) / 1_048_576), target: "bounded")

// 4. Decoding producers' NDJSON with every rule checked (one core), against Foundation.
do {
    let simulator = Simulator(configuration: .init(seed: 3))
    let sample = simulator.updates(from: now.advanced(by: .seconds(-600)), to: now.floored(to: .seconds(1)))
    var lines: [UInt8] = []
    for (index, update) in sample.prefix(20_000).enumerated() {
        var writer = JSONWriter()
        writer.object { o in
            o.field("eventId") { $0.string("e\(index)") }
            o.field("timestamp") { $0.timestamp(update.timestamp) }
            o.field("tenantId") { $0.string(update.tenantId) }
            o.field("customerId") { $0.string(update.customerId) }
            o.field("model") { $0.string(update.model) }
            o.field("metrics") { w in
                w.object { m in
                    m.field("totalCalls") { $0.integer(update.calls) }
                    m.field("totalTokens") { $0.integer(update.totalTokens) }
                    m.field("totalCost") { $0.dollars(micros: update.costMicros) }
                    m.field("avgLatencyMs") { $0.number(update.avgLatencyMs, places: 2) }
                }
            }
        }
        lines += writer.bytes
        lines.append(UInt8(ascii: "\n"))
    }
    let decoder = UsageBatchDecoder(maximumItems: .max)
    var ours: [Double] = []
    var theirs: [Double] = []
    for _ in 0..<7 {
        ours.append(clock.measure { precondition((try? decoder.decode(lines, format: .ndjson, now: now))?.count == 20_000) }.secondsDouble)
        theirs.append(clock.measure {
            var count = 0
            for line in lines.split(separator: UInt8(ascii: "\n")) where (try? JSONSerialization.jsonObject(with: Data(line))) != nil { count += 1 }
            precondition(count == 20_000)
        }.secondsDouble)
    }
    let megabytes = Double(lines.count) / 1_048_576
    report("decode + check 20,000 NDJSON updates, one core (median of 7)", String(format: "%.0f MB/s, %.0f k/s", megabytes / median(ours), 20 / median(ours)), target: "> Foundation")
    report("Foundation JSONSerialization, same lines, parse only", String(format: "%.0f MB/s, %.0f k/s", megabytes / median(theirs), 20 / median(theirs)), target: "-")
}
