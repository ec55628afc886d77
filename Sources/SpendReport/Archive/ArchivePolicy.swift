import SpendCore

/// When a snapshot is archived: the first snapshot of each period of `every`, counted from the
/// Unix epoch in UTC (with 5 minutes: the first snapshot at or after 14:05:00, 14:10:00, …).
///
/// Decided from the snapshot's own `generatedAt`, so tests drive it with any clock. A snapshot
/// older than the newest archived one (the wall clock went backwards) is not archived: the
/// archive stays in time order and nothing is overwritten; archiving resumes once snapshots
/// pass the newest archived period.
public struct ArchiveSchedule: Sendable, Equatable {
    /// Zero turns archiving off.
    public var every: Duration

    public init(every: Duration) {
        self.every = every
    }

    public var isEnabled: Bool { every > .zero }

    /// Whether a snapshot taken at `time` starts a new period after the newest archived one.
    public func isDue(_ time: Timestamp, newestArchived: Timestamp?) -> Bool {
        guard isEnabled else { return false }
        guard let newest = newestArchived else { return true }
        let width = max(every.milliseconds, 1000)
        return time.floored(to: .milliseconds(width)) > newest.floored(to: .milliseconds(width))
            && ArchiveName.folder(for: time) > ArchiveName.folder(for: newest)
    }
}

/// Which archived snapshots to delete: beyond the newest `keep`, or older than `maxAge` at
/// `now`. The newest snapshot is never deleted, whatever the settings or the clock say; a clock
/// that went backwards makes ages negative, so nothing is deleted for age.
public struct ArchiveRetention: Sendable, Equatable {
    /// Most snapshots kept; nil keeps any number.
    public var keep: Int?
    /// Snapshots older than this are deleted; nil keeps them for ever.
    public var maxAge: Duration?

    public init(keep: Int? = nil, maxAge: Duration? = nil) {
        self.keep = keep
        self.maxAge = maxAge
    }

    public var isUnlimited: Bool { keep == nil && maxAge == nil }

    /// The entries to delete, oldest first. `entries` may be in any order.
    public func doomed(_ entries: [ArchiveEntry], now: Timestamp) -> [ArchiveEntry] {
        let newestFirst = entries.sorted { $0.folder > $1.folder }
        guard newestFirst.count > 1 else { return [] }
        var doomed: [ArchiveEntry] = []
        for (index, entry) in newestFirst.enumerated() where index > 0 {
            if let keep, index >= max(1, keep) {
                doomed.append(entry)
            } else if let maxAge, now.duration(since: entry.generatedAt) > maxAge {
                doomed.append(entry)
            }
        }
        return doomed.reversed()
    }
}
