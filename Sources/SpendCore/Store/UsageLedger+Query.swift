/// One page of raw updates for the `since` API.
public struct RawPage: Sendable {
    public var updates: [UsageUpdate]
    /// More updates follow this page.
    public var truncated: Bool
    /// Where to continue when truncated: pass it back as the cursor. Always exact, even when a
    /// burst of updates shares one millisecond.
    public var nextCursor: RawCursor?
    /// When truncated at a millisecond boundary, the `since` to continue with, so clients that
    /// only know `since` (the reference client) lose nothing either. Nil when the page had to
    /// end inside one millisecond.
    public var nextSince: Int64?
}

public enum RawQueryError: Error, Hashable, Sendable {
    /// Updates after the requested position were dropped because the raw log was full.
    case evicted(oldestKept: Int64?)
}

/// Facts about what the ledger holds, for `/api/health` and benchmarks.
public struct LedgerStatus: Hashable, Sendable {
    public var rawUpdates: Int
    public var rawCapacity: Int
    public var oldestRawTimestamp: Int64?
    public var newestRawTimestamp: Int64?
    public var series: Int
    public var customers: Int
    public var models: Int
    public var rollupEntries: Int
    public var rollupBytes: Int
    public var totalAccepted: Int64
}

extension UsageLedger {
    /// Raw updates strictly after `cursor`, oldest first, at most `limit` of them.
    ///
    /// A cut page ends at a millisecond boundary whenever it can, so `nextSince` alone is enough
    /// to continue; a single millisecond holding more than `limit` updates is paged with
    /// `nextCursor`. O(log n + k).
    public func rawPage(after cursor: RawCursor, limit: Int, now: Timestamp) throws(RawQueryError) -> RawPage {
        precondition(limit > 0)
        if let evicted = raw.evictedCursor, cursor < evicted {
            throw .evicted(oldestKept: raw.oldest?.timestamp)
        }
        let windowStart = RawCursor(timestamp: now.millisecondsSinceEpoch - configuration.rawWindow.milliseconds, sequence: -1)
        // One more than asked tells whether the page is cut, and where.
        var entries = raw.entries(after: max(cursor, windowStart), limit: limit + 1)
        let truncated = entries.count > limit
        var nextSince: Int64?
        if truncated {
            let boundary = entries[limit].timestamp
            var end = limit
            if entries[limit - 1].timestamp == boundary {
                // Back off to the last millisecond boundary inside the page, if there is one.
                while end > 0 && entries[end - 1].timestamp == boundary { end -= 1 }
                if end == 0 {
                    end = limit
                }  // one millisecond fills the page: only the cursor can continue
                else {
                    nextSince = entries[end - 1].timestamp
                }
            } else {
                nextSince = entries[end - 1].timestamp
            }
            entries.removeSubrange(end...)
        }
        return RawPage(
            updates: entries.map { update(for: $0) },
            truncated: truncated,
            nextCursor: truncated ? entries.last?.cursor : nil,
            nextSince: nextSince
        )
    }

    public var status: LedgerStatus {
        LedgerStatus(
            rawUpdates: raw.count,
            rawCapacity: raw.capacity,
            oldestRawTimestamp: raw.oldest?.timestamp,
            newestRawTimestamp: raw.newest?.timestamp,
            series: names.seriesCount,
            customers: names.customers.count,
            models: names.models.count,
            rollupEntries: fine.entryCount + minute.entryCount + hour.entryCount,
            rollupBytes: fine.approximateBytes + minute.approximateBytes + hour.approximateBytes,
            totalAccepted: totalAccepted
        )
    }
}
