import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import SpendCore
import SpendServer
import Synchronization
import Testing

/// A journal whose prune fails while `failing` is set; appends and restores succeed in memory.
final class FailingPruneJournal: UsageJournal {
    let failing = Mutex(true)

    func append(_ updates: [UsageUpdate], now: Timestamp) async throws -> [UsageUpdate] { updates }

    func restore(now: Timestamp) async throws -> JournalContents { JournalContents() }

    func prune(now: Timestamp) async throws {
        if failing.withLock({ $0 }) { throw JournalError(message: "database or disk is full") }
    }
}

/// A log handler that keeps every message in `log`, shared by its copies.
struct MemoryLogHandler: LogHandler {
    struct Entry: Sendable {
        var level: Logger.Level
        var message: String
        var metadata: Logger.Metadata
    }

    final class Log: Sendable {
        let entries = Mutex<[Entry]>([])
        var all: [Entry] { entries.withLock { $0 } }
    }

    let log: Log
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let entry = Entry(level: event.level, message: event.message.description, metadata: metadata.merging(event.metadata ?? [:]) { $1 })
        log.entries.withLock { $0.append(entry) }
    }
}

struct JournalHealthTests {
    @Test func aFailedJournalPruneIsLoggedCountedAndMakesHealthDegraded() async throws {
        let now = APIFixture.now
        let clock = ManualTimeSource(now)
        let journal = FailingPruneJournal()
        let log = MemoryLogHandler.Log()
        let logger = Logger(label: "spendboard.tests", factory: { _ in MemoryLogHandler(log: log) })
        let store = UsageStore(clock: clock, journal: journal, logger: logger)
        let board = SnapshotBoard()
        let settings = ServerSettings()
        try await store.ingest(Simulator(configuration: .init(seed: 3)).updates(from: now.advanced(by: .seconds(-60)), to: now))
        let before = await store.status.totalAccepted

        // The tick still produces its snapshot while the journal cannot be pruned.
        let snapshot = await store.snapshot()
        #expect(snapshot.hour.updates == before)
        board.publish(snapshot)
        let errors = log.all.filter { $0.level == .error }
        #expect(errors.count == 1)
        #expect(errors.first?.metadata["error"]?.description.contains("database or disk is full") == true)

        let app = Application(router: SpendboardApplication.router(store: store, board: board, settings: settings, startedAt: now))
        try await app.test(.router) { client in
            try await client.execute(uri: "/api/health", method: .get) { response in
                let json = try response.json
                #expect(json["status"] as? String == "degraded")
                let store = try #require(json["store"] as? [String: Any])
                #expect(store["journalPruneFailures"] as? Int == 1)
                #expect(store["journalLastError"] as? String == "database or disk is full")
                #expect(store["totalAccepted"] as? Int == Int(before), "existing fields are unchanged")
            }
        }

        // The next prune succeeds: healthy again, the count of failures stays.
        journal.failing.withLock { $0 = false }
        clock.advance(by: .seconds(60))
        board.publish(await store.snapshot())
        try await app.test(.router) { client in
            try await client.execute(uri: "/api/health", method: .get) { response in
                let json = try response.json
                #expect(json["status"] as? String == "ok")
                let store = try #require(json["store"] as? [String: Any])
                #expect(store["journalPruneFailures"] as? Int == 1)
                #expect(store.keys.contains("journalLastError") && store["journalLastError"] is NSNull)
            }
        }
    }

    @Test func withoutFailuresHealthReportsZeroAndNull() async throws {
        let fixture = await APIFixture(history: .seconds(10))
        await fixture.publishSnapshot()
        try await fixture.test { client in
            try await client.execute(uri: "/api/health", method: .get) { response in
                let json = try response.json
                #expect(json["status"] as? String == "ok")
                let store = try #require(json["store"] as? [String: Any])
                #expect(store["journalPruneFailures"] as? Int == 0)
                #expect(store["journalLastError"] is NSNull)
            }
        }
    }
}
