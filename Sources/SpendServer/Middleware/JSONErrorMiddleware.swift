import Hummingbird
import Logging

/// Turns every error that leaves a route into the reference's `{"error": "..."}` shape:
/// unknown paths get 404, known paths asked with another method 405 with `Allow`, and anything
/// unexpected a logged 500 that reveals nothing inside.
struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    /// Known paths and the methods they answer; a `{name}` segment stands for any one segment.
    let allowedMethods: [String: [HTTPRequest.Method]]

    /// The methods `path` answers, nil for a path no route has.
    func methods(for path: String) -> [HTTPRequest.Method]? {
        if let methods = allowedMethods[path] { return methods }
        let segments = path.split(separator: "/", omittingEmptySubsequences: false)
        for (template, methods) in allowedMethods where template.contains("{") {
            let parts = template.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count == segments.count else { continue }
            let same = zip(parts, segments).allSatisfy { part, segment in part == segment || (part.hasPrefix("{") && !segment.isEmpty) }
            if same { return methods }
        }
        return nil
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            throw error
        } catch let error as HTTPError {
            if error.status == .notFound, let methods = methods(for: request.uri.path) {
                throw APIError(
                    .methodNotAllowed,
                    "\(request.method) is not allowed on \(request.uri.path); use \(methods.map(\.rawValue).joined(separator: " or "))",
                    headers: [.allow: methods.map(\.rawValue).joined(separator: ", ")]
                )
            }
            if error.status == .notFound {
                throw APIError(.notFound, "nothing is served at \(request.uri.path)")
            }
            throw APIError(error.status, error.body ?? error.status.reasonPhrase, headers: error.headers)
        } catch let error as any HTTPResponseError {
            throw APIError(error.status, error.status.reasonPhrase)
        } catch {
            context.logger.error("request failed", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
            throw APIError(.internalServerError, "the server failed to answer this request; the error has been logged")
        }
    }
}
