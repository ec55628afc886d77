import Hummingbird

/// Cross-origin reads for listed origins only, and only for GET and HEAD. With an empty list it
/// adds nothing: browsers then refuse cross-origin reads, the safe default.
struct CORSAllowListMiddleware<Context: RequestContext>: RouterMiddleware {
    let origins: Set<String>

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let origin = request.headers[.origin], origins.contains(origin) else {
            return try await next(request, context)
        }
        if request.method == .options {
            // Preflight: only simple reads are allowed.
            return Response(status: .noContent, headers: headers(for: origin, preflight: true))
        }
        var response = try await next(request, context)
        guard request.method == .get || request.method == .head else { return response }
        for field in headers(for: origin, preflight: false) {
            response.headers.append(field)
        }
        return response
    }

    private func headers(for origin: String, preflight: Bool) -> HTTPFields {
        var fields: HTTPFields = [.accessControlAllowOrigin: origin, .vary: "Origin"]
        if preflight {
            fields[.accessControlAllowMethods] = "GET, HEAD"
            fields[.accessControlMaxAge] = "600"
        }
        return fields
    }
}
