import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

extension EndToEndTests {
    /// A blocking TCP connection to the server, with send and receive timeouts so no test can hang.
    final class RawConnection {
        let socket: Int32

        init(port: Int, receiveTimeout seconds: Int = 15) throws {
            socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            try #require(socket >= 0)
            var timeout = timeval(tv_sec: seconds, tv_usec: 0)
            setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(socket, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            try #require(connected == 0)
        }

        deinit { close(socket) }

        /// Sends everything; false when the server stopped taking bytes (closed the connection).
        func send(_ bytes: [UInt8]) -> Bool {
            var offset = 0
            while offset < bytes.count {
                let sent = bytes[offset...].withUnsafeBytes { Glibc.send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                guard sent > 0 else { return false }
                offset += sent
            }
            return true
        }

        /// Reads one answer with a `Content-Length` (to a GET), head and body; nil when the
        /// connection closes or the receive timeout passes first.
        func readAnswer() -> String? {
            var received: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 65_536)
            while true {
                if let end = received.firstRange(of: Array("\r\n\r\n".utf8)) {
                    let head = String(decoding: received[..<end.lowerBound], as: UTF8.self)
                    let length = head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
                        .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) }
                    if let length, received.count >= end.upperBound + length {
                        return String(decoding: received[..<(end.upperBound + length)], as: UTF8.self)
                    }
                }
                let count = buffer.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
                guard count > 0 else { return nil }
                received += buffer[..<count]
            }
        }

        /// Reads until the server closes the connection: what it sent and whether it closed
        /// (false: the receive timeout passed first).
        func readToEnd() -> (bytes: [UInt8], closed: Bool) {
            var received: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 65_536)
            while true {
                let count = buffer.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
                if count > 0 {
                    received += buffer[..<count]
                } else {
                    return (received, count == 0)
                }
            }
        }
    }

    /// A producer that sends a body far over 1 MiB, all of it before reading (as Python's
    /// urllib does), gets its 413 and the connection closed, instead of blocking on a full
    /// socket until its own timeout.
    @Test func aBodyOverTheLimitIsAnsweredAndTheConnectionClosed() async throws {
        let data = Self.scratch("data")
        defer { try? FileManager.default.removeItem(atPath: data) }
        let server = try await Server(arguments: ["--data", data, "--no-simulator", "--idle-timeout", "1s"])
        let connection = try RawConnection(port: server.port)
        let body = [UInt8](repeating: UInt8(ascii: " "), count: 16 << 20)
        let head =
            "POST /api/metrics HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: \(body.count)\r\n\r\n"
        let sentWhole = connection.send(Array(head.utf8) + body)
        #expect(sentWhole, "the server reads the rest of the body")
        let (bytes, closed) = connection.readToEnd()
        #expect(closed, "the server closes the connection after its answer")
        #expect(String(decoding: bytes, as: UTF8.self).hasPrefix("HTTP/1.1 413"))
        #expect(await server.stop(with: SIGTERM) == 0)
    }

    /// Half a request, or silence after one, is dropped after `--idle-timeout`: slow clients
    /// cannot hold the server's sockets.
    @Test func silentConnectionsAreClosedAfterTheIdleTimeout() async throws {
        let data = Self.scratch("data")
        defer { try? FileManager.default.removeItem(atPath: data) }
        let server = try await Server(arguments: ["--data", data, "--no-simulator", "--idle-timeout", "1s"])

        let half = try RawConnection(port: server.port)
        #expect(half.send(Array("GET /api/health HTTP/1.1\r\nHost: localhost\r\nX-Slow: ".utf8)))
        let halfEnd = half.readToEnd()
        #expect(halfEnd.closed && halfEnd.bytes.isEmpty, "a stalled request is closed without an answer")

        let idle = try RawConnection(port: server.port)
        #expect(idle.send(Array("GET /api/health HTTP/1.1\r\nHost: localhost\r\n\r\n".utf8)))
        let idleEnd = idle.readToEnd()
        #expect(idleEnd.closed, "a keep-alive connection left idle is closed")
        #expect(String(decoding: idleEnd.bytes, as: UTF8.self).hasPrefix("HTTP/1.1 200"), "after its answer")

        // One that only fetched the site (answered by the fast path, without the router's
        // handlers) too.
        let site = try RawConnection(port: server.port)
        #expect(site.send(Array("GET /embed/gauge.svg HTTP/1.1\r\nHost: localhost\r\n\r\n".utf8)))
        let siteEnd = site.readToEnd()
        #expect(siteEnd.closed, "a keep-alive connection left idle after a fast answer is closed")
        #expect(String(decoding: siteEnd.bytes, as: UTF8.self).hasPrefix("HTTP/1.1 200"), "after its answer")
        #expect(await server.stop(with: SIGTERM) == 0)
    }
}
