import Foundation
import Testing

@testable import SpendCore

struct JSONWriterTests {
    @Test(arguments: [
        "plain", "quote\"back\\slash", "<script>x</script>", "a & b", "tab\tnew\nline\r", "\u{0}\u{1f}\u{7f}",
        "emoji 🚀 and ünïcödé", "line\u{2028}sep\u{2029}", "",
    ])
    func stringsRoundTripThroughFoundation(text: String) throws {
        var writer = JSONWriter()
        writer.array([text]) { w, s in w.string(s) }
        let decoded = try JSONSerialization.jsonObject(with: Data(writer.bytes)) as? [String]
        #expect(decoded == [text])
        // Safe inside HTML: no raw angle brackets or ampersands.
        #expect(!writer.string.contains("<") && !writer.string.contains(">") && !writer.string.contains("&"))
    }

    @Test func updatesRoundTripInTheWireFormat() throws {
        let update = UsageUpdate(
            timestamp: Timestamp(millisecondsSinceEpoch: 1_795_961_100_123), tenantId: "acme", customerId: "c\"1",
            model: "gpt-4", calls: 12, totalTokens: 24_000, inputTokens: 14_400, outputTokens: 9_600,
            cost: Money(micros: 1_008_000), avgLatencyMs: 812.5
        )
        var writer = JSONWriter()
        writer.usageUpdate(update)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(writer.bytes)) as? [String: Any])
        #expect(object["timestamp"] as? String == "2026-11-29T14:05:00.123Z")
        #expect(object["customerId"] as? String == "c\"1")
        let metrics = try #require(object["metrics"] as? [String: Any])
        #expect(metrics["totalCalls"] as? Int == 12)
        #expect(metrics["totalCost"] as? Double == 1.008)
        #expect(metrics["avgLatencyMs"] as? Double == 812.5)
        #expect(metrics["inputTokens"] as? Int == 14_400)
    }

    @Test func nonFiniteNumbersBecomeNull() {
        var writer = JSONWriter()
        writer.array([Double.nan, .infinity, 1.5, 2]) { w, x in w.number(x) }
        #expect(writer.string == "[null,null,1.5,2]")
    }
}
