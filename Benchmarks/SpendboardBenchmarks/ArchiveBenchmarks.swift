import Benchmark
import Foundation
import SpendCore
import SpendReport

/// One archive step, and the archive's list pages for 10,000 snapshots.
///
/// Every use of the archive's API is in this file; `archiveOnce` is the step measured.
func archiveBenchmarks() {
    // One snapshot (24 h at the reference rate, rendered and published as the server does)
    // archived onto an archive holding a day of snapshots (288 at 5 minutes), pruning the
    // oldest; no fsync, in tmpfs when there is one, so that this measures the CPU work: the
    // folder's files written (stats.json and the SVGs linked to the published ones), the four
    // pages rendered and validated, the manifest, the previous snapshot's links, the index,
    // `latest.html` and the day page.
    let folder = Box<String?>(nil)
    Benchmark("archive-one-snapshot-onto-288", configuration: configuration(maxIterations: 600)) { (benchmark: Benchmark, step: ArchiveStep) in
        try archiveOnce(step.archive, site: step.site, snapshot: step.snapshot, at: step.nextTime(), publishedIn: step.published)
    } setup: {
        let step = try ArchiveStep(existing: 288)
        folder.value = step.root
        return step
    } teardown: {
        if let root = folder.value { try? FileManager.default.removeItem(atPath: root) }
    }

    // The archive index and every day page (36) for 10,000 snapshots 5 minutes apart.
    Benchmark("archive-list-pages-10000-snapshots", configuration: configuration(maxIterations: 200)) {
        (benchmark: Benchmark, input: (pages: ArchiveRenderer, entries: [ArchiveEntry])) in
        let pages = try input.pages.listPages(input.entries)
        precondition(pages.count == 38)
        blackHole(pages)
    } setup: {
        (pages: try ArchiveRenderer(renderer: Fixtures.renderer()), entries: catalog(count: 10_000))
    }
}

/// Archives `site` as the snapshot of `time`, as the pipeline does after a publish.
func archiveOnce(_ archive: ArchiveWriter, site: RenderedSite, snapshot: Snapshot, at time: Timestamp, publishedIn published: String?) throws {
    var site = site
    var snapshot = snapshot
    site.generatedAt = time
    snapshot.generatedAt = time
    try archive.archive(site, entry: ArchiveEntry(snapshot: snapshot), publishedIn: published)
}

/// A rendered and published site, and an archive (no fsync, keeping `existing` snapshots)
/// already holding `existing` snapshots of it, re-stamped 5 minutes apart.
final class ArchiveStep {
    let root: String
    let site: RenderedSite
    let snapshot: Snapshot
    let published: String
    let archive: ArchiveWriter
    private var next = 0

    init(existing: Int) throws {
        let base = FileManager.default.isWritableFile(atPath: "/dev/shm") ? "/dev/shm/" : NSTemporaryDirectory()
        root = base + "spendboard-bench-archive-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let renderer = try Fixtures.renderer()
        snapshot = Fixtures.day().snapshot(at: Fixtures.now)
        site = try renderer.render(snapshot)
        let publisher = Publisher(outputDirectory: root, durable: false, logger: Fixtures.logger)
        published = try publisher.publish(site).folder
        archive = ArchiveWriter(
            catalog: ArchiveCatalog(directory: root + "/archive", logger: Fixtures.logger), renderer: try ArchiveRenderer(renderer: renderer),
            configuration: .init(every: .seconds(300), retention: .init(keep: existing), durable: false),
            clock: ManualTimeSource(Fixtures.now), logger: Fixtures.logger
        )
        for _ in 0..<existing {
            try archiveOnce(archive, site: site, snapshot: snapshot, at: nextTime(), publishedIn: published)
        }
    }

    /// The next snapshot's time: 5 minutes after the last one.
    func nextTime() -> Timestamp {
        defer { next += 1 }
        return Fixtures.now.advanced(by: .seconds(300 * Int64(next)))
    }
}

/// `count` catalog entries 5 minutes apart, ending at `Fixtures.now`.
func catalog(count: Int) -> [ArchiveEntry] {
    (0..<count).map { index in
        let time = Fixtures.now.advanced(by: .seconds(-300 * Int64(index)))
        return ArchiveEntry(
            folder: ArchiveName.folder(for: time), generatedAt: time, spendRatePerHour: Money(dollars: Int64(1000 + index % 977)),
            topCustomer: .init(customerId: "customer-\(index % 53)", tenantId: "tenant-\(index % 7)", cost: Money(dollars: 1))
        )
    }
}
