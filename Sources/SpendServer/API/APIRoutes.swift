import Hummingbird
import NIOCore
import SpendCore
import SpendReport

/// The reference-compatible JSON API: `/api/metrics`, `/api/stats`, `/api/health`.
struct APIRoutes: Sendable {
    let store: UsageStore
    let board: SnapshotBoard
    let settings: ServerSettings
    let startedAt: Timestamp
    let decoder: UsageBatchDecoder
    /// The prices in force, when they can change while serving; nil: `decoder.prices`.
    var prices: PriceBook? = nil
    var archive: ArchiveWriter? = nil
    /// Renders `/report`; nil: no `/report`.
    var reports: ReportRoute? = nil
    /// Alert delivery's state; nil: no alert targets.
    var alerts: SpendboardApplication.AlertHealthSource? = nil
    var cluster: SpendboardApplication.ClusterHealthSource? = nil
    var metrics: SpendboardMetrics? = nil

    /// Paths and the methods they answer, for 405 answers with `Allow`.
    static let allowedMethods: [String: [HTTPRequest.Method]] = [
        "/api/metrics": [.get, .head, .post],
        "/api/stats": [.get, .head],
        "/api/health": [.get, .head],
        "/api/archive": [.get, .head],
        "/report": [.get, .head],
        "/api/anomalies": [.get, .head],
        "/api/anomalies/{id}": [.get, .head],
        "/api/anomalies/{id}/ack": [.post],
        "/api/openapi.json": [.get, .head],
        "/metrics": [.get, .head],
    ]

    func register(on router: Router<SpendRequestContext>) {
        let ingest = IngestRoute(store: store, decoder: decoder, prices: prices, settings: settings, metrics: metrics)
        router.get("/api/metrics") { request, _ in try await metrics(request) }
        router.post("/api/metrics") { request, context in try await ingest.handle(request, context: context) }
        router.get("/api/stats") { request, _ in try await stats(request) }
        if let reports {
            router.get("/report") { request, _ in try await reports.handle(request) }
        }
        router.get("/api/health") { _, _ in await health() }
        AnomalyRoutes(store: store, settings: settings).register(on: router)
    }

    func metrics(_ request: Request) async throws -> Response {
        let parameters = request.uri.queryParameters
        let window = store.configuration.rawWindow
        let query = try MetricsQuery.parse(
            since: parameters[values: "since"],
            cursor: parameters[values: "cursor"],
            limit: parameters[values: "limit"],
            now: store.clock.now,
            window: window,
            maximumLimit: settings.maxPage
        )
        let page: RawPage
        do {
            page = try await store.rawPage(after: query.after, limit: query.limit)
        } catch .evicted(let oldestKept) {
            let capacity = await store.status.rawCapacity
            let from = oldestKept.map { "; ask from since=\($0) or later" } ?? ""
            throw APIError(
                .badRequest,
                "since is older than the oldest update still kept: the raw log holds only the newest \(capacity) updates\(from)"
            )
        }
        var writer = JSONWriter(capacity: 64 + page.updates.count * 220)
        writer.object { o in
            o.field("metrics") { w in
                w.array(page.updates) { w, update in w.usageUpdate(update) }
            }
            o.field("nextPollAfter") { $0.integer(page.truncated ? 0 : settings.nextPollAfterMs) }
            o.field("truncated") { $0.bool(page.truncated) }
            if let cursor = page.nextCursor {
                o.field("nextCursor") { $0.string(cursor.description) }
            }
            if let since = page.nextSince {
                o.field("nextSince") { $0.integer(since) }
            }
        }
        return .json(writer.bytes)
    }

    /// The live snapshot, or with `window`, `from` and `to` the report of that range.
    func stats(_ request: Request) async throws -> Response {
        if let report = try await ReportRoute.report(request, store: store) {
            return .json(report.jsonBytes())
        }
        guard let entry = board.latest else {
            throw APIError(.serviceUnavailable, "no snapshot has been computed yet; try again in a moment", headers: [.retryAfter: "1"])
        }
        return .json(entry.json)
    }

    func health() async -> Response {
        let now = store.clock.now
        let status = await store.status
        let journal = await store.journalStatus
        let anomalyJournal = await store.anomalyStatus
        let incidents = await store.incidents
        let tracked = await store.anomalySeries
        let latest = board.latest
        let age = latest.map { now.duration(since: $0.snapshot.generatedAt).secondsDouble }
        let stale = age.map { $0 > 3 * settings.renderInterval.secondsDouble } ?? true
        let lastError = board.lastError
        let archiveFailing = archive?.catalog.status.lastError != nil
        let cleanup = board.cleanup
        let priceStatus = prices?.status
        let alertHealth = await alerts?()
        let clusterStatus = cluster?()
        let degraded =
            stale || lastError != nil || archiveFailing || cleanup.lastError != nil || journal.lastError != nil
            || priceStatus?.lastReloadProblems != nil || anomalyJournal.lastError != nil || alertHealth?.isFailing == true
            || clusterStatus?.isFailing == true
        var writer = JSONWriter()
        writer.object { o in
            o.field("status") { $0.string(latest == nil ? "starting" : (degraded ? "degraded" : "ok")) }
            o.field("timestamp") { $0.timestamp(now) }
            o.field("uptime") { $0.number(now.duration(since: startedAt).secondsDouble, places: 3) }
            o.field("updatesPerSecond") { w in
                if let snapshot = latest?.snapshot { w.number(snapshot.updatesPerSecond, places: 3) } else { w.null() }
            }
            o.field("snapshot") { w in
                w.object { s in
                    s.field("generatedAt") { w in
                        if let generated = latest?.snapshot.generatedAt { w.timestamp(generated) } else { w.null() }
                    }
                    s.field("ageSeconds") { w in
                        if let age { w.number(age, places: 3) } else { w.null() }
                    }
                    s.field("lastError") { w in
                        if let lastError { w.string(lastError) } else { w.null() }
                    }
                    s.field("cleanupFailures") { $0.integer(cleanup.failures) }
                    s.field("lastCleanupError") { w in
                        if let error = cleanup.lastError { w.string(error) } else { w.null() }
                    }
                }
            }
            if let archive {
                o.field("archive") { $0.archiveHealth(archive) }
            }
            if let priceStatus {
                o.field("prices") { $0.priceHealth(priceStatus) }
            }
            o.field("anomalies") { w in
                w.object { a in
                    let open = incidents.filter { $0.state == .open }
                    a.field("open") { $0.integer(open.count) }
                    a.field("openAcknowledged") { $0.integer(open.count { $0.acknowledgement != nil }) }
                    a.field("kept") { $0.integer(incidents.count) }
                    a.field("seriesFollowed") { $0.integer(tracked) }
                    a.field("writeFailures") { $0.integer(anomalyJournal.writeFailures) }
                    a.field("lastWriteError") { w in
                        if let error = anomalyJournal.lastError { w.string(error) } else { w.null() }
                    }
                }
            }
            if let alertHealth {
                o.field("alerts") { $0.alertHealth(alertHealth) }
            }
            if let clusterStatus {
                o.field("cluster") { $0.clusterHealth(clusterStatus) }
            }
            o.field("store") { w in
                w.object { s in
                    s.field("rawUpdates") { $0.integer(status.rawUpdates) }
                    s.field("rawCapacity") { $0.integer(status.rawCapacity) }
                    s.field("oldestRawTimestamp") { w in
                        if let oldest = status.oldestRawTimestamp { w.integer(oldest) } else { w.null() }
                    }
                    s.field("series") { $0.integer(status.series) }
                    s.field("customers") { $0.integer(status.customers) }
                    s.field("models") { $0.integer(status.models) }
                    s.field("rollupBytes") { $0.integer(status.rollupBytes) }
                    s.field("totalAccepted") { $0.integer(status.totalAccepted) }
                    s.field("journalPruneFailures") { $0.integer(journal.pruneFailures) }
                    s.field("journalLastError") { w in
                        if let error = journal.lastError { w.string(error) } else { w.null() }
                    }
                }
            }
        }
        return .json(writer.bytes)
    }
}

extension JSONWriter {
    /// This node in its cluster: its name, the database, whether it leads, how far it has
    /// followed the shared log, and what fails.
    mutating func clusterHealth(_ status: ClusterStatus) {
        object { o in
            o.field("node") { $0.string(status.node) }
            o.field("database") { $0.string(status.database) }
            o.field("leader") { $0.bool(status.leader) }
            o.field("position") { $0.integer(status.position) }
            o.field("lastFollowed") { w in
                if let at = status.lastFollowed { w.timestamp(at) } else { w.null() }
            }
            o.field("problem") { w in
                if let problem = status.problem { w.string(problem) } else { w.null() }
            }
            o.field("failingSince") { w in
                if let at = status.failingSince { w.timestamp(at) } else { w.null() }
            }
        }
    }

    /// How alert delivery stands: each webhook's progress and Alertmanager's last post.
    mutating func alertHealth(_ health: AlertHealth) {
        func optional(_ value: Timestamp?) -> (inout JSONWriter) -> Void {
            { w in if let value { w.timestamp(value) } else { w.null() } }
        }
        func optional(_ value: String?) -> (inout JSONWriter) -> Void {
            { w in if let value { w.string(value) } else { w.null() } }
        }
        object { o in
            o.field("webhooks") { w in
                w.array(health.webhooks) { w, target in
                    w.object { t in
                        t.field("target") { $0.string(target.target) }
                        t.field("pending") { $0.integer(target.pending) }
                        t.field("delivered") { $0.integer(target.delivered) }
                        t.field("abandoned") { $0.integer(target.abandoned) }
                        t.field("attempts") { $0.integer(target.attempts) }
                        t.field("failingSince", optional(target.failingSince))
                        t.field("nextAttempt", optional(target.nextAttempt))
                        t.field("lastError", optional(target.lastError))
                        t.field("lastDelivered", optional(target.lastDelivered))
                    }
                }
            }
            o.field("outboxError", optional(health.webhookError))
            if let alertmanager = health.alertmanager {
                o.field("alertmanager") { w in
                    w.object { a in
                        a.field("target") { $0.string(alertmanager.target) }
                        a.field("lastSuccess", optional(alertmanager.lastSuccess))
                        a.field("lastError", optional(alertmanager.lastError))
                        a.field("alertsSent") { $0.integer(alertmanager.alertsSent) }
                    }
                }
            }
        }
    }

    /// The price table in force and the last reload (`kill -HUP`).
    mutating func priceHealth(_ status: PriceBook.Status) {
        object { p in
            p.field("source") { w in
                if let source = status.source { w.string(source) } else { w.string("built-in") }
            }
            p.field("loadedAt") { $0.timestamp(status.loadedAt) }
            p.field("entries") { $0.integer(status.table.entries.count) }
            p.field("reloads") { $0.integer(status.reloads) }
            p.field("failedReloads") { $0.integer(status.failedReloads) }
            p.field("lastReloadFailedAt") { w in
                if let at = status.lastReloadFailedAt { w.timestamp(at) } else { w.null() }
            }
            p.field("lastReloadProblems") { w in
                if let problems = status.lastReloadProblems { w.array(problems) { $0.string($1) } } else { w.null() }
            }
        }
    }
}

extension Response {
    /// A JSON document that must not be cached: it changes with every tick.
    static func json(_ bytes: [UInt8], status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status,
            headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-cache"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes))
        )
    }
}
