import PostgresNIO
import SpendCore

/// Incidents, their events and alert delivery, shared by the cluster.
///
/// Every node runs the detector on the same numbers, but only the leader (`isLeader`) writes
/// incidents and events and delivers alerts, so an anomaly alerts once however many nodes see
/// it. An acknowledgement is stored by whichever node receives it, in `acknowledgements`; the
/// others apply it to their own detector when they follow (`acknowledgements(after:)`), and
/// the leader's then records the acknowledged event.
extension PostgresJournal: AnomalyJournal {
    public func record(_ incidents: [Incident], revision: Int64, events: [AnomalyEvent]) async throws {
        let acknowledgements = events.filter { $0.kind == .acknowledged && $0.incident.acknowledgement != nil }
        let leader = isLeader
        guard !acknowledgements.isEmpty || (leader && (!incidents.isEmpty || !events.isEmpty)) else { return }
        let fresh = acknowledgements.filter { !isApplied($0) }
        let (logger, node) = (logger, node)
        do {
            try await leased { connection in
                try await connection.withTransaction(logger: logger) { connection in
                    for event in fresh {
                        let ack = event.incident.acknowledgement!
                        try await connection.query(
                            """
                            INSERT INTO spendboard.acknowledgements (node, incident, at, reason, note)
                            VALUES (\(node), \(event.incident.id), \(ack.at.millisecondsSinceEpoch), \(ack.reason.rawValue), \(ack.note))
                            """, logger: logger)
                    }
                    guard leader else { return }
                    for incident in incidents {
                        try await connection.query(
                            """
                            INSERT INTO spendboard.incidents (id, state, last_seen, revision, body)
                            VALUES (\(incident.id), \(incident.state.rawValue), \((incident.end ?? incident.lastSeen).millisecondsSinceEpoch),
                                    \(revision), \(String(decoding: incident.json, as: UTF8.self)))
                            ON CONFLICT (id) DO UPDATE SET state = excluded.state, last_seen = excluded.last_seen,
                                revision = excluded.revision, body = excluded.body
                            WHERE excluded.revision > spendboard.incidents.revision
                            """, logger: logger)
                    }
                    for event in events {
                        try await connection.query(
                            """
                            INSERT INTO spendboard.anomaly_events (event_id, kind, at, body, alerts)
                            VALUES (\(event.id), \(event.kind.rawValue), \(event.at.millisecondsSinceEpoch),
                                    \(String(decoding: event.json, as: UTF8.self)), \(event.alerts))
                            ON CONFLICT (event_id) DO NOTHING
                            """, logger: logger)
                    }
                }
            }
        } catch let error as JournalError {
            throw error
        } catch {
            throw JournalError(message: "PostgreSQL at \(location): \(Self.explain(error))")
        }
    }

    public func incidents(now: Timestamp, retention: Duration) async throws -> [Incident] {
        let cutoff = now.millisecondsSinceEpoch - retention.milliseconds
        var bodies: [String] = []
        do {
            let rows = try await client.query(
                "SELECT body FROM spendboard.incidents WHERE state = 'open' OR last_seen >= \(cutoff) ORDER BY id", logger: logger)
            for try await body in rows.decode(String.self) { bodies.append(body) }
        } catch {
            throw JournalError(message: "PostgreSQL at \(location): \(Self.explain(error))")
        }
        return try bodies.map { body in
            do {
                return try Incident(json: JSONParser.parse(Array(body.utf8)))
            } catch {
                throw JournalError(message: "\(location): a stored incident cannot be read: \(error)")
            }
        }
    }

    /// The leader prunes; the newest event is kept, and an event a target never had is counted
    /// as abandoned for it, as with SQLite.
    public func pruneIncidents(now: Timestamp, retention: Duration) async throws {
        guard isLeader else { return }
        let cutoff = now.millisecondsSinceEpoch - retention.milliseconds
        do {
            try await client.withTransaction(logger: logger) { connection in
                try await connection.query(
                    "DELETE FROM spendboard.incidents WHERE state <> 'open' AND last_seen < \(cutoff)", logger: logger)
                try await connection.query("DELETE FROM spendboard.acknowledgements WHERE at < \(cutoff)", logger: logger)
                var last: Int64?
                for try await value in try await connection.query(
                    """
                    SELECT max(seq) FROM spendboard.anomaly_events
                    WHERE at < \(cutoff) AND seq < (SELECT max(seq) FROM spendboard.anomaly_events)
                    """, logger: logger
                ).decode(Int64?.self) {
                    last = value
                }
                guard let last else { return }
                try await connection.query(
                    """
                    UPDATE spendboard.alert_targets t SET
                        abandoned = abandoned + (SELECT count(*) FROM spendboard.anomaly_events e
                            WHERE e.seq > t.after_seq AND e.seq <= \(last) AND e.alerts),
                        after_seq = \(last), attempts = 0, failing_since = NULL, next_attempt = NULL,
                        last_error = 'abandoned: older than the outbox keeps'
                    WHERE after_seq < \(last)
                    """, logger: logger)
                try await connection.query("DELETE FROM spendboard.anomaly_events WHERE seq <= \(last)", logger: logger)
            }
        } catch {
            throw JournalError(message: "PostgreSQL at \(location): \(Self.explain(error))")
        }
    }

    /// Acknowledgements other nodes stored after `position`, oldest first, and the position
    /// to continue from.
    public func acknowledgements(after position: Int64) async throws -> AcknowledgementPage {
        try await leased { [self] connection in
            try await acknowledgements(after: position, on: connection)
        }
    }

    /// Acknowledgements stored by other nodes, and where the next page starts.
    public struct AcknowledgementPage: Sendable {
        public var acknowledgements: [(incident: String, acknowledgement: Incident.Acknowledgement)]
        public var position: Int64
    }

    private func acknowledgements(after position: Int64, on connection: PostgresConnection) async throws -> AcknowledgementPage {
        var found: [(incident: String, acknowledgement: Incident.Acknowledgement)] = []
        var last = position
        do {
            let rows = try await connection.query(
                """
                SELECT seq, node, incident, at, reason, note FROM spendboard.acknowledgements
                WHERE seq > \(position) ORDER BY seq LIMIT 1000
                """, logger: logger)
            for try await (seq, from, incident, at, reasonName, note) in rows.decode((Int64, String, String, Int64, String, String?).self) {
                last = seq
                guard from != node else { continue }
                guard let reason = Incident.Acknowledgement.Reason(rawValue: reasonName) else {
                    logger.error("a stored acknowledgement has an unknown reason; skipped", metadata: ["reason": "\(reasonName)"])
                    continue
                }
                found.append((incident, Incident.Acknowledgement(at: Timestamp(millisecondsSinceEpoch: at), reason: reason, note: note)))
                markApplied(incident: incident, at: at)
            }
        } catch {
            throw JournalError(message: "PostgreSQL at \(location): \(Self.explain(error))")
        }
        return AcknowledgementPage(acknowledgements: found, position: last)
    }
}

extension PostgresJournal: AlertOutbox {
    public func registerAlertTargets(_ targets: [String]) async throws {
        do {
            for target in targets {
                try await client.query(
                    """
                    INSERT INTO spendboard.alert_targets (target, after_seq)
                    SELECT \(target), coalesce(max(seq), 0) FROM spendboard.anomaly_events
                    ON CONFLICT (target) DO NOTHING
                    """, logger: logger)
            }
        } catch {
            throw JournalError(message: "PostgreSQL at \(location): \(Self.explain(error))")
        }
    }

    /// Only the leader delivers: on another node there is never anything due.
    public func nextAlert(for target: String) async throws -> PendingAlert? {
        guard isLeader else { return nil }
        do {
            let rows = try await client.query(
                """
                SELECT e.seq, e.event_id, e.kind, e.body, t.attempts, t.failing_since, t.next_attempt
                FROM spendboard.alert_targets t JOIN spendboard.anomaly_events e ON e.seq > t.after_seq AND e.alerts
                WHERE t.target = \(target) ORDER BY e.seq LIMIT 1
                """, logger: logger)
            for try await (seq, id, kindName, body, attempts, failingSince, nextAttempt) in rows.decode(
                (Int64, String, String, String, Int64, Int64?, Int64?).self)
            {
                guard let kind = AnomalyEvent.Kind(rawValue: kindName) else {
                    throw JournalError(message: "\(location): the outbox holds an event of unknown kind '\(kindName)'")
                }
                return PendingAlert(
                    sequence: seq, eventID: id, kind: kind, body: Array(body.utf8), attempts: Int(attempts),
                    failingSince: failingSince.map(Timestamp.init(millisecondsSinceEpoch:)),
                    nextAttempt: nextAttempt.map(Timestamp.init(millisecondsSinceEpoch:)))
            }
            return nil
        } catch let error as JournalError {
            throw error
        } catch {
            throw JournalError(message: "PostgreSQL at \(location): \(Self.explain(error))")
        }
    }

    public func recordAlertAttempt(_ outcome: AlertAttemptOutcome, for target: String, sequence: Int64, at now: Timestamp) async throws {
        let at = now.millisecondsSinceEpoch
        let query: PostgresQuery
        // Only the head's outcome counts: a cursor never moves back or skips an event.
        switch outcome {
        case .delivered:
            query = """
                UPDATE spendboard.alert_targets SET after_seq = \(sequence), attempts = 0, failing_since = NULL, next_attempt = NULL,
                    last_error = NULL, last_delivered = \(at), delivered = delivered + 1
                WHERE target = \(target) AND after_seq < \(sequence)
                """
        case .failed(let error, let retryAt):
            query = """
                UPDATE spendboard.alert_targets SET attempts = attempts + 1, failing_since = coalesce(failing_since, \(at)),
                    next_attempt = \(retryAt.millisecondsSinceEpoch), last_error = \(error)
                WHERE target = \(target) AND after_seq < \(sequence)
                """
        case .abandoned(let error):
            query = """
                UPDATE spendboard.alert_targets SET after_seq = \(sequence), attempts = 0, failing_since = NULL, next_attempt = NULL,
                    last_error = \(error), abandoned = abandoned + 1
                WHERE target = \(target) AND after_seq < \(sequence)
                """
        }
        do {
            try await client.query(query, logger: logger)
        } catch {
            throw JournalError(message: "PostgreSQL at \(location): \(Self.explain(error))")
        }
    }

    public func alertTargetStatus(_ targets: [String]) async throws -> [AlertTargetStatus] {
        var result: [AlertTargetStatus] = []
        do {
            for target in targets {
                let rows = try await client.query(
                    """
                    SELECT t.delivered, t.abandoned, t.attempts, t.failing_since, t.next_attempt, t.last_error, t.last_delivered,
                        (SELECT count(*) FROM spendboard.anomaly_events e WHERE e.seq > t.after_seq AND e.alerts)
                    FROM spendboard.alert_targets t WHERE t.target = \(target)
                    """, logger: logger)
                var status = AlertTargetStatus(target: target)
                for try await (delivered, abandoned, attempts, failingSince, nextAttempt, lastError, lastDelivered, pending) in rows.decode(
                    (Int64, Int64, Int64, Int64?, Int64?, String?, Int64?, Int64).self)
                {
                    status = AlertTargetStatus(
                        target: target, pending: Int(pending), delivered: Int(delivered), abandoned: Int(abandoned), attempts: Int(attempts),
                        failingSince: failingSince.map(Timestamp.init(millisecondsSinceEpoch:)),
                        nextAttempt: nextAttempt.map(Timestamp.init(millisecondsSinceEpoch:)), lastError: lastError,
                        lastDelivered: lastDelivered.map(Timestamp.init(millisecondsSinceEpoch:)))
                }
                result.append(status)
            }
        } catch {
            throw JournalError(message: "PostgreSQL at \(location): \(Self.explain(error))")
        }
        return result
    }
}
