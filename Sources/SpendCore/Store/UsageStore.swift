/// The shared store: a `UsageLedger` behind an actor, with the clock injected.
///
/// ```swift
/// let store = UsageStore(clock: WallClock())
/// await store.ingest(updates)
/// let snapshot = await store.snapshot()
/// ```
public actor UsageStore {
    private var ledger: UsageLedger
    public nonisolated let clock: any TimeSource

    public init(configuration: UsageLedger.Configuration = .init(), clock: any TimeSource) {
        ledger = UsageLedger(configuration: configuration)
        self.clock = clock
    }

    public nonisolated var configuration: UsageLedger.Configuration {
        get async { await ledger.configuration }
    }

    /// The single entry point for usage from every source.
    @discardableResult
    public func ingest(_ updates: some Sequence<UsageUpdate> & Sendable) -> UsageLedger.IngestResult {
        ledger.ingest(updates, now: clock.now)
    }

    public func snapshot() -> Snapshot {
        let now = clock.now
        ledger.expire(now: now)
        return ledger.snapshot(at: now)
    }

    public func rawPage(after cursor: RawCursor, limit: Int) throws(RawQueryError) -> RawPage {
        try ledger.rawPage(after: cursor, limit: limit, now: clock.now)
    }

    public var status: LedgerStatus { ledger.status }
}
