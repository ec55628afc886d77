import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import ServiceLifecycle
import SpendCore
import Synchronization

/// Delivers the anomaly outbox to each `--alert-webhook`, signed as Standard Webhooks says.
///
/// Each target follows its own cursor in the outbox (``AlertOutbox``): its oldest undelivered
/// event is posted, and retried with exponential backoff (``RetryPolicy``) until the receiver
/// answers 2xx; only then does the cursor move on, and it is stored, so delivery is at least
/// once across restarts and `kill -9`. Every attempt carries the event's id as `webhook-id`, so
/// a receiver drops the duplicates a crash between its answer and the stored cursor can cause.
/// Targets are independent: a receiver that is down delays only its own alerts.
public final class WebhookDelivery: Service, Sendable {
    public let targets: [String]
    let outbox: any AlertOutbox
    let signer: StandardWebhookSigner
    let policy: RetryPolicy
    let clock: any TimeSource
    let client: HTTPClient
    let logger: Logger
    /// How long one attempt may take, connection included.
    static let attemptTimeout: TimeAmount = .seconds(10)
    /// How often an idle target looks for new events.
    let pollInterval: Duration
    /// Per target: the last failure to read or write the outbox, and its progress as last
    /// read, so `/api/health` answers from memory instead of waiting on the database.
    private let storeErrors = Mutex<[String: String]>([:])
    private let statuses: Mutex<[String: AlertTargetStatus]>

    public init(
        targets: [String], outbox: any AlertOutbox, signer: StandardWebhookSigner, policy: RetryPolicy = RetryPolicy(),
        clock: any TimeSource = WallClock(), pollInterval: Duration = .seconds(1), logger: Logger
    ) {
        self.targets = targets
        self.outbox = outbox
        self.signer = signer
        self.policy = policy
        self.clock = clock
        self.pollInterval = pollInterval
        self.logger = logger
        statuses = Mutex(Dictionary(targets.map { ($0, AlertTargetStatus(target: $0)) }, uniquingKeysWith: { first, _ in first }))
        // Alerts go only where the operator pointed them: no redirects.
        client = HTTPClient(
            eventLoopGroup: HTTPClient.defaultEventLoopGroup,
            configuration: .init(redirectConfiguration: .disallow, timeout: .init(connect: .seconds(5), read: .seconds(10)))
        )
    }

    public func run() async throws {
        for target in targets { await refreshStatus(of: target) }
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                for target in self.targets {
                    group.addTask { await self.follow(target) }
                }
            }
        }
        try await client.shutdown()
    }

    /// Closes the HTTP client of a delivery that was never `run` (tests step it by hand).
    public func shutdown() async throws {
        try await client.shutdown()
    }

    private func follow(_ target: String) async {
        var storeFailures = 0
        while !Task.isCancelled {
            var wait = pollInterval
            do {
                if let next = try await deliverDue(to: target) {
                    wait = min(pollInterval, max(.zero, clock.now.duration(to: next)))
                }
                storeFailures = 0
                storeErrors.withLock { $0[target] = nil }
            } catch is CancellationError {
                return
            } catch {
                // An outcome that cannot be stored is not retried every second: the outbox's
                // own trouble backs off too, up to a minute.
                storeFailures += 1
                wait = min(pollInterval * (1 << min(storeFailures, 6)), .seconds(60))
                logger.error("cannot read or write the alert outbox", metadata: ["target": "\(Self.display(target))", "error": "\(error)"])
                storeErrors.withLock { $0[target] = "\(error)" }
            }
            do { try await Task.sleep(for: wait) } catch { return }
        }
    }

    /// Sends `target` every event that is due, oldest first, and stops at the first failure.
    /// Returns when the head is due again, or nil when the target has had every event.
    /// The target's progress in memory is read again after each step.
    @discardableResult
    public func deliverDue(to target: String) async throws -> Timestamp? {
        let next = try await deliverEachDue(to: target)
        await refreshStatus(of: target)
        return next
    }

    private func deliverEachDue(to target: String) async throws -> Timestamp? {
        while let head = try await outbox.nextAlert(for: target) {
            if let next = head.nextAttempt, next > clock.now { return next }
            let now = clock.now
            let outcome: AlertAttemptOutcome
            switch await attempt(head, to: target, at: now) {
            case .success:
                outcome = .delivered
            case .failure(let error):
                outcome = policy.outcome(error: error.description, attempts: head.attempts + 1, failingSince: head.failingSince ?? now, now: now)
            }
            try Task.checkCancellation()
            try await outbox.recordAlertAttempt(outcome, for: target, sequence: head.sequence, at: now)
            switch outcome {
            case .delivered:
                logger.info(
                    "alert delivered",
                    metadata: ["target": "\(Self.display(target))", "event": "\(head.eventID)", "attempts": "\(head.attempts + 1)"])
            case .failed(let error, let retryAt):
                logger.warning(
                    "alert delivery failed",
                    metadata: [
                        "target": "\(Self.display(target))", "event": "\(head.eventID)", "attempts": "\(head.attempts + 1)", "error": "\(error)",
                        "retryAt": "\(retryAt)",
                    ])
                return retryAt
            case .abandoned(let error):
                logger.error(
                    "alert abandoned: it failed for longer than the retry policy allows",
                    metadata: ["target": "\(Self.display(target))", "event": "\(head.eventID)", "error": "\(error)"])
            }
        }
        return nil
    }

    struct AttemptError: Error, CustomStringConvertible {
        var description: String
    }

    /// One signed POST of `alert`; success is a 2xx answer.
    func attempt(_ alert: PendingAlert, to target: String, at now: Timestamp) async -> Result<Void, AttemptError> {
        var request = HTTPClientRequest(url: target)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "spendboard")
        let timestamp = now.millisecondsSinceEpoch / 1000
        for header in signer.headers(id: alert.eventID, timestamp: timestamp, body: alert.body) {
            request.headers.add(name: header.name, value: header.value)
        }
        request.body = .bytes(ByteBuffer(bytes: alert.body))
        do {
            let response = try await client.execute(request, timeout: Self.attemptTimeout, logger: logger)
            // The answer's body is read (so the connection can be reused) and not kept.
            _ = try await response.body.collect(upTo: 64 * 1024)
            guard (200..<300).contains(response.status.code) else {
                return .failure(AttemptError(description: "the receiver answered \(response.status.code)"))
            }
            return .success(())
        } catch {
            return .failure(AttemptError(description: "\(error)"))
        }
    }

    /// Reads `target`'s progress from the outbox into memory.
    public func refreshStatus(of target: String) async {
        do {
            guard let status = try await outbox.alertTargetStatus([target]).first else { return }
            statuses.withLock { $0[target] = status }
        } catch {
            storeErrors.withLock { $0[target] = "\(error)" }
        }
    }

    /// Each target's progress as last read (the delivery loop reads it after every step), its
    /// address shown without path or query, and the first target's outbox error, if any.
    /// Answers from memory: `/api/health` never waits on the database.
    public func status() -> (targets: [AlertTargetStatus], error: String?) {
        let known = statuses.withLock { $0 }
        let errors = storeErrors.withLock { $0 }
        let shown = targets.map { target in
            var status = known[target] ?? AlertTargetStatus(target: target)
            status.target = Self.display(target)
            return status
        }
        return (shown, targets.lazy.compactMap { errors[$0] }.first)
    }

    /// `scheme://host:port/…`: a webhook URL's path and query often hold its token, so logs and
    /// `/api/health` show only where it goes.
    public static func display(_ target: String) -> String {
        guard let url = URL(string: target), let scheme = url.scheme, let host = url.host else { return "(not a URL)" }
        let port = url.port.map { ":\($0)" } ?? ""
        let rest = url.path.isEmpty || url.path == "/" ? "/" : "/…"
        return "\(scheme)://\(host)\(port)\(rest)"
    }
}
