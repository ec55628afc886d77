import Testing

@testable import SpendServer

/// The wire path's reading of request heads: what it answers itself must be read exactly, and
/// everything it does not read plainly must go to NIO's decoder (`unusual`).
struct WireRequestHeadTests {
    static func parse(_ text: String) -> WireRequestHead.Parsed {
        Array(text.utf8).withUnsafeBytes { WireRequestHead.parse($0) }
    }

    static func head(_ text: String) throws -> (WireRequestHead, Int) {
        guard case .head(let head, let length) = parse(text) else {
            throw ParseFailure(description: "not a whole head: \(parse(text)) for \(text.debugDescription)")
        }
        return (head, length)
    }

    struct ParseFailure: Error, CustomStringConvertible {
        var description: String
    }

    static func isUnusual(_ text: String) -> Bool {
        if case .unusual = parse(text) { return true }
        return false
    }

    @Test func aPlainGetIsReadWithItsLengthAndTheHeadersTheSiteNeeds() throws {
        let text =
            "GET /embed/gauge.svg?x=1 HTTP/1.1\r\nHost: localhost\r\nAccept-Encoding: br\r\naccept-encoding:  gzip, deflate \r\n"
            + "If-None-Match: \"abc\"\r\nUser-Agent: test/1.0 (é)\r\n\r\n"
        let (head, length) = try Self.head(text + "GET /next HTTP/1.1\r\n\r\n")
        #expect(length == text.utf8.count)
        #expect(head.method == .get)
        #expect(head.target == "/embed/gauge.svg?x=1")
        #expect(head.minorVersion == 1)
        #expect(head.keepAlive)
        #expect(head.contentLength == 0)
        // Every line of a repeated field, its value without the spaces around it.
        #expect(head.acceptEncoding == ["br", "gzip, deflate"])
        #expect(head.ifNoneMatch == ["\"abc\""])
    }

    @Test func everyPrefixOfAHeadIsIncompleteNeverMisread() throws {
        let text = "HEAD /index.html HTTP/1.0\r\nConnection: keep-alive\r\nContent-Length: 12\r\n\r\n"
        let bytes = Array(text.utf8)
        for end in 0..<bytes.count {
            let parsed = bytes[..<end].withUnsafeBytes { WireRequestHead.parse($0) }
            guard case .incomplete = parsed else {
                Issue.record("\(end) bytes: \(parsed)")
                continue
            }
        }
        let (head, length) = try Self.head(text)
        #expect(length == bytes.count)
        #expect(head.method == .head)
        #expect(head.minorVersion == 0)
        #expect(head.keepAlive)
        #expect(head.contentLength == 12)
    }

    @Test func keepAliveFollowsTheVersionAndTheConnectionTokens() throws {
        #expect(try Self.head("GET / HTTP/1.1\r\n\r\n").0.keepAlive)
        #expect(try !Self.head("GET / HTTP/1.1\r\nConnection: foo, Close\r\n\r\n").0.keepAlive)
        #expect(try Self.head("GET / HTTP/1.1\r\nConnection: closed\r\n\r\n").0.keepAlive)
        #expect(try !Self.head("GET / HTTP/1.0\r\n\r\n").0.keepAlive)
        #expect(try Self.head("GET / HTTP/1.0\r\nconnection: Keep-Alive\r\n\r\n").0.keepAlive)
        #expect(try !Self.head("GET / HTTP/1.0\r\nConnection: close\r\n\r\n").0.keepAlive)
    }

    @Test func otherMethodsAreReadForTheirLengthOnly() throws {
        let text = "POST /api/metrics HTTP/1.1\r\nContent-Length: 42\r\nContent-Length: 42\r\n\r\n"
        let (head, length) = try Self.head(text + "{\"body\"")
        #expect(head.method == .other)
        #expect(head.contentLength == 42)
        #expect(length == text.utf8.count)
        // Methods are case-sensitive: "get" is some other method, left to the router.
        #expect(try Self.head("get / HTTP/1.1\r\n\r\n").0.method == .other)
        #expect(try Self.head("GETS / HTTP/1.1\r\n\r\n").0.method == .other)
    }

    @Test func whatIsNotReadPlainlyGoesToTheDecoder() {
        let unusual = [
            "GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
            "POST / HTTP/1.1\r\ntransfer-encoding: gzip, chunked\r\n\r\n",
            "GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
            "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
            "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
            "POST / HTTP/1.1\r\nContent-Length: 1 2\r\n\r\n",
            "POST / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n",
            "POST / HTTP/1.1\r\nContent-Length:\r\n\r\n",
            "GET / HTTP/1.1\r\nX-Folded: a\r\n b\r\n\r\n",
            "GET / HTTP/1.1\nHost: x\n\n",
            "GET / HTTP/1.1\r\nHost: x\n\r\n",
            "GET / HTTP/1.1\r\nHost : x\r\n\r\n",
            "GET / HTTP/1.1\r\n: x\r\n\r\n",
            "GET / HTTP/1.1\r\nX-Null: a\u{0}b\r\n\r\n",
            "GET / HTTP/1.1\r\nX-Delete: a\u{7F}\r\n\r\n",
            "GET / HTTP/1.1\r\nX-Bare: a\rb\r\n\r\n",
            "GET / HTTP/2.0\r\n\r\n",
            "GET / HTTP/1.2\r\n\r\n",
            "GET / http/1.1\r\n\r\n",
            "GET /a b HTTP/1.1\r\n\r\n",
            "GET  / HTTP/1.1\r\n\r\n",
            "GET /\u{7F} HTTP/1.1\r\n\r\n",
            "GET /é HTTP/1.1\r\n\r\n",
            " GET / HTTP/1.1\r\n\r\n",
            "\r\nGET / HTTP/1.1\r\n\r\n",
            "GET / HTTP/1.1 \r\n\r\n",
            "GET\r\n\r\n",
        ]
        for text in unusual {
            #expect(Self.isUnusual(text), "\(text.debugDescription)")
        }
    }

    @Test func aHeadLongerThanTheLimitGoesToTheDecoderWholeOrNot() {
        let long = "GET / HTTP/1.1\r\nX-Long: " + String(repeating: "a", count: WireRequestHead.maximumLength)
        #expect(Self.isUnusual(long))
        #expect(Self.isUnusual(long + "\r\n\r\n"))
        let target = "GET /" + String(repeating: "a", count: WireRequestHead.maximumLength)
        #expect(Self.isUnusual(target))
        // Just under it, an unfinished head is waited for.
        if case .incomplete = Self.parse(String(long.prefix(WireRequestHead.maximumLength - 10))) {
        } else {
            Issue.record("a head under the limit is waited for")
        }
    }
}
