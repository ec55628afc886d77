import Hummingbird
import SpendCore
import SpendReport

/// `GET /api/archive`: archived snapshots, newest first, a page at a time.
///
/// `?limit=` (1–1000, default 100) and `?before=<folder>` (the `nextBefore` of the previous
/// page): snapshots older than that folder. Paging by folder name stays correct while new
/// snapshots arrive and old ones are pruned.
struct ArchiveRoutes: Sendable {
    let catalog: ArchiveCatalog

    static let defaultLimit = 100
    static let maximumLimit = 1000

    func register(on router: Router<some RequestContext>) {
        router.get("/api/archive") { request, _ in try list(request) }
    }

    func list(_ request: Request) throws -> Response {
        let parameters = request.uri.queryParameters
        for name: Substring in ["limit", "before"] where parameters[values: name].count > 1 {
            throw APIError(.badRequest, "\(name) may be given once; got it \(parameters[values: name].count) times")
        }
        var limit = Self.defaultLimit
        if let text = parameters[values: "limit"].last {
            guard let value = Int(text), (1...Self.maximumLimit).contains(value) else {
                throw APIError(.badRequest, "limit must be a whole number from 1 to \(Self.maximumLimit); got '\(text)'")
            }
            limit = value
        }
        let entries = catalog.entries
        var start = entries.startIndex
        if let before = parameters[values: "before"].last {
            guard ArchiveName.isSnapshotFolder(before) else {
                throw APIError(
                    .badRequest,
                    "before must be a snapshot folder name such as 2026-11-29T14-05-00Z (the nextBefore of the previous page); got '\(before)'")
            }
            start = entries.firstIndex { $0.folder < before } ?? entries.endIndex
        }
        let page = entries[start...].prefix(limit)
        let hasMore = page.endIndex < entries.endIndex
        var writer = JSONWriter(capacity: 128 + page.count * 260)
        writer.object { o in
            o.field("snapshots") { w in
                w.array(page) { w, entry in
                    w.object { s in
                        s.field("time") { $0.timestamp(entry.generatedAt) }
                        s.field("folder") { $0.string(entry.folder) }
                        s.field("path") { $0.string("/archive/\(entry.folder)/") }
                        s.field("spendRate") { $0.dollars(entry.spendRatePerHour) }
                        s.field("topCustomer") { w in
                            if let top = entry.topCustomer {
                                w.object { t in
                                    t.field("customerId") { $0.string(top.customerId) }
                                    t.field("tenantId") { $0.string(top.tenantId) }
                                    t.field("spend") { $0.dollars(top.cost) }
                                }
                            } else {
                                w.null()
                            }
                        }
                    }
                }
            }
            o.field("total") { $0.integer(entries.count) }
            o.field("nextBefore") { w in
                if hasMore, let last = page.last { w.string(last.folder) } else { w.null() }
            }
        }
        return .json(writer.bytes)
    }
}
