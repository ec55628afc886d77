import Foundation
import SpendAlerts
import SpendCore
import SpendPostgres
import SpendReport

/// A setting that cannot work, named by its command-line flag: `--port must be from 0 …`.
public struct ConfigurationError: Error, CustomStringConvertible, Sendable, Equatable {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}

/// How the report looks and where it goes; shared by `serve` and `render`.
public struct ReportSettings: Sendable {
    /// Folder the snapshot files are published into.
    public var output = "Output"
    /// Folder of the Mustache templates; nil: `./Templates` when it exists, else the copies
    /// built into the binary.
    public var templates: String?
    /// How often a snapshot is rendered (the default page's refresh).
    public var renderInterval: Duration = .seconds(5)
    /// The gauge's scale maximum in dollars per hour.
    public var gaugeMax: Double = 250_000

    /// `gaugeMax` as money, to the micro-dollar (a chart's scale, never summed); nil when it
    /// is not a finite amount of at most a million million dollars.
    var gaugeMaxAmount: Money? {
        guard gaugeMax.isFinite, gaugeMax >= 0, gaugeMax <= 1e12 else { return nil }
        return Money(micros: Int64((gaugeMax * 1e6).rounded()))
    }

    public init() {}

    public func validate() throws(ConfigurationError) {
        guard renderInterval >= .milliseconds(100) else {
            throw ConfigurationError("--render-interval must be at least 100ms; got \(DurationText.format(renderInterval))")
        }
        guard gaugeMaxAmount.map({ $0 > .zero }) == true else {
            throw ConfigurationError("--gauge-max must be a positive number of dollars; got \(gaugeMax)")
        }
    }

    func rendererConfiguration() throws(ConfigurationError) -> ReportConfiguration {
        try validate()
        guard let gaugeMaxAmount else {
            throw ConfigurationError("--gauge-max must be a positive number of dollars; got \(gaugeMax)")
        }
        return ReportConfiguration(
            templatesDirectory: templates ?? "Templates", fallsBackToBundledTemplates: templates == nil,
            renderInterval: renderInterval, gaugeMax: gaugeMaxAmount
        )
    }
}

/// The built-in simulator of the reference traffic; shared by `serve` and `render`.
public struct SimulatorSettings: Sendable {
    /// The same seed gives the same history.
    public var seed: UInt64 = 1
    /// Multiplies the updates per second (1 is the reference rate, about 70/s).
    public var load: Double = 1
    /// Simulated history generated before the first snapshot.
    public var backfill: Duration
    /// Unusual traffic played in (`serve --scenario`), from `scenarioStart` after start.
    public var scenarios: [Scenario.Name] = []
    public var scenarioStart: Duration = .seconds(180)

    /// Backfill up to this much (the 1-minute tier's reach).
    public static let maximumBackfill: Duration = .seconds(86_400)

    public init(seed: UInt64 = 1, load: Double = 1, backfill: Duration) {
        self.seed = seed
        self.load = load
        self.backfill = backfill
    }

    /// - Parameter allowsNoBackfill: `serve` may start without history; `render` needs some.
    public func validate(allowsNoBackfill: Bool) throws(ConfigurationError) {
        guard load > 0, load <= 1000 else { throw ConfigurationError("--load must be greater than 0 and at most 1000; got \(load)") }
        guard scenarioStart >= .zero, scenarioStart <= .seconds(86_400) else {
            throw ConfigurationError("--scenario-start must be from 0s to 24h; got \(DurationText.format(scenarioStart))")
        }
        if allowsNoBackfill {
            guard backfill >= .zero, backfill <= Self.maximumBackfill else {
                throw ConfigurationError("--backfill must be at most 24h; got \(DurationText.format(backfill))")
            }
        } else {
            guard backfill > .zero, backfill <= Self.maximumBackfill else {
                throw ConfigurationError("--backfill must be more than 0 and at most 24h; got \(DurationText.format(backfill))")
            }
        }
    }

    /// The simulator, with the scenarios anchored at `start`.
    func simulator(start: Timestamp) -> Simulator {
        let reference = Simulator(configuration: .init(seed: seed, load: load))
        guard !scenarios.isEmpty else { return reference }
        let played = scenarios.map { Scenario.named($0, simulator: reference, start: start, after: scenarioStart) }
        return Simulator(configuration: .init(seed: seed, load: load, scenarios: played))
    }

    var simulatorConfiguration: Simulator.Configuration { .init(seed: seed, load: load) }
}

/// The snapshot archive under `OUTPUT/archive`.
public struct ArchiveSettings: Sendable {
    /// How often a published snapshot is kept; zero turns archiving off.
    public var every: Duration = .seconds(300)
    /// Most archived snapshots kept; nil keeps any number.
    public var keep: Int?
    /// Snapshots older than this are deleted; nil keeps them for ever.
    public var maxAge: Duration?

    public init() {}

    public func validate() throws(ConfigurationError) {
        guard every == .zero || every >= .seconds(1) else {
            throw ConfigurationError("--archive-every must be 0 (off) or at least 1s; got \(DurationText.format(every))")
        }
        if let keep, keep < 1 { throw ConfigurationError("--archive-keep must be at least 1 (the newest snapshot is always kept); got \(keep)") }
        if let maxAge, maxAge <= .zero { throw ConfigurationError("--archive-max-age must be more than 0; got \(DurationText.format(maxAge))") }
    }

    public var retention: ArchiveRetention { ArchiveRetention(keep: keep, maxAge: maxAge) }
}

/// Where anomalies are announced: signed webhooks from the durable outbox, and Alertmanager.
/// Targets come only from here (the operator's flags), never from a request.
public struct AlertSettings: Sendable {
    /// `--alert-webhook`: receivers of `anomaly.opened`, `.resolved` and `.acknowledged`.
    public var webhooks: [String] = []
    /// `--alert-secret` (or `SPENDBOARD_ALERT_SECRET`): `whsec_<base64>`, needed with webhooks.
    public var secret: String?
    /// `--alertmanager`: an Alertmanager's base address.
    public var alertmanager: String?
    /// How often the open anomalies are posted to Alertmanager.
    public var alertmanagerInterval: Duration = .seconds(30)
    /// Webhook retries.
    public var retry = RetryPolicy()

    public init() {}

    public func validate() throws(ConfigurationError) {
        for webhook in webhooks {
            try Self.validateAddress(webhook, flag: "--alert-webhook", example: "https://hooks.example.com/spendboard")
        }
        if let alertmanager {
            try Self.validateAddress(alertmanager, flag: "--alertmanager", example: "http://127.0.0.1:9093")
        }
        if Set(webhooks).count != webhooks.count {
            throw ConfigurationError("--alert-webhook names the same address twice")
        }
        if !webhooks.isEmpty {
            guard let secret else {
                throw ConfigurationError(
                    "--alert-webhook needs --alert-secret (or SPENDBOARD_ALERT_SECRET) to sign deliveries; `spendboard anomalies secret` prints a new one"
                )
            }
            do {
                _ = try StandardWebhookSigner(secret: secret)
            } catch {
                throw ConfigurationError("--alert-secret \(error)")
            }
        }
        guard retry.maximum >= .seconds(1), retry.maximum <= .seconds(86_400) else {
            throw ConfigurationError("--alert-retry-max must be from 1s to 24h; got \(DurationText.format(retry.maximum))")
        }
        guard retry.giveUpAfter >= retry.maximum, retry.giveUpAfter <= .seconds(30 * 86_400) else {
            throw ConfigurationError(
                "--alert-give-up-after must be from --alert-retry-max (\(DurationText.format(retry.maximum))) to 30d, the outbox's retention; got \(DurationText.format(retry.giveUpAfter))"
            )
        }
        guard alertmanagerInterval >= .seconds(1), alertmanagerInterval <= .seconds(300) else {
            throw ConfigurationError("--alertmanager-interval must be from 1s to 5m; got \(DurationText.format(alertmanagerInterval))")
        }
    }

    static func validateAddress(_ address: String, flag: String, example: String) throws(ConfigurationError) {
        if let url = URL(string: address), url.user != nil || url.password != nil {
            // Not repeated: the address holds a password.
            throw ConfigurationError("\(flag) must not carry user:password@ (put a token in the path or query instead)")
        }
        guard let url = URL(string: address), url.scheme == "http" || url.scheme == "https", let host = url.host, !host.isEmpty,
            url.user == nil
        else {
            throw ConfigurationError("\(flag) must be an http(s) address such as \(example), without user:password@; got '\(address)'")
        }
    }

    /// The signer of webhook deliveries; nil without webhooks.
    func signer() throws(ConfigurationError) -> StandardWebhookSigner? {
        guard !webhooks.isEmpty, let secret else { return nil }
        do {
            return try StandardWebhookSigner(secret: secret)
        } catch {
            throw ConfigurationError("--alert-secret \(error)")
        }
    }
}

/// Everything `spendboard serve` is told, with the command line's defaults. Tests build one
/// directly and hand it to ``buildApplication(_:logger:)``.
public struct ServeConfiguration: Sendable {
    /// Address to bind: loopback unless told otherwise.
    public var host = "127.0.0.1"
    /// 0 picks a free port (the log says which).
    public var port = 8080
    public var report = ReportSettings()
    /// nil serves ingested data only.
    public var simulator: SimulatorSettings? = SimulatorSettings(backfill: .seconds(3600))
    /// Folder of the durable store (SQLite).
    public var data = "data"
    /// A shared PostgreSQL (`postgres://user@host:port/database`) instead of SQLite in `data`:
    /// several nodes on one database (`--store`, `SPENDBOARD_DATABASE_URL`).
    public var store: String?
    /// How often a cluster node polls the shared log when no notification woke it.
    public var clusterPoll: Duration = .seconds(1)
    /// Bearer token for writes; nil accepts writes from loopback only.
    public var ingestToken: String?
    /// Bearer token for `/metrics`; nil serves it to loopback only.
    public var metricsToken: String?
    /// Price table (JSON) for updates without `totalCost`; nil: the reference prices.
    public var prices: String?
    /// Most raw updates kept for `/api/metrics`.
    public var rawCapacity = 1_000_000
    /// Most updates in one `/api/metrics` response.
    public var maxPage = 10_000
    /// Origins allowed to read the API from a browser.
    public var corsOrigins: [String] = []
    /// Connections silent for this long are closed.
    public var idleTimeout: Duration = .seconds(30)
    public var archive = ArchiveSettings()
    /// The anomaly detector's gates.
    public var anomalies = AnomalySettings()
    /// Where anomalies are announced.
    public var alerts = AlertSettings()

    public init() {}

    /// The flag of each `AnomalySettings` setting, for errors.
    public static func anomalyFlag(_ setting: String) -> String {
        switch setting {
        case "spikeRatio": "--anomaly-spike-ratio"
        case "dropRatio": "--anomaly-drop-ratio"
        case "bandSigmas": "--anomaly-band-sigmas"
        case "minimumCallsPerMinute": "--anomaly-min-calls"
        case "openAfter": "--anomaly-open-after"
        case "resolveAfter": "--anomaly-resolve-after"
        case "adaptAfter": "--anomaly-adapt-after"
        case let other where other.hasPrefix("minimumChangePerHour."): "--anomaly-min-change-" + other.dropFirst("minimumChangePerHour.".count)
        default: setting
        }
    }

    /// Every rule at once, before anything starts.
    public func validate() throws(ConfigurationError) {
        guard (0...65535).contains(port) else { throw ConfigurationError("--port must be from 0 (any free port) to 65535; got \(port)") }
        try report.validate()
        try simulator?.validate(allowsNoBackfill: true)
        guard rawCapacity >= 1 else { throw ConfigurationError("--raw-capacity must be at least 1; got \(rawCapacity)") }
        guard maxPage >= 1 else { throw ConfigurationError("--max-page must be at least 1; got \(maxPage)") }
        guard idleTimeout >= .milliseconds(100) else {
            throw ConfigurationError("--idle-timeout must be at least 100ms; got \(DurationText.format(idleTimeout))")
        }
        for origin in corsOrigins where !(origin.hasPrefix("http://") || origin.hasPrefix("https://")) || origin.hasSuffix("/") {
            throw ConfigurationError("--cors-origin must be an origin such as https://status.example.com (scheme and host, no path); got '\(origin)'")
        }
        try archive.validate()
        if let problem = anomalies.problems.first {
            throw ConfigurationError("\(Self.anomalyFlag(problem.setting)) \(problem.rule)")
        }
        try alerts.validate()
        if let store {
            do {
                _ = try PostgresLocation(url: store)
            } catch {
                throw ConfigurationError("--store: \(error)")
            }
        }
        guard clusterPoll >= .milliseconds(50), clusterPoll <= .seconds(60) else {
            throw ConfigurationError("--cluster-poll must be from 50ms to 1m; got \(DurationText.format(clusterPoll))")
        }
    }

    /// How often a cluster node tries to take the leader's lock: half the archive interval,
    /// from 1 s to 15 s, so a dead leader's archive is taken over within two intervals.
    var leaderRetry: Duration {
        let half = archive.every / 2
        return half <= .zero ? .seconds(15) : min(.seconds(15), max(.seconds(1), half))
    }
}

/// Everything `spendboard render` is told.
public struct RenderConfiguration: Sendable {
    /// What the report shows.
    public enum Source: Sendable {
        /// Simulated history ending now.
        case simulated(SimulatorSettings)
        /// The usage of a file (NDJSON or a JSON array), as of its newest update; `name` is
        /// used in messages.
        case file(name: String, bytes: [UInt8], prices: String?)
    }

    /// A range to report on instead of the live site (`--window`, or `--from-time` and
    /// `--to-time`), in `TimeRangeQuery`'s syntax; relative times count from the report's time.
    public struct RequestedRange: Sendable {
        public var window: String?
        public var from: String?
        public var to: String?

        public init(window: String? = nil, from: String? = nil, to: String? = nil) {
            self.window = window
            self.from = from
            self.to = to
        }
    }

    public var report = ReportSettings()
    public var source: Source = .simulated(SimulatorSettings(backfill: .seconds(86_400)))
    /// Nil renders the live site (every window); a range renders its report alone.
    public var range: RequestedRange?

    public init() {}

    public func validate() throws(ConfigurationError) {
        try report.validate()
        if case .simulated(let simulator) = source { try simulator.validate(allowsNoBackfill: false) }
    }
}
