import Logging

/// The shared store: a `UsageLedger` behind an actor, with the clock injected and, optionally,
/// a journal that makes every update durable before it is counted.
///
/// ```swift
/// let store = UsageStore(clock: WallClock(), journal: try SQLiteJournal(directory: "data"), logger: logger)
/// let newest = try await store.restore()
/// let result = try await store.ingest(updates)
/// let snapshot = await store.snapshot()
/// ```
public actor UsageStore {
    private var ledger: UsageLedger
    private let journal: (any UsageJournal)?
    private var lastPrune: Timestamp?
    private var journalHealth = JournalStatus()
    /// The last snapshot, whose once-a-minute windows the next one may reuse.
    private var lastSnapshot: Snapshot?
    private let logger: Logger
    public nonisolated let clock: any TimeSource
    public nonisolated let configuration: UsageLedger.Configuration

    /// How often the journal drops what no tier needs any more.
    static let pruneInterval: Duration = .seconds(60)

    /// - Parameter logger: where journal failures that no caller sees (a failed prune, updates
    ///   a restore refused) are reported; by default they are only counted in `journalStatus`.
    public init(
        configuration: UsageLedger.Configuration = .init(), clock: any TimeSource, journal: (any UsageJournal)? = nil,
        logger: Logger = Logger(label: "spendboard.store", factory: { _ in SwiftLogNoOpLogHandler() })
    ) {
        ledger = UsageLedger(configuration: configuration)
        self.configuration = configuration
        self.clock = clock
        self.journal = journal
        self.logger = logger
    }

    /// Rebuilds the ledger from the journal; returns the newest stored timestamp.
    @discardableResult
    public nonisolated func restore() async throws -> Timestamp? {
        guard let journal else { return nil }
        let now = clock.now
        let contents = try await journal.restore(now: now)
        let result = await restore(contents, now: now)
        if result.rejectedCount > 0 {
            logger.warning(
                "restore left out stored updates the store refuses",
                metadata: ["refused": "\(result.rejectedCount)", "reasons": "\(result.rejected.map { "\($0.key): \($0.value)" }.sorted())"]
            )
        }
        return contents.newest
    }

    private func restore(_ contents: JournalContents, now: Timestamp) -> UsageLedger.IngestResult {
        ledger.restore(contents, now: now)
    }

    /// The single entry point for usage from every source. Each update passes the ledger's rules
    /// (`UsageLedger.Configuration.admit`) first: what the store refuses is counted in the
    /// result's `rejected` and never reaches the journal. With a journal, the admitted updates
    /// are on disk, whole, before they are counted and before this returns; if writing fails
    /// nothing is counted and the error is thrown. While the disk works, the store keeps
    /// answering.
    @discardableResult
    public nonisolated func ingest(_ updates: [UsageUpdate]) async throws -> UsageLedger.IngestResult {
        let now = clock.now
        guard let journal else { return await count(updates, now: now) }
        var refused = UsageLedger.IngestResult()
        var admitted = updates
        if let firstRefused = updates.firstIndex(where: { configuration.admit($0, now: now) != nil }) {
            admitted = Array(updates[..<firstRefused])
            for update in updates[firstRefused...] {
                if let rejection = configuration.admit(update, now: now) {
                    refused.rejected[rejection, default: 0] += 1
                } else {
                    admitted.append(update)
                }
            }
        }
        let fresh = admitted.isEmpty ? [] : try await journal.append(admitted, now: now)
        // The same rules at the same instant: the ledger counts every fresh update.
        var result = await count(fresh, now: now)
        result.duplicates = admitted.count - fresh.count
        result.rejected.merge(refused.rejected, uniquingKeysWith: +)
        return result
    }

    private func count(_ updates: [UsageUpdate], now: Timestamp) -> UsageLedger.IngestResult {
        ledger.ingest(updates, now: now)
    }

    /// Computes the snapshot at the current time, first freeing what has aged out (and, once a
    /// minute, pruning the journal). A failed prune does not stop the snapshot: it is logged as
    /// an error and counted in `journalStatus`, and tried again a minute later.
    public nonisolated func snapshot() async -> Snapshot {
        let now = clock.now
        if let journal, await pruneIsDue(now) {
            do {
                try await journal.prune(now: now)
                await recordPrune(failure: nil)
            } catch {
                logger.error("journal prune failed; the data folder keeps growing until one succeeds", metadata: ["error": "\(error)"])
                await recordPrune(failure: error)
            }
        }
        return await computeSnapshot(at: now)
    }

    private func pruneIsDue(_ now: Timestamp) -> Bool {
        guard lastPrune.map({ $0.duration(to: now) >= Self.pruneInterval }) ?? true else { return false }
        lastPrune = now
        return true
    }

    private func recordPrune(failure: (any Error)?) {
        if let failure {
            journalHealth.pruneFailures += 1
            journalHealth.lastError = "\(failure)"
        } else {
            journalHealth.lastError = nil
        }
    }

    private func computeSnapshot(at now: Timestamp) -> Snapshot {
        ledger.expire(now: now)
        let snapshot = ledger.snapshot(at: now, windows: true, reusing: lastSnapshot)
        lastSnapshot = snapshot
        return snapshot
    }

    /// The report of the range the parameters name, for `/report` and `/api/stats?window=`
    /// (`UsageLedger.report(window:from:to:at:)`), resolved and cut at one instant.
    public func report(window: String?, from: String?, to: String?) throws(TimeRangeQuery.Problem) -> WindowReport? {
        try ledger.report(window: window, from: from, to: to, at: clock.now)
    }

    public func rawPage(after cursor: RawCursor, limit: Int) throws(RawQueryError) -> RawPage {
        try ledger.rawPage(after: cursor, limit: limit, now: clock.now)
    }

    public var status: LedgerStatus { ledger.status }

    /// How the journal's background work (pruning) fares, for `/api/health`.
    public var journalStatus: JournalStatus { journalHealth }
}
