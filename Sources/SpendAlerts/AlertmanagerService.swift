import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import ServiceLifecycle
import SpendCore
import Synchronization

/// Posts open anomalies to an Alertmanager (`--alertmanager URL`), as its client protocol asks:
/// every firing alert is re-sent while it lasts, well before the `endsAt` it carries, and a
/// resolved one is sent with its real end for a while after, so a missed post is not mistaken
/// for a resolution and a restart of either side heals by itself. Alertmanager does the
/// grouping, routing, silencing and repeating; nothing here is stored.
///
/// An alert's labels identify the anomaly (`alertname="SpendboardAnomaly"`, `anomaly_id`,
/// `kind`, `scope` and the subject's `tenant`, `customer` or `model`); its annotations say what
/// the page says (a summary, expected and actual $/h, impact, acknowledgement).
public final class AlertmanagerService: Service, Sendable {
    public let url: String
    let incidents: @Sendable () async -> [Incident]
    let clock: any TimeSource
    let interval: Duration
    let client: HTTPClient
    let logger: Logger
    private let state: Mutex<AlertmanagerStatus>

    /// Resolved anomalies are re-sent this long after they end (Prometheus does the same).
    public static let resolvedResend: Duration = .seconds(15 * 60)

    /// - Parameters:
    ///   - url: Alertmanager's base address, such as `http://127.0.0.1:9093`.
    ///   - interval: how often the alerts are posted; each firing alert says it lasts four
    ///     intervals, so three missed posts in a row do not resolve it.
    /// How long after an anomaly's end it is resolved (`AnomalySettings.resolveAfter`): the
    /// resolution is re-sent for ``resolvedResend`` from then.
    let resolveAfter: Duration

    public init(
        url: String, incidents: @escaping @Sendable () async -> [Incident], clock: any TimeSource = WallClock(),
        interval: Duration = .seconds(30), resolveAfter: Duration = AnomalySettings().resolveAfter, logger: Logger
    ) {
        self.url = url
        self.resolveAfter = resolveAfter
        self.incidents = incidents
        self.clock = clock
        self.interval = interval
        self.logger = logger
        state = Mutex(AlertmanagerStatus(target: WebhookDelivery.display(url)))
        client = HTTPClient(
            eventLoopGroup: HTTPClient.defaultEventLoopGroup,
            configuration: .init(redirectConfiguration: .disallow, timeout: .init(connect: .seconds(5), read: .seconds(10)))
        )
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                // A post to an Alertmanager that does not answer must not hold up shutdown.
                try await cancelWhenGracefulShutdown {
                    await self.post()
                    try await Task.sleep(for: self.interval)
                }
            } catch {
                break
            }
        }
        try await client.shutdown()
    }

    public func shutdown() async throws {
        try await client.shutdown()
    }

    public var status: AlertmanagerStatus { state.withLock { $0 } }

    /// Posts the current alerts once; the outcome is kept for `/api/health`.
    public func post() async {
        let now = clock.now
        let alerts = Self.alerts(await incidents(), now: now, interval: interval, resolveAfter: resolveAfter)
        guard alerts.count > 0 else {
            // Nothing open or lately resolved: nothing to say (Alertmanager resolves what it
            // was told by its endsAt).
            state.withLock {
                $0.lastError = nil
                $0.alertsSent = 0
            }
            return
        }
        var request = HTTPClientRequest(url: url.hasSuffix("/") ? url + "api/v2/alerts" : url + "/api/v2/alerts")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "spendboard")
        request.body = .bytes(ByteBuffer(bytes: alerts.body))
        do {
            let response = try await client.execute(request, timeout: .seconds(10), logger: logger)
            let answer = try await response.body.collect(upTo: 64 * 1024)
            guard response.status.code == 200 else {
                let text = String(buffer: answer).prefix(200)
                throw WebhookDelivery.AttemptError(description: "Alertmanager answered \(response.status.code): \(text)")
            }
            state.withLock {
                $0.lastSuccess = now
                $0.lastError = nil
                $0.alertsSent = alerts.count
            }
        } catch {
            logger.warning("cannot post alerts to Alertmanager", metadata: ["target": "\(WebhookDelivery.display(url))", "error": "\(error)"])
            state.withLock { $0.lastError = "\(error)" }
        }
    }

    /// The body of one post: every open incident, firing until four intervals from `now`, and
    /// each incident resolved in the last ``resolvedResend``, ending when it ended. An incident
    /// is resolved `resolveAfter` after its end.
    public static func alerts(_ incidents: [Incident], now: Timestamp, interval: Duration, resolveAfter: Duration) -> (
        body: [UInt8], count: Int
    ) {
        let firingUntil = now.advanced(by: interval * 4)
        let sent = incidents.filter { incident in
            incident.state == .open || (incident.end.map { $0.duration(to: now) <= resolveAfter + resolvedResend } ?? false)
        }
        .sorted { $0.id < $1.id }
        var writer = JSONWriter(capacity: 512 * sent.count + 2)
        writer.array(sent) { w, incident in
            w.object { o in
                o.field("labels") { w in
                    w.object { l in
                        l.field("alertname") { $0.string("SpendboardAnomaly") }
                        l.field("anomaly_id") { $0.string(incident.id) }
                        l.field("kind") { $0.string(incident.kind.rawValue) }
                        l.field("scope") { $0.string(incident.subject.scope.rawValue) }
                        if let tenant = incident.subject.tenant { l.field("tenant") { $0.string(tenant) } }
                        if let customer = incident.subject.customer { l.field("customer") { $0.string(customer) } }
                        if let model = incident.subject.model { l.field("model") { $0.string(model) } }
                    }
                }
                o.field("annotations") { w in
                    w.object { a in
                        a.field("summary") { $0.string(summary(incident)) }
                        a.field("expected_per_hour") { $0.string(dollars(incident.expectedPerHour)) }
                        a.field("actual_per_hour") { $0.string(dollars(incident.actualPerHour)) }
                        a.field("impact") { $0.string(dollars(incident.impact)) }
                        if let acknowledgement = incident.acknowledgement {
                            let note = acknowledgement.note.map { " (\($0))" } ?? ""
                            a.field("acknowledged") { $0.string(acknowledgement.reason.rawValue + note) }
                        }
                    }
                }
                o.field("startsAt") { $0.timestamp(incident.start) }
                o.field("endsAt") { $0.timestamp(incident.end ?? firingUntil) }
            }
        }
        return (writer.bytes, sent.count)
    }

    /// `Spike: acme / cust-007 at $812.40/h, expected $101.22/h`.
    static func summary(_ incident: Incident) -> String {
        let kind = incident.kind == .spike ? "Spike" : "Drop"
        return "\(kind): \(incident.subject) at \(dollars(incident.actualPerHour))/h, expected \(dollars(incident.expectedPerHour))/h"
    }

    /// Two decimals, with the sign in front: `$12.30`, `-$4.00`. Estimates, rounded where read.
    static func dollars(_ value: Double) -> String {
        let text = String(format: "$%.2f", abs(value))
        return value < 0 && text != "$0.00" ? "-" + text : text
    }
}
