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

struct MoneyTests {
    @Test(arguments: [
        (Int64(0), "0"), (Int64(1), "0.000001"), (Int64(100), "0.0001"), (Int64(1_500_000), "1.5"),
        (Int64(123_456_789), "123.456789"), (Int64(-2_500_000), "-2.5"), (Int64(78_000_000_000), "78000"),
    ])
    func decimalDollarsIsExact(micros: Int64, text: String) {
        #expect(Money.decimalDollars(micros) == text)
    }

    @Test func microsFromDollarsRoundsAndRejects() {
        #expect(Money.micros(fromDollars: 0.1234) == 123_400)
        #expect(Money.micros(fromDollars: 1.0000005) == 1_000_001)
        #expect(Money.micros(fromDollars: -0.01) == nil)
        #expect(Money.micros(fromDollars: .nan) == nil)
        #expect(Money.micros(fromDollars: .infinity) == nil)
        #expect(Money.micros(fromDollars: 1e20) == nil)
    }

    @Test(arguments: [
        (Int64(78_123_450_000), "$78,123.45"), (Int64(4_200), "$0.0042"), (Int64(0), "$0.00"),
        (Int64(999_995), "$1.00"), (Int64(1_234_567_890_000), "$1,234,567.89"),
    ])
    func formatsForPeople(micros: Int64, text: String) {
        #expect(Money.formatted(micros) == text)
    }

    @Test func referencePricesRoundToFourDecimals() {
        let gpt4 = ModelPrice.reference[0]
        // 14,400 input and 9,600 output tokens: 0.432 + 0.576 dollars.
        #expect(gpt4.costMicros(inputTokens: 14_400, outputTokens: 9_600) == 1_008_000)
        // 1 input token of gpt-3.5: 0.0000005 dollars rounds to 0.0000 (4 decimals).
        #expect(ModelPrice.reference[1].costMicros(inputTokens: 1, outputTokens: 0) == 0)
        #expect(ModelPrice.reference[1].costMicros(inputTokens: 100, outputTokens: 0) == 100)
    }
}

struct DurationTextTests {
    @Test(arguments: [
        ("90s", Duration.seconds(90)), ("5m", .seconds(300)), ("1h", .seconds(3600)), ("30d", .seconds(2_592_000)),
        ("250ms", .milliseconds(250)), ("0", .zero),
    ])
    func parses(text: String, duration: Duration) throws {
        #expect(try DurationText.parse(text) == duration)
    }

    @Test(arguments: ["", "5", "-5s", "5 s", "1.5h", "5w", "s", "99999999999999s", "1h30m"])
    func rejects(text: String) {
        #expect(throws: DurationText.ParseError.self) { try DurationText.parse(text) }
    }

    @Test func formatsShortest() {
        #expect(DurationText.format(.seconds(5)) == "5s")
        #expect(DurationText.format(.seconds(90)) == "90s")
        #expect(DurationText.format(.seconds(300)) == "5m")
        #expect(DurationText.format(.seconds(3600)) == "1h")
        #expect(DurationText.format(.seconds(86_400 * 30)) == "30d")
    }
}
