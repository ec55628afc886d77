import DequeModule

/// The raw updates of the recent window, ordered by (timestamp, sequence), capped by age and by
/// count.
///
/// Stored as a sorted list of chunks of at most `chunkCapacity` entries: an update that arrives
/// late is inserted into its chunk (a few thousand bytes moved, never the whole log), a query
/// finds its start by binary search over chunks and then within one, O(log n + k), and the
/// oldest entries leave by moving a chunk's start, not by shifting memory.
struct RawLog: Sendable {
    struct Chunk: Sendable {
        var items: [RawUsage]
        /// Entries before `start` have left the log.
        var start = 0

        var first: RawUsage { items[start] }
        var last: RawUsage { items[items.count - 1] }
        var count: Int { items.count - start }

        /// Index of the first live entry strictly after `cursor`.
        func firstIndex(after cursor: RawCursor) -> Int {
            var low = start
            var high = items.count
            while low < high {
                let mid = (low + high) / 2
                if items[mid].cursor <= cursor { low = mid + 1 } else { high = mid }
            }
            return low
        }
    }

    static let chunkCapacity = 2048

    private(set) var chunks: Deque<Chunk> = []
    private(set) var count = 0
    let capacity: Int
    /// The position of the newest update dropped because the log was full. A reader asking for
    /// anything before it would miss updates.
    private(set) var evictedCursor: RawCursor?

    init(capacity: Int) {
        precondition(capacity > 0)
        self.capacity = capacity
    }

    var oldest: RawUsage? { chunks.first?.first }
    var newest: RawUsage? { chunks.last?.last }

    mutating func insert(_ usage: RawUsage) {
        if chunks.isEmpty {
            chunks.append(Chunk(items: [usage]))
        } else if chunks[chunks.count - 1].last.cursor <= usage.cursor {
            // In order: the common case.
            if chunks[chunks.count - 1].items.count >= Self.chunkCapacity {
                var fresh = Chunk(items: [])
                fresh.items.reserveCapacity(Self.chunkCapacity)
                fresh.items.append(usage)
                chunks.append(fresh)
            } else {
                chunks[chunks.count - 1].items.append(usage)
            }
        } else {
            insertLate(usage)
        }
        count += 1
        if count > capacity { dropFirst(evicting: true) }
    }

    /// Inserts an update older than the newest into the chunk where it belongs, splitting the
    /// chunk when it grows past twice the capacity.
    private mutating func insertLate(_ usage: RawUsage) {
        // The last chunk whose first entry is not after the update (or the first chunk).
        var low = 0
        var high = chunks.count
        while low < high {
            let mid = (low + high) / 2
            if chunks[mid].first.cursor <= usage.cursor { low = mid + 1 } else { high = mid }
        }
        let index = max(0, low - 1)
        let position = chunks[index].firstIndex(after: usage.cursor)
        chunks[index].items.insert(usage, at: position)
        if chunks[index].items.count > 2 * Self.chunkCapacity {
            let chunk = chunks[index]
            let middle = chunk.start + chunk.count / 2
            chunks[index] = Chunk(items: Array(chunk.items[chunk.start..<middle]))
            chunks.insert(Chunk(items: Array(chunk.items[middle...])), at: index + 1)
        }
    }

    private mutating func dropFirst(evicting: Bool) {
        let dropped = chunks[0].first
        chunks[0].start += 1
        count -= 1
        if chunks[0].count == 0 { chunks.removeFirst() }
        if evicting {
            evictedCursor = max(evictedCursor ?? dropped.cursor, dropped.cursor)
        }
    }

    /// Marks the series of every update held.
    func markSeries(in used: inout [Bool]) {
        for chunk in chunks {
            for usage in chunk.items[chunk.start...] { used[Int(usage.series)] = true }
        }
    }

    /// Gives every update held its series' new number (entries that have left the log keep a
    /// placeholder; nothing reads them).
    mutating func renumberSeries(_ map: [UInt32?]) {
        for position in chunks.indices {
            let start = chunks[position].start
            for index in chunks[position].items.indices {
                chunks[position].items[index].series = index < start ? 0 : map[Int(chunks[position].items[index].series)]!
            }
        }
    }

    /// Drops updates stamped before `cutoff`.
    mutating func expire(before cutoff: Int64) {
        let boundary = RawCursor(timestamp: cutoff, sequence: .min)
        while let first = chunks.first, first.last.cursor <= boundary {
            count -= first.count
            chunks.removeFirst()
        }
        guard !chunks.isEmpty else { return }
        let start = chunks[0].firstIndex(after: boundary)
        count -= start - chunks[0].start
        chunks[0].start = start
    }

    /// At most `limit` entries strictly after `cursor`, oldest first.
    func entries(after cursor: RawCursor, limit: Int) -> [RawUsage] {
        var result: [RawUsage] = []
        guard limit > 0, !chunks.isEmpty else { return result }
        // The first chunk that can hold an entry after the cursor.
        var low = 0
        var high = chunks.count
        while low < high {
            let mid = (low + high) / 2
            if chunks[mid].last.cursor <= cursor { low = mid + 1 } else { high = mid }
        }
        var chunkIndex = low
        guard chunkIndex < chunks.count else { return result }
        var index = chunks[chunkIndex].firstIndex(after: cursor)
        result.reserveCapacity(min(limit, count))
        while result.count < limit && chunkIndex < chunks.count {
            let chunk = chunks[chunkIndex]
            let end = index + min(chunk.items.count - index, limit - result.count)
            result.append(contentsOf: chunk.items[index..<end])
            chunkIndex += 1
            if chunkIndex < chunks.count { index = chunks[chunkIndex].start }
        }
        return result
    }
}
