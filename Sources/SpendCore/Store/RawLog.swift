import DequeModule

/// The raw updates of the recent window, ordered by (timestamp, sequence), capped by age and by
/// count. A query finds its start by binary search: O(log n + k).
struct RawLog: Sendable {
    private(set) var entries: Deque<RawUsage> = []
    let capacity: Int
    /// The position of the newest update dropped because the log was full. A reader asking for
    /// anything before it would miss updates.
    private(set) var evictedCursor: RawCursor?

    init(capacity: Int) {
        precondition(capacity > 0)
        self.capacity = capacity
    }

    var count: Int { entries.count }

    subscript(position: Int) -> RawUsage { entries[position] }
    var oldest: RawUsage? { entries.first }
    var newest: RawUsage? { entries.last }

    mutating func insert(_ usage: RawUsage) {
        if let last = entries.last, usage.cursor < last.cursor {
            entries.insert(usage, at: firstIndex(after: usage.cursor))
        } else {
            entries.append(usage)
        }
        if entries.count > capacity {
            let dropped = entries.removeFirst()
            evictedCursor = max(evictedCursor ?? dropped.cursor, dropped.cursor)
        }
    }

    /// Drops updates stamped before `cutoff`.
    mutating func expire(before cutoff: Int64) {
        let end = firstIndex(after: RawCursor(timestamp: cutoff, sequence: .min))
        if end > 0 { entries.removeFirst(end) }
    }

    /// The index of the first entry strictly after `cursor`.
    func firstIndex(after cursor: RawCursor) -> Int {
        var low = 0
        var high = entries.count
        while low < high {
            let mid = (low + high) / 2
            if entries[mid].cursor <= cursor { low = mid + 1 } else { high = mid }
        }
        return low
    }
}
