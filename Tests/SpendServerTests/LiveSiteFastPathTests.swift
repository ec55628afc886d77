import Foundation
import Hummingbird
import HummingbirdTesting
import SpendCore
import SpendReport
import Testing

@testable import SpendServer

#if canImport(Glibc)
import Glibc
#endif

/// The fast path (`LiveSiteHTTP1Channel`: the wire handler, and `LiveSiteHandler` after the
/// decoder) on a real socket: pipelined requests mixed with the router's, keep-alive and
/// HTTP/1.0, and renders swapping the site while a client reads.
struct LiveSiteFastPathTests {
    /// One answer read off the socket.
    struct Answer {
        var status: Int
        var headers: [String: String]
        var body: [UInt8]
    }

    /// A live server on a free port: the router knows no site (so only the fast path can
    /// answer its files) unless `routerServesSite`.
    func withServer(
        routerServesSite: Bool = false, page: String = SiteServingTests.page, _ body: @Sendable (Int, LiveSite, APIFixture) async throws -> Void
    ) async throws {
        let fixture = await APIFixture(history: .seconds(10))
        await fixture.publishSnapshot()
        // As in a server, stats.json and /api/stats are the same bytes.
        var site = SiteServingTests().site(page: page)
        site.files = site.files.map { file in
            var file = file
            if file.path == "stats.json" { file.bytes = fixture.board.latest?.json ?? [] }
            return file
        }
        let live = LiveSite()
        live.publish(site, expiresAt: APIFixture.now.advanced(by: .seconds(5)))
        let router = SpendboardApplication.router(
            store: fixture.store, board: fixture.board, site: routerServesSite ? live : nil, settings: fixture.settings)
        let app = Application(
            router: router, server: SpendboardApplication.httpServer(site: live, clock: fixture.clock, settings: fixture.settings),
            configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in
            try await body(try #require(client.port), live, fixture)
        }
    }

    struct ReadError: Error, CustomStringConvertible {
        var description: String
    }

    /// Sends everything or throws.
    static func send(_ connection: EndToEndTests.RawConnection, _ text: String) throws {
        guard connection.send(Array(text.utf8)) else { throw ReadError(description: "the server stopped taking bytes") }
    }

    /// Runs blocking socket work on a thread of its own: on Swift's cooperative pool (a thread
    /// per core) it would starve the router's tasks that are to answer it.
    static func offPool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try work() }) }.start()
        }
    }

    /// Reads `count` answers; `bodiless[i]`: the i-th was a HEAD (its Content-Length has no body).
    static func read(_ connection: EndToEndTests.RawConnection, count: Int, bodiless: Set<Int> = []) throws -> [Answer] {
        var buffer: [UInt8] = []
        var answers: [Answer] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while answers.count < count {
            if let end = buffer.firstRange(of: Array("\r\n\r\n".utf8)) {
                let head = String(decoding: buffer[..<end.lowerBound], as: UTF8.self).components(separatedBy: "\r\n")
                let statusLine = head[0].split(separator: " ")
                guard statusLine.count >= 2 && statusLine[0].hasPrefix("HTTP/1.") else {
                    throw ReadError(description: "not an answer: \(head.prefix(3))")
                }
                let status = Int(statusLine[1]) ?? 0
                var headers: [String: String] = [:]
                for line in head.dropFirst() {
                    let parts = line.split(separator: ":", maxSplits: 1)
                    guard parts.count == 2 else { throw ReadError(description: "a malformed header line: \(line)") }
                    headers[parts[0].lowercased()] = parts[1].trimmingCharacters(in: .whitespaces)
                }
                let length = (bodiless.contains(answers.count) || status == 304) ? 0 : Int(headers["content-length"] ?? "0") ?? 0
                if buffer.count - end.upperBound >= length {
                    answers.append(Answer(status: status, headers: headers, body: Array(buffer[end.upperBound..<(end.upperBound + length)])))
                    buffer.removeFirst(end.upperBound + length)
                    continue
                }
            }
            let received = chunk.withUnsafeMutableBytes { recv(connection.socket, $0.baseAddress, $0.count, 0) }
            guard received > 0 else {
                throw ReadError(
                    description:
                        "the connection ended after \(answers.count) of \(count) answers; unread: \(String(decoding: buffer.suffix(300), as: UTF8.self))"
                )
            }
            buffer += chunk[..<received]
        }
        guard buffer.isEmpty else { throw ReadError(description: "\(buffer.count) bytes after the last answer") }
        return answers
    }

    @Test func theFastPathAnswersTheSiteWithoutTheRouter() async throws {
        try await withServer { port, _, _ in
            let answers = try await Self.offPool {
                let connection = try EndToEndTests.RawConnection(port: port)
                try Self.send(
                    connection, "GET /index.html HTTP/1.1\r\nHost: x\r\n\r\nPOST /index.html HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
                return try Self.read(connection, count: 2)
            }
            #expect(answers[0].status == 200)
            #expect(String(decoding: answers[0].body, as: UTF8.self) == SiteServingTests.page)
            #expect(answers[0].headers["cache-control"] == "public, max-age=5")
            #expect(answers[0].headers["date"]?.hasSuffix(" GMT") == true)
            // Not GET or HEAD: the router's, which here knows no site.
            #expect(answers[1].status == 404)
        }
    }

    /// The page as published, with `padding` bytes more: large pages are sent from a file
    /// (`AnswerFile`), with their body in the head's buffer or, past `FastAnswers.bodyLimit`, after it.
    static func page(padding: Int) -> String {
        padding == 0 ? SiteServingTests.page : SiteServingTests.page + "<!--" + String(repeating: "p", count: padding) + "-->"
    }

    @Test(arguments: [0, FastAnswers.bodyLimit + 10_000])
    func pipelinedRequestsAreAnsweredInOrderWhetherTheFastPathOrTheRouterAnswers(padding: Int) async throws {
        let page = Self.page(padding: padding)
        // The router serves the site too: behind a request it answers, the next ones wait for it.
        try await withServer(routerServesSite: true, page: page) { port, live, fixture in
            let etag = try #require(live.current.files["embed/gauge.svg"]?.plain.etag)
            let requests = [
                "GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n",
                "GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n",
                "HEAD /embed/gauge.svg HTTP/1.1\r\nHost: x\r\n\r\n",
                "GET /embed/gauge.svg HTTP/1.1\r\nHost: x\r\nIf-None-Match: \(etag)\r\n\r\n",
                "GET /api/metrics?limit=1 HTTP/1.1\r\nHost: x\r\n\r\n",
                "GET /stats.json HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n",
                "GET /api/stats HTTP/1.1\r\nHost: x\r\n\r\n",
                "GET /nothing HTTP/1.1\r\nHost: x\r\n\r\n",
                "GET / HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n",
                // A HEAD the router refuses: its error has no body either (the next answer
                // would otherwise start inside it).
                "HEAD /nothing HTTP/1.1\r\nHost: x\r\n\r\n",
                "GET /embed/gauge.svg HTTP/1.1\r\nHost: x\r\n\r\n",
            ]
            let answers = try await Self.offPool {
                let connection = try EndToEndTests.RawConnection(port: port)
                // All at once, in one write: the server reads them together.
                try Self.send(connection, requests.joined())
                return try Self.read(connection, count: requests.count, bodiless: [2, 9])
            }
            #expect(answers.map(\.status) == [200, 200, 200, 304, 200, 200, 200, 404, 200, 404, 200])
            #expect(String(decoding: answers[0].body, as: UTF8.self) == page)
            #expect(String(decoding: answers[1].body, as: UTF8.self).contains("\"status\""))
            #expect(answers[2].headers["content-length"] == "\(live.current.files["embed/gauge.svg"]!.plain.body.readableBytes)")
            #expect(answers[3].headers["etag"] == etag)
            #expect(String(decoding: answers[4].body, as: UTF8.self).contains("\"metrics\""))
            let stats = try #require(fixture.board.latest?.json)
            #expect(answers[5].body == stats || answers[5].headers["content-encoding"] == "gzip")
            // /api/stats is stats.json's bytes with the API's headers.
            #expect(answers[6].body == stats)
            #expect(answers[6].headers["content-type"] == "application/json; charset=utf-8")
            #expect(answers[6].headers["cache-control"] == "no-cache")
            #expect(answers[8].headers["content-encoding"] == "gzip")
        }
    }

    /// Bodies are passed on by their length, never read as requests: a body holding a whole
    /// request line for a published file must not be answered.
    @Test func aBodyIsPassedOnByItsLengthNeverReadAsARequest() async throws {
        // Behind the POST, the next request waits for the router (which serves the site here).
        try await withServer(routerServesSite: true) { port, live, _ in
            let fake = "GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n"
            let answers = try await Self.offPool {
                let connection = try EndToEndTests.RawConnection(port: port)
                try Self.send(
                    connection,
                    "POST /api/metrics HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: \(fake.utf8.count)\r\n\r\n"
                        + fake + "GET /stats.json HTTP/1.1\r\nHost: x\r\n\r\n")
                var answers = try Self.read(connection, count: 2)
                // Had the body been read as a request, its answer would come next.
                try Self.send(connection, "GET /embed/gauge.svg HTTP/1.1\r\nHost: x\r\n\r\n")
                answers += try Self.read(connection, count: 1)
                return answers
            }
            #expect(answers[0].status == 400)
            #expect(String(decoding: answers[0].body, as: UTF8.self).contains("error"))
            #expect(answers[1].status == 200)
            let stats = Array(live.current.files["stats.json"]!.plain.body.readableBytesView)
            #expect(answers[1].body == stats, "stats.json whole")
            #expect(answers[2].status == 200)
            #expect(answers[2].headers["content-type"] == "image/svg+xml")
        }
    }

    /// A request the wire path does not read plainly (here a chunked body) hands the connection
    /// to NIO's decoder; the site's files are then answered after the decoder, still without
    /// the router (which here knows no site).
    @Test func aConnectionHandedToTheDecoderIsStillAnsweredByTheFastPath() async throws {
        try await withServer { port, live, _ in
            let fake = "GET /index.html HTTP/1.1\r\n\r\n"
            let chunked =
                "POST /api/metrics HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "\(String(fake.utf8.count, radix: 16))\r\n\(fake)\r\n0\r\n\r\n"
            // The site's files first: a request for the router holds the ones behind it.
            let requests = [
                "GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n",
                "HEAD /embed/gauge.svg HTTP/1.1\r\nHost: x\r\n\r\n",
                "GET /stats.json HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n",
                "GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n",
            ]
            let answers = try await Self.offPool {
                let connection = try EndToEndTests.RawConnection(port: port)
                try Self.send(connection, chunked)
                var answers = try Self.read(connection, count: 1)
                try Self.send(connection, requests.joined())
                answers += try Self.read(connection, count: 4, bodiless: [1])
                // Later requests, read on their own, go the same way.
                try Self.send(connection, requests[0])
                answers += try Self.read(connection, count: 1)
                return answers
            }
            #expect(answers.map(\.status) == [400, 200, 200, 200, 200, 200])
            #expect(String(decoding: answers[1].body, as: UTF8.self) == SiteServingTests.page)
            #expect(answers[2].headers["content-length"] == "\(live.current.files["embed/gauge.svg"]!.plain.body.readableBytes)")
            let gzipped = live.current.files["stats.json"]!.gzipped
            #expect(answers[3].headers["content-encoding"] == (gzipped == nil ? nil : "gzip"))
            #expect(String(decoding: answers[4].body, as: UTF8.self).contains("\"status\""))
            #expect(String(decoding: answers[5].body, as: UTF8.self) == SiteServingTests.page)
        }
    }

    /// A head that arrives in pieces, down to a byte at a time, is answered once whole.
    @Test func aHeadSentInPiecesIsAnsweredOnceWhole() async throws {
        try await withServer { port, _, _ in
            let request = Array("GET /index.html HTTP/1.1\r\nHost: x\r\nAccept-Encoding: identity\r\n\r\n".utf8)
            let answers = try await Self.offPool {
                let connection = try EndToEndTests.RawConnection(port: port)
                var noDelay: Int32 = 1
                setsockopt(connection.socket, Int32(IPPROTO_TCP), TCP_NODELAY, &noDelay, socklen_t(MemoryLayout<Int32>.size))
                for byte in request {
                    guard connection.send([byte]) else { throw ReadError(description: "the server stopped taking bytes") }
                }
                // And two requests with the second cut in the middle.
                try Self.send(connection, String(decoding: request + request.prefix(20), as: UTF8.self))
                try Self.send(connection, String(decoding: request.dropFirst(20), as: UTF8.self))
                return try Self.read(connection, count: 3)
            }
            #expect(answers.map(\.status) == [200, 200, 200])
            for answer in answers {
                #expect(String(decoding: answer.body, as: UTF8.self) == SiteServingTests.page)
            }
        }
    }

    /// A client that stops in the middle of a head and closes its side gets the decoder's
    /// judgement of those bytes, as before the wire path: the connection ends, nothing hangs.
    @Test func aHeadCutByTheClientClosingItsSideEndsTheConnection() async throws {
        try await withServer { port, _, _ in
            let (bytes, closed) = try await Self.offPool {
                let connection = try EndToEndTests.RawConnection(port: port)
                try Self.send(connection, "GET /index.html HTTP/1.1\r\nHost: x\r\nAccept")
                shutdown(connection.socket, Int32(SHUT_WR))
                return connection.readToEnd()
            }
            #expect(closed)
            #expect(!String(decoding: bytes, as: UTF8.self).hasPrefix("HTTP/1.1 200"))
        }
    }

    @Test func http10ClosesUnlessItAsksToKeepAlive() async throws {
        try await withServer { port, _, _ in
            let (kept, bytes, closed) = try await Self.offPool {
                let keep = try EndToEndTests.RawConnection(port: port)
                try Self.send(keep, "GET /stats.json HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
                let kept = try Self.read(keep, count: 1)
                try Self.send(keep, "GET /stats.json HTTP/1.0\r\n\r\n")
                let (bytes, closed) = keep.readToEnd()
                return (kept, bytes, closed)
            }
            #expect(kept[0].headers["connection"] == "keep-alive")
            #expect(closed)
            let text = String(decoding: bytes, as: UTF8.self)
            #expect(text.hasPrefix("HTTP/1.1 200 OK\r\n"))
            #expect(text.contains("\r\nConnection: close\r\n"))
            #expect(text.hasSuffix("}"))
        }
    }

    @Test(arguments: [0, FastAnswers.fileThreshold])
    func aRenderSwappingTheSiteMidStreamNeverMixesTwoSnapshots(padding: Int) async throws {
        try await withServer { port, live, _ in
            let page = Self.page(padding: padding)
            let pages = [page, page.replacingOccurrences(of: "spend", with: "SPEND")]
            let sites = pages.map { SiteServingTests().site(page: $0) }
            let tags = try sites.map { site -> String in
                let other = LiveSite()
                other.publish(site, expiresAt: APIFixture.now)
                return try #require(other.current.files["index.html"]?.plain.etag)
            }
            let stop = ManagedFlag()
            defer { stop.value = true }
            // A render loop swapping the two sites while the client reads.
            let swaps = ManagedCounter()
            Thread {
                while !stop.value {
                    live.publish(sites[swaps.value % 2], expiresAt: APIFixture.now.advanced(by: .seconds(5)))
                    swaps.increment()
                    // Thousands of renders a second, not a spinning core: the rest of the
                    // suite runs beside this test (a load generator's pause, not a timing).
                    usleep(200)
                }
            }.start()
            let bodies = try await Self.offPool {
                let connection = try EndToEndTests.RawConnection(port: port)
                var bodies: [(page: String, etag: String?)] = []
                for _ in 0..<50 {
                    try Self.send(connection, String(repeating: "GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n", count: 10))
                    bodies += try Self.read(connection, count: 10).map { (String(decoding: $0.body, as: UTF8.self), $0.headers["etag"]) }
                }
                return bodies
            }
            var seen: Set<String> = []
            for (page, etag) in bodies {
                let which = try #require(pages.firstIndex(of: page), "a body that is neither snapshot's page")
                #expect(etag == tags[which])
                seen.insert(tags[which])
            }
            stop.value = true
            #expect(swaps.value > 10)
            #expect(seen.count == 2, "both snapshots were served while the site was swapped \(swaps.value) times")
        }
    }
}

final class ManagedCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var stored = 0
    var value: Int { lock.withLock { stored } }
    func increment() { lock.withLock { stored += 1 } }
}
