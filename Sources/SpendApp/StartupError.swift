import Foundation
import Logging
import ServiceLifecycle
import SpendAlerts
import SpendCore
import SpendPostgres
import SpendReport
import SpendServer
import SpendStorage

/// Why Spendboard could not start: a setting, the templates, the data folder. The executable
/// prints it and exits with code 2; nothing was served or published.
public struct StartupError: Error, CustomStringConvertible, Sendable {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}

/// The parts `serve` and `render` (and `archive prune`) build the same way.
enum Components {
    /// The renderer with its templates loaded and checked: from `settings.templates` when given
    /// (it must exist), else from `./Templates`, else the built-in copies.
    static func renderer(_ settings: ReportSettings, logger: Logger) throws -> ReportRenderer {
        let configuration = try settings.rendererConfiguration()
        do {
            return try ReportRenderer(configuration: configuration, logger: logger)
        } catch {
            throw StartupError("cannot load the templates: \(error)")
        }
    }

    static func prices(_ path: String?) throws(StartupError) -> PriceTable {
        do {
            return try PriceTable.load(path)
        } catch {
            throw StartupError("--prices: \(error)")
        }
    }

    /// The archive writer of `output/archive`, its catalog read once here, at start.
    static func archive(_ settings: ArchiveSettings, output: String, renderer: ReportRenderer, logger: Logger) throws -> ArchiveWriter {
        let pages: ArchiveRenderer
        do {
            pages = try ArchiveRenderer(renderer: renderer)
        } catch {
            throw StartupError("cannot render archive pages: \(error)")
        }
        let catalog = ArchiveCatalog(directory: output + "/archive", logger: logger)
        return ArchiveWriter(
            catalog: catalog, renderer: pages, configuration: .init(every: settings.every, retention: settings.retention),
            clock: WallClock(), logger: logger
        )
    }
}

extension Components {
    /// The durable store: a shared PostgreSQL with `--store`, else SQLite in the data folder.
    struct Storage: CustomStringConvertible {
        var journal: any UsageJournal & AnomalyJournal & AlertOutbox
        /// The shared database, nil with SQLite.
        var cluster: PostgresJournal?
        var description: String
    }

    static func storage(_ configuration: ServeConfiguration, logger: Logger) async throws -> Storage {
        if let url = configuration.store {
            do {
                let journal = try await PostgresJournal(location: PostgresLocation(url: url), logger: logger)
                logger.info("cluster node", metadata: ["node": "\(journal.node)", "database": "\(journal.location)"])
                return Storage(journal: journal, cluster: journal, description: journal.location.description)
            } catch {
                throw StartupError("--store: \(error)")
            }
        }
        do {
            let journal = try SQLiteJournal(directory: configuration.data)
            return Storage(journal: journal, cluster: nil, description: journal.path)
        } catch {
            throw StartupError("cannot open the data folder \(configuration.data): \(error)")
        }
    }
}

extension PriceTable {
    /// The built-in reference prices (nil), or those of a price file; a `FormatError` naming
    /// every problem, or the file when it cannot be read.
    public static func load(_ path: String?) throws(FormatError) -> PriceTable {
        guard let path else { return .reference }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw FormatError(problems: ["cannot read \(path)"])
        }
        return try PriceTable.parse(Array(data))
    }
}

extension ArchiveWriter {
    /// The writer of `report.output/archive` with the report's templates, for commands that
    /// change the archive without serving (`spendboard archive prune`).
    public static func opening(_ settings: ArchiveSettings, report: ReportSettings, logger: Logger) throws -> ArchiveWriter {
        try Components.archive(settings, output: report.output, renderer: Components.renderer(report, logger: logger), logger: logger)
    }
}

extension Components {
    /// The alert services of `settings`, and how they fare for `/api/health` (nil when there
    /// is no target). Each webhook gets its cursor in the outbox here, before anything runs.
    static func alerts(
        _ settings: AlertSettings, outbox: any AlertOutbox, store: UsageStore, resolveAfter: Duration, logger: Logger
    ) async throws -> (services: [any Service], health: SpendboardApplication.AlertHealthSource?) {
        var delivery: WebhookDelivery?
        if let signer = try settings.signer() {
            do {
                try await outbox.registerAlertTargets(settings.webhooks)
            } catch {
                throw StartupError("cannot prepare alert delivery in the data folder: \(error)")
            }
            delivery = WebhookDelivery(targets: settings.webhooks, outbox: outbox, signer: signer, policy: settings.retry, logger: logger)
            logger.info("alert webhooks", metadata: ["targets": "\(settings.webhooks.map(WebhookDelivery.display))"])
        }
        let alertmanager = settings.alertmanager.map { url in
            AlertmanagerService(
                url: url, incidents: { await store.incidents }, interval: settings.alertmanagerInterval, resolveAfter: resolveAfter,
                logger: logger)
        }
        if let alertmanager { logger.info("alertmanager", metadata: ["target": "\(WebhookDelivery.display(alertmanager.url))"]) }
        let services: [any Service] = [delivery as (any Service)?, alertmanager].compactMap { $0 }
        let webhookDelivery = delivery
        guard delivery != nil || alertmanager != nil else { return ([], nil) }
        return (
            services,
            {
                let webhooks = webhookDelivery?.status()
                return AlertHealth(webhooks: webhooks?.targets ?? [], webhookError: webhooks?.error, alertmanager: alertmanager?.status)
            }
        )
    }
}
