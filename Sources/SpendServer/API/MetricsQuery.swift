import Hummingbird
import SpendCore

/// The parameters of `GET /api/metrics`, checked against the reference rules.
///
/// `since` must be a base-10 integer from 0 to 2^53−1 (milliseconds since the Unix epoch, no
/// sign, space or exponent), not in the future and not more than the raw window (1 h) ago.
/// Without it the last 5 minutes are returned. `cursor` (a `nextCursor` of an earlier response)
/// continues a cut page exactly; `limit` asks for smaller pages than the server's maximum.
public struct MetricsQuery: Hashable, Sendable {
    /// Return updates strictly after this position.
    public var after: RawCursor
    public var limit: Int

    /// The largest `since` the reference accepts: JavaScript's `Number.MAX_SAFE_INTEGER`.
    public static let maximumSince: Int64 = 9_007_199_254_740_991
    /// The window returned without `since`.
    public static let defaultLookback: Duration = .seconds(300)

    /// Reads the query, or explains in one sentence which parameter broke which rule.
    public static func parse(
        since: [Substring], cursor: [Substring], limit: [Substring],
        now: Timestamp, window: Duration, maximumLimit: Int
    ) throws(APIError) -> MetricsQuery {
        let nowMs = now.millisecondsSinceEpoch
        let oldest = nowMs - window.milliseconds
        var pageLimit = maximumLimit
        if let text = try single("limit", limit) {
            guard let value = Int64(plainDigits: text), value >= 1, value <= Int64(maximumLimit) else {
                throw APIError(.badRequest, "limit must be a base-10 integer from 1 to \(maximumLimit); got '\(clip(text))'")
            }
            pageLimit = Int(value)
        }
        let sinceText = try single("since", since)
        let cursorText = try single("cursor", cursor)
        if sinceText != nil && cursorText != nil {
            throw APIError(.badRequest, "give either since or cursor, not both: cursor already says where to continue")
        }
        if let cursorText {
            guard let position = RawCursor(cursorText), position.timestamp <= maximumSince else {
                throw APIError(
                    .badRequest, "cursor must be the nextCursor of an earlier response, in the form <epoch ms>.<sequence>; got '\(clip(cursorText))'")
            }
            guard position.timestamp >= oldest else {
                throw APIError(
                    .badRequest, "cursor points more than \(DurationText.format(window)) into the past; start again with since=\(oldest) or later")
            }
            return MetricsQuery(after: position, limit: pageLimit)
        }
        guard let sinceText else {
            return MetricsQuery(after: .after(timestamp: nowMs - defaultLookback.milliseconds), limit: pageLimit)
        }
        guard !sinceText.isEmpty else {
            throw APIError(.badRequest, "since must be a base-10 integer of milliseconds since the Unix epoch; got an empty value")
        }
        guard sinceText.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else {
            throw APIError(
                .badRequest,
                "since must be a base-10 integer of milliseconds since the Unix epoch, digits only (no sign, space, decimal point or exponent); got '\(clip(sinceText))'"
            )
        }
        guard let value = Int64(plainDigits: sinceText), value <= maximumSince else {
            throw APIError(.badRequest, "since must be at most \(maximumSince) (2^53-1); got '\(clip(sinceText))'")
        }
        guard value <= nowMs else {
            throw APIError(.badRequest, "since must not lie in the future; got \(value), and the server's time is \(nowMs)")
        }
        guard value >= oldest else {
            throw APIError(.badRequest, "since must be at most \(DurationText.format(window)) ago, so at least \(oldest); got \(value)")
        }
        return MetricsQuery(after: .after(timestamp: value), limit: pageLimit)
    }

    private static func single(_ name: String, _ values: [Substring]) throws(APIError) -> Substring? {
        guard values.count <= 1 else {
            throw APIError(.badRequest, "\(name) must be given at most once; got \(values.count) values")
        }
        return values.first
    }

    /// Long input is shortened in messages.
    private static func clip(_ text: Substring) -> String {
        text.count > 40 ? String(text.prefix(40)) + "…" : String(text)
    }
}
