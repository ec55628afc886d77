/// A request head read straight from the connection's bytes, for the live site's wire path
/// (`LiveSiteWireHandler`): enough of HTTP/1.1 to answer `GET` and `HEAD` of a published file
/// without NIO's decoder, and to know where every other request ends so that it can be handed
/// to the decoder whole.
///
/// It is strict on purpose. Anything it does not read plainly (obs-fold, a bare LF, a space
/// before a colon, a control character, another HTTP version, `Transfer-Encoding`, `Upgrade`,
/// a head over 16 KiB) is `unusual`: the connection then goes to NIO's decoder for good, which
/// answers it exactly as it did before this path existed.
struct WireRequestHead {
    enum Method {
        case get, head, other
    }

    var method: Method
    /// The request target as sent (only read for GET and HEAD).
    var target: String
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    var minorVersion: Int
    /// Whether the connection stays open after the answer (RFC 9112, 9.3).
    var keepAlive: Bool
    /// The body's length: 0 without `Content-Length`.
    var contentLength: Int
    var acceptEncoding: [String] = []
    var ifNoneMatch: [String] = []

    enum Parsed {
        /// The head is not whole yet.
        case incomplete
        /// Not read plainly here: the decoder is to read this connection from here on.
        case unusual
        /// A head of `length` bytes.
        case head(WireRequestHead, length: Int)
    }

    /// The longest head read here; a longer one goes to the decoder (which allows 80 KB).
    static let maximumLength = 16 * 1024

    static func parse(_ bytes: UnsafeRawBufferPointer) -> Parsed {
        let count = bytes.count
        let cr = UInt8(ascii: "\r")
        let lf = UInt8(ascii: "\n")
        let space = UInt8(ascii: " ")
        let tab = UInt8(ascii: "\t")
        // The request line: method SP target SP HTTP/1.x CRLF.
        var index = 0
        while index < count && isTokenCharacter(bytes[index]) { index += 1 }
        guard index < count else { return count > maximumLength ? .unusual : .incomplete }
        guard index > 0, bytes[index] == space else { return .unusual }
        let method: Method
        switch index {
        case 3 where bytes[0] == UInt8(ascii: "G") && bytes[1] == UInt8(ascii: "E") && bytes[2] == UInt8(ascii: "T"): method = .get
        case 4
        where bytes[0] == UInt8(ascii: "H") && bytes[1] == UInt8(ascii: "E") && bytes[2] == UInt8(ascii: "A") && bytes[3] == UInt8(ascii: "D"):
            method = .head
        default: method = .other
        }
        index += 1
        let targetStart = index
        while index < count && bytes[index] > space && bytes[index] < 0x7F { index += 1 }
        guard index < count else { return count > maximumLength ? .unusual : .incomplete }
        guard index > targetStart, bytes[index] == space else { return .unusual }
        let targetEnd = index
        index += 1
        // "HTTP/1.x\r\n"
        guard index + 10 <= count else { return count > maximumLength ? .unusual : .incomplete }
        guard equals(UnsafeRawBufferPointer(rebasing: bytes[index..<(index + 7)]), "HTTP/1.") else { return .unusual }
        let minor = bytes[index + 7]
        guard minor == UInt8(ascii: "0") || minor == UInt8(ascii: "1"), bytes[index + 8] == cr, bytes[index + 9] == lf else { return .unusual }
        index += 10
        var head = WireRequestHead(
            method: method, target: "", minorVersion: minor == UInt8(ascii: "1") ? 1 : 0, keepAlive: minor == UInt8(ascii: "1"),
            contentLength: 0)
        if method != .other {
            head.target = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[targetStart..<targetEnd]), as: UTF8.self)
        }
        var contentLength: Int?
        // Header lines, up to the empty line.
        while true {
            guard index + 1 < count else { return count > maximumLength ? .unusual : .incomplete }
            if bytes[index] == cr {
                guard bytes[index + 1] == lf else { return .unusual }
                head.contentLength = contentLength ?? 0
                return .head(head, length: index + 2)
            }
            let nameStart = index
            while index < count && isTokenCharacter(bytes[index]) { index += 1 }
            guard index < count else { return count > maximumLength ? .unusual : .incomplete }
            // No name, obs-fold (a line starting with whitespace), or space before the colon.
            guard index > nameStart, bytes[index] == UInt8(ascii: ":") else { return .unusual }
            let nameEnd = index
            index += 1
            while index < count && (bytes[index] == space || bytes[index] == tab) { index += 1 }
            let valueStart = index
            // Field content: visible characters, spaces, tabs and obs-text; no other controls.
            while index < count {
                let byte = bytes[index]
                if byte == cr { break }
                guard byte >= space || byte == tab, byte != 0x7F else { return .unusual }
                index += 1
            }
            guard index + 1 < count else { return count > maximumLength ? .unusual : .incomplete }
            guard bytes[index + 1] == lf else { return .unusual }
            var valueEnd = index
            while valueEnd > valueStart && (bytes[valueEnd - 1] == space || bytes[valueEnd - 1] == tab) { valueEnd -= 1 }
            index += 2
            let name = UnsafeRawBufferPointer(rebasing: bytes[nameStart..<nameEnd])
            let value = UnsafeRawBufferPointer(rebasing: bytes[valueStart..<valueEnd])
            switch name.count {
            case 7 where equalsIgnoringCase(name, "upgrade"):
                return .unusual
            case 10 where equalsIgnoringCase(name, "connection"):
                if head.minorVersion == 1 {
                    if containsToken(value, "close") { head.keepAlive = false }
                } else if containsToken(value, "keep-alive") {
                    head.keepAlive = true
                }
            case 13 where equalsIgnoringCase(name, "if-none-match"):
                head.ifNoneMatch.append(String(decoding: value, as: UTF8.self))
            case 14 where equalsIgnoringCase(name, "content-length"):
                // Digits only, and the same length if repeated; anything else is the decoder's.
                guard value.count > 0, value.count <= 18, value.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
                    return .unusual
                }
                let length = value.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
                guard contentLength == nil || contentLength == length else { return .unusual }
                contentLength = length
            case 15 where equalsIgnoringCase(name, "accept-encoding"):
                head.acceptEncoding.append(String(decoding: value, as: UTF8.self))
            case 17 where equalsIgnoringCase(name, "transfer-encoding"):
                return .unusual
            default:
                break
            }
            if index > maximumLength { return .unusual }
        }
    }

    /// RFC 9110's tchar.
    static func isTokenCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"), UInt8(ascii: "'"),
            UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "_"),
            UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }

    /// `bytes` is `text`, byte for byte.
    static func equals(_ bytes: UnsafeRawBufferPointer, _ text: StaticString) -> Bool {
        guard bytes.count == text.utf8CodeUnitCount else { return false }
        let expected = text.utf8Start
        for offset in 0..<bytes.count where bytes[offset] != expected[offset] { return false }
        return true
    }

    /// `bytes` is `lowercase` (ASCII), ignoring case.
    static func equalsIgnoringCase(_ bytes: UnsafeRawBufferPointer, _ lowercase: StaticString) -> Bool {
        guard bytes.count == lowercase.utf8CodeUnitCount else { return false }
        let expected = lowercase.utf8Start
        for offset in 0..<bytes.count where bytes[offset] | 0x20 != expected[offset] { return false }
        return true
    }

    /// A comma-separated list holds `token` (ASCII, ignoring case).
    static func containsToken(_ bytes: UnsafeRawBufferPointer, _ token: StaticString) -> Bool {
        var start = 0
        while start <= bytes.count {
            var end = start
            while end < bytes.count && bytes[end] != UInt8(ascii: ",") { end += 1 }
            var from = start
            var to = end
            while from < to && (bytes[from] == UInt8(ascii: " ") || bytes[from] == UInt8(ascii: "\t")) { from += 1 }
            while to > from && (bytes[to - 1] == UInt8(ascii: " ") || bytes[to - 1] == UInt8(ascii: "\t")) { to -= 1 }
            if equalsIgnoringCase(UnsafeRawBufferPointer(rebasing: bytes[from..<to]), token) { return true }
            start = end + 1
        }
        return false
    }
}
