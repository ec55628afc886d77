/// The durable side of alerting: the events `AnomalyJournal.record` appended, read back once per
/// webhook target in the order they happened, with each target's progress kept beside them so
/// a restart (or `kill -9`) resumes exactly where delivery stood. `SQLiteJournal` (module
/// SpendStorage) is the production implementation.
///
/// Each target has a cursor: every event at or before it is delivered (or abandoned), the next
/// one is the target's head. The head is retried until it is delivered; nothing after it is
/// sent first, so a receiver sees `opened` before `resolved`.
public protocol AlertOutbox: Sendable {
    /// Makes sure each target has a cursor. A target seen for the first time starts after the
    /// newest event: it is told about changes from now on, not about the last 30 days.
    func registerAlertTargets(_ targets: [String]) async throws

    /// The oldest event `target` has not had yet, with the attempts made on it; nil when it has
    /// had every one. Events that do not alert (`AnomalyEvent.alerts`) are skipped.
    func nextAlert(for target: String) async throws -> PendingAlert?

    /// Records the outcome of an attempt on `target`'s head.
    func recordAlertAttempt(_ outcome: AlertAttemptOutcome, for target: String, sequence: Int64, at now: Timestamp) async throws

    /// Each target's progress, in the order of `targets`.
    func alertTargetStatus(_ targets: [String]) async throws -> [AlertTargetStatus]
}

/// One event waiting for one target.
public struct PendingAlert: Sendable, Equatable {
    /// The event's place in the outbox (commit order).
    public var sequence: Int64
    /// The event's id: the `webhook-id`, the same on every attempt.
    public var eventID: String
    public var kind: AnomalyEvent.Kind
    /// The JSON payload, exactly as it was stored.
    public var body: [UInt8]
    /// Attempts already made on it, all failed.
    public var attempts: Int
    /// When the first of them failed.
    public var failingSince: Timestamp?
    /// Not before this; nil: now.
    public var nextAttempt: Timestamp?

    public init(
        sequence: Int64, eventID: String, kind: AnomalyEvent.Kind, body: [UInt8], attempts: Int = 0, failingSince: Timestamp? = nil,
        nextAttempt: Timestamp? = nil
    ) {
        self.sequence = sequence
        self.eventID = eventID
        self.kind = kind
        self.body = body
        self.attempts = attempts
        self.failingSince = failingSince
        self.nextAttempt = nextAttempt
    }
}

/// What became of one delivery attempt.
public enum AlertAttemptOutcome: Sendable, Equatable {
    /// The receiver answered 2xx: the cursor moves past the event.
    case delivered
    /// It failed; try again at `retryAt`.
    case failed(error: String, retryAt: Timestamp)
    /// It failed for longer than the retry policy allows: the cursor moves past the event, which
    /// is counted as abandoned and logged.
    case abandoned(error: String)
}

/// How delivery to one target stands, for `/api/health`.
public struct AlertTargetStatus: Sendable, Equatable {
    public var target: String
    /// Events not yet delivered.
    public var pending: Int
    public var delivered: Int
    public var abandoned: Int
    /// Failed attempts on the current head.
    public var attempts: Int
    public var failingSince: Timestamp?
    public var nextAttempt: Timestamp?
    public var lastError: String?
    public var lastDelivered: Timestamp?

    public init(
        target: String, pending: Int = 0, delivered: Int = 0, abandoned: Int = 0, attempts: Int = 0, failingSince: Timestamp? = nil,
        nextAttempt: Timestamp? = nil, lastError: String? = nil, lastDelivered: Timestamp? = nil
    ) {
        self.target = target
        self.pending = pending
        self.delivered = delivered
        self.abandoned = abandoned
        self.attempts = attempts
        self.failingSince = failingSince
        self.nextAttempt = nextAttempt
        self.lastError = lastError
        self.lastDelivered = lastDelivered
    }

    /// The head has failed and is waiting for its next attempt.
    public var isFailing: Bool { failingSince != nil }
}

/// When to try again after a failed delivery: exponential backoff from `initial`, doubling up to
/// `maximum`, for at most `giveUpAfter` from the first failure (the Standard Webhooks
/// reference senders retry for about a day and a half; a day is the default here).
public struct RetryPolicy: Sendable, Equatable {
    public var initial: Duration
    public var maximum: Duration
    public var giveUpAfter: Duration

    public init(initial: Duration = .seconds(5), maximum: Duration = .seconds(600), giveUpAfter: Duration = .seconds(86_400)) {
        self.initial = initial
        self.maximum = maximum
        self.giveUpAfter = giveUpAfter
    }

    /// The wait after the `attempts`-th failure in a row (1 is the first failure).
    public func delay(afterAttempts attempts: Int) -> Duration {
        var delay = initial
        for _ in 1..<max(attempts, 1) {
            delay = delay * 2
            if delay >= maximum { return maximum }
        }
        return min(delay, maximum)
    }

    /// The outcome of a failed attempt: retry later, or give up once `giveUpAfter` has passed
    /// since the first failure.
    public func outcome(error: String, attempts: Int, failingSince: Timestamp, now: Timestamp) -> AlertAttemptOutcome {
        if failingSince.duration(to: now) >= giveUpAfter { return .abandoned(error: error) }
        return .failed(error: error, retryAt: now.advanced(by: delay(afterAttempts: attempts)))
    }
}

/// Alerting as `/api/health` reports it.
public struct AlertHealth: Sendable, Equatable {
    /// One per `--alert-webhook`, with its address shown without path or query (those often
    /// carry a token).
    public var webhooks: [AlertTargetStatus]
    public var webhookError: String?
    public var alertmanager: AlertmanagerStatus?

    public init(webhooks: [AlertTargetStatus] = [], webhookError: String? = nil, alertmanager: AlertmanagerStatus? = nil) {
        self.webhooks = webhooks
        self.webhookError = webhookError
        self.alertmanager = alertmanager
    }

    /// Some alert is not getting through.
    public var isFailing: Bool {
        webhookError != nil || webhooks.contains { $0.isFailing } || alertmanager?.lastError != nil
    }
}

/// How posting to Alertmanager fares.
public struct AlertmanagerStatus: Sendable, Equatable {
    public var target: String
    public var lastSuccess: Timestamp?
    public var lastError: String?
    /// Alerts in the last successful post.
    public var alertsSent: Int

    public init(target: String, lastSuccess: Timestamp? = nil, lastError: String? = nil, alertsSent: Int = 0) {
        self.target = target
        self.lastSuccess = lastSuccess
        self.lastError = lastError
        self.alertsSent = alertsSent
    }
}

extension AnomalyEvent {
    /// Whether the event is sent to alert targets. Every change of state is kept in the outbox,
    /// but an acknowledged anomaly does not alert again: its `resolved` is recorded, not sent.
    public var alerts: Bool {
        !(kind == .resolved && incident.acknowledgement != nil)
    }
}
