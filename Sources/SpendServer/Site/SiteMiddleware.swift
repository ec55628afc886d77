import Foundation
import Hummingbird
import NIOCore
import SpendCore

/// Serves the live site from memory: `/` is the dashboard, every published file by its exact
/// path. Only the files of the current render exist here, so `..`, encoded dots or slashes and
/// symlinks cannot reach anything else: a path that is not a published file is passed on (and
/// ends as a JSON 404).
///
/// Answers carry a strong content ETag and honour `If-None-Match` with 304, expire with the
/// next render (`Cache-Control: max-age`), send the precompressed gzip form when the client
/// accepts it, and let other sites embed the SVGs (`Cross-Origin-Resource-Policy`).
struct SiteMiddleware<Context: RequestContext>: RouterMiddleware {
    let site: LiveSite
    let clock: any TimeSource

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        guard !path.hasPrefix("/api/") else { return try await next(request, context) }
        let key = path == "/" ? "index.html" : String(path.dropFirst())
        let state = site.current
        guard let file = state.files[key] else { return try await next(request, context) }
        context.coreContext.endpointPath.value = path == "/" ? "/" : Self.route(of: key)
        guard request.method == .get || request.method == .head else {
            throw APIError(.methodNotAllowed, "\(request.method) is not allowed on \(path); use GET or HEAD", headers: [.allow: "GET, HEAD"])
        }

        let representation = file.gzipped.flatMap { Self.acceptsGzip(request.headers[values: .acceptEncoding]) ? $0 : nil } ?? file.plain
        var headers = representation.headers
        headers[.cacheControl] = "public, max-age=\(maxAge(until: state.expiresAt))"
        if Self.matches(request.headers[values: .ifNoneMatch], etag: representation.etag) {
            headers[.contentEncoding] = nil
            return Response(status: .notModified, headers: headers)
        }
        if request.method == .head {
            headers[.contentLength] = String(representation.body.readableBytes)
            return Response(status: .ok, headers: headers, body: ResponseBody())
        }
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: representation.body))
    }

    /// The route of a published file as the OpenAPI document names it, for the request
    /// metrics: a bounded set of labels, whatever the site holds.
    static func route(of key: String) -> String {
        FastPathCounters.Route.of(key: key).label
    }

    /// Whole seconds until the next render, so caches revalidate when new content exists.
    private func maxAge(until expiry: Timestamp?) -> Int64 {
        guard let expiry else { return 0 }
        return max(0, clock.now.duration(to: expiry).milliseconds / 1000)
    }

    /// `Accept-Encoding` lists gzip (or `*`) without `q=0`.
    static func acceptsGzip(_ values: [String]) -> Bool {
        // The common case, without weights: a plain look for the coding.
        if values.count == 1, !values[0].contains("q="), !values[0].contains("Q=") {
            let value = values[0]
            return value.contains("gzip") || value.contains("*") || value.lowercased().contains("gzip")
        }
        for value in values {
            for item in value.split(separator: ",") {
                let parts = item.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
                guard let coding = parts.first, coding == "gzip" || coding == "x-gzip" || coding == "*" else { continue }
                let refused = parts.dropFirst().contains {
                    $0.replacingOccurrences(of: " ", with: "").range(of: #"^q=0(\.0*)?$"#, options: .regularExpression) != nil
                }
                if !refused { return true }
            }
        }
        return false
    }

    /// `If-None-Match` holds this tag (weak comparison, as RFC 9110 asks for GET) or `*`.
    static func matches(_ values: [String], etag: String) -> Bool {
        for value in values {
            for item in value.split(separator: ",") {
                var tag = item.trimmingCharacters(in: .whitespaces)
                if tag == "*" { return true }
                if tag.hasPrefix("W/") { tag.removeFirst(2) }
                if tag == etag { return true }
            }
        }
        return false
    }
}
