import Foundation
import Hummingbird
import HummingbirdTesting
import SpendCore
import SpendReport
import SpendServer
import Testing

/// A server over a store filled from the simulator, at a fixed instant.
struct APIFixture {
    static let now = Timestamp(iso8601: "2026-11-29T14:00:00.000Z")!
    let clock = ManualTimeSource(APIFixture.now)
    let store: UsageStore
    let board = SnapshotBoard()
    let settings: ServerSettings

    init(
        settings: ServerSettings = ServerSettings(), history: Duration = .seconds(3600), rawCapacity: Int = 1_000_000,
        journal: (any UsageJournal)? = nil
    ) async {
        self.settings = settings
        store = UsageStore(configuration: .init(rawCapacity: rawCapacity), clock: clock, journal: journal)
        let simulator = Simulator(configuration: .init(seed: 7))
        try! await store.ingest(simulator.updates(from: Self.now.advanced(by: .zero - history), to: Self.now))
    }

    func publishSnapshot() async {
        board.publish(await store.snapshot())
    }

    func test(renderer: ReportRenderer? = nil, _ body: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let app = Application(
            router: SpendboardApplication.router(
                store: store, board: board, settings: settings, startedAt: Self.now.advanced(by: .seconds(-90)), renderer: renderer))
        try await app.test(.router, body)
    }
}

extension TestResponse {
    var json: [String: Any] {
        get throws {
            try #require(try JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any])
        }
    }

    var errorMessage: String? {
        (try? json)?["error"] as? String
    }
}

extension Data {
    init(buffer: ByteBuffer) {
        self.init(buffer.readableBytesView)
    }
}
