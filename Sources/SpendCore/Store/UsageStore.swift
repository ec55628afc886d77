/// The shared store: a `UsageLedger` behind an actor, with the clock injected and, optionally,
/// a journal that makes every update durable before it is counted.
///
/// ```swift
/// let store = UsageStore(clock: WallClock(), journal: try SQLiteJournal(directory: "data"))
/// let newest = try await store.restore()
/// let result = try await store.ingest(updates)
/// let snapshot = await store.snapshot()
/// ```
public actor UsageStore {
    private var ledger: UsageLedger
    private let journal: (any UsageJournal)?
    private var lastPrune: Timestamp?
    public nonisolated let clock: any TimeSource
    public nonisolated let configuration: UsageLedger.Configuration

    /// How often the journal drops what no tier needs any more.
    static let pruneInterval: Duration = .seconds(60)

    public init(configuration: UsageLedger.Configuration = .init(), clock: any TimeSource, journal: (any UsageJournal)? = nil) {
        ledger = UsageLedger(configuration: configuration)
        self.configuration = configuration
        self.clock = clock
        self.journal = journal
    }

    /// Rebuilds the ledger from the journal; returns the newest stored timestamp.
    @discardableResult
    public func restore() throws -> Timestamp? {
        guard let journal else { return nil }
        let now = clock.now
        let contents = try journal.restore(now: now)
        ledger.restore(contents, now: now)
        return contents.newest
    }

    /// The single entry point for usage from every source. With a journal, the batch is on
    /// disk, whole, before this returns; if writing fails nothing is counted and the error is
    /// thrown.
    @discardableResult
    public func ingest(_ updates: [UsageUpdate]) throws -> UsageLedger.IngestResult {
        let now = clock.now
        guard let journal else { return ledger.ingest(updates, now: now) }
        let fresh = try journal.append(updates, now: now)
        var result = ledger.ingest(fresh, now: now)
        result.duplicates = updates.count - fresh.count
        return result
    }

    /// Computes the snapshot at the current time, first freeing what has aged out (and, once a
    /// minute, pruning the journal).
    public func snapshot() -> Snapshot {
        let now = clock.now
        ledger.expire(now: now)
        if let journal, lastPrune.map({ $0.duration(to: now) >= Self.pruneInterval }) ?? true {
            lastPrune = now
            try? journal.prune(now: now)
        }
        return ledger.snapshot(at: now)
    }

    public func rawPage(after cursor: RawCursor, limit: Int) throws(RawQueryError) -> RawPage {
        try ledger.rawPage(after: cursor, limit: limit, now: clock.now)
    }

    public var status: LedgerStatus { ledger.status }
}
