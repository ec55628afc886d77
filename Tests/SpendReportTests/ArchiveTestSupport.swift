import Foundation
import Logging
import SpendCore

@testable import SpendReport

/// A throw-away archive folder filled from one rendered snapshot, re-stamped with any time.
final class ArchiveFixture {
    static let renderer = try! ReportRenderer(configuration: .init(templatesDirectory: Fixtures.templatesDirectory), logger: Fixtures.logger)
    static let pages = try! ArchiveRenderer(renderer: renderer)
    static let site = try! renderer.render(Fixtures.seededSnapshot)

    let root: String
    let clock: ManualTimeSource
    let archive: ArchiveWriter
    var catalog: ArchiveCatalog { archive.catalog }

    var directory: String { root + "/archive" }

    init(retention: ArchiveRetention = .init(), every: Duration = .seconds(300), now: Timestamp = Fixtures.now) {
        root = NSTemporaryDirectory() + "spendboard-archive-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        clock = ManualTimeSource(now)
        archive = ArchiveWriter(
            catalog: ArchiveCatalog(directory: root + "/archive", logger: Fixtures.logger), renderer: Self.pages,
            configuration: .init(every: every, retention: retention, durable: false, retryAfter: .seconds(30)), clock: clock, logger: Fixtures.logger
        )
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    /// The fixture's site and snapshot as if taken at `time`.
    static func stamped(_ time: Timestamp) -> (RenderedSite, Snapshot) {
        var site = Self.site
        site.generatedAt = time
        var snapshot = Fixtures.seededSnapshot
        snapshot.generatedAt = time
        return (site, snapshot)
    }

    /// Offers the snapshot of `time` to the archive, as the pipeline does after each publish.
    @discardableResult
    func offer(_ time: Timestamp) -> ArchiveWriter.Outcome {
        let (site, snapshot) = Self.stamped(time)
        return archive.archiveIfDue(site, snapshot: snapshot)
    }

    /// Archives one snapshot per `spacing`, starting at `start`.
    func fill(_ count: Int, from start: Timestamp = Fixtures.now, spacing: Duration = .seconds(300)) {
        for index in 0..<count {
            let (site, snapshot) = Self.stamped(start.advanced(by: spacing * index))
            _ = try! archive.archive(site, entry: ArchiveEntry(snapshot: snapshot))
        }
    }

    func read(_ relative: String) -> String? {
        FileManager.default.contents(atPath: directory + "/" + relative).map { String(decoding: $0, as: UTF8.self) }
    }

    func names() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
    }

    func folders() -> [String] { names().filter(ArchiveName.isSnapshotFolder) }

    /// Every file under the archive folder, relative.
    func allFiles() -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: directory) else { return [] }
        var files: [String] = []
        while let path = walker.nextObject() as? String {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: directory + "/" + path, isDirectory: &isDirectory), !isDirectory.boolValue {
                files.append(path)
            }
        }
        return files.sorted()
    }
}

/// The `content` of a meta-refresh's URL in a page, if it has one.
func refreshTarget(_ page: String) -> String? {
    guard let start = page.firstRange(of: "http-equiv=\"refresh\" content=\""),
        let url = page[start.upperBound...].firstRange(of: "url="),
        let end = page[url.upperBound...].firstIndex(of: "\"")
    else { return nil }
    return String(page[url.upperBound..<end])
}

/// The href of the link with `rel="<rel>"`, if any.
func relLink(_ page: String, _ rel: String) -> String? {
    guard let start = page.firstRange(of: "rel=\"\(rel)\" href=\""), let end = page[start.upperBound...].firstIndex(of: "\"") else { return nil }
    return String(page[start.upperBound..<end])
}
