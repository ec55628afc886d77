import Foundation
import SpendAlerts
import SpendCore
import Testing

@Suite("Standard Webhooks signatures and retry timing")
struct StandardWebhookTests {
    /// The specification's published example (its reference libraries' signing test): this
    /// key, id, timestamp and payload sign to exactly this value.
    @Test func signsTheSpecificationsExample() throws {
        let signer = try StandardWebhookSigner(secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
        let payload = Array(#"{"test": 2432232314}"#.utf8)
        let signature = signer.signature(id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: 1_614_265_330, body: payload)
        #expect(signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        // The same key without its prefix, as the libraries also accept it.
        let bare = try StandardWebhookSigner(secret: "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
        #expect(bare.signature(id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: 1_614_265_330, body: payload) == signature)

        let headers = signer.headers(id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: 1_614_265_330, body: payload)
        #expect(headers.map(\.name) == ["webhook-id", "webhook-timestamp", "webhook-signature"])
        #expect(headers.map(\.value) == ["msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", signature])
    }

    @Test func verifiesOneOfSeveralSignaturesAndNothingChanged() throws {
        let signer = try StandardWebhookSigner(secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
        let payload = Array(#"{"test": 2432232314}"#.utf8)
        let valid = signer.signature(id: "msg_1", timestamp: 100, body: payload)
        let wrong = "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc="
        #expect(signer.verifies(id: "msg_1", timestamp: 100, body: payload, signatureHeader: "\(wrong) v2,abc \(valid)"))
        #expect(!signer.verifies(id: "msg_1", timestamp: 100, body: payload, signatureHeader: wrong))
        #expect(!signer.verifies(id: "msg_2", timestamp: 100, body: payload, signatureHeader: valid))
        #expect(!signer.verifies(id: "msg_1", timestamp: 101, body: payload, signatureHeader: valid))
        #expect(!signer.verifies(id: "msg_1", timestamp: 100, body: payload + [0x20], signatureHeader: valid))
        let other = try StandardWebhookSigner(secret: StandardWebhookSigner.newSecret())
        #expect(!other.verifies(id: "msg_1", timestamp: 100, body: payload, signatureHeader: valid))
    }

    @Test func refusesSecretsThatAreNotBase64KeysOfTwentyFourToSixtyFourBytes() throws {
        #expect(throws: StandardWebhookSigner.SecretError.self) { try StandardWebhookSigner(secret: "whsec_not base64!") }
        // 18 bytes: too short to be a key.
        #expect(throws: StandardWebhookSigner.SecretError.self) {
            try StandardWebhookSigner(secret: "whsec_" + Data(count: 18).base64EncodedString())
        }
        #expect(throws: StandardWebhookSigner.SecretError.self) {
            try StandardWebhookSigner(secret: "whsec_" + Data(count: 65).base64EncodedString())
        }
        _ = try StandardWebhookSigner(secret: "whsec_" + Data(count: 64).base64EncodedString())
        let fresh = StandardWebhookSigner.newSecret()
        #expect(fresh.hasPrefix("whsec_") && Data(base64Encoded: String(fresh.dropFirst(6)))?.count == 32)
        #expect(fresh != StandardWebhookSigner.newSecret())
    }

    @Test func retriesBackOffExponentiallyUpToTheCapAndGiveUpAfterTheWindow() {
        let policy = RetryPolicy(initial: .seconds(5), maximum: .seconds(600), giveUpAfter: .seconds(86_400))
        #expect((1...9).map { policy.delay(afterAttempts: $0) } == [5, 10, 20, 40, 80, 160, 320, 600, 600].map { Duration.seconds($0) })
        #expect(policy.delay(afterAttempts: 10_000) == .seconds(600))
        let start = Timestamp(secondsSinceEpoch: 1_700_000_000)
        #expect(
            policy.outcome(error: "503", attempts: 3, failingSince: start, now: start.advanced(by: .seconds(35)))
                == .failed(error: "503", retryAt: start.advanced(by: .seconds(55))))
        #expect(
            policy.outcome(error: "503", attempts: 200, failingSince: start, now: start.advanced(by: .seconds(86_400))) == .abandoned(error: "503"))
    }

    @Test func showsWhereAWebhookGoesWithoutItsToken() {
        #expect(WebhookDelivery.display("https://hooks.slack.com/services/T000/B000/XXXX") == "https://hooks.slack.com/…")
        #expect(WebhookDelivery.display("http://127.0.0.1:9000/") == "http://127.0.0.1:9000/")
        #expect(WebhookDelivery.display("http://127.0.0.1:9000/hook?token=secret") == "http://127.0.0.1:9000/…")
    }
}
