import Hummingbird
import NIOCore
import SpendCore
import SpendReport
import Synchronization

/// `GET /report?from=…&to=…` (or `?window=24h`): a validated page for any range within the 30
/// days kept, from the same templates as the live pages.
///
/// Bounded: answers are cached by the range as cut to the store's buckets (so requests within
/// the same 5 seconds, minute or hour share one render), at most `cacheSize` of them, and at
/// most `concurrency` renders run at once; a request beyond that gets 503 with `Retry-After`
/// rather than queueing behind others. The snapshot tick runs on its own thread and never
/// waits for a report.
final class ReportRoute: Sendable {
    struct Key: Hashable {
        var start: Timestamp
        var end: Timestamp
        var window: String?
    }

    struct State {
        var cache: [Key: (bytes: ByteBuffer, etag: String)] = [:]
        var order: [Key] = []
        var running = 0
    }

    let store: UsageStore
    let renderer: ReportRenderer
    let cacheSize: Int
    let concurrency: Int
    private let state = Mutex(State())

    init(store: UsageStore, renderer: ReportRenderer, cacheSize: Int = 16, concurrency: Int = 2) {
        self.store = store
        self.renderer = renderer
        self.cacheSize = cacheSize
        self.concurrency = concurrency
    }

    /// The report of the range a request names (`window`, or `from` and `to`); 400 naming the
    /// parameter and the rule when it is refused or the store keeps nothing of it. Nil when the
    /// request names no range.
    static func report(_ request: Request, store: UsageStore) async throws -> WindowReport? {
        let parameters = request.uri.queryParameters
        func one(_ name: String) throws -> String? {
            let values = parameters[values: Substring(name)]
            guard values.count <= 1 else { throw APIError(.badRequest, "\(name): give it once") }
            return values.first.map(String.init)
        }
        let (window, from, to) = (try one("window"), try one("from"), try one("to"))
        do {
            return try await store.report(window: window, from: from, to: to)
        } catch {
            throw APIError(.badRequest, "\(error.parameter): \(error.rule)")
        }
    }

    func handle(_ request: Request) async throws -> Response {
        guard let report = try await Self.report(request, store: store) else {
            throw APIError(.badRequest, "from: is required (or window), for example /report?from=now-24h&to=now or /report?window=7d")
        }
        let key = Key(start: report.current.start, end: report.current.end, window: report.window?.id)
        if let hit = state.withLock({ $0.cache[key] }) { return Self.response(hit.bytes, etag: hit.etag, request: request) }
        let admitted = state.withLock { state -> Bool in
            guard state.running < concurrency else { return false }
            state.running += 1
            return true
        }
        guard admitted else {
            throw APIError(.serviceUnavailable, "too many reports are being rendered; try again in a moment", headers: [.retryAfter: "1"])
        }
        defer { state.withLock { $0.running -= 1 } }
        let renderer = self.renderer
        let rendered = await PipelineThread.reports.run {
            Result { () throws -> [UInt8] in
                let page = try renderer.reportPage(
                    report, statsHref: "api/stats?from=\(report.current.start.iso8601)&to=\(report.current.end.iso8601)")
                let file = RenderedSite.File(path: "report.html", bytes: page, contentType: RenderedSite.htmlContentType)
                let issues = XMLValidator.validate(RenderedSite(generatedAt: report.generatedAt, files: [file]))
                guard issues.isEmpty else { throw ReportError.validationFailed(issues) }
                return page
            }
        }
        let bytes = try rendered.get()
        let buffer = ByteBuffer(bytes: bytes)
        let etag = LiveSite.etag(bytes)
        state.withLock { state in
            if state.cache[key] == nil {
                state.order.append(key)
                if state.order.count > cacheSize { state.cache[state.order.removeFirst()] = nil }
            }
            state.cache[key] = (buffer, etag)
        }
        return Self.response(buffer, etag: etag, request: request)
    }

    static func response(_ body: ByteBuffer, etag: String, request: Request) -> Response {
        var headers: HTTPFields = [
            .contentType: RenderedSite.htmlContentType, .xContentTypeOptions: "nosniff", .eTag: etag,
            .contentSecurityPolicy: LiveSite.contentSecurityPolicy, .crossOriginResourcePolicy: "same-origin", .cacheControl: "no-cache",
        ]
        if SiteMiddleware<SpendRequestContext>.matches(request.headers[values: .ifNoneMatch], etag: etag) {
            headers[.contentType] = nil
            return Response(status: .notModified, headers: headers)
        }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: body))
    }
}
