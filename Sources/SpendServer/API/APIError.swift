import Hummingbird
import SpendCore

/// An error answered as `{"error": "<sentence>"}`, the reference dashboard's error shape.
///
/// Hummingbird's own `HTTPError` answers `{"error": {"message": ...}}`; clients of the reference
/// read `error` as a string, so every error leaving the API goes through this type.
public struct APIError: Error, HTTPResponseError, Sendable {
    public var status: HTTPResponse.Status
    public var message: String
    public var headers: HTTPFields

    public init(_ status: HTTPResponse.Status, _ message: String, headers: HTTPFields = [:]) {
        self.status = status
        self.message = message
        self.headers = headers
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers = self.headers
        headers[.contentType] = "application/json; charset=utf-8"
        headers[.cacheControl] = "no-store"
        var writer = JSONWriter()
        writer.object { object in
            object.field("error") { $0.string(message) }
        }
        // A HEAD is answered with the headers a GET would have, never a body.
        if request.method == .head {
            headers[.contentLength] = String(writer.bytes.count)
            return Response(status: status, headers: headers, body: ResponseBody())
        }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: writer.bytes)))
    }
}
