import CoreMetrics
import Prometheus

/// swift-metrics into a swift-prometheus registry, with every metric's `# HELP` text and its
/// name in Prometheus' conventions.
///
/// swift-prometheus' own `PrometheusMetricsFactory` registers what libraries record (here,
/// Hummingbird's `MetricsMiddleware`) without help texts, which `promtool check metrics`
/// rejects, and keeps their dotted names (`hb.requests`, a counter without `_total`). This
/// factory goes through the registry's public API instead: the same metric types, the names
/// and texts of ``names``.
public struct DescribedMetricsFactory: MetricsFactory {
    /// A swift-metrics label's Prometheus name and help text.
    struct Name {
        var name: String
        var help: String
    }

    public let registry: PrometheusCollectorRegistry

    /// Hummingbird's metrics; any other label gets underscores for dots and a generic text.
    static let names: [String: Name] = [
        "http.server.request.duration": Name(
            name: "http_server_request_duration_seconds",
            help: "Time to answer HTTP requests, by route (the OpenAPI path), method and status."),
        "hb.requests": Name(name: "http_server_requests_total", help: "HTTP requests answered, by route (the OpenAPI path), method and status."),
        "hb.request.errors": Name(
            name: "http_server_request_errors_total",
            help: "HTTP requests that ended in an unexpected error (answered 500), by route, method and error type."),
        "http.server.active_requests": Name(name: "http_server_active_requests", help: "HTTP requests being answered now, by method."),
    ]

    static let requestBuckets: [Duration] = [
        .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .microseconds(2_500), .milliseconds(5),
        .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
        .seconds(1), .milliseconds(2_500), .seconds(5), .seconds(10),
    ]
    static let valueBuckets: [Double] = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000]

    public init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
    }

    static func describe(_ label: String, _ dimensions: [(String, String)]) -> (MetricNameDescriptor, [(String, String)]) {
        let known = names[label]
        let name = known?.name ?? label.replacingOccurrences(of: ".", with: "_")
        let descriptor = MetricNameDescriptor(metricName: name, unitName: "", helpText: known?.help ?? "\(label), recorded through swift-metrics.")
        return (descriptor, dimensions.map { ($0.0.replacingOccurrences(of: ".", with: "_"), $0.1) })
    }

    public func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        let (descriptor, labels) = Self.describe(label, dimensions)
        return registry.makeCounter(descriptor: descriptor, labels: labels)
    }

    public func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        let (descriptor, labels) = Self.describe(label, dimensions)
        return registry.makeCounter(descriptor: descriptor, labels: labels)
    }

    public func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        let (descriptor, labels) = Self.describe(label, dimensions)
        guard aggregate else { return registry.makeGauge(descriptor: descriptor, labels: labels) }
        return registry.makeValueHistogram(descriptor: descriptor, labels: labels, buckets: Self.valueBuckets)
    }

    public func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        let (descriptor, labels) = Self.describe(label, dimensions)
        return registry.makeGauge(descriptor: descriptor, labels: labels)
    }

    public func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        let (descriptor, labels) = Self.describe(label, dimensions)
        return registry.makeDurationHistogram(descriptor: descriptor, labels: labels, buckets: Self.requestBuckets)
    }

    public func destroyCounter(_ handler: any CounterHandler) {
        if let counter = handler as? Prometheus.Counter { registry.unregisterCounter(counter) }
    }

    public func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) {
        if let counter = handler as? Prometheus.Counter { registry.unregisterCounter(counter) }
    }

    public func destroyRecorder(_ handler: any RecorderHandler) {
        if let gauge = handler as? Prometheus.Gauge { registry.unregisterGauge(gauge) }
        if let histogram = handler as? ValueHistogram { registry.unregisterValueHistogram(histogram) }
    }

    public func destroyMeter(_ handler: any MeterHandler) {
        if let gauge = handler as? Prometheus.Gauge { registry.unregisterGauge(gauge) }
    }

    public func destroyTimer(_ handler: any TimerHandler) {
        if let histogram = handler as? DurationHistogram { registry.unregisterDurationHistogram(histogram) }
    }
}
