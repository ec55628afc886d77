import NIOCore

/// The live site's wire path: a channel handler ahead of NIO's request decoder that reads
/// request heads from the connection's bytes itself (`WireRequestHead`) and answers `GET` and
/// `HEAD` of the published files without decoding them into NIO's and Hummingbird's types.
/// Decoding was most of what a fast answer cost (`docs/benchmarks.md`).
///
/// Every other request goes on to the decoder as the bytes it came in, whole: its head, then
/// its body by `Content-Length`, so the decoder always starts at a request's first byte. What
/// this handler does not read plainly (see `WireRequestHead`) hands the connection to the
/// decoder for good; `LiveSiteHandler` then answers the site's files after the decoder, as
/// before this path existed.
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

    init(connection: LiveSiteConnection) {
        self.connection = connection
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        pending = nil
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
        // The client sent its last byte: a head left unfinished is the decoder's to judge.
        if let event = event as? ChannelEvent, event == .inputClosed { passPending(context) }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        passPending(context)
        context.fireChannelInactive()
    }

    private func pass(_ bytes: ByteBuffer, _ context: ChannelHandlerContext) {
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
