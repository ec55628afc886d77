/// Totals of usage in fixed-width time buckets over a fixed retention, kept in a ring of
/// `slotCount` buckets: memory is bounded by construction, whatever the rate. Each bucket holds
/// its totals and a sparse, sorted list of per-key counters (a key is a series or a model id;
/// per key only a `RollupEntry`, the packed form of `SeriesCounters`, is kept).
///
/// A bucket whose slot is reused by a newer bucket expires; an update older than the oldest
/// bucket the ring can hold is refused.
struct RollupTier: Sendable {
    struct Bucket: Sendable {
        /// `start / width`; `Int64.min` for a slot never used.
        var index: Int64 = .min
        var totals = UsageCounters()
        var keys: [UInt32] = []
        var values: [RollupEntry] = []

        @inlinable
        mutating func add(_ counters: UsageCounters, _ perKey: RollupEntry, key: UInt32) {
            totals.add(counters)
            var low = 0
            var high = keys.count
            while low < high {
                let mid = (low + high) / 2
                if keys[mid] < key { low = mid + 1 } else { high = mid }
            }
            if low < keys.count && keys[low] == key {
                values[low].add(perKey)
            } else {
                keys.insert(key, at: low)
                values.insert(perKey, at: low)
            }
        }
    }

    let name: String
    /// Bucket width in milliseconds.
    let width: Int64
    let slotCount: Int
    private(set) var slots: [Bucket]
    /// Index of the newest bucket written.
    private(set) var newestIndex: Int64 = .min

    /// A tier of buckets of `width` that keeps at least `retention` before the current bucket.
    init(name: String, width: Duration, retention: Duration) {
        self.name = name
        self.width = width.milliseconds
        precondition(self.width > 0 && retention.milliseconds >= self.width)
        slotCount = Int((retention.milliseconds + self.width - 1) / self.width) + 1
        slots = Array(repeating: Bucket(), count: slotCount)
    }

    var retention: Duration { .milliseconds(width * Int64(slotCount - 1)) }

    func bucketIndex(of timestamp: Int64) -> Int64 {
        timestamp.flooredDivision(by: width)
    }

    private func slot(of index: Int64) -> Int {
        Int(index - index.flooredDivision(by: Int64(slotCount)) * Int64(slotCount))
    }

    /// Whether an update at `timestamp` can still be counted.
    func accepts(_ timestamp: Int64) -> Bool {
        newestIndex == .min || bucketIndex(of: timestamp) > newestIndex - Int64(slotCount)
    }

    /// Adds counters under `key` to the bucket of `timestamp`. Returns false, changing nothing,
    /// when that bucket has already expired.
    @discardableResult
    mutating func add(_ counters: UsageCounters, key: UInt32, at timestamp: Int64) -> Bool {
        add(counters, RollupEntry(SeriesCounters(counters)), key: key, at: timestamp)
    }

    /// `add(_:key:at:)` with the per-key part already made: an update added to every tier makes
    /// it once.
    @discardableResult
    mutating func add(_ counters: UsageCounters, _ perKey: RollupEntry, key: UInt32, at timestamp: Int64) -> Bool {
        let index = bucketIndex(of: timestamp)
        guard accepts(timestamp) else { return false }
        let position = slot(of: index)
        if slots[position].index != index {
            // Size the new bucket like the one it replaces: arrays grown by doubling would
            // hold up to twice the entries they need, in every slot of the ring.
            let expected = slots[position].keys.count
            slots[position] = Bucket(index: index)
            slots[position].keys.reserveCapacity(expected)
            slots[position].values.reserveCapacity(expected)
        }
        slots[position].add(counters, perKey, key: key)
        newestIndex = max(newestIndex, index)
        return true
    }

    /// The bucket with this index, if it holds data.
    func bucket(index: Int64) -> Bucket? {
        let candidate = slots[slot(of: index)]
        return candidate.index == index ? candidate : nil
    }

    /// Adds up the buckets with indices in `range`: their totals into `totals`, each key's entries
    /// into `perKey[key]` (which must have a place for every key). The snapshot's hottest loop:
    /// it reads the buckets in place, without copying them out of the ring.
    func accumulate(_ range: Range<Int64>, totals: inout UsageCounters, perKey: inout [RollupEntry]) {
        for index in range {
            let position = slot(of: index)
            guard slots[position].index == index else { continue }
            totals.add(slots[position].totals)
            let keys = slots[position].keys
            let values = slots[position].values
            precondition(keys.count == values.count)
            keys.withUnsafeBufferPointer { keys in
                values.withUnsafeBufferPointer { values in
                    for entry in 0..<keys.count {
                        perKey[Int(keys[entry])].add(values[entry])
                    }
                }
            }
        }
    }

    /// Adds up the totals of the buckets with indices in `range`.
    func accumulateTotals(_ range: Range<Int64>, into totals: inout UsageCounters) {
        for index in range {
            let position = slot(of: index)
            if slots[position].index == index { totals.add(slots[position].totals) }
        }
    }

    /// Totals of the bucket with this index (zero when it holds nothing).
    func totals(index: Int64) -> UsageCounters {
        bucket(index: index)?.totals ?? UsageCounters()
    }

    /// Frees every bucket that ends at or before `cutoff - retention`, so memory follows the
    /// clock even when no data arrives.
    mutating func expire(now: Int64) {
        let oldestKept = bucketIndex(of: now) - Int64(slotCount) + 1
        for position in slots.indices where slots[position].index != .min && slots[position].index < oldestKept {
            slots[position] = Bucket()
        }
    }

    /// Marks every key some bucket holds.
    func markKeys(in used: inout [Bool]) {
        for bucket in slots {
            for key in bucket.keys { used[Int(key)] = true }
        }
    }

    /// Gives every key its new number. `map` must keep the order of the keys it is given (and
    /// have a number for each), so every bucket's keys stay sorted.
    mutating func renumberKeys(_ map: [UInt32?]) {
        for position in slots.indices where !slots[position].keys.isEmpty {
            for index in slots[position].keys.indices {
                slots[position].keys[index] = map[Int(slots[position].keys[index])]!
            }
        }
    }

    /// Number of per-key entries held, for memory accounting.
    var entryCount: Int { slots.reduce(0) { $0 + $1.keys.count } }

    /// Approximate bytes held by bucket storage.
    var approximateBytes: Int {
        slots.reduce(MemoryLayout<Bucket>.stride * slotCount) { total, bucket in
            total + bucket.keys.capacity * MemoryLayout<UInt32>.stride
                + bucket.values.capacity * MemoryLayout<RollupEntry>.stride
                + (bucket.keys.capacity > 0 ? 64 : 0)
        }
    }
}
