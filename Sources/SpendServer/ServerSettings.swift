import SpendCore

/// Settings of the HTTP side, filled from the command line in one place; tests build any
/// combination directly.
public struct ServerSettings: Sendable {
    /// Address to bind. Loopback unless told otherwise.
    public var host: String
    public var port: Int
    /// Most updates in one `/api/metrics` response.
    public var maxPage: Int
    /// Origins allowed to read the API from a browser (GET and HEAD only). Empty: no CORS.
    public var corsOrigins: [String]
    /// How often a snapshot is computed and published.
    public var renderInterval: Duration
    /// Bearer token required for writes; nil accepts writes from loopback only.
    public var ingestToken: String?
    /// Bearer token required for `/metrics`; nil serves it to loopback only.
    public var metricsToken: String?
    /// The `nextPollAfter` hint of `/api/metrics`, in milliseconds (the reference's 2000).
    public var nextPollAfterMs: Int
    /// A connection that sends nothing for this long (idle between requests, or stalled in the
    /// middle of one) is closed, so slow clients cannot hold the server's sockets.
    public var idleTimeout: Duration

    public init(
        host: String = "127.0.0.1", port: Int = 8080, maxPage: Int = 10_000, corsOrigins: [String] = [],
        renderInterval: Duration = .seconds(5), ingestToken: String? = nil, metricsToken: String? = nil,
        nextPollAfterMs: Int = 2000, idleTimeout: Duration = .seconds(30)
    ) {
        self.metricsToken = metricsToken
        self.host = host
        self.port = port
        self.maxPage = maxPage
        self.corsOrigins = corsOrigins
        self.renderInterval = renderInterval
        self.ingestToken = ingestToken
        self.nextPollAfterMs = nextPollAfterMs
        self.idleTimeout = idleTimeout
    }
}
