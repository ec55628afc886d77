import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import SpendCore
import Synchronization

/// A webhook receiver on a real socket: it keeps every delivery and answers 503 to the first
/// `failures` of them.
final class Receiver: Sendable {
    struct Delivery: Sendable {
        var id: String
        var timestamp: Int64
        var signature: String
        var contentType: String
        var body: [UInt8]
    }

    private let state: Mutex<(deliveries: [Delivery], failuresLeft: Int)>

    init(failures: Int = 0) {
        state = Mutex(([], failures))
    }

    var deliveries: [Delivery] { state.withLock { $0.deliveries } }

    func fail(next count: Int) { state.withLock { $0.failuresLeft = count } }

    /// Runs `body` with the receiver listening on a free loopback port.
    func serving(_ body: @escaping @Sendable (_ url: String) async throws -> Void) async throws {
        let router = Router()
        router.post("/hook") { request, _ -> HTTPResponse.Status in
            let bytes = try await request.body.collect(upTo: 1 << 20)
            func header(_ name: String) -> String { request.headers.first { $0.name.canonicalName == name }?.value ?? "" }
            let delivery = Delivery(
                id: header("webhook-id"), timestamp: Int64(header("webhook-timestamp")) ?? -1, signature: header("webhook-signature"),
                contentType: header("content-type"), body: Array(buffer: bytes))
            return self.state.withLock { state in
                state.deliveries.append(delivery)
                guard state.failuresLeft > 0 else { return .noContent }
                state.failuresLeft -= 1
                return .serviceUnavailable
            }
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in
            try await body("http://127.0.0.1:\(client.port!)/hook")
        }
    }
}

enum AlertFixtures {
    static let start = Timestamp(iso8601: "2026-11-29T14:00:00.000Z")!
    static let logger = Logger(label: "alerts-test")

    static func temporaryDirectory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("spendboard-alerts-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// A customer spike of `tenant` / `customer`, open from `start`.
    static func incident(tenant: String = "acme", customer: String = "cust-007", start: Timestamp = start) -> Incident {
        let subject = AnomalySubject.customer(tenant, customer)
        return Incident(
            id: Incident.id(kind: .spike, subject: subject, start: start), kind: .spike, subject: subject, state: .open, start: start,
            openedAt: start.advanced(by: .seconds(60)), lastSeen: start.advanced(by: .seconds(120)), end: nil, expectedPerHour: 620,
            actualPerHour: 2_140.5, peakActualPerHour: 2_380, peakExpectedPerHour: 620, impact: 283.4, spent: Money(micros: 402_310_000),
            contributors: [.init(subject: .model("gpt-4"), actualPerHour: 2_140.5, expectedPerHour: 620)], acknowledgement: nil,
            baseline: .init(meanPerMinute: 10.3, deviationPerMinute: 1.1, callsPerMinute: 240), adapted: false, points: [])
    }

    static func resolved(_ incident: Incident, at end: Timestamp) -> Incident {
        var resolved = incident
        resolved.state = .resolved
        resolved.end = end
        return resolved
    }
}
