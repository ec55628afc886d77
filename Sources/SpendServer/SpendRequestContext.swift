import Hummingbird
import NIOCore

/// The request context of every route: Hummingbird's basics plus the peer's address, which
/// decides whether an unauthenticated write may come in (loopback only).
public struct SpendRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }
}
