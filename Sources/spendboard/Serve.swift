import ArgumentParser
import Foundation
import Hummingbird
import SpendApp
import SpendCore
import SpendServer

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Simulate or receive usage, publish snapshots and serve the dashboard and API (the default)."
    )

    @Option(help: "Address to listen on. Loopback by default; use 0.0.0.0 to listen on every interface.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on; 0 picks a free one (the log says which).")
    var port = 8080

    @OptionGroup(title: "Report")
    var report: ReportOptions

    @OptionGroup(title: "Simulator")
    var simulator: SimulatorOptions

    @Option(help: "Simulated history generated at start, up to 24h.")
    var backfill = DurationArgument(.seconds(3600))

    @Flag(help: "Serve ingested data only: no simulated traffic.")
    var noSimulator = false

    @Option(help: "Folder of the durable store (SQLite, WAL mode); created when missing.")
    var data = "data"

    @Option(
        help: ArgumentHelp(
            "A PostgreSQL database shared by several nodes instead of SQLite in --data (or SPENDBOARD_DATABASE_URL).",
            valueName: "postgres://user@host:port/database"))
    var store: String?

    @Option(help: "How often a cluster node polls the shared log when no notification woke it.")
    var clusterPoll = DurationArgument(.seconds(1))

    @Option(help: "Bearer token required for POST /api/metrics (or SPENDBOARD_INGEST_TOKEN). Without one, writes are accepted from loopback only.")
    var ingestToken: String?

    @Option(help: "Bearer token required for GET /metrics (or SPENDBOARD_METRICS_TOKEN). Without one, metrics are served to loopback only.")
    var metricsToken: String?

    @OptionGroup var pricing: PriceOptions

    @Option(help: "Most raw updates kept for /api/metrics; heavy traffic shortens the 1-hour window instead of growing memory.")
    var rawCapacity = 1_000_000

    @Option(help: "Most updates in one /api/metrics response.")
    var maxPage = 10_000

    @Option(help: "Close a connection that sends nothing for this long: idle between requests or stalled in the middle of one.")
    var idleTimeout = DurationArgument(.seconds(30))

    @Option(name: .customLong("cors-origin"), help: "An origin allowed to read the API from a browser (GET only); repeat for more. None by default.")
    var corsOrigins: [String] = []

    @Option(
        name: .customLong("scenario"),
        help: ArgumentHelp(
            "Unusual traffic to play into the simulator, from --scenario-start on; repeat for more: "
                + Scenario.Name.allCases.map { "\($0.rawValue) (\($0.summary))" }.joined(separator: "; ") + "."))
    var scenarios: [Scenario.Name] = []

    @Option(help: "How long after start the scenarios begin.")
    var scenarioStart = DurationArgument(.seconds(180))

    @OptionGroup(title: "Anomalies")
    var anomalies: AnomalyOptions

    @OptionGroup(title: "Alerts")
    var alerts: AlertOptions

    @OptionGroup var logging: LoggingOptions

    @OptionGroup(title: "Archive")
    var archive: ArchiveOptions

    /// The flags as the library's configuration.
    var settings: ServeConfiguration {
        var configuration = ServeConfiguration()
        configuration.host = host
        configuration.port = port
        configuration.report = report.settings
        configuration.simulator = noSimulator ? nil : simulator.settings(backfill: backfill.duration)
        configuration.simulator?.scenarios = scenarios
        configuration.simulator?.scenarioStart = scenarioStart.duration
        configuration.anomalies = anomalies.settings
        configuration.alerts = alerts.settings
        configuration.data = data
        configuration.store = store ?? ProcessInfo.processInfo.environment["SPENDBOARD_DATABASE_URL"].flatMap { $0.isEmpty ? nil : $0 }
        configuration.clusterPoll = clusterPoll.duration
        configuration.ingestToken = ingestToken ?? ProcessInfo.processInfo.environment["SPENDBOARD_INGEST_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        configuration.metricsToken = metricsToken ?? ProcessInfo.processInfo.environment["SPENDBOARD_METRICS_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        configuration.prices = pricing.prices
        configuration.rawCapacity = rawCapacity
        configuration.maxPage = maxPage
        configuration.corsOrigins = corsOrigins
        configuration.idleTimeout = idleTimeout.duration
        configuration.archive = archive.settings
        return configuration
    }

    func validate() throws {
        if noSimulator && !scenarios.isEmpty { throw ValidationError("--scenario plays into the simulator: it cannot go with --no-simulator") }
        try check { try settings.validate() }
    }

    func run() async throws {
        let logger = logging.bootstrap()
        let metrics = SpendboardMetrics()
        metrics.bootstrap()
        let app = try await exitingOnStartupFailure(logger) { try await buildApplication(settings, logger: logger, metrics: metrics) }
        try await app.runService()
    }
}
