import Logging
import SpendCore
import SpendReport

/// Inputs shared by the benchmarks, built in setup closures.
enum Fixtures {
    /// Every benchmark's history ends here: a fixed instant makes the simulated day, and so the
    /// figures, the same on every run (the simulator's spikes depend on the hour).
    static let now = Timestamp(iso8601: "2026-11-29T14:05:00.000Z")!

    /// A ledger holding `history` of simulated usage at `load` × the reference rate, ending at
    /// `end`, ingested in batches of an hour (one minute above 10×).
    static func ledger(load: Double, history: Duration, endingAt end: Timestamp = now) -> UsageLedger {
        let simulator = Simulator(configuration: .init(seed: 1, load: load))
        var ledger = UsageLedger()
        let chunk: Duration = load > 10 ? .seconds(60) : .seconds(3600)
        var from = end.advanced(by: .zero - history)
        while from < end {
            let to = min(end, from.advanced(by: chunk))
            ledger.ingest(simulator.updates(from: from, to: to), now: end)
            from = to
        }
        return ledger
    }

    /// 24 hours at the reference rate, as the server holds after a day.
    static func day() -> UsageLedger { ledger(load: 1, history: .seconds(86_400)) }

    /// 30 days at the reference rate: the whole retention (about 180 million updates; a minute
    /// or two to build in release).
    static func month() -> UsageLedger { ledger(load: 1, history: .seconds(30 * 86_400)) }

    /// 70 minutes at 100× the reference rate: every bucket the snapshot reads is filled, except
    /// 22 hour buckets (24 hours at 100× would be 600 million updates).
    static func fast() -> UsageLedger { ledger(load: 100, history: .seconds(70 * 60)) }

    static let logger = Logger(label: "bench", factory: { _ in SwiftLogNoOpLogHandler() })

    /// The renderer with the bundled templates.
    static func renderer() throws -> ReportRenderer {
        try ReportRenderer(configuration: .init(templatesDirectory: nil), logger: logger)
    }
}

/// Mutable state carried from one iteration to the next (the setup result is shared).
final class Box<Value> {
    var value: Value
    init(_ value: Value) { self.value = value }
}
