import Foundation
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1
import SpendCore

/// One connection's state for the live site's fast path, shared by its two handlers: the
/// wire handler (`LiveSiteWireHandler`, ahead of NIO's request decoder, reading bytes) and
/// `LiveSiteHandler` (after it, reading decoded heads). Both run on the connection's event
/// loop, one after the other, never at once.
///
/// - Order: a request is answered by the fast path only when no earlier request of the
///   connection is still with the router, so pipelined answers leave in the order asked.
/// - Atomicity: each answer takes one `LiveSite` state, one render.
/// - Timeouts: it owns the connection's idle timeout (Hummingbird's sees only the requests
///   passed on): a connection that sends nothing for `idleTimeout` (idle between requests, or
///   stalled in the middle of one) is closed, unless the router is answering.
final class LiveSiteConnection {
    let site: LiveSite
    let clock: any TimeSource
    let idleTimeout: TimeAmount?
    let counters: FastPathCounters?

    /// The response encoder's context: a write there goes below the encoder, to the socket.
    var rawContext: ChannelHandlerContext?
    /// Requests passed on to the router whose answer has not ended.
    var passedOn = 0
    /// Whether a request passed on is still being read (its end not seen).
    var readingPassedOn = false
    /// An answer to `Connection: close` (or HTTP/1.0) is written: the rest is not read.
    var closing = false
    private var unflushed = false
    var lastActivity = NIODeadline.now()
    private var idleTask: Scheduled<Void>?
    private var tails = Tails()

    init(site: LiveSite, clock: any TimeSource, idleTimeout: TimeAmount?, counters: FastPathCounters?) {
        self.site = site
        self.clock = clock
        self.idleTimeout = idleTimeout
        self.counters = counters
    }

    /// Whether the router has no request of this connection: the next one may be answered here.
    var routerIsIdle: Bool { passedOn == 0 && !readingPassedOn }

    /// Writes the answer to a GET or HEAD of `uri` when it is a published file; false when it
    /// is not (the request goes to the router).
    func answer(
        head isHead: Bool, uri: String, acceptEncoding: [String], ifNoneMatch: [String], keepAlive: Bool, http10: Bool
    ) -> Bool {
        guard let raw = rawContext else { return false }
        let published = site.currentPublished
        let representation: LiveSite.ServedFile.Representation
        /// Seconds until the next render, for a published file (`/api/stats` is `no-cache`).
        var maxAge: Int64? = nil
        let route: FastPathCounters.Route
        if uri == "/api/stats" {
            guard let stats = published.state.apiStats else { return false }
            representation = stats
            route = .apiStats
        } else {
            let path = uri.utf8.firstIndex(of: UInt8(ascii: "?")).map { uri[..<$0] } ?? uri[...]
            guard path.utf8.first == UInt8(ascii: "/") else { return false }
            let key = path.utf8.count == 1 ? "index.html" : String(path.dropFirst())
            guard let file = published.state.files[key] else { return false }
            route = path.utf8.count == 1 ? .root : .of(key: key)
            let gzip = file.gzipped.flatMap { SiteMiddleware<SpendRequestContext>.acceptsGzip(acceptEncoding) ? $0 : nil }
            representation = gzip ?? file.plain
            maxAge = published.state.expiresAt.map { max(0, clock.now.duration(to: $0).milliseconds / 1000) } ?? 0
        }
        let notModified =
            maxAge != nil && !ifNoneMatch.isEmpty && SiteMiddleware<SpendRequestContext>.matches(ifNoneMatch, etag: representation.etag)
        let tail = tails.tail(maxAge: maxAge, keepAlive: keepAlive, http10: http10)
        raw.write(NIOAny(notModified ? representation.notModifiedHead : representation.okHead), promise: nil)
        raw.write(NIOAny(tail), promise: nil)
        if !notModified && !isHead {
            raw.write(NIOAny(representation.body), promise: nil)
        }
        unflushed = true
        if !keepAlive { closing = true }
        counters?.count(route, head: isHead, notModified: notModified)
        return true
    }

    /// Sends what was answered here during this read, and closes the connection after an
    /// answer that closes it.
    func flush(_ context: ChannelHandlerContext) {
        guard unflushed, let raw = rawContext else { return }
        unflushed = false
        if closing {
            raw.writeAndFlush(NIOAny(ByteBuffer())).whenComplete { _ in context.close(promise: nil) }
        } else {
            raw.flush()
        }
    }

    /// A request passed on to the router has been answered (its answer's end is written).
    func routerAnswered() {
        lastActivity = .now()
        // Never below zero: Hummingbird also answers what it never received whole (a request
        // NIO could not parse gets its 400), which would otherwise close the fast path for good.
        passedOn = max(0, passedOn - 1)
    }

    // MARK: - Idle timeout

    func scheduleIdleCheck(_ context: ChannelHandlerContext) {
        guard let idleTimeout, idleTask == nil else { return }
        idleTask = context.eventLoop.assumeIsolatedUnsafeUnchecked().scheduleTask(deadline: lastActivity + idleTimeout) {
            self.idleTask = nil
            self.idleCheck(context, timeout: idleTimeout)
        }
    }

    func cancelIdleCheck() {
        idleTask?.cancel()
        idleTask = nil
    }

    private func idleCheck(_ context: ChannelHandlerContext, timeout: TimeAmount) {
        // The router is answering a request it has read whole: its answer may take its time.
        let answering = passedOn > 0 && !readingPassedOn
        if !answering && NIODeadline.now() >= lastActivity + timeout {
            context.close(promise: nil)
            return
        }
        if answering { lastActivity = .now() }
        scheduleIdleCheck(context)
    }
}

/// The live site's fast path for requests NIO's decoder has read: a channel handler right
/// after the decoder and ahead of Hummingbird, answering `GET` and `HEAD` of the published
/// files (and `/api/stats`) with the responses `LiveSite` encoded once per render. It sees the
/// requests the wire handler left to the decoder (a connection that sent something unusual, or
/// a request behind one the router answers), counts the requests the router has, and owns the
/// idle timer. Everything else (other methods, other paths, `/api/stats?…`) goes on to the
/// router, where `SiteMiddleware` answers the same files the same way.
final class LiveSiteHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    let connection: LiveSiteConnection
    /// The rest of a request answered here (a body sent with a GET) is dropped.
    private var droppingBody = false

    init(connection: LiveSiteConnection) {
        self.connection = connection
    }

    func handlerAdded(context: ChannelHandlerContext) {
        // Without the encoder's context every request goes to the router (no data passes here).
        connection.rawContext = try? context.pipeline.syncOperations.context(handlerType: HTTPResponseEncoder.self)
        if context.channel.isActive { connection.scheduleIdleCheck(context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        connection.cancelIdleCheck()
        connection.rawContext = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        connection.scheduleIdleCheck(context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        connection.cancelIdleCheck()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        connection.lastActivity = .now()
        guard !connection.closing else { return }
        switch unwrapInboundIn(data) {
        case .head(let head):
            if connection.routerIsIdle && (head.method == .GET || head.method == .HEAD)
                && connection.answer(
                    head: head.method == .HEAD, uri: head.uri, acceptEncoding: head.headers["accept-encoding"],
                    ifNoneMatch: head.headers["if-none-match"], keepAlive: head.isKeepAlive, http10: head.version.minor == 0)
            {
                droppingBody = true
            } else {
                connection.passedOn += 1
                connection.readingPassedOn = true
                context.fireChannelRead(data)
            }
        case .body:
            if !droppingBody { context.fireChannelRead(data) }
        case .end:
            if droppingBody {
                droppingBody = false
            } else {
                connection.readingPassedOn = false
                context.fireChannelRead(data)
            }
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        connection.flush(context)
        context.fireChannelReadComplete()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) {
            connection.routerAnswered()
        } else {
            connection.lastActivity = .now()
        }
        context.write(data, promise: promise)
    }
}

/// The end of a fast answer's head: `Date`, `Cache-Control` (for site files), `Connection`
/// (when it is to close, or for an HTTP/1.0 client that keeps it alive) and the blank line.
/// Made once per second and max-age and reused: most answers share the same bytes.
struct Tails {
    private var second = -1
    private var date = ""
    private var cached: [Key: ByteBuffer] = [:]
    private var last: (key: Key, tail: ByteBuffer)?

    struct Key: Hashable {
        var maxAge: Int64?
        var keepAlive: Bool
        var http10: Bool
    }

    static let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    mutating func tail(maxAge: Int64?, keepAlive: Bool, http10: Bool) -> ByteBuffer {
        let now = time(nil)
        if now != second {
            second = now
            date = Self.format(now)
            cached.removeAll(keepingCapacity: true)
            last = nil
        }
        let key = Key(maxAge: maxAge, keepAlive: keepAlive, http10: http10)
        // Most answers in a row share one tail: no hashing for them.
        if let last, last.key == key { return last.tail }
        if let tail = cached[key] {
            last = (key, tail)
            return tail
        }
        var text = "Date: " + date
        if let maxAge { text += "\r\nCache-Control: public, max-age=\(maxAge)" }
        if !keepAlive {
            text += "\r\nConnection: close"
        } else if http10 {
            text += "\r\nConnection: keep-alive"
        }
        text += "\r\n\r\n"
        let tail = ByteBuffer(string: text)
        cached[key] = tail
        last = (key, tail)
        return tail
    }

    /// RFC 9110's IMF-fixdate.
    static func format(_ seconds: Int) -> String {
        var value = seconds
        var parts = tm()
        gmtime_r(&value, &parts)
        func two(_ number: Int32) -> String { number < 10 ? "0\(number)" : "\(number)" }
        return "\(days[Int(parts.tm_wday)]), \(two(parts.tm_mday)) \(months[Int(parts.tm_mon)]) \(parts.tm_year + 1900) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) GMT"
    }
}

/// Hummingbird's HTTP/1 channel with the live site's fast path: the same pipeline as
/// `HTTP1Channel` (NIO's response encoder and request decoder, the HTTP-types codec,
/// Hummingbird's connection state), with `LiveSiteWireHandler` between the encoder and the
/// decoder and `LiveSiteHandler` between the decoder and the codec, sharing one
/// `LiveSiteConnection`.
///
/// The encoder and decoder are not paired as `configureHTTPServerPipeline` pairs them (since
/// swift-nio 2.101.3 the decoder queues each request's method for the encoder, to strip bodies
/// from answers to HEAD): the fast path answers requests without the encoder, which would leave
/// the queue one request behind, suppressing the body of a later GET's answer and growing with
/// every request answered here. Every HEAD answer here is bodiless by construction: the fast
/// path's, Hummingbird's generated HEAD routes, the site and archive middlewares, `APIError`.
struct LiveSiteHTTP1Channel: ServerChildChannel, HTTPChannelHandler {
    typealias Value = NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>

    let responder: HTTPChannelHandler.Responder
    let site: LiveSite
    let clock: any TimeSource
    let idleTimeout: TimeAmount?
    let counters: FastPathCounters?

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            // Hummingbird's limits (HTTP1Channel.Configuration.DecoderConfiguration's defaults).
            var limits = NIOHTTPDecoderLimitConfiguration()
            limits.maxHeaderFieldSize = 80 * 1024
            limits.maxHeaderListSize = 80 * 1024
            limits.maxHeaderFieldCount = 1000
            let pipeline = channel.pipeline.syncOperations
            let connection = LiveSiteConnection(site: site, clock: clock, idleTimeout: idleTimeout, counters: counters)
            try pipeline.addHandler(HTTPResponseEncoder())
            try pipeline.addHandler(LiveSiteWireHandler(connection: connection))
            try pipeline.addHandler(ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes, limitConfiguration: limits)))
            try pipeline.addHandler(LiveSiteHandler(connection: connection))
            try pipeline.addHandler(HTTP1ToHTTPServerCodec(secure: false))
            try pipeline.addHandler(HTTPConnectionStateHandler(idleTimeout: nil, logger: logger))
            return try NIOAsyncChannel(wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
        }
    }

    func handle(value asyncChannel: Value, logger: Logger) async {
        await handleHTTP(asyncChannel: asyncChannel, logger: logger)
    }
}
