import Foundation
import Logging
import SpendCore

@testable import SpendReport

/// Shared inputs of the SpendReport tests.
enum Fixtures {
    static let logger = Logger(label: "spendboard.tests", factory: { _ in SwiftLogNoOpLogHandler() })

    /// The package's root folder (…/Tests/SpendReportTests/Fixtures.swift → …).
    static let packageRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    static let templatesDirectory = packageRoot + "/Templates"
    static let goldenDirectory = packageRoot + "/Tests/SpendReportTests/Golden"

    /// The fixed instant of the seeded snapshot.
    static let now = Timestamp(iso8601: "2026-11-29T14:05:02.500Z")!

    /// 24 hours of simulated history with seed 7 at a reduced load, taken at `now`.
    static let seededSnapshot: Snapshot = {
        let simulator = Simulator(configuration: .init(seed: 7, load: 0.02))
        var ledger = UsageLedger()
        let end = now.floored(to: .seconds(1))
        for batch in simulator.hourlyUpdates(from: end.advanced(by: .seconds(-86_400)), to: end) {
            ledger.ingest(batch, now: now)
        }
        var snapshot = ledger.snapshot(at: now, windows: true)
        snapshot.anomalies = incidents(tenant: "acme", customer: "cust-042", model: "gpt-4", note: "load test, \"planned\"")
        return snapshot
    }()

    /// An open spike of one customer and a resolved, acknowledged drop of its tenant, as the
    /// detector reports them at `now`.
    static func incidents(tenant: String, customer: String, model: String, note: String) -> [Incident] {
        let start = now.advanced(by: .seconds(-12 * 60))
        let points = (0..<27).map { minute in
            let end = start.advanced(by: .seconds(Int64(minute - 15) * 60))
            let actual = minute >= 15 ? 1_900.0 + Double(minute % 4) * 80 : 610 + Double(minute % 3) * 25
            return Incident.Point(end: end, actualPerHour: actual, expectedPerHour: 620, lowerPerHour: 155, upperPerHour: 930)
        }
        let spike = Incident(
            id: Incident.id(kind: .spike, subject: .customer(tenant, customer), start: start), kind: .spike, subject: .customer(tenant, customer),
            state: .open, start: start, openedAt: start.advanced(by: .seconds(60)), lastSeen: now, end: nil, expectedPerHour: 620,
            actualPerHour: 2_140.5, peakActualPerHour: 2_380, peakExpectedPerHour: 620, impact: 283.4, spent: Money(micros: 402_310_000),
            contributors: [.init(subject: .model(model), actualPerHour: 2_140.5, expectedPerHour: 620)], acknowledgement: nil,
            baseline: .init(meanPerMinute: 10.3, deviationPerMinute: 1.1, callsPerMinute: 240), adapted: false, points: points)
        let dropStart = now.advanced(by: .seconds(-5 * 3600))
        let drop = Incident(
            id: Incident.id(kind: .drop, subject: .tenant(tenant), start: dropStart), kind: .drop, subject: .tenant(tenant), state: .resolved,
            start: dropStart, openedAt: dropStart.advanced(by: .seconds(60)), lastSeen: dropStart.advanced(by: .seconds(900)),
            end: dropStart.advanced(by: .seconds(900)), expectedPerHour: 11_200, actualPerHour: 0, peakActualPerHour: 0,
            peakExpectedPerHour: 11_900, impact: -2_870, spent: .zero,
            contributors: [.init(subject: .customer(tenant, customer), actualPerHour: 0, expectedPerHour: 4_100)],
            acknowledgement: .init(at: dropStart.advanced(by: .seconds(300)), reason: .expected, note: note),
            baseline: .init(meanPerMinute: 186, deviationPerMinute: 9, callsPerMinute: 3_100), adapted: false,
            points: points.map {
                .init(
                    end: $0.end.advanced(by: .seconds(-5 * 3600)), actualPerHour: $0.actualPerHour > 1000 ? 0 : 11_000, expectedPerHour: 11_200,
                    lowerPerHour: 2_800, upperPerHour: 16_800)
            })
        return [spike, drop]
    }

    /// Names that break markup when not escaped, or XML when not sanitized.
    static let hostileCustomers = [
        "<script>x</script>", "&", "a\"b'c", "]]>", "ctl\u{1}\u{7}char", "--><!--", "&amp;", "\u{1F600} emoji",
        String(repeating: "long-", count: 20),
    ]
    static let hostileTenant = "<b>ten&ant</b>"
    static let hostileModel = "<img src=x onerror=alert(1)>"

    /// A snapshot whose customers, tenant and one model carry hostile names.
    static let hostileSnapshot: Snapshot = {
        var ledger = UsageLedger()
        var updates: [UsageUpdate] = []
        for (index, customer) in hostileCustomers.enumerated() {
            updates.append(
                UsageUpdate(
                    timestamp: now.advanced(by: .seconds(-60 - Int64(index))), tenantId: hostileTenant, customerId: customer,
                    model: index % 2 == 0 ? hostileModel : "gpt-4", calls: 3, totalTokens: 900, inputTokens: 600,
                    outputTokens: 300, cost: Money(micros: 10_000 * Int64(index + 1)), avgLatencyMs: 120
                ))
        }
        ledger.ingest(updates, now: now)
        var snapshot = ledger.snapshot(at: now, windows: true)
        snapshot.anomalies = incidents(
            tenant: hostileTenant, customer: hostileCustomers[0], model: hostileModel, note: hostileCustomers[4] + " </p><script>")
        return snapshot
    }()

    static func renderer(
        templates: String? = templatesDirectory, fallback: Bool = false, gaugeMax: Money = Money(dollars: 250_000)
    ) throws -> ReportRenderer {
        try ReportRenderer(
            configuration: .init(templatesDirectory: templates, fallsBackToBundledTemplates: fallback, gaugeMax: gaugeMax),
            logger: logger
        )
    }

    /// A fresh empty folder under the system's temporary folder.
    static func temporaryDirectory(_ name: String = #function) throws -> String {
        let path = NSTemporaryDirectory() + "spendreport-\(name.filter { $0.isLetter })-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// A copy of `Templates/` in a temporary folder, with `edit` applied to it.
    static func templatesCopy(_ edit: (String) throws -> Void) throws -> String {
        let directory = try temporaryDirectory("templates")
        for name in TemplateSet.required {
            try FileManager.default.copyItem(atPath: "\(templatesDirectory)/\(name).mustache", toPath: "\(directory)/\(name).mustache")
        }
        try edit(directory)
        return directory
    }

    static func text(_ file: RenderedSite.File?) -> String {
        file.map { String(decoding: $0.bytes, as: UTF8.self) } ?? ""
    }
}
