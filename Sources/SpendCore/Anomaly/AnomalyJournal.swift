/// Where incidents and their events are made durable. `record` writes the changed incidents and
/// appends the events in one transaction: an event is in the outbox exactly when the state it
/// announces is stored, so a crash can neither lose an alert nor send one for a state that was
/// never kept. `SQLiteJournal` (module SpendStorage) is the production implementation.
public protocol AnomalyJournal: Sendable {
    /// Inserts or replaces `incidents` (by id) and appends `events` to the outbox, atomically.
    /// A stored incident is replaced only by a higher `revision`: writes that finish out of
    /// order never put an older state back.
    func record(_ incidents: [Incident], revision: Int64, events: [AnomalyEvent]) async throws

    /// The incidents still within retention at `now`, every open one included.
    func incidents(now: Timestamp, retention: Duration) async throws -> [Incident]

    /// Drops resolved incidents and events older than `retention` (the newest event is kept).
    /// An event an alert target never had is counted as abandoned for it (`AlertOutbox`).
    func pruneIncidents(now: Timestamp, retention: Duration) async throws
}
