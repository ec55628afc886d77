/// An instant in UTC, in whole milliseconds since the Unix epoch.
///
/// The wire format, the store and the API all speak milliseconds; `Timestamp` keeps that
/// unit explicit and owns the ISO-8601 conversions (`2026-11-29T14:05:00.123Z`).
public struct Timestamp: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var millisecondsSinceEpoch: Int64

    public init(millisecondsSinceEpoch: Int64) {
        self.millisecondsSinceEpoch = millisecondsSinceEpoch
    }

    public init(secondsSinceEpoch: Int64) {
        self.millisecondsSinceEpoch = secondsSinceEpoch * 1000
    }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool {
        lhs.millisecondsSinceEpoch < rhs.millisecondsSinceEpoch
    }

    public func advanced(by duration: Duration) -> Timestamp {
        Timestamp(millisecondsSinceEpoch: millisecondsSinceEpoch + duration.milliseconds)
    }

    /// `self - other` as a duration.
    public func duration(since other: Timestamp) -> Duration {
        .milliseconds(millisecondsSinceEpoch - other.millisecondsSinceEpoch)
    }

    /// `other - self` as a duration.
    public func duration(to other: Timestamp) -> Duration {
        .milliseconds(other.millisecondsSinceEpoch - millisecondsSinceEpoch)
    }

    /// The start of the period of `width` that contains this instant.
    public func floored(to width: Duration) -> Timestamp {
        let w = width.milliseconds
        return Timestamp(millisecondsSinceEpoch: millisecondsSinceEpoch.flooredDivision(by: w) * w)
    }

    public var description: String { iso8601 }
}

extension Duration {
    /// Whole milliseconds, truncated toward zero.
    public var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }

    /// Seconds as a floating-point number, for rates and logs.
    public var secondsDouble: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}

extension Int64 {
    /// Division rounding toward negative infinity (bucket indices of instants before 1970 stay correct).
    @inlinable
    public func flooredDivision(by divisor: Int64) -> Int64 {
        let q = self / divisor
        return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? q - 1 : q
    }
}
