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

    /// The wire handler's context, nearest the socket: a write there goes straight to it.
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
    /// The answers' bytes, shared with the event loop's other connections.
    private let answers: FastAnswers

    init(site: LiveSite, clock: any TimeSource, idleTimeout: TimeAmount?, counters: FastPathCounters?, answers: FastAnswers) {
        self.site = site
        self.clock = clock
        self.idleTimeout = idleTimeout
        self.counters = counters
        self.answers = answers
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
            route = path.utf8.count == 1 ? .root : file.route
            let gzip = file.gzipped.flatMap { SiteMiddleware<SpendRequestContext>.acceptsGzip(acceptEncoding) ? $0 : nil }
            representation = gzip ?? file.plain
            maxAge = published.state.expiresAt.map { max(0, clock.now.duration(to: $0).milliseconds / 1000) } ?? 0
        }
        let notModified =
            maxAge != nil && !ifNoneMatch.isEmpty && SiteMiddleware<SpendRequestContext>.matches(ifNoneMatch, etag: representation.etag)
        let answer = answers.answer(representation, notModified: notModified, bodiless: isHead, maxAge: maxAge, keepAlive: keepAlive, http10: http10)
        if let file = answer.file {
            // The file stays open until the kernel has taken the last of its bytes.
            let written = raw.eventLoop.makePromise(of: Void.self)
            raw.write(NIOAny(file.region), promise: written)
            written.futureResult.assumeIsolated().whenComplete { _ in withExtendedLifetime(file) {} }
        } else {
            raw.write(NIOAny(answer.head), promise: nil)
            if let body = answer.body { raw.write(NIOAny(body), promise: nil) }
        }
        unflushed = true
        if !keepAlive { closing = true }
        counters?.count(route, head: isHead, notModified: notModified)
        return true
    }

    /// Sends what was answered here during this read, and closes the connection after an
    /// answer that closes it.
    func flush(_ context: ChannelHandlerContext) {
        guard unflushed else { return }
        unflushed = false
        if closing {
            close(context)
        } else {
            rawContext?.flush()
        }
    }

    /// Closes the connection once everything written has left (a close now would drop an
    /// answer still waiting for the socket); nothing more is read.
    func close(_ context: ChannelHandlerContext) {
        closing = true
        guard let raw = rawContext else {
            context.close(promise: nil)
            return
        }
        raw.writeAndFlush(NIOAny(ByteBuffer())).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
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
/// a request behind one the router answers) and counts the requests the router has (for the
/// order of answers and the idle timer). Everything else (other methods, other paths,
/// `/api/stats?…`) goes on to the router, where `SiteMiddleware` answers the same files the
/// same way.
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

/// Hummingbird's HTTP/1 channel with the live site's fast path. A connection starts with
/// `LiveSiteWireHandler` and Hummingbird's async channel alone. The first bytes it passes on
/// add, between the two, the rest of `HTTP1Channel`'s pipeline (NIO's response encoder and
/// request decoder, the HTTP-types codec, Hummingbird's connection state) with
/// `LiveSiteHandler` between the decoder and the codec; both fast-path handlers share one
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
    let answers: FastAnswers.Loops

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            // Hummingbird's limits (HTTP1Channel.Configuration.DecoderConfiguration's defaults).
            var limits = NIOHTTPDecoderLimitConfiguration()
            limits.maxHeaderFieldSize = 80 * 1024
            limits.maxHeaderListSize = 80 * 1024
            limits.maxHeaderFieldCount = 1000
            let connection = LiveSiteConnection(
                site: site, clock: clock, idleTimeout: idleTimeout, counters: counters, answers: answers.answers(on: channel.eventLoop))
            // The router's handlers come when the wire handler first passes bytes on.
            let wire = LiveSiteWireHandler(connection: connection) {
                [
                    HTTPResponseEncoder(),
                    ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes, limitConfiguration: limits)),
                    LiveSiteHandler(connection: connection),
                    HTTP1ToHTTPServerCodec(secure: false),
                    HTTPConnectionStateHandler(idleTimeout: nil, logger: logger),
                ]
            }
            try channel.pipeline.syncOperations.addHandler(wire)
            return try NIOAsyncChannel(wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
        }
    }

    func handle(value asyncChannel: Value, logger: Logger) async {
        await handleHTTP(asyncChannel: asyncChannel, logger: logger)
    }
}
