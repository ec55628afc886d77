// The archive benchmark: `swift run -c release spendboard-bench archive [--quick]`.
import Foundation
import Logging
import SpendCore
import SpendReport

/// Times archiving one snapshot (the files already rendered) into an archive that already
/// holds a day of snapshots, durable (fsync, as served) and not; then the archive index and
/// every day page for 10,000 snapshots.
func runArchiveBenchmark(quick: Bool) {
    let clock = ContinuousClock()
    let logger = Logger(label: "bench", factory: { _ in SwiftLogNoOpLogHandler() })
    let renderer = try! ReportRenderer(configuration: .init(templatesDirectory: nil), logger: logger)
    let pages = try! ArchiveRenderer(renderer: renderer)
    let now = Timestamp(iso8601: "2026-11-29T14:05:00.000Z")!

    // A realistic snapshot: 24 h (2 h with --quick) at the reference rate.
    let simulator = Simulator(configuration: .init(seed: 1, load: 1))
    var ledger = UsageLedger()
    var from = now.advanced(by: .seconds(quick ? -7200 : -86_400))
    while from < now {
        let to = min(now, from.advanced(by: .seconds(3600)))
        ledger.ingest(simulator.updates(from: from, to: to), now: now)
        from = to
    }
    let snapshot = ledger.snapshot(at: now)
    let site = try! renderer.render(snapshot)

    let existing = 288
    let runs = quick ? 30 : 100
    // The output folder's file system (here ext4 on a virtual disk), then tmpfs for the CPU
    // alone; with --archive-keep (one snapshot pruned per archive) and without.
    let places = [("", NSTemporaryDirectory())] + (FileManager.default.fileExists(atPath: "/dev/shm") ? [("tmpfs, ", "/dev/shm/")] : [])
    for (place, base) in places {
        for (durable, keep) in [(true, true), (true, false), (false, true)] where place.isEmpty || !durable {
            let root = base + "spendboard-bench-archive-" + UUID().uuidString
            try! FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: root) }
            let archive = SnapshotArchive(
                directory: root + "/archive", renderer: pages,
                configuration: .init(every: .seconds(300), retention: .init(keep: keep ? existing : nil), durable: durable),
                clock: ManualTimeSource(now), logger: logger
            )
            var times: [Double] = []
            for index in 0..<(existing + runs) {
                var stamped = site
                var stampedSnapshot = snapshot
                stamped.generatedAt = now.advanced(by: .seconds(300 * Int64(index)))
                stampedSnapshot.generatedAt = stamped.generatedAt
                let elapsed = clock.measure { _ = try! archive.archive(stamped, entry: ArchiveEntry(snapshot: stampedSnapshot)) }
                if index >= existing { times.append(elapsed.secondsDouble * 1000) }
            }
            report(
                "archive 1 snapshot onto \(existing), \(place)\(durable ? "fsync" : "no fsync"), \(keep ? "prunes 1" : "no pruning") (median of \(runs))",
                String(format: "%.2f ms (p90 %.2f)", median(times), times.sorted()[times.count * 9 / 10]), target: "≤ 10 ms"
            )
        }
    }

    // Where the time of one archive goes.
    do {
        let entry = ArchiveEntry(snapshot: snapshot)
        let parts = try! ArchiveRenderer.PageParts(page: site["index.html"]!.bytes)
        var day: [ArchiveEntry] = []
        for index in 0..<existing {
            let time = now.advanced(by: .seconds(-300 * Int64(index)))
            day.append(ArchiveEntry(folder: ArchiveName.folder(for: time), generatedAt: time, spendRateMicrosPerHour: 1, topCustomer: entry.topCustomer))
        }
        var rendered: [(path: String, bytes: [UInt8])] = []
        var list: [(path: String, bytes: [UInt8])] = []
        func time(_ body: () -> Void) -> Double {
            var times: [Double] = []
            for _ in 0..<20 { times.append(clock.measure(body).secondsDouble * 1000) }
            return median(times)
        }
        report("  render the 4 pages of one snapshot", String(format: "%.2f ms", time { rendered = try! pages.snapshotPages(entry, parts: parts, previous: entry, next: nil) }), target: "-")
        report("  validate them", String(format: "%.2f ms", time { for page in rendered { precondition(XMLValidator.validate(page.bytes, file: page.path).isEmpty) } }), target: "-")
        report("  SHA-256 of the folder's files", String(format: "%.2f ms", time { for file in site.files { _ = ArchiveManifest.sha256Hex(file.bytes) } }), target: "-")
        report("  index + 1 day page + latest, \(existing) snapshots", String(format: "%.2f ms", time { list = try! pages.listPages(day, only: [entry.day]) }), target: "-")
        report("  validate them", String(format: "%.2f ms", time { for page in list { precondition(XMLValidator.validate(page.bytes, file: page.path).isEmpty) } }), target: "-")
    }

    // Index and day pages for 10,000 snapshots 5 minutes apart (about 35 days).
    var entries: [ArchiveEntry] = []
    entries.reserveCapacity(10_000)
    for index in 0..<10_000 {
        let time = now.advanced(by: .seconds(-300 * Int64(index)))
        entries.append(
            ArchiveEntry(
                folder: ArchiveName.folder(for: time), generatedAt: time, spendRateMicrosPerHour: 1_000_000 * Int64(1000 + index % 977),
                topCustomer: .init(customerId: "customer-\(index % 53)", tenantId: "tenant-\(index % 7)", costMicros: 1_000_000)
            ))
    }
    var listTimes: [Double] = []
    var bytes = 0
    var count = 0
    for _ in 0..<(quick ? 5 : 20) {
        listTimes.append(clock.measure {
            let rendered = try! pages.listPages(entries)
            count = rendered.count
            bytes = rendered.reduce(0) { $0 + $1.bytes.count }
        }.secondsDouble * 1000)
    }
    report(
        "archive index + \(count - 2) day pages for 10,000 snapshots (\(bytes / 1024) KB, median)", String(format: "%.1f ms", median(listTimes)),
        target: "≤ 100 ms"
    )
}
