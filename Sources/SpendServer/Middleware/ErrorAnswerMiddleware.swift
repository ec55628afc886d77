import Hummingbird

/// Turns a thrown error that answers itself (`APIError` and Hummingbird's) into its response,
/// here rather than at the end of the chain, so the request metrics around it time error
/// answers like any other: Hummingbird's `MetricsMiddleware` records a duration only for a
/// returned response.
struct ErrorAnswerMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as any HTTPResponseError {
            return try error.response(from: request, context: context)
        }
    }
}
