import Synchronization
import Testing

@testable import SpendCore

/// A journal that keeps what it is given in memory and records every call; `restore` answers
/// with `contents`, and `prune` throws `pruneError` when one is set.
final class RecordingJournal: UsageJournal {
    struct State {
        var appended: [[UsageUpdate]] = []
        var prunes = 0
        var pruneError: JournalError?
        var contents = JournalContents()
    }

    let state: Mutex<State>

    init(contents: JournalContents = JournalContents(), pruneError: JournalError? = nil) {
        state = Mutex(State(pruneError: pruneError, contents: contents))
    }

    var appended: [UsageUpdate] { state.withLock { $0.appended.flatMap { $0 } } }
    var prunes: Int { state.withLock { $0.prunes } }

    func failPrunes(with error: JournalError?) {
        state.withLock { $0.pruneError = error }
    }

    func append(_ updates: [UsageUpdate], now: Timestamp) async throws -> [UsageUpdate] {
        state.withLock { $0.appended.append(updates) }
        return updates
    }

    func restore(now: Timestamp) async throws -> JournalContents {
        state.withLock { $0.contents }
    }

    func prune(now: Timestamp) async throws {
        let error = state.withLock { state -> JournalError? in
            state.prunes += 1
            return state.pruneError
        }
        if let error { throw error }
    }
}

struct UsageStoreTests {
    static let now = Timestamp(iso8601: "2026-11-29T14:00:00Z")!

    static func update(
        at timestamp: Timestamp = now.advanced(by: .seconds(-10)), customer: String = "c1", calls: Int64 = 10,
        cost: Int64 = 1_000, latency: Double = 100
    ) -> UsageUpdate {
        UsageUpdate(
            timestamp: timestamp, tenantId: "t1", customerId: customer, model: "gpt-4", calls: calls, totalTokens: 100,
            cost: Money(micros: cost), avgLatencyMs: latency
        )
    }

    /// What the store would refuse, each with the rejection it gets.
    static let refused: [(UsageUpdate, UsageLedger.Rejection)] = [
        (update(at: now.advanced(by: .seconds(301)), customer: "future"), .inFuture),
        (update(at: now.advanced(by: .seconds(-31 * 86_400)), customer: "too-old"), .tooOld),
        (update(customer: "too-many-calls", calls: Int64(UInt32.max) + 1), .outOfRange(field: "totalCalls")),
        (update(customer: "negative-cost", cost: -1), .outOfRange(field: "totalCost")),
        (update(customer: "nan-latency", latency: .nan), .outOfRange(field: "avgLatencyMs")),
    ]

    @Test(arguments: refused)
    func aRefusedUpdateNeverReachesTheJournal(refused: UsageUpdate, rejection: UsageLedger.Rejection) async throws {
        let journal = RecordingJournal()
        let store = UsageStore(clock: ManualTimeSource(Self.now), journal: journal)
        let good = Self.update(customer: "good")
        let result = try await store.ingest([good, refused, good])
        #expect(result.accepted == 2)
        #expect(result.rejected == [rejection: 1])
        #expect(result.duplicates == 0)
        #expect(journal.appended == [good, good], "only what the store counts is made durable")
        #expect(await store.status.totalAccepted == 2)
    }

    @Test func aBatchOfOnlyRefusedUpdatesWritesNothing() async throws {
        let journal = RecordingJournal()
        let store = UsageStore(clock: ManualTimeSource(Self.now), journal: journal)
        let result = try await store.ingest(Self.refused.map(\.0))
        #expect(result.accepted == 0)
        #expect(result.rejectedCount == Self.refused.count)
        #expect(journal.appended.isEmpty)
    }

    /// The rules are the same with and without a journal: one function decides.
    @Test func theRulesAreTheSameWithoutAJournal() async throws {
        let batch = [Self.update()] + Self.refused.map(\.0)
        let withJournal = try await UsageStore(clock: ManualTimeSource(Self.now), journal: RecordingJournal()).ingest(batch)
        let withoutJournal = try await UsageStore(clock: ManualTimeSource(Self.now)).ingest(batch)
        var ledger = UsageLedger()
        let direct = ledger.ingest(batch, now: Self.now)
        #expect(withJournal == withoutJournal)
        #expect(withJournal == direct)
        let configuration = UsageLedger.Configuration()
        #expect(batch.map { configuration.admit($0, now: Self.now) } == [nil] + Self.refused.map(\.1))
    }

    /// The oldest and newest admissible instants are exactly 30 days back and 5 minutes ahead,
    /// at every minute of the hour (the hour tier keeps room for both).
    @Test(arguments: [0, 1, 54, 55, 56, 59])
    func theTimeWindowIsExactAtEveryMinuteOfTheHour(minute: Int64) async throws {
        let now = Self.now.advanced(by: .seconds(minute * 60 + 17))
        let oldest = now.advanced(by: .seconds(-30 * 86_400))
        let newest = now.advanced(by: .seconds(300))
        let configuration = UsageLedger.Configuration()
        #expect(configuration.admit(Self.update(at: oldest), now: now) == nil)
        #expect(configuration.admit(Self.update(at: oldest.advanced(by: .milliseconds(-1))), now: now) == .tooOld)
        #expect(configuration.admit(Self.update(at: newest), now: now) == nil)
        #expect(configuration.admit(Self.update(at: newest.advanced(by: .milliseconds(1))), now: now) == .inFuture)
        // What is admitted is counted in the hour tier even after the newest admissible update.
        var ledger = UsageLedger()
        #expect(ledger.ingest([Self.update(at: newest, customer: "new"), Self.update(at: oldest, customer: "old")], now: now).accepted == 2)
        #expect(ledger.hour.totals(index: ledger.hour.bucketIndex(of: oldest.millisecondsSinceEpoch)).updates == 1)
    }

    /// A journal written before the rules were applied may hold updates the store refuses:
    /// they are not counted after a restart, and the count of accepted updates says so.
    @Test func aRestoreCountsOnlyWhatTheRulesAdmit() async throws {
        var contents = JournalContents()
        contents.recent = [Self.update(customer: "a"), Self.update(customer: "b", calls: Int64(UInt32.max) + 1), Self.update(customer: "c")]
        contents.newest = Self.update().timestamp
        let store = UsageStore(clock: ManualTimeSource(Self.now), journal: RecordingJournal(contents: contents))
        try await store.restore()
        let status = await store.status
        #expect(status.rawUpdates == 2)
        #expect(status.totalAccepted == 2)
    }

    /// A failed prune is counted and remembered, the snapshot is still computed, and the next
    /// successful prune clears the error (the count stays).
    @Test func aFailedPruneIsCountedAndTheSnapshotStillComputed() async throws {
        let clock = ManualTimeSource(Self.now)
        let journal = RecordingJournal(pruneError: JournalError(message: "disk I/O error"))
        let store = UsageStore(clock: clock, journal: journal)
        try await store.ingest([Self.update()])
        let snapshot = await store.snapshot()
        #expect(snapshot.hour.updates == 1)
        #expect(journal.prunes == 1)
        #expect(await store.journalStatus == JournalStatus(pruneFailures: 1, lastError: "disk I/O error"))

        clock.advance(by: .seconds(30))  // not due yet: no second attempt, nothing changes
        _ = await store.snapshot()
        #expect(journal.prunes == 1)
        clock.advance(by: .seconds(30))
        _ = await store.snapshot()
        #expect(await store.journalStatus == JournalStatus(pruneFailures: 2, lastError: "disk I/O error"))

        journal.failPrunes(with: nil)
        clock.advance(by: .seconds(60))
        _ = await store.snapshot()
        #expect(journal.prunes == 3)
        #expect(await store.journalStatus == JournalStatus(pruneFailures: 2, lastError: nil))
    }
}
