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
    private var detector: AnomalyDetector
    private let anomalyJournal: (any AnomalyJournal)?
    /// Events whose write failed: they go with the next write, never lost while the process lives.
    private var unrecordedEvents: [AnomalyEvent] = []
    private var anomalyHealth = AnomalyJournalStatus()
    private var lastPrune: Timestamp?
    private var journalHealth = JournalStatus()
    /// The last snapshot, whose once-a-minute windows the next one may reuse.
    private var lastSnapshot: Snapshot?
    /// What this process accepted since it started, per tenant and model (for `/metrics`).
    public private(set) var tally = UsageTally()
    private let logger: Logger
    public nonisolated let clock: any TimeSource
    public nonisolated let configuration: UsageLedger.Configuration

    /// How often the journal drops what no tier needs any more.
    static let pruneInterval: Duration = .seconds(60)

    /// - Parameters:
    ///   - anomalies: the detector's gates (`AnomalySettings`).
    ///   - anomalyJournal: where incidents and their events are kept (usually the same
    ///     `SQLiteJournal` as `journal`); without one they live as long as the process.
    ///   - logger: where journal failures that no caller sees (a failed prune, updates a
    ///     restore refused) are reported; by default they are only counted in `journalStatus`.
    public init(
        configuration: UsageLedger.Configuration = .init(), clock: any TimeSource, journal: (any UsageJournal)? = nil,
        anomalies: AnomalySettings = AnomalySettings(), anomalyJournal: (any AnomalyJournal)? = nil,
        logger: Logger = Logger(label: "spendboard.store", factory: { _ in SwiftLogNoOpLogHandler() })
    ) {
        ledger = UsageLedger(configuration: configuration)
        detector = AnomalyDetector(settings: anomalies)
        self.anomalyJournal = anomalyJournal
        self.configuration = configuration
        self.clock = clock
        self.journal = journal
        self.logger = logger
    }

    /// Rebuilds the ledger from the journal; returns the newest stored timestamp.
    @discardableResult
    public nonisolated func restore() async throws -> Timestamp? {
        let now = clock.now
        if let anomalyJournal {
            let incidents = try await anomalyJournal.incidents(now: now, retention: detector.settings.retention)
            await restoreIncidents(incidents, now: now)
        }
        guard let journal else { return nil }
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

    private func restoreIncidents(_ incidents: [Incident], now: Timestamp) {
        detector.restore(incidents, now: now)
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
        guard let journal else { return await countAccepted(updates, now: now, admitted: false) }
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
        var result = await countAccepted(fresh, now: now, admitted: true)
        result.duplicates = admitted.count - fresh.count
        result.rejected.merge(refused.rejected, uniquingKeysWith: +)
        return result
    }

    /// Counts other nodes' updates that a shared journal's log brought, already durable; the
    /// same rules apply at this node's clock. What they refuse (a clock far off
    /// the node that took the update) is logged: the nodes' numbers then differ.
    @discardableResult
    public nonisolated func includeFollowed(_ updates: [UsageUpdate]) async -> UsageLedger.IngestResult {
        let result = await count(updates, now: clock.now)
        if result.rejectedCount > 0 {
            logger.warning(
                "updates from the shared log refused at this node's clock",
                metadata: ["refused": "\(result.rejectedCount)", "reasons": "\(result.rejected.map { "\($0.key): \($0.value)" }.sorted())"])
        }
        return result
    }

    /// Replaces the ledger with `contents` (a fresh restore): for a node that could not follow
    /// a shared log for longer than the log keeps its rows.
    public func replace(with contents: JournalContents) {
        let now = clock.now
        ledger = UsageLedger(configuration: configuration)
        lastSnapshot = nil
        let result = ledger.restore(contents, now: now)
        if result.rejectedCount > 0 {
            logger.warning("rebuild left out stored updates the store refuses", metadata: ["refused": "\(result.rejectedCount)"])
        }
    }

    /// Applies an acknowledgement another node stored; returns the event it makes here (nil
    /// when this node has no such incident, or it was acknowledged already).
    @discardableResult
    public func applyAcknowledgement(_ id: String, _ acknowledgement: Incident.Acknowledgement) -> AnomalyEvent? {
        guard detector.incidents[id]?.acknowledgement == nil, let event = detector.acknowledge(id, acknowledgement) else { return nil }
        unrecordedEvents.append(event)
        return event
    }

    private func count(_ updates: [UsageUpdate], now: Timestamp) -> UsageLedger.IngestResult {
        ledger.ingest(updates, now: now)
    }

    /// Counts updates this process took (not history, not other nodes'), and adds what the
    /// ledger accepted to the tally; `admitted`: every update already passed the rules at `now`.
    private func countAccepted(_ updates: [UsageUpdate], now: Timestamp, admitted: Bool) -> UsageLedger.IngestResult {
        let result = ledger.ingest(updates, now: now)
        if admitted || result.rejectedCount == 0 {
            tally.add(updates)
        } else {
            tally.add(updates.lazy.filter { self.configuration.admit($0, now: now) == nil })
        }
        return result
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
            if let anomalyJournal {
                do {
                    try await anomalyJournal.pruneIncidents(now: now, retention: detector.settings.retention)
                } catch {
                    logger.error("pruning incidents failed", metadata: ["error": "\(error)"])
                }
            }
        }
        let snapshot = await computeSnapshot(at: now)
        await recordAnomalies(now: now)
        return snapshot
    }

    /// Writes the incidents changed and the events since the last write. A failed write is
    /// logged, counted in `anomalyStatus`, and tried again with the next one.
    private func recordAnomalies(now: Timestamp) async {
        let (changed, revision) = detector.takeChanges(now: now)
        let events = unrecordedEvents
        guard let anomalyJournal, !changed.isEmpty || !events.isEmpty else {
            unrecordedEvents = []
            return
        }
        unrecordedEvents = []
        do {
            try await anomalyJournal.record(changed, revision: revision, events: events)
            anomalyHealth.lastError = nil
        } catch {
            logger.error("incidents not stored; trying again on the next tick", metadata: ["error": "\(error)"])
            anomalyHealth.writeFailures += 1
            anomalyHealth.lastError = "\(error)"
            detector.markChanged(changed.map(\.id))
            unrecordedEvents = events + unrecordedEvents
        }
    }

    /// Acknowledges incident `id`; returns it as it is now, nil when there is none, and throws
    /// when the acknowledgement could not be stored (it is kept in memory and stored with the
    /// next tick's write).
    public func acknowledge(_ id: String, reason: Incident.Acknowledgement.Reason, note: String?) async throws -> Incident? {
        let now = clock.now
        guard let event = detector.acknowledge(id, Incident.Acknowledgement(at: now, reason: reason, note: note)) else { return nil }
        unrecordedEvents.append(event)
        let (changed, revision) = detector.takeChanges(now: now)
        let events = unrecordedEvents
        unrecordedEvents = []
        if let anomalyJournal {
            do {
                try await anomalyJournal.record(changed, revision: revision, events: events)
            } catch {
                detector.markChanged(changed.map(\.id))
                unrecordedEvents = events + unrecordedEvents
                throw error
            }
        }
        return detector.incidents[id]
    }

    /// Every incident kept (the last `AnomalySettings.retention`), newest start first.
    public var incidents: [Incident] {
        detector.incidents.values.sorted { ($0.start, $0.id) > ($1.start, $1.id) }
    }

    public func incident(_ id: String) -> Incident? { detector.incidents[id] }

    /// How many series the detector follows.
    public var anomalySeries: Int { detector.trackedSeries }

    /// How writing incidents fares, for `/api/health`.
    public var anomalyStatus: AnomalyJournalStatus { anomalyHealth }

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
        unrecordedEvents += detector.advance(ledger, now: now)
        var snapshot = ledger.snapshot(at: now, windows: true, reusing: lastSnapshot)
        snapshot.anomalies = detector.panel(at: now)
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

/// Facts about writing incidents, for `/api/health`.
public struct AnomalyJournalStatus: Hashable, Sendable {
    public var writeFailures = 0
    /// The last write's error if it failed; nil once one succeeds.
    public var lastError: String?
    public init() {}
}
