import Crypto
import Foundation

/// Signs webhook deliveries as the Standard Webhooks specification says
/// (https://www.standardwebhooks.com): three headers, `webhook-id` (the event's id, the same on
/// every retry so receivers can drop duplicates), `webhook-timestamp` (seconds since the epoch
/// at the attempt) and `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`.
///
/// The secret is written `whsec_<base64>`, as the specification's libraries read it; its bytes
/// are the HMAC key.
public struct StandardWebhookSigner: Sendable {
    /// The specification asks for keys of 24 to 64 bytes.
    public static let keyLengths = 24...64

    /// The key's bytes (`SymmetricKey` is not `Sendable`; one is made per signature).
    private let key: [UInt8]

    /// - Throws: ``SecretError`` when `secret` is not base64 (with or without `whsec_`) of 24
    ///   to 64 bytes.
    public init(secret: String) throws(SecretError) {
        let encoded = secret.hasPrefix("whsec_") ? String(secret.dropFirst("whsec_".count)) : secret
        guard let bytes = Data(base64Encoded: encoded) else {
            throw SecretError("must be whsec_ followed by base64 (as `spendboard anomalies secret` prints); it is not base64")
        }
        guard Self.keyLengths.contains(bytes.count) else {
            throw SecretError("must decode to 24 to 64 bytes; it decodes to \(bytes.count)")
        }
        key = Array(bytes)
    }

    /// A new random secret of 32 bytes, written `whsec_<base64>`.
    public static func newSecret() -> String {
        "whsec_" + SymmetricKey(size: .bits256).withUnsafeBytes { Data($0).base64EncodedString() }
    }

    /// The `webhook-signature` value for one attempt: `v1,<base64>`.
    public func signature(id: String, timestamp: Int64, body: some Collection<UInt8>) -> String {
        var message = Array("\(id).\(timestamp).".utf8)
        message.append(contentsOf: body)
        let code = HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: key))
        return "v1," + Data(code).base64EncodedString()
    }

    /// The three headers of one attempt, in the specification's names.
    public func headers(id: String, timestamp: Int64, body: some Collection<UInt8>) -> [(name: String, value: String)] {
        [
            ("webhook-id", id),
            ("webhook-timestamp", String(timestamp)),
            ("webhook-signature", signature(id: id, timestamp: timestamp, body: body)),
        ]
    }

    /// Checks a delivery as a receiver would: one of the space-separated `v1,` signatures in
    /// `signatureHeader` matches (compared in constant time). The tests check deliveries with it.
    public func verifies(id: String, timestamp: Int64, body: some Collection<UInt8>, signatureHeader: String) -> Bool {
        let expected = Array(signature(id: id, timestamp: timestamp, body: body).utf8)
        var matched = false
        for candidate in signatureHeader.split(separator: " ") {
            let bytes = Array(candidate.utf8)
            guard bytes.count == expected.count else { continue }
            var difference: UInt8 = 0
            for (a, b) in zip(bytes, expected) { difference |= a ^ b }
            matched = matched || difference == 0
        }
        return matched
    }

    /// Why a secret cannot be used; the caller names the flag.
    public struct SecretError: Error, CustomStringConvertible, Sendable {
        public var description: String
        init(_ description: String) { self.description = description }
    }
}
