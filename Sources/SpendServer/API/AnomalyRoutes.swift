import Foundation
import Hummingbird
import NIOCore
import SpendCore

/// `GET /api/anomalies` (filters and paging), `GET /api/anomalies/{id}` and
/// `POST /api/anomalies/{id}/ack`, which takes JSON from programs and a plain HTML form from
/// the page. Acknowledging is a write: the same rule as ingest (a bearer token when one is
/// configured, which the form sends as its `token` field; loopback otherwise), and a post
/// from another site (`Sec-Fetch-Site: cross-site`, or an `Origin` that is not this server's)
/// is refused, so a page open in the same browser cannot acknowledge anything.
struct AnomalyRoutes: Sendable {
    let store: UsageStore
    let settings: ServerSettings

    static let defaultLimit = 50
    static let maximumLimit = 500
    /// A form or JSON body larger than this is refused (a note is at most 500 characters).
    static let maximumBody = 16 * 1024

    func register(on router: Router<SpendRequestContext>) {
        router.get("/api/anomalies") { request, _ in try await list(request) }
        router.get("/api/anomalies/:id") { _, context in try await show(context) }
        router.post("/api/anomalies/:id/ack") { request, context in try await acknowledge(request, context: context) }
    }

    // MARK: Reading

    /// The filters of `GET /api/anomalies`, each checked.
    struct Filter {
        var state: Incident.State?
        var kind: Incident.Kind?
        var scope: AnomalySubject.Scope?
        var tenant: String?
        var customer: String?
        var model: String?
        var acknowledged: Bool?
        var limit = AnomalyRoutes.defaultLimit
        /// Only incidents after this one in the listing's order (newest start first).
        var after: (start: Int64, id: String)?

        static let parameters: Set<String> = ["state", "kind", "scope", "tenantId", "customerId", "model", "acknowledged", "limit", "cursor"]

        init(_ parameters: Parameters) throws(APIError) {
            for (name, _) in parameters where !Self.parameters.contains(String(name)) {
                throw APIError(.badRequest, "unknown parameter \(name); the parameters are \(Self.parameters.sorted().joined(separator: ", "))")
            }
            func single(_ name: String) throws(APIError) -> String? {
                let values = parameters[values: Substring(name)]
                guard values.count <= 1 else { throw APIError(.badRequest, "\(name) may be given once") }
                return values.first.map(String.init)
            }
            func choice<T: RawRepresentable & CaseIterable>(_ name: String, _: T.Type) throws(APIError) -> T? where T.RawValue == String {
                guard let text = try single(name) else { return nil }
                guard let value = T(rawValue: text) else {
                    throw APIError(.badRequest, "\(name) must be one of \(T.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                return value
            }
            state = try choice("state", Incident.State.self)
            kind = try choice("kind", Incident.Kind.self)
            scope = try choice("scope", AnomalySubject.Scope.self)
            tenant = try single("tenantId")
            customer = try single("customerId")
            model = try single("model")
            if let text = try single("acknowledged") {
                guard text == "true" || text == "false" else { throw APIError(.badRequest, "acknowledged must be true or false") }
                acknowledged = text == "true"
            }
            if let text = try single("limit") {
                guard let value = Int(text), (1...AnomalyRoutes.maximumLimit).contains(value) else {
                    throw APIError(.badRequest, "limit must be a whole number from 1 to \(AnomalyRoutes.maximumLimit)")
                }
                limit = value
            }
            if let text = try single("cursor") {
                let parts = text.split(separator: ".", maxSplits: 1)
                guard parts.count == 2, let start = Int64(parts[0]), Incident.isWellFormedId(parts[1]) else {
                    throw APIError(.badRequest, "cursor must be the nextCursor of an earlier answer")
                }
                after = (start, String(parts[1]))
            }
        }

        func matches(_ incident: Incident) -> Bool {
            (state == nil || incident.state == state) && (kind == nil || incident.kind == kind)
                && (scope == nil || incident.subject.scope == scope) && (tenant == nil || incident.subject.tenant == tenant)
                && (customer == nil || incident.subject.customer == customer) && (model == nil || incident.subject.model == model)
                && (acknowledged == nil || (incident.acknowledgement != nil) == acknowledged)
                && (after.map { (incident.start.millisecondsSinceEpoch, incident.id) < ($0.start, $0.id) } ?? true)
        }
    }

    func list(_ request: Request) async throws -> Response {
        let filter = try Filter(request.uri.queryParameters)
        // Newest start first, ties by id: the order the cursor continues.
        let all = await store.incidents.filter(filter.matches)
        let page = all.prefix(filter.limit)
        var writer = JSONWriter(capacity: 4096)
        writer.object { o in
            o.field("anomalies") { w in w.array(page) { w, incident in incident.writeJSON(into: &w) } }
            o.field("nextCursor") { w in
                if all.count > page.count, let last = page.last {
                    w.string("\(last.start.millisecondsSinceEpoch).\(last.id)")
                } else {
                    w.null()
                }
            }
        }
        return .json(writer.bytes)
    }

    func show(_ context: SpendRequestContext) async throws -> Response {
        let id = try Self.id(context)
        guard let incident = await store.incident(id) else { throw Self.notFound }
        return .json(incident.json)
    }

    // MARK: Acknowledging

    /// What an acknowledgement carries, from JSON or from the form.
    struct Acknowledgement {
        var reason: Incident.Acknowledgement.Reason
        var note: String?
        /// The form's token field.
        var token: String?
        /// Where the form goes back to (a path of this site).
        var back: String?
        var isForm: Bool
    }

    struct Form: Decodable {
        var reason: String?
        var note: String?
        var token: String?
        var back: String?
    }

    func acknowledge(_ request: Request, context: SpendRequestContext) async throws -> Response {
        let id = try Self.id(context)
        try Self.refuseCrossSite(request)
        let body = try await Self.body(request)
        let acknowledgement = try Self.acknowledgement(request, body: body)
        try IngestRoute.authorizeWrite(request, context: context, token: settings.ingestToken, formToken: acknowledgement.token)
        let incident: Incident?
        do {
            incident = try await store.acknowledge(id, reason: acknowledgement.reason, note: acknowledgement.note)
        } catch {
            context.logger.error("acknowledgement not stored", metadata: ["error": "\(error)"])
            throw APIError(.serviceUnavailable, "the acknowledgement could not be stored (\(error)); retry later", headers: [.retryAfter: "5"])
        }
        guard let incident else { throw Self.notFound }
        if acknowledgement.isForm {
            // Back to the page it came from; the next snapshot shows the acknowledgement.
            return Response(status: .seeOther, headers: [.location: acknowledgement.back ?? "/", .cacheControl: "no-store"])
        }
        return .json(incident.json)
    }

    /// The path's id, checked before it is looked up.
    static func id(_ context: SpendRequestContext) throws(APIError) -> String {
        guard let id = context.parameters.get("id"), Incident.isWellFormedId(id) else { throw notFound }
        return id
    }

    static let notFound = APIError(.notFound, "no anomaly has this id; GET /api/anomalies lists them")

    /// A browser says where a request comes from: a form posted from another site is refused.
    static func refuseCrossSite(_ request: Request) throws(APIError) {
        if let site = request.headers.first(where: { $0.name.canonicalName == "sec-fetch-site" })?.value, site != "same-origin", site != "none" {
            throw APIError(.forbidden, "cross-site requests may not acknowledge anomalies (Sec-Fetch-Site: \(site))")
        }
        if let origin = request.headers[.origin] {
            guard let host = request.head.authority, origin == "http://\(host)" || origin == "https://\(host)" else {
                throw APIError(.forbidden, "cross-site requests may not acknowledge anomalies (Origin: \(origin) is not this server)")
            }
        }
    }

    static func body(_ request: Request) async throws -> ByteBuffer {
        do {
            return try await request.body.collect(upTo: maximumBody)
        } catch {
            throw APIError(.contentTooLarge, "the body must be at most \(maximumBody) bytes")
        }
    }

    static func acknowledgement(_ request: Request, body: ByteBuffer) throws(APIError) -> Acknowledgement {
        let type = request.headers[.contentType]?.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        let text = String(buffer: body)
        var reason: String?
        var note: String?
        var token: String?
        var back: String?
        let isForm = type == "application/x-www-form-urlencoded"
        if isForm {
            let form: Form
            do {
                form = try URLEncodedFormDecoder().decode(Form.self, from: text)
            } catch {
                throw APIError(.badRequest, "the form could not be read: \(error)")
            }
            (reason, note, token, back) = (form.reason, form.note, form.token, form.back)
        } else if type == "application/json" || type == nil {
            let value: JSONValue
            do {
                value = try JSONParser.parse(Array(text.utf8))
            } catch {
                throw APIError(.badRequest, "the body is not valid JSON: \(error)")
            }
            guard case .object(let members) = value else {
                throw APIError(.unprocessableContent, "the body must be a JSON object with reason and note")
            }
            for (key, _) in members where key != "reason" && key != "note" {
                throw APIError(.unprocessableContent, "unknown field \(key); the fields are reason and note")
            }
            switch value["reason"] {
            case .string(let text)?: reason = text
            case nil: break
            default: throw APIError(.unprocessableContent, "reason must be a string")
            }
            switch value["note"] {
            case .string(let text)?: note = text
            case nil, .null?: break
            default: throw APIError(.unprocessableContent, "note must be a string or null")
            }
        } else {
            throw APIError(.unsupportedMediaType, "send application/json or application/x-www-form-urlencoded")
        }
        let reasons = Incident.Acknowledgement.Reason.allCases.map(\.rawValue).joined(separator: ", ")
        guard let reason else { throw APIError(.unprocessableContent, "reason is required: one of \(reasons)") }
        guard let parsed = Incident.Acknowledgement.Reason(rawValue: reason) else {
            throw APIError(.unprocessableContent, "reason must be one of \(reasons)")
        }
        if let text = note?.trimmingCharacters(in: .whitespacesAndNewlines) {
            guard text.count <= Incident.Acknowledgement.maximumNoteLength else {
                throw APIError(.unprocessableContent, "note must be at most \(Incident.Acknowledgement.maximumNoteLength) characters")
            }
            guard !text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control && $0 != "\n" && $0 != "\t" }) else {
                throw APIError(.unprocessableContent, "note may not hold control characters")
            }
            note = text.isEmpty ? nil : text
        }
        // Only a path of this site: never an address elsewhere.
        if let target = back,
            !(target.hasPrefix("/") && !target.hasPrefix("//") && !target.contains("\\") && target.count <= 200
                && target.unicodeScalars.allSatisfy({ $0.value > 0x20 && !(0x7F...0x9F).contains($0.value) }))
        {
            back = nil
        }
        return Acknowledgement(reason: parsed, note: note, token: token.flatMap { $0.isEmpty ? nil : $0 }, back: back, isForm: isForm)
    }
}
