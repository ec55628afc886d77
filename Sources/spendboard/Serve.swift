import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import SpendCore
import SpendReport
import SpendServer
import SpendStorage

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Simulate or receive usage, publish snapshots and serve the dashboard and API (the default)."
    )

    @Option(help: "Address to listen on. Loopback by default; use 0.0.0.0 to listen on every interface.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on; 0 picks a free one (the log says which).")
    var port = 8080

    @Option(help: "Seed of the simulator: the same seed gives the same history.")
    var seed: UInt64 = 1

    @Option(help: "Multiplies the simulator's updates per second (1 is the reference rate, about 70/s).")
    var load: Double = 1

    @Option(help: "Simulated history generated at start, up to 24h.")
    var backfill = DurationArgument(.seconds(3600))

    @Option(help: "How often a snapshot is computed and published.")
    var renderInterval = DurationArgument(.seconds(5))

    @Option(help: "Folder of the durable store (SQLite, WAL mode); created when missing.")
    var data = "data"

    @Flag(help: "Serve ingested data only: no simulated traffic.")
    var noSimulator = false

    @Option(help: "Bearer token required for POST /api/metrics (or SPENDBOARD_INGEST_TOKEN). Without one, writes are accepted from loopback only.")
    var ingestToken: String?

    @Option(help: "Price table (JSON) for updates sent without totalCost; the reference prices are built in.")
    var prices: String?

    @Option(help: "Folder the snapshot files are published into.")
    var output = "Output"

    @Option(help: "Folder of the Mustache templates. Without it: ./Templates when it exists, else the copies built into the binary.")
    var templates: String?

    @Option(name: .customLong("gauge-max"), help: "The gauge's scale maximum in dollars per hour; a higher rate widens the scale.")
    var gaugeMax: Double = 250_000

    @Option(help: "Most raw updates kept for /api/metrics; heavy traffic shortens the 1-hour window instead of growing memory.")
    var rawCapacity = 1_000_000

    @Option(help: "Most updates in one /api/metrics response.")
    var maxPage = 10_000

    @Option(name: .customLong("cors-origin"), help: "An origin allowed to read the API from a browser (GET only); repeat for more. None by default.")
    var corsOrigins: [String] = []

    @Option(help: "Log level: trace, debug, info, notice, warning, error or critical.")
    var logLevel: Logger.Level = .info

    @OptionGroup(title: "Archive")
    var archiveOptions: ArchiveOptions

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be from 0 (any free port) to 65535; got \(port)") }
        guard load > 0, load <= 1000 else { throw ValidationError("--load must be greater than 0 and at most 1000; got \(load)") }
        guard backfill.duration <= .seconds(86_400) else {
            throw ValidationError("--backfill must be at most 24h; got \(DurationText.format(backfill.duration))")
        }
        guard renderInterval.duration >= .milliseconds(100) else {
            throw ValidationError("--render-interval must be at least 100ms; got \(DurationText.format(renderInterval.duration))")
        }
        guard Money.micros(fromDollars: gaugeMax).map({ $0 > 0 }) == true else {
            throw ValidationError("--gauge-max must be a positive number of dollars; got \(gaugeMax)")
        }
        guard rawCapacity >= 1 else { throw ValidationError("--raw-capacity must be at least 1; got \(rawCapacity)") }
        guard maxPage >= 1 else { throw ValidationError("--max-page must be at least 1; got \(maxPage)") }
        for origin in corsOrigins where !(origin.hasPrefix("http://") || origin.hasPrefix("https://")) || origin.hasSuffix("/") {
            throw ValidationError("--cors-origin must be an origin such as https://status.example.com (scheme and host, no path); got '\(origin)'")
        }
    }

    func run() async throws {
        let logger = bootstrapLogging(logLevel)
        let renderer = try makeRenderer(templates: templates, renderInterval: renderInterval.duration, gaugeMax: gaugeMax, logger: logger)
        let priceTable = try loadPrices(prices)
        let token = ingestToken ?? ProcessInfo.processInfo.environment["SPENDBOARD_INGEST_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        let clock = WallClock()
        let journal: SQLiteJournal
        do {
            journal = try SQLiteJournal(directory: data)
        } catch {
            logger.critical("cannot open the data folder", metadata: ["data": "\(data)", "error": "\(error)"])
            throw ExitCode(2)
        }
        let store = UsageStore(configuration: .init(rawCapacity: rawCapacity), clock: clock, journal: journal)
        let newest = try await store.restore()
        let restored = await store.status
        logger.info("restored stored usage", metadata: ["data": "\(journal.path)", "recentUpdates": "\(restored.rawUpdates)", "series": "\(restored.series)"])
        let board = SnapshotBoard()
        let settings = ServerSettings(
            host: host, port: port, maxPage: maxPage, corsOrigins: corsOrigins, renderInterval: renderInterval.duration,
            ingestToken: token
        )
        var services: [any Service] = []
        if !noSimulator {
            let simulator = Simulator(configuration: .init(seed: seed, load: load))
            let liveFrom = try await SimulatorService.backfill(
                simulator: simulator, store: store, duration: backfill.duration, resumingAfter: newest, logger: logger
            )
            services.append(SimulatorService(simulator: simulator, store: store, start: liveFrom, logger: logger))
        }
        let site = LiveSite()
        let archive = try archiveOptions.makeArchive(output: output, renderer: renderer, logger: logger)
        let pipeline = DashboardPipeline(
            renderer: renderer, publisher: Publisher(outputDirectory: output, logger: logger), site: site,
            renderInterval: settings.renderInterval, archive: archive
        )
        let snapshots = SnapshotService(
            store: store, board: board, interval: settings.renderInterval, clock: ContinuousClock(), logger: logger,
            pipeline: { snapshot in try pipeline.run(snapshot) }
        )
        // The first snapshot exists before the first request can arrive.
        await snapshots.tick()
        services.append(snapshots)
        let app = SpendboardApplication.application(
            store: store, board: board, site: site, settings: settings, decoder: UsageBatchDecoder(prices: priceTable),
            services: services, logger: logger, archive: archive
        )
        logger.info(
            "serving",
            metadata: ["url": "http://\(host):\(port)/", "simulator": "\(noSimulator ? "off" : "seed \(seed), load \(load)")", "ingest": "\(token == nil ? "loopback only" : "bearer token")"]
        )
        try await app.runService()
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}

/// The built-in reference prices, or those of a price file.
func loadPrices(_ path: String?) throws -> PriceTable {
    guard let path else { return .reference }
    guard let data = FileManager.default.contents(atPath: path) else {
        throw ValidationError("--prices: cannot read \(path)")
    }
    do {
        return try PriceTable.parse(Array(data))
    } catch {
        throw ValidationError("--prices: \(error)")
    }
}
