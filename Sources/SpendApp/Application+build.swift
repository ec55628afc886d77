import Hummingbird
import Logging
import ServiceLifecycle
import SpendAlerts
import SpendCore
import SpendPostgres
import SpendReport
import SpendServer
import SpendStorage

/// The whole server from its configuration: the durable store restored, the simulator's
/// history backfilled, the snapshot pipeline with its live site and archive, the first
/// snapshot published, the router and the background services. The composition root of
/// `spendboard serve`, and what tests start in process.
///
/// ```swift
/// var configuration = ServeConfiguration()
/// configuration.port = 0
/// let app = try await buildApplication(configuration, logger: logger)
/// try await app.runService()
/// ```
///
/// Throws ``ConfigurationError`` for a setting that cannot work and ``StartupError`` when the
/// templates or the data folder cannot be used.
///
/// - Parameter metrics: what `/metrics` exposes; bind its factory (``SpendboardMetrics/bootstrap()``)
///   for the HTTP request metrics too.
public func buildApplication(
    _ configuration: ServeConfiguration, logger: Logger, metrics: SpendboardMetrics = SpendboardMetrics()
) async throws -> some ApplicationProtocol {
    try configuration.validate()
    let report = configuration.report
    let renderer = try Components.renderer(report, logger: logger)
    let prices = PriceBook(try Components.prices(configuration.prices), source: configuration.prices, at: WallClock().now)
    let storage = try await Components.storage(configuration, logger: logger)
    let journal = storage.journal
    let cluster = storage.cluster
    let store = UsageStore(
        configuration: .init(rawCapacity: configuration.rawCapacity), clock: WallClock(), journal: journal, anomalies: configuration.anomalies,
        anomalyJournal: journal, logger: logger)
    let newest = try await store.restore()
    let restored = await store.status
    logger.info(
        "restored stored usage",
        metadata: ["store": "\(storage.description)", "recentUpdates": "\(restored.rawUpdates)", "series": "\(restored.series)"])

    // The pool first: services stop in reverse order, so the database is the last to go.
    var services: [any Service] = []
    if let cluster {
        services.append(cluster)
        services.append(ClusterFollower(journal: cluster, store: store, pollInterval: configuration.clusterPoll, logger: logger))
    }
    if let path = configuration.prices {
        services.append(await PriceReloadService(book: prices, path: path, clock: WallClock(), logger: logger))
    }
    if let settings = configuration.simulator {
        let simulator = settings.simulator(start: WallClock().now)
        if !settings.scenarios.isEmpty {
            for scenario in simulator.configuration.scenarios {
                for effect in scenario.effects {
                    logger.notice(
                        "scenario",
                        metadata: [
                            "name": "\(scenario.name)", "target": "\(effect.target)", "from": "\(effect.from)",
                            "until": "\(effect.until.map(\.description) ?? "for good")",
                        ])
                }
            }
        }
        if let cluster {
            // Only the leader simulates, from when it leads: a backfill by every node that
            // starts would count the same history once per node.
            logger.notice("cluster: the simulator runs on the leader only, without backfill")
            services.append(
                SimulatorService(simulator: simulator, store: store, start: WallClock().now, logger: logger, isActive: { cluster.isLeader }))
        } else {
            let liveFrom = try await SimulatorService.backfill(
                simulator: simulator, store: store, duration: settings.backfill, resumingAfter: newest, logger: logger
            )
            services.append(SimulatorService(simulator: simulator, store: store, start: liveFrom, logger: logger))
        }
    }

    let board = SnapshotBoard()
    let site = LiveSite()
    let archive = try Components.archive(configuration.archive, output: report.output, renderer: renderer, logger: logger)
    logger.info(
        "archive",
        metadata: [
            "every": "\(DurationText.format(configuration.archive.every))", "snapshots": "\(archive.catalog.entries.count)",
            "directory": "\(archive.directory)",
        ]
    )
    let pipeline = SnapshotPipeline(
        renderer: renderer, publisher: Publisher(outputDirectory: report.output, logger: logger),
        sinks: [site.sink(renderInterval: report.renderInterval)], archive: archive,
        archives: { cluster?.isLeader ?? true }
    )
    let snapshots = SnapshotService(
        store: store, board: board, interval: report.renderInterval, clock: ContinuousClock(), logger: logger,
        pipeline: { snapshot in
            let outcome: SnapshotPipeline.Outcome
            do throws(SnapshotPipeline.StepError) {
                outcome = try await pipeline.run(snapshot)
            } catch {
                metrics.recordSnapshotFailure(step: error.step.rawValue)
                throw error
            }
            board.recordCleanup(outcome.publication?.cleanupFailures ?? [])
            var archived = false
            if case .archived = outcome.archive { archived = true }
            metrics.recordSnapshot(outcome.timings, archived: archived)
        },
        pause: { cluster?.followProblem.map { "the shared database cannot be followed: \($0)" } }
    )
    // The first snapshot exists before the first request can arrive.
    await snapshots.tick()
    services.append(snapshots)

    if let cluster {
        services.append(
            ClusterLeadership(
                journal: cluster, retryInterval: configuration.leaderRetry, clock: WallClock(), logger: logger,
                onGain: { archive.catalog.reload() }))
    }

    let alerts = try await Components.alerts(
        configuration.alerts, outbox: journal, store: store, resolveAfter: configuration.anomalies.resolveAfter, logger: logger)
    services += alerts.services

    let settings = ServerSettings(
        host: configuration.host, port: configuration.port, maxPage: configuration.maxPage, corsOrigins: configuration.corsOrigins,
        renderInterval: report.renderInterval, ingestToken: configuration.ingestToken, metricsToken: configuration.metricsToken,
        idleTimeout: configuration.idleTimeout
    )
    logger.info(
        "serving",
        metadata: [
            "url": "http://\(configuration.host):\(configuration.port)/",
            "simulator": "\(configuration.simulator.map { "seed \($0.seed), load \($0.load)" } ?? "off")",
            "ingest": "\(configuration.ingestToken == nil ? "loopback only" : "bearer token")",
            "metrics": "\(configuration.metricsToken == nil ? "loopback only" : "bearer token")",
        ]
    )
    var clusterHealth: SpendboardApplication.ClusterHealthSource?
    if let cluster { clusterHealth = { cluster.clusterStatus() } }
    return SpendboardApplication.application(
        store: store, board: board, site: site, settings: settings, prices: prices,
        services: services, logger: logger, archive: archive, renderer: renderer, alerts: alerts.health,
        cluster: clusterHealth, metrics: metrics
    )
}
