import NIOCore

/// The live site's wire path: the first handler of every connection, reading request heads
/// from the connection's bytes itself (`WireRequestHead`) and answering `GET` and `HEAD` of the
/// published files without decoding them into NIO's and Hummingbird's types. Decoding was most
/// of what a fast answer cost (`docs/benchmarks.md`).
///
/// A connection starts with only this handler and Hummingbird's: the router's handlers (NIO's
/// response encoder and request decoder, `LiveSiteHandler`, the HTTP-types codec and
/// Hummingbird's connection state) are added after this one when the first bytes go on to them.
/// A connection that only fetches the site never has them, and every read and flush it makes
/// passes two handlers instead of seven.
///
/// Every other request goes on to the decoder as the bytes it came in, whole: its head, then
/// its body by `Content-Length`, so the decoder always starts at a request's first byte. What
/// this handler does not read plainly (see `WireRequestHead`) hands the connection to the
/// decoder for good; `LiveSiteHandler` then answers the site's files after the decoder, as
/// before this path existed.
///
/// It also owns the connection's idle timer, and closes a connection without router handlers
/// when the server quiesces (Hummingbird's connection state handler does it for the others).
final class LiveSiteWireHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    enum Mode: Equatable {
        /// At the start of a request: heads are read here.
        case wire
        /// Inside a body passed on: this many bytes of it are still to come.
        case passing(Int)
        /// Everything goes to the decoder from here on.
        case decoder
    }

    let connection: LiveSiteConnection
    private var mode = Mode.wire
    /// The start of a head not yet whole.
    private var pending: ByteBuffer?
    /// Whether bytes went on to the decoder since the last read completed.
    private var passedBytes = false
    enum RouterHandlers {
        /// Not in the pipeline yet: made and added after this handler when bytes first go on.
        case waiting(() -> [any ChannelHandler])
        case added
        /// The pipeline refused them (it was being torn down): nothing goes on.
        case refused
    }

    private var routerHandlers: RouterHandlers

    init(connection: LiveSiteConnection, routerHandlers: @escaping () -> [any ChannelHandler]) {
        self.connection = connection
        self.routerHandlers = .waiting(routerHandlers)
    }

    /// Whether the router's handlers are in the pipeline.
    var routerHandlersAdded: Bool {
        if case .added = routerHandlers { return true }
        return false
    }

    func handlerAdded(context: ChannelHandlerContext) {
        // Nearest the socket: a write here goes straight to it.
        connection.rawContext = context
        if context.channel.isActive { connection.scheduleIdleCheck(context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        connection.cancelIdleCheck()
        connection.rawContext = nil
        pending = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        connection.scheduleIdleCheck(context)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        connection.lastActivity = .now()
        var buffer = unwrapInboundIn(data)
        if var held = pending {
            pending = nil
            held.writeBuffer(&buffer)
            buffer = held
        }
        while buffer.readableBytes > 0 {
            // After an answer that closes the connection, the rest is not read.
            guard !connection.closing else { return }
            switch mode {
            case .decoder:
                pass(buffer, context)
                return
            case .passing(let remaining):
                let length = min(remaining, buffer.readableBytes)
                pass(buffer.readSlice(length: length)!, context)
                mode = remaining == length ? .wire : .passing(remaining - length)
            case .wire:
                switch buffer.withUnsafeReadableBytes({ WireRequestHead.parse($0) }) {
                case .incomplete:
                    pending = buffer
                    return
                case .unusual:
                    mode = .decoder
                case .head(let head, let length):
                    if head.method != .other && head.contentLength == 0 && connection.routerIsIdle
                        && connection.answer(
                            head: head.method == .head, uri: head.target, acceptEncoding: head.acceptEncoding,
                            ifNoneMatch: head.ifNoneMatch, keepAlive: head.keepAlive, http10: head.minorVersion == 0)
                    {
                        buffer.moveReaderIndex(forwardBy: length)
                    } else {
                        pass(buffer.readSlice(length: length)!, context)
                        if head.contentLength > 0 { mode = .passing(head.contentLength) }
                    }
                }
            }
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        connection.flush(context)
        // The handlers after the decoder have nothing new when everything was answered here.
        if passedBytes {
            passedBytes = false
            context.fireChannelReadComplete()
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // The server is shutting down: without the router's handlers, no request is in
        // progress; the connection closes once what was answered has left.
        if event is ChannelShouldQuiesceEvent && !routerHandlersAdded {
            connection.close(context)
            return
        }
        // The client sent its last byte: a head left unfinished is the decoder's to judge.
        if let event = event as? ChannelEvent, event == .inputClosed { passPending(context) }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        connection.cancelIdleCheck()
        // Nobody can be answered any more: the decoder sees a head left unfinished only when it
        // is there already.
        if routerHandlersAdded { passPending(context) }
        pending = nil
        context.fireChannelInactive()
    }

    /// Passes `bytes` on to the decoder, adding the router's handlers first if they are not there.
    private func pass(_ bytes: ByteBuffer, _ context: ChannelHandlerContext) {
        switch routerHandlers {
        case .added:
            break
        case .refused:
            return
        case .waiting(let make):
            do {
                try context.pipeline.syncOperations.addHandlers(make(), position: .after(self))
                routerHandlers = .added
            } catch {
                // Only a pipeline being torn down refuses handlers; the bytes must not reach
                // Hummingbird's handler, which reads requests, not bytes.
                routerHandlers = .refused
                mode = .decoder
                connection.closing = true
                context.close(promise: nil)
                return
            }
        }
        passedBytes = true
        context.fireChannelRead(wrapInboundOut(bytes))
    }

    private func passPending(_ context: ChannelHandlerContext) {
        guard let held = pending else { return }
        pending = nil
        mode = .decoder
        pass(held, context)
        passedBytes = false
        context.fireChannelReadComplete()
    }
}
