import Hummingbird
import NIOCore
import SpendCore

/// What the server publishes about itself: its OpenAPI document (`/api/openapi.json`) and its
/// Prometheus metrics (`/metrics`, under the write rule: loopback, or `--metrics-token`).
struct ContractRoutes: Sendable {
    let store: UsageStore
    let board: SnapshotBoard
    let settings: ServerSettings
    /// nil: no `/metrics`.
    let metrics: SpendboardMetrics?

    /// The Prometheus text exposition format, version 0.0.4.
    static let metricsContentType = "text/plain; version=0.0.4; charset=utf-8"
    /// The document, encoded once.
    static let openAPIBody = ByteBuffer(string: BundledOpenAPI.json)
    static let openAPIETag = LiveSite.etag(Array(BundledOpenAPI.json.utf8))

    func register(on router: Router<SpendRequestContext>) {
        router.get("/api/openapi.json") { request, _ in Self.openAPI(request) }
        if let metrics {
            router.get("/metrics") { request, context in try await scrape(request, context: context, metrics: metrics) }
        }
    }

    static func openAPI(_ request: Request) -> Response {
        var headers: HTTPFields = [.contentType: "application/json; charset=utf-8", .cacheControl: "no-cache", .eTag: openAPIETag]
        if SiteMiddleware<SpendRequestContext>.matches(request.headers[values: .ifNoneMatch], etag: openAPIETag) {
            headers[.contentType] = nil
            return Response(status: .notModified, headers: headers)
        }
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: openAPIBody))
    }

    func scrape(_ request: Request, context: SpendRequestContext, metrics: SpendboardMetrics) async throws -> Response {
        try IngestRoute.authorize(
            request, context: context, token: settings.metricsToken,
            unauthorized: "/metrics needs Authorization: Bearer <token> with the server's metrics token",
            forbidden: "/metrics is served to loopback only; start the server with --metrics-token to serve it to a scraper elsewhere")
        let text = await metrics.exposition(store: store, board: board)
        return Response(
            status: .ok, headers: [.contentType: Self.metricsContentType, .cacheControl: "no-store"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: text)))
    }
}
