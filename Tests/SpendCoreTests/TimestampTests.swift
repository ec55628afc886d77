import Foundation
import Testing

@testable import SpendCore

struct TimestampTests {
    @Test(arguments: [
        (Int64(0), "1970-01-01T00:00:00.000Z"),
        (Int64(1_795_965_493_354), "2026-11-29T15:18:13.354Z"),
        (Int64(951_782_400_000), "2000-02-29T00:00:00.000Z"),
        (Int64(-1), "1969-12-31T23:59:59.999Z"),
        (Int64(253_402_300_799_999), "9999-12-31T23:59:59.999Z"),
    ])
    func formatsAndParsesBack(millis: Int64, text: String) throws {
        let timestamp = Timestamp(millisecondsSinceEpoch: millis)
        #expect(timestamp.iso8601 == text)
        #expect(Timestamp(iso8601: text) == timestamp)
    }

    @Test func agreesWithFoundationOverManyInstants() throws {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        var rng = SplitMix64(seed: 7)
        for _ in 0..<2000 {
            let millis = Int64(rng.next() % 4_102_444_800_000)  // 1970...2100
            let ours = Timestamp(millisecondsSinceEpoch: millis).iso8601
            let theirs = formatter.string(from: Date(timeIntervalSince1970: Double(millis) / 1000))
            #expect(ours == theirs)
        }
    }

    @Test(arguments: [
        ("2026-11-29T14:05:00Z", Int64(1_795_961_100_000)),
        ("2026-11-29T14:05:00.5Z", Int64(1_795_961_100_500)),
        ("2026-11-29T14:05:00.123456Z", Int64(1_795_961_100_123)),
        ("2026-11-29T15:05:00+01:00", Int64(1_795_961_100_000)),
        ("2026-11-29T13:35:00.000-00:30", Int64(1_795_961_100_000)),
    ])
    func parsesVariants(text: String, millis: Int64) {
        #expect(Timestamp(iso8601: text)?.millisecondsSinceEpoch == millis)
    }

    @Test(arguments: [
        "", "2026-11-29", "2026-11-29T14:05:00", "2026-02-30T00:00:00Z", "2025-02-29T00:00:00Z",
        "2026-13-01T00:00:00Z", "2026-11-29T24:00:00Z", "2026-11-29T14:60:00Z", "2026-11-29T14:05:00.Z",
        "2026-11-29T14:05:00Zjunk", "+2026-11-29T14:05:00Z", "2026-11-29T14:05:00+25:00", "1764424800000",
    ])
    func rejectsMalformed(text: String) {
        #expect(Timestamp(iso8601: text) == nil)
    }

    @Test func utcHourAndFlooring() {
        let t = Timestamp(iso8601: "2026-11-29T09:59:59.999Z")!
        #expect(t.utcHour == 9)
        #expect(t.floored(to: .seconds(3600)).iso8601 == "2026-11-29T09:00:00.000Z")
        #expect(Timestamp(millisecondsSinceEpoch: -1).floored(to: .seconds(5)).millisecondsSinceEpoch == -5000)
    }
}
