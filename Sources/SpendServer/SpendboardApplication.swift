import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import ServiceLifecycle
import SpendCore
import SpendReport

/// Builds the router: the live site from memory and the JSON API, behind JSON errors and the
/// CORS allow-list.
///
/// ```swift
/// let router = SpendboardApplication.router(store: store, board: board, settings: settings)
/// let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 8080)))
/// try await app.runService()
/// ```
public enum SpendboardApplication {
    /// How alert delivery stands, for `/api/health`; nil when no alert target is configured.
    public typealias AlertHealthSource = @Sendable () async -> AlertHealth
    /// How this node stands in its cluster, for `/api/health`; nil for a node on SQLite.
    public typealias ClusterHealthSource = @Sendable () -> ClusterStatus

    public static func router(
        store: UsageStore, board: SnapshotBoard, site: LiveSite? = nil, settings: ServerSettings,
        decoder: UsageBatchDecoder = UsageBatchDecoder(), prices: PriceBook? = nil, startedAt: Timestamp? = nil,
        archive: ArchiveWriter? = nil, renderer: ReportRenderer? = nil, alerts: AlertHealthSource? = nil,
        cluster: ClusterHealthSource? = nil, metrics: SpendboardMetrics? = nil
    ) -> Router<SpendRequestContext> {
        let router = Router(context: SpendRequestContext.self, options: .autoGenerateHeadEndpoints)
        if metrics != nil {
            // Outermost, so it times every answer, errors included.
            router.add(middleware: MetricsMiddleware())
            router.add(middleware: ErrorAnswerMiddleware())
        }
        if !settings.corsOrigins.isEmpty {
            router.add(middleware: CORSAllowListMiddleware(origins: Set(settings.corsOrigins)))
        }
        // The live site first: the hottest path, and it throws only errors that answer themselves.
        if let site {
            router.add(middleware: SiteMiddleware(site: site, clock: store.clock))
        }
        router.add(middleware: JSONErrorMiddleware(allowedMethods: APIRoutes.allowedMethods))
        if let archive {
            router.add(middleware: ArchiveMiddleware(directory: archive.directory))
            ArchiveRoutes(catalog: archive.catalog).register(on: router)
        }
        APIRoutes(
            store: store, board: board, settings: settings, startedAt: startedAt ?? store.clock.now, decoder: decoder, prices: prices,
            archive: archive, reports: renderer.map { ReportRoute(store: store, renderer: $0) }, alerts: alerts,
            cluster: cluster, metrics: metrics
        )
        .register(on: router)
        ContractRoutes(store: store, board: board, settings: settings, metrics: metrics).register(on: router)
        return router
    }

    /// HTTP/1 with the live site's fast path (`LiveSiteHTTP1Channel`: `LiveSiteWireHandler`, and
    /// `LiveSiteHandler` after NIO's decoder) ahead of the router; the wire handler owns the
    /// idle timeout, since it sees every byte.
    public static func httpServer(
        site: LiveSite, clock: any TimeSource, settings: ServerSettings, metrics: SpendboardMetrics? = nil
    ) -> HTTPServerBuilder {
        let idleTimeout = TimeAmount.milliseconds(settings.idleTimeout.milliseconds)
        let counters = metrics?.fastPath
        let answers = FastAnswers.Loops()
        return HTTPServerBuilder { responder in
            LiveSiteHTTP1Channel(responder: responder, site: site, clock: clock, idleTimeout: idleTimeout, counters: counters, answers: answers)
        }
    }

    /// The whole server: router, listening address and the background services.
    public static func application(
        store: UsageStore, board: SnapshotBoard, site: LiveSite, settings: ServerSettings, prices: PriceBook,
        services: [any Service], logger: Logger, archive: ArchiveWriter? = nil, renderer: ReportRenderer? = nil,
        alerts: AlertHealthSource? = nil, cluster: ClusterHealthSource? = nil, metrics: SpendboardMetrics? = nil
    ) -> some ApplicationProtocol {
        Application(
            router: router(
                store: store, board: board, site: site, settings: settings, prices: prices, archive: archive, renderer: renderer, alerts: alerts,
                cluster: cluster, metrics: metrics),
            server: httpServer(site: site, clock: store.clock, settings: settings, metrics: metrics),
            configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: "spendboard"),
            services: services,
            logger: logger
        )
    }
}
