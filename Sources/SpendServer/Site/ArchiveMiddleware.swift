import Hummingbird
import NIOCore
import SpendReport

/// Serves `/archive/…` from `Output/archive` on disk: the archive index, the day pages and
/// every snapshot folder. Only plain names are accepted (no `..`, no hidden names, no percent
/// encoding at all, so no `%2e%2e` or `%2f`), symbolic links are never followed, and nothing
/// outside the archive folder can be reached; anything else is a JSON 404.
///
/// Answers carry a strong ETag from the content's SHA-256 and honour `If-None-Match` with 304.
/// Pages revalidate (`no-cache`: the newest snapshot's page gains a "next" link later); the
/// snapshot's data files never change and are cached for a day.
struct ArchiveMiddleware<Context: RequestContext>: RouterMiddleware {
    let files: ArchiveFiles

    init(directory: String) {
        files = ArchiveFiles(directory: directory)
    }

    static var prefix: String { "/archive/" }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        guard path == "/archive" || path.hasPrefix(Self.prefix) else { return try await next(request, context) }
        // One route for the request metrics, whatever the file: names would be unbounded labels.
        context.coreContext.endpointPath.value = "/archive/{path}"
        guard request.method == .get || request.method == .head else {
            throw APIError(.methodNotAllowed, "\(request.method) is not allowed on \(path); use GET or HEAD", headers: [.allow: "GET, HEAD"])
        }
        if path == "/archive" { return Self.redirect(to: Self.prefix) }
        let relative = path.dropFirst(Self.prefix.count)
        let bytes: [UInt8]
        let served: ArchiveFiles.Served
        do {
            served = try files.file(relative)
        } catch {
            throw APIError(.internalServerError, "the archived file at \(path) could not be read: \(error.description)")
        }
        switch served {
        case .notFound:
            throw APIError(.notFound, "no archived file at \(path)")
        case .folder:
            return Self.redirect(to: path + "/")
        case .file(let contents):
            bytes = contents
        }
        let etag = "\"" + String(ArchiveManifest.sha256Hex(bytes).prefix(32)) + "\""
        let contentType = ArchiveFiles.contentType(of: relative)
        let isPage = contentType.hasPrefix("text/html")
        let isSnapshotData =
            !isPage && relative.split(separator: "/").first.map(ArchiveName.isSnapshotFolder) == true
            && !relative.hasSuffix(ArchiveName.manifestFile)
        var headers: HTTPFields = [
            .contentType: contentType,
            .eTag: etag,
            .cacheControl: isSnapshotData ? "public, max-age=86400" : "no-cache",
            .xContentTypeOptions: "nosniff",
            .crossOriginResourcePolicy: contentType == RenderedSite.svgContentType ? "cross-origin" : "same-origin",
        ]
        if isPage {
            headers[.contentSecurityPolicy] =
                "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; form-action 'none'"
        }
        if SiteMiddleware<Context>.matches(request.headers[values: .ifNoneMatch], etag: etag) {
            return Response(status: .notModified, headers: headers)
        }
        headers[.contentLength] = String(bytes.count)
        if request.method == .head { return Response(status: .ok, headers: headers, body: ResponseBody()) }
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    static func redirect(to location: String) -> Response {
        Response(status: .movedPermanently, headers: [.location: location, .cacheControl: "no-cache"])
    }
}
