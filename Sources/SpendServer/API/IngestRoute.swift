import Foundation
import Hummingbird
import NIOCore
import SpendCore

/// `POST /api/metrics`: producers send batches of usage updates; a batch is stored whole or not
/// at all, and a 2xx means it is durable.
struct IngestRoute: Sendable {
    let store: UsageStore
    let decoder: UsageBatchDecoder
    /// The prices in force, read once per batch; nil: `decoder.prices`.
    let prices: PriceBook?
    let settings: ServerSettings
    /// Counts each request's outcome for `/metrics`; nil: not counted.
    var metrics: SpendboardMetrics? = nil

    /// Largest body accepted.
    static let maximumBodyBytes = 1 << 20
    /// How much of a body over the limit is read and dropped before the 413, so a client that
    /// sends its whole body before reading (Python's urllib) receives the answer instead of
    /// blocking on a full socket. Past it the connection is left to the idle timeout.
    static let maximumDrainBytes = 64 << 20

    /// The body, at most `maximumBodyBytes`; a larger one is a 413 with `Connection: close`,
    /// after the rest of the body (up to `maximumDrainBytes`) has been read and dropped.
    static func readBody(of request: Request) async throws -> ByteBuffer {
        var body = ByteBuffer()
        var received = 0
        for try await chunk in request.body {
            received += chunk.readableBytes
            if received <= maximumBodyBytes {
                body.writeImmutableBuffer(chunk)
            } else if received > maximumBodyBytes + maximumDrainBytes {
                break
            }
        }
        guard received <= maximumBodyBytes else {
            throw APIError(
                .contentTooLarge, "the body must be at most 1 MiB (\(maximumBodyBytes) bytes); send smaller batches",
                headers: [.connection: "close"])
        }
        return body
    }

    /// Stores a batch, and counts the outcome for `/metrics`.
    func handle(_ request: Request, context: SpendRequestContext) async throws -> Response {
        do {
            let (response, result) = try await store(request, context: context)
            metrics?.recordIngest(status: response.status, result: result)
            return response
        } catch {
            metrics?.recordIngest(status: (error as? any HTTPResponseError)?.status ?? .internalServerError)
            throw error
        }
    }

    private func store(_ request: Request, context: SpendRequestContext) async throws -> (Response, UsageLedger.IngestResult?) {
        try authorize(request, context: context)
        let format: UsageBatchDecoder.Format
        switch request.headers[.contentType]?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased() {
        case nil, "application/json": format = .json
        case "application/x-ndjson", "application/ndjson", "application/jsonl", "application/jsonlines": format = .ndjson
        case let other?:
            throw APIError(.unsupportedMediaType, "Content-Type must be application/json or application/x-ndjson; got \(other)")
        }
        let body = try await Self.readBody(of: request)
        let updates: [UsageUpdate]
        do {
            var decoder = decoder
            if let prices { decoder.prices = prices.table }
            updates = try decoder.decode(Array(body.readableBytesView), format: format, now: store.clock.now)
        } catch {
            return (Self.response(for: error), nil)
        }
        let result: UsageLedger.IngestResult
        do {
            result = try await store.ingest(updates)
        } catch {
            context.logger.error("ingest not stored", metadata: ["error": "\(error)"])
            throw APIError(
                .serviceUnavailable, "the updates could not be stored (\(error)); nothing was stored, retry later",
                headers: [.retryAfter: "5"]
            )
        }
        var writer = JSONWriter()
        writer.object { o in
            o.field("accepted") { $0.integer(result.accepted) }
            o.field("duplicates") { $0.integer(result.duplicates) }
            o.field("rejected") { $0.integer(result.rejectedCount) }
        }
        return (.json(writer.bytes), result)
    }

    /// With a token configured, writes need `Authorization: Bearer <token>`; without one, they
    /// are accepted from loopback only.
    func authorize(_ request: Request, context: SpendRequestContext) throws(APIError) {
        try Self.authorizeWrite(request, context: context, token: settings.ingestToken)
    }

    /// The write rule of every write (ingest, acknowledgements): with `token`, the request
    /// carries it as `Authorization: Bearer <token>` (or, from the page's form, as `formToken`);
    /// without one, it comes from loopback.
    static func authorizeWrite(_ request: Request, context: SpendRequestContext, token: String?, formToken: String? = nil) throws(APIError) {
        try authorize(
            request, context: context, token: token, formToken: formToken,
            unauthorized: "writes need Authorization: Bearer <token> with the server's ingest token (a form sends it as its token field)",
            forbidden: "writes are accepted from loopback only; start the server with --ingest-token to accept them from elsewhere")
    }

    /// The access rule shared by writes and `/metrics`: with `token`, the request carries it
    /// (401 with `WWW-Authenticate` otherwise); without one, it comes from loopback (403).
    static func authorize(
        _ request: Request, context: SpendRequestContext, token: String?, formToken: String? = nil, unauthorized: String, forbidden: String
    ) throws(APIError) {
        if let token {
            let header = request.headers[.authorization].flatMap { value -> Substring? in
                let parts = value.split(separator: " ", maxSplits: 1)
                guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
                return parts[1]
            }
            guard let given = header.map(String.init) ?? formToken, constantTimeEquals(Array(given.utf8), Array(token.utf8)) else {
                throw APIError(.unauthorized, unauthorized, headers: [.wwwAuthenticate: "Bearer realm=\"spendboard\""])
            }
        } else if !isLoopback(context.remoteAddress) {
            throw APIError(.forbidden, forbidden)
        }
    }

    /// Compares without stopping at the first difference, so timing tells nothing about the token.
    static func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt8(truncatingIfNeeded: a.count ^ b.count)
        for index in 0..<max(a.count, b.count) {
            difference |= (index < a.count ? a[index] : 0) ^ (index < b.count ? b[index] : 0)
        }
        return difference == 0
    }

    static func isLoopback(_ address: SocketAddress?) -> Bool {
        switch address {
        case .v4(let v4)?: return v4.address.sin_addr.s_addr.bigEndian >> 24 == 127
        case .v6?:
            guard let ip = address?.ipAddress else { return false }
            return ip == "::1" || ip.hasPrefix("::ffff:127.")
        case .unixDomainSocket?: return true
        default: return false
        }
    }

    static func response(for failure: UsageBatchDecoder.Failure) -> Response {
        var writer = JSONWriter()
        let status: HTTPResponse.Status
        switch failure {
        case .syntax(let error):
            status = .badRequest
            writer.object { o in
                o.field("error") { $0.string("the body is not valid JSON: \(error.message) at line \(error.line), column \(error.column)") }
                o.field("line") { $0.integer(error.line) }
                o.field("column") { $0.integer(error.column) }
            }
        case .shape(let message):
            status = .badRequest
            writer.object { o in o.field("error") { $0.string(message) } }
        case .tooManyItems(let count, let limit):
            status = .contentTooLarge
            writer.object { o in
                o.field("error") { $0.string("a batch holds at most \(limit) updates; got \(count), send smaller batches") }
            }
        case .invalid(let problems):
            status = .unprocessableContent
            let items = Set(problems.map(\.index)).count
            writer.object { o in
                o.field("error") {
                    $0.string("\(items) update\(items == 1 ? "" : "s") break\(items == 1 ? "s" : "") a rule; nothing was stored: \(problems[0])")
                }
                o.field("problems") { w in
                    w.array(problems) { w, problem in
                        w.object { p in
                            p.field("index") { $0.integer(problem.index) }
                            if let line = problem.line { p.field("line") { $0.integer(line) } }
                            p.field("field") { $0.string(problem.field) }
                            p.field("rule") { $0.string(problem.rule) }
                        }
                    }
                }
            }
        }
        return .json(writer.bytes, status: status)
    }
}
