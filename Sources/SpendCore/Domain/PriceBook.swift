import Synchronization

/// The price table in force, replaceable while the server runs (`kill -HUP` reloads
/// `--prices`), with what happened to the last reload. Readers take the table as one value,
/// so a batch is priced with one table whole, never half of two.
///
/// ```swift
/// let book = PriceBook(try PriceTable.parse(bytes), source: "prices.json", at: clock.now)
/// decoder.prices = book.table
/// ```
public final class PriceBook: Sendable {
    public struct Status: Sendable {
        public var table: PriceTable
        /// The file the table came from; nil for the built-in reference prices.
        public var source: String?
        public var loadedAt: Timestamp
        public var reloads = 0
        public var failedReloads = 0
        /// Every problem of the last reload when it failed (the previous table stayed in force);
        /// nil once one succeeds.
        public var lastReloadProblems: [String]?
        public var lastReloadFailedAt: Timestamp?
    }

    private let state: Mutex<Status>

    public init(_ table: PriceTable, source: String?, at now: Timestamp) {
        state = Mutex(Status(table: table, source: source, loadedAt: now))
    }

    public var table: PriceTable { state.withLock { $0.table } }
    public var status: Status { state.withLock { $0 } }

    /// Puts `table` in force for every update decoded from now on.
    public func replace(with table: PriceTable, at now: Timestamp) {
        state.withLock {
            $0.table = table
            $0.loadedAt = now
            $0.reloads += 1
            $0.lastReloadProblems = nil
            $0.lastReloadFailedAt = nil
        }
    }

    /// Records a reload that was refused; the table in force stays.
    public func refuse(_ problems: [String], at now: Timestamp) {
        state.withLock {
            $0.failedReloads += 1
            $0.lastReloadProblems = problems
            $0.lastReloadFailedAt = now
        }
    }
}
