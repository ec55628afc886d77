import CoreMetrics
import Foundation
import Hummingbird
import Prometheus
import SpendCore
import SpendReport
import Synchronization

/// What `GET /metrics` exposes, in one swift-prometheus registry: the server's own health
/// (HTTP requests through Hummingbird's `MetricsMiddleware`, snapshot steps, ingest outcomes,
/// store sizes) and the business (spend, calls and tokens by tenant and model).
///
/// Hummingbird's middleware records through swift-metrics' global (or task-local) factory, so
/// the process binds ``factory`` once before serving:
///
/// ```swift
/// let metrics = SpendboardMetrics()
/// MetricsSystem.bootstrap(metrics.factory)        // or withMetricsFactory(metrics.factory) { … }
/// let text = await metrics.exposition(store: store, board: board)
/// ```
///
/// Names follow Prometheus' conventions: base units (`_seconds`, `_dollars`, `_bytes`),
/// `_total` on counters, snake case; labels never carry a customer (their number is unbounded).
public final class SpendboardMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    /// The swift-metrics factory writing into ``registry``, with Hummingbird's metrics named
    /// and described in Prometheus' conventions.
    public let factory: DescribedMetricsFactory

    private let stepDurations: [String: DurationHistogram]
    private let business = Mutex(BusinessCounters())
    private let gauges: Gauges
    /// The live site's fast path answers, counted with the router's.
    public let fastPath: FastPathCounters

    /// The pipeline's steps as they are labelled.
    static let steps = ["render", "validate", "publish", "archive"]

    public init() {
        let registry = PrometheusCollectorRegistry()
        self.registry = registry
        factory = DescribedMetricsFactory(registry: registry)
        var durations: [String: DurationHistogram] = [:]
        for step in Self.steps {
            durations[step] = registry.makeDurationHistogram(
                descriptor: describe(
                    "spendboard_snapshot_step_duration_seconds",
                    "How long each step of a snapshot took: render, validate, publish, and archive (only when an archive was kept)."),
                labels: [("step", step)], buckets: Self.stepBuckets)
        }
        stepDurations = durations
        gauges = Gauges(registry: registry)
        fastPath = FastPathCounters(registry: registry)
    }

    /// Makes this registry the process's swift-metrics backend, so Hummingbird's request
    /// metrics (and any other library's) land in it. Once per process.
    public func bootstrap() {
        MetricsSystem.bootstrap(factory)
    }

    // MARK: - Recording

    /// Records the steps of one published snapshot; `archived`: an archive was kept this time.
    public func recordSnapshot(_ timings: SnapshotPipeline.Timings, archived: Bool) {
        stepDurations["render"]?.record(timings.render)
        stepDurations["validate"]?.record(timings.validate)
        stepDurations["publish"]?.record(timings.publish)
        if archived { stepDurations["archive"]?.record(timings.archive) }
    }

    /// Records a snapshot that was not published, by the step that failed (`render`,
    /// `validate` or `publish`).
    public func recordSnapshotFailure(step: String) {
        let help = "Snapshots not published, by the step that failed: render, validate or publish."
        registry.makeCounter(descriptor: describe("spendboard_snapshot_failures_total", help), labels: [("step", step)]).increment()
    }

    /// The outcome of one `POST /api/metrics`, by its status: `stored`, `refused` (4xx, with
    /// the rule) or `failed` (503: nothing could be stored).
    func recordIngest(status: HTTPResponse.Status, result: UsageLedger.IngestResult? = nil) {
        let (outcome, reason) = Self.ingestOutcome(status)
        let requests = "Ingest requests (POST /api/metrics) by result (stored, refused, failed) and reason."
        registry.makeCounter(
            descriptor: describe("spendboard_ingest_requests_total", requests), labels: [("result", outcome), ("reason", reason)]
        ).increment()
        guard let result else { return }
        let help = "Updates in stored ingest batches: accepted, duplicate (an eventId seen before) or rejected by the store's rules."
        for (kind, count) in [("accepted", result.accepted), ("duplicate", result.duplicates), ("rejected", result.rejectedCount)] where count > 0 {
            registry.makeCounter(descriptor: describe("spendboard_ingest_updates_total", help), labels: [("result", kind)])
                .increment(by: Int64(count))
        }
    }

    static func ingestOutcome(_ status: HTTPResponse.Status) -> (result: String, reason: String) {
        switch status.code {
        case 200..<300: ("stored", "ok")
        case 400: ("refused", "malformed")
        case 401: ("refused", "unauthorized")
        case 403: ("refused", "forbidden")
        case 413: ("refused", "too_large")
        case 415: ("refused", "unsupported_media_type")
        case 422: ("refused", "invalid_updates")
        case 503: ("failed", "unavailable")
        default: (status.code < 500 ? "refused" : "failed", "status_\(status.code)")
        }
    }

    // MARK: - Exposition

    /// The Prometheus text format of everything: gauges and business counters brought up to
    /// date first, from the store and the latest snapshot.
    public func exposition(store: UsageStore, board: SnapshotBoard) async -> [UInt8] {
        let status = await store.status
        let tally = await store.tally
        let openIncidents = await store.incidents.filter { $0.state == .open }.count
        gauges.update(
            status: status, snapshotAge: board.latest.map { store.clock.now.duration(since: $0.snapshot.generatedAt) }, openAnomalies: openIncidents)
        business.withLock { $0.sync(tally, registry: registry) }
        var buffer: [UInt8] = []
        buffer.reserveCapacity(16 * 1024)
        registry.emit(into: &buffer)
        return buffer
    }

    static let stepBuckets: [Duration] = [
        .milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
        .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2_500), .seconds(5), .seconds(10),
    ]
}

/// A metric's name and help text, written whole (`spendboard_…_seconds`, `…_total`).
private func describe(_ name: String, _ help: String) -> MetricNameDescriptor {
    MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
}

/// Gauges set from the store at each scrape.
private struct Gauges: Sendable {
    let snapshotAge: Prometheus.Gauge
    let rawUpdates: Prometheus.Gauge
    let rawCapacity: Prometheus.Gauge
    let rawUsed: Prometheus.Gauge
    let series: Prometheus.Gauge
    let customers: Prometheus.Gauge
    let models: Prometheus.Gauge
    let rollupBytes: Prometheus.Gauge
    let openAnomalies: Prometheus.Gauge

    init(registry: PrometheusCollectorRegistry) {
        snapshotAge = registry.makeGauge(
            descriptor: describe("spendboard_snapshot_age_seconds", "Age of the published snapshot; NaN before the first one."))
        rawUpdates = registry.makeGauge(descriptor: describe("spendboard_raw_log_updates", "Updates held in the raw log (the last hour)."))
        rawCapacity = registry.makeGauge(
            descriptor: describe("spendboard_raw_log_capacity_updates", "Most updates the raw log holds (--raw-capacity)."))
        rawUsed = registry.makeGauge(descriptor: describe("spendboard_raw_log_used_ratio", "Share of the raw log's capacity in use, 0 to 1."))
        series = registry.makeGauge(descriptor: describe("spendboard_store_series", "Tenant, customer and model series the store keeps."))
        customers = registry.makeGauge(descriptor: describe("spendboard_store_customers", "Customers the store keeps."))
        models = registry.makeGauge(descriptor: describe("spendboard_store_models", "Models the store keeps."))
        rollupBytes = registry.makeGauge(descriptor: describe("spendboard_store_rollup_bytes", "Memory held by the store's time buckets."))
        openAnomalies = registry.makeGauge(descriptor: describe("spendboard_anomalies_open", "Anomalies open now."))
    }

    func update(status: LedgerStatus, snapshotAge age: Duration?, openAnomalies open: Int) {
        snapshotAge.set(to: age.map { $0.secondsDouble } ?? .nan)
        rawUpdates.set(to: Double(status.rawUpdates))
        rawCapacity.set(to: Double(status.rawCapacity))
        rawUsed.set(to: status.rawCapacity > 0 ? Double(status.rawUpdates) / Double(status.rawCapacity) : 0)
        series.set(to: Double(status.series))
        customers.set(to: Double(status.customers))
        models.set(to: Double(status.models))
        rollupBytes.set(to: Double(status.rollupBytes))
        openAnomalies.set(to: Double(open))
    }
}

/// The business counters, brought up to the store's exact tally at each scrape.
///
/// A Prometheus counter only grows by increments, and adding dollars as binary doubles batch by
/// batch would drift from the exact sum. So each scrape converts the exact sum once and adds
/// the difference to what the counter shows; the counter adds as `shown + delta` does here, so
/// `shown` is exactly its value and it stays within one rounding of the exact total, however
/// long the process runs.
private struct BusinessCounters {
    struct Series {
        var spend: Prometheus.Counter
        var updates: Prometheus.Counter
        var calls: Prometheus.Counter
        var tokens: Prometheus.Counter
        var inputTokens: Prometheus.Counter
        var outputTokens: Prometheus.Counter
        var unpriced: Prometheus.Counter
        var shownDollars = 0.0
        var shown = UsageTally.Totals()
    }

    /// By tenant and model; nil: the pairs past the tally's limit.
    var series: [UsageTally.Key?: Series] = [:]

    mutating func sync(_ tally: UsageTally, registry: PrometheusCollectorRegistry) {
        for (key, totals) in tally.series { sync(key, totals, registry: registry) }
        if tally.overflow.updates > 0 { sync(nil, tally.overflow, registry: registry) }
    }

    private mutating func sync(_ key: UsageTally.Key?, _ totals: UsageTally.Totals, registry: PrometheusCollectorRegistry) {
        var entry = series[key] ?? Self.make(key, registry: registry)
        let dollars = totals.cost.approximateDollars
        if dollars > entry.shownDollars {
            let delta = dollars - entry.shownDollars
            entry.spend.increment(by: delta)
            entry.shownDollars += delta
        }
        Self.advance(entry.updates, from: entry.shown.updates, to: totals.updates)
        Self.advance(entry.calls, from: entry.shown.calls, to: totals.calls)
        Self.advance(entry.tokens, from: entry.shown.totalTokens, to: totals.totalTokens)
        Self.advance(entry.inputTokens, from: entry.shown.inputTokens, to: totals.inputTokens)
        Self.advance(entry.outputTokens, from: entry.shown.outputTokens, to: totals.outputTokens)
        Self.advance(entry.unpriced, from: entry.shown.unpricedUpdates, to: totals.unpricedUpdates)
        entry.shown = totals
        series[key] = entry
    }

    private static func advance(_ counter: Prometheus.Counter, from shown: Int64, to total: Int64) {
        if total > shown { counter.increment(by: total - shown) }
    }

    /// Labels `tenant` and `model`; the overflow has both empty (the same as no label).
    private static func make(_ key: UsageTally.Key?, registry: PrometheusCollectorRegistry) -> Series {
        let labels = [("tenant", key?.tenantId ?? ""), ("model", key?.model ?? "")]
        func counter(_ name: String, _ help: String) -> Prometheus.Counter {
            registry.makeCounter(descriptor: describe(name, help), labels: labels)
        }
        let scope = "accepted by this process since it started, by tenant and model"
        return Series(
            spend: counter("spendboard_spend_dollars_total", "US dollars spent (priced updates), \(scope)."),
            updates: counter("spendboard_usage_updates_total", "Usage updates \(scope)."),
            calls: counter("spendboard_calls_total", "Model calls \(scope)."),
            tokens: counter("spendboard_tokens_total", "Tokens \(scope)."),
            inputTokens: counter("spendboard_input_tokens_total", "Input tokens (where reported) \(scope)."),
            outputTokens: counter("spendboard_output_tokens_total", "Output tokens (where reported) \(scope)."),
            unpriced: counter("spendboard_unpriced_updates_total", "Updates whose cost is unknown (no price, no totalCost), \(scope).")
        )
    }
}

/// Counts the fast path's answers (`LiveSiteWireHandler`, `LiveSiteHandler`) into Hummingbird's request counter
/// family, `http_server_requests_total`, by route, method and status: an array of counters made
/// once, so an answer costs one atomic increment. Their durations are not recorded (the fast
/// path answers within one event-loop turn).
public final class FastPathCounters: Sendable {
    enum Route: Int, CaseIterable {
        case root, page, stats, embed, windowEmbed, apiStats

        var label: String {
            switch self {
            case .root: "/"
            case .page: "/{page}.html"
            case .stats: "/stats.json"
            case .embed: "/embed/{chart}.svg"
            case .windowEmbed: "/embed/{window}/{chart}.svg"
            case .apiStats: "/api/stats"
            }
        }

        /// The route of a published file's key (`index.html` for `/`, asked as `root`).
        static func of(key: String) -> Route {
            if key == "stats.json" { return .stats }
            if key.hasPrefix("embed/") { return key.dropFirst(6).contains("/") ? .windowEmbed : .embed }
            return .page
        }
    }

    private let counters: [Prometheus.Counter]

    init(registry: PrometheusCollectorRegistry) {
        let name = DescribedMetricsFactory.names["hb.requests"]!
        var counters: [Prometheus.Counter] = []
        for route in Route.allCases {
            for method in ["GET", "HEAD"] {
                for status in ["200", "304"] {
                    counters.append(
                        registry.makeCounter(
                            descriptor: MetricNameDescriptor(metricName: name.name, unitName: "", helpText: name.help),
                            labels: [("http_route", route.label), ("http_request_method", method), ("http_response_status_code", status)]))
                }
            }
        }
        self.counters = counters
    }

    func count(_ route: Route, head: Bool, notModified: Bool) {
        counters[route.rawValue * 4 + (head ? 2 : 0) + (notModified ? 1 : 0)].increment()
    }
}
