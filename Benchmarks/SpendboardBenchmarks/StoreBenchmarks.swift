import Benchmark
import SpendCore

/// Figures that are not timings, recorded next to them (and checked like them).
enum LedgerMetric {
    /// `UsageLedger.status.rollupBytes`: the rollup tables' size.
    static let rollupBytes = BenchmarkMetric.custom("rollupBytes", useScalingFactor: false)
    /// `UsageLedger.status.rawUpdates`: raw updates held in the last hour.
    static let rawUpdates = BenchmarkMetric.custom("rawUpdatesHeld", useScalingFactor: false)
    /// Raw updates a query returned.
    static let returned = BenchmarkMetric.custom("updatesReturned", useScalingFactor: false)
    /// `MemoryLayout<RawUsage>.stride`.
    static let rawUpdateBytes = BenchmarkMetric.custom("rawUpdateBytes", useScalingFactor: false)
    /// Updates ingested per second of ingest.
    static let updatesPerSecond = BenchmarkMetric.custom("updatesPerSecond", polarity: .prefersLarger, useScalingFactor: false)
    /// Megabytes (2^20 bytes) of NDJSON decoded and checked per second.
    static let megabytesPerSecond = BenchmarkMetric.custom("megabytesPerSecond", polarity: .prefersLarger, useScalingFactor: false)
}

/// Ingest, snapshot, `since`, forgetting names, JSON for a page of raw updates, decoding NDJSON.
func storeBenchmarks() {
    let now = Fixtures.now
    let clock = ContinuousClock()

    // Ingest: each iteration ingests the next batch of simulated updates into a ledger that
    // already holds 24 h (1×) or 10 min (100×, where the raw log is full after 2.4 min). The
    // simulator's generation of the batch is not measured.
    for (name, load, history, batch) in [
        ("ingest-1h-batch-1x-onto-24h", 1.0, Duration.seconds(86_400), Duration.seconds(3600)),
        ("ingest-1min-batch-100x-onto-10min", 100.0, Duration.seconds(600), Duration.seconds(60)),
    ] {
        Benchmark(
            name, configuration: configuration([LedgerMetric.updatesPerSecond], warmupIterations: 1, maxDuration: .seconds(90), maxIterations: 40)
        ) {
            (benchmark: Benchmark, state: IngestState) in
            let from = state.end
            let to = from.advanced(by: batch)
            let updates = state.simulator.updates(from: from, to: to)
            benchmark.startMeasurement()
            let elapsed = clock.measure { state.ledger.ingest(updates, now: to) }
            benchmark.stopMeasurement()
            state.end = to
            benchmark.measurement(LedgerMetric.updatesPerSecond, Int(Double(updates.count) / elapsed.secondsDouble))
        } setup: {
            IngestState(
                ledger: Fixtures.ledger(load: load, history: history), simulator: Simulator(configuration: .init(seed: 1, load: load)), end: now)
        }
    }

    // The snapshot with every window's report, as once a minute (on other ticks the long
    // windows are reused), over the whole retention; with the rollups' size and the process's
    // peak resident memory (the ledger and the building of it).
    Benchmark(
        "snapshot-all-windows-30d-1x",
        configuration: configuration([LedgerMetric.rollupBytes, .peakMemoryResident], maxIterations: 200)
    ) { (benchmark: Benchmark, held: HeldLedger) in
        let snapshot = held.ledger.snapshot(at: now, windows: true)
        precondition(snapshot.window(.month) != nil)
        blackHole(snapshot)
        benchmark.measurement(LedgerMetric.rollupBytes, held.status.rollupBytes)
    } setup: {
        HeldLedger(Fixtures.month())
    }

    // Snapshot: the same cost with 24 h at 1× and 70 min at 100×.
    for (name, history) in [("snapshot-24h-1x", Fixtures.day), ("snapshot-70min-100x", Fixtures.fast)] {
        Benchmark(name, configuration: configuration([LedgerMetric.rollupBytes])) { (benchmark: Benchmark, held: HeldLedger) in
            let snapshot = held.ledger.snapshot(at: now)
            precondition(!snapshot.customers.isEmpty)
            blackHole(snapshot)
            benchmark.measurement(LedgerMetric.rollupBytes, held.status.rollupBytes)
        } setup: {
            HeldLedger(history())
        }
    }

    // `since` = now − 2 s with a full hour of raw history (a poller's usual question), 1,000
    // queries per sample.
    let since = RawCursor.after(timestamp: now.millisecondsSinceEpoch - 2000)
    Benchmark(
        "since-now-2s-full-hour",
        configuration: configuration([LedgerMetric.rawUpdates, LedgerMetric.rawUpdateBytes, LedgerMetric.returned], scalingFactor: .kilo)
    ) { (benchmark: Benchmark, held: HeldLedger) in
        var returned = 0
        for _ in benchmark.scaledIterations {
            let page = try held.ledger.rawPage(after: since, limit: 10_000, now: now)
            returned = page.updates.count
            blackHole(page)
        }
        benchmark.measurement(LedgerMetric.returned, returned)
        benchmark.measurement(LedgerMetric.rawUpdates, held.status.rawUpdates)
        benchmark.measurement(LedgerMetric.rawUpdateBytes, MemoryLayout<RawUsage>.stride)
    } setup: {
        HeldLedger(Fixtures.day())
    }

    // The hourly pass that forgets names nobody uses (it marks every key and raw update held;
    // after the first pass there is nothing to forget). It reads 14 MB (1×) or 56 MB (100×) of
    // raw updates per pass, and its time follows the machine's memory traffic: its p90 ranged
    // from 368 to 702 µs (1×) in 16 runs of the same build with nothing else running, so its
    // wall clock is only checked for a doubling (tolerance 100 %); its mallocs keep 10 %.
    for (name, history) in [("compactNames-24h-1x", Fixtures.day), ("compactNames-70min-100x", Fixtures.fast)] {
        Benchmark(name, configuration: configuration(wallClockTolerance: 100)) { (benchmark: Benchmark, held: Box<UsageLedger>) in
            blackHole(held.value.compactNames())
        } setup: {
            Box(history())
        }
    }

    // JSON for a full page of 10,000 raw updates, as `/api/metrics?since=` answers.
    Benchmark("json-page-10000-updates", configuration: configuration(maxIterations: 250)) { (benchmark: Benchmark, page: RawPage) in
        var writer = JSONWriter(capacity: page.updates.count * 220)
        writer.array(page.updates) { w, update in w.usageUpdate(update) }
        precondition(!writer.bytes.isEmpty)
        blackHole(writer.bytes)
    } setup: {
        let page = try Fixtures.day().rawPage(after: .after(timestamp: now.millisecondsSinceEpoch - 600_000), limit: 10_000, now: now)
        precondition(page.updates.count == 10_000)
        return page
    }

    // Decoding producers' NDJSON with every rule checked, on one core.
    Benchmark("decode-ndjson-20000-updates", configuration: configuration([LedgerMetric.megabytesPerSecond], maxIterations: 250)) {
        (benchmark: Benchmark, input: (decoder: UsageBatchDecoder, lines: [UInt8])) in
        let start = clock.now
        let updates = try input.decoder.decode(input.lines, format: .ndjson, now: now)
        let elapsed = clock.now - start
        precondition(updates.count == 20_000)
        blackHole(updates)
        benchmark.measurement(LedgerMetric.megabytesPerSecond, Int(Double(input.lines.count) / 1_048_576 / elapsed.secondsDouble))
    } setup: {
        (decoder: UsageBatchDecoder(maximumItems: .max), lines: ndjson(count: 20_000))
    }
}

/// A ledger and its status, read once in setup.
struct HeldLedger {
    var ledger: UsageLedger
    var status: LedgerStatus

    init(_ ledger: UsageLedger) {
        self.ledger = ledger
        self.status = ledger.status
    }
}

/// A ledger being fed, one batch per iteration.
final class IngestState {
    var ledger: UsageLedger
    let simulator: Simulator
    /// Where the next batch starts.
    var end: Timestamp

    init(ledger: UsageLedger, simulator: Simulator, end: Timestamp) {
        self.ledger = ledger
        self.simulator = simulator
        self.end = end
    }
}

/// `count` usage updates of the last 10 minutes as NDJSON in the wire format, with event ids.
func ndjson(count: Int) -> [UInt8] {
    let simulator = Simulator(configuration: .init(seed: 3))
    let sample = simulator.updates(from: Fixtures.now.advanced(by: .seconds(-600)), to: Fixtures.now)
    precondition(sample.count >= count)
    var lines: [UInt8] = []
    for (index, update) in sample.prefix(count).enumerated() {
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
                    m.field("totalCost") { $0.dollars(update.cost.total) }
                    m.field("avgLatencyMs") { $0.number(update.avgLatencyMs, places: 2) }
                }
            }
        }
        lines += writer.bytes
        lines.append(UInt8(ascii: "\n"))
    }
    return lines
}
