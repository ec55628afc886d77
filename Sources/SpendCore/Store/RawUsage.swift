/// A stored raw update: 64 bytes, names replaced by a series id.
///
/// Counts are held in 32 bits (an update reports at most 4,294,967,295 calls or tokens of each
/// class), the cost in picodollars (at most `UsageUpdate.maximumCost`, which fits 63 bits) and
/// the latency in hundredths of a millisecond; the store rejects updates that do not fit. The
/// cost's split by class is not kept here: the rollups keep it.
public struct RawUsage: Hashable, Sendable {
    public var timestamp: Int64
    /// Arrival order, unique and increasing: with the timestamp it orders and names an update.
    public var sequence: Int64
    /// The total cost in picodollars; 0 when unpriced.
    public var costPicodollars: Int64
    public var series: UInt32
    public var calls: UInt32
    public var totalTokens: UInt32
    public var inputTokens: UInt32
    public var outputTokens: UInt32
    public var cacheReadTokens: UInt32
    public var cacheWriteTokens: UInt32
    public var reasoningTokens: UInt32
    public var latencyCentiMs: UInt32
    public var flags: Flags

    public struct Flags: OptionSet, Hashable, Sendable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        public static let hasInputTokens = Flags(rawValue: 1 << 0)
        public static let hasOutputTokens = Flags(rawValue: 1 << 1)
        public static let unpriced = Flags(rawValue: 1 << 2)
        public static let hasCacheReadTokens = Flags(rawValue: 1 << 3)
        public static let hasCacheWriteTokens = Flags(rawValue: 1 << 4)
        public static let hasReasoningTokens = Flags(rawValue: 1 << 5)
    }

    /// The position of this update in the store's order.
    public var cursor: RawCursor { RawCursor(timestamp: timestamp, sequence: sequence) }

    /// The most a 32-bit count field can hold.
    public static let maximumCount = Int64(UInt32.max)
    /// The highest average latency that can be stored, in milliseconds.
    public static let maximumLatencyMs = Double(UInt32.max) / 100

    /// The latency weight of one update as the rollups sum it (average latency in hundredths of
    /// a millisecond × calls), or nil when it does not fit `Int64`: the store refuses such an
    /// update. `averageMs` must be finite and within 0...`maximumLatencyMs`.
    public static func latencyWeight(averageMs: Double, calls: Int64) -> Int64? {
        let (weight, overflow) = Int64((averageMs * 100).rounded()).multipliedReportingOverflow(by: calls)
        return overflow ? nil : weight
    }

    /// The most `latencyWeight` may be, in milliseconds × calls.
    public static let maximumLatencyWeightMs = Int64.max / 100
}

/// A position in the store's order of raw updates: (timestamp, sequence). Updates that share a
/// millisecond are told apart by their sequence, so paging never loses or repeats one.
public struct RawCursor: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var timestamp: Int64
    public var sequence: Int64

    public init(timestamp: Int64, sequence: Int64) {
        self.timestamp = timestamp
        self.sequence = sequence
    }

    /// The position after every update stamped at or before `timestamp`.
    public static func after(timestamp: Int64) -> RawCursor {
        RawCursor(timestamp: timestamp, sequence: .max)
    }

    public static func < (lhs: RawCursor, rhs: RawCursor) -> Bool {
        (lhs.timestamp, lhs.sequence) < (rhs.timestamp, rhs.sequence)
    }

    /// The text form used by the API: `<epoch ms>.<sequence>`.
    public var description: String { "\(timestamp).\(sequence)" }

    /// Parses `<epoch ms>.<sequence>`, both plain non-negative base-10 integers.
    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2,
            let timestamp = Int64(plainDigits: parts[0]), let sequence = Int64(plainDigits: parts[1])
        else { return nil }
        self.init(timestamp: timestamp, sequence: sequence)
    }
}

extension Int64 {
    /// A non-negative base-10 integer of ASCII digits only: no sign, space, exponent or
    /// separator; nil on overflow.
    public init?(plainDigits text: some StringProtocol) {
        guard !text.isEmpty, text.utf8.count <= 19 else { return nil }
        var value: Int64 = 0
        for byte in text.utf8 {
            guard byte >= 48 && byte <= 57 else { return nil }
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(Int64(byte - 48))
            guard !o1 && !o2 else { return nil }
            value = sum
        }
        self = value
    }
}
