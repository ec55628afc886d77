import Foundation
import SpendCore
import Testing

@testable import SpendReport

struct ArchiveScheduleTests {
    static let t0 = Timestamp(iso8601: "2026-11-29T14:04:58.000Z")!

    @Test func archivesTheFirstSnapshotOfEachPeriod() {
        let schedule = ArchiveSchedule(every: .seconds(300))
        #expect(schedule.isDue(Self.t0, newestArchived: nil))
        #expect(schedule.isDue(Self.t0.advanced(by: .seconds(2)), newestArchived: Self.t0))  // 14:05:00 starts a period
        #expect(!schedule.isDue(Self.t0.advanced(by: .seconds(290)), newestArchived: Self.t0.advanced(by: .seconds(2))))
        #expect(schedule.isDue(Self.t0.advanced(by: .seconds(302)), newestArchived: Self.t0.advanced(by: .seconds(2))))
    }

    @Test func zeroIsOffAndAClockGoingBackwardsArchivesNothingOlder() {
        #expect(!ArchiveSchedule(every: .zero).isDue(Self.t0, newestArchived: nil))
        let schedule = ArchiveSchedule(every: .seconds(300))
        #expect(!schedule.isDue(Self.t0.advanced(by: .seconds(-3600)), newestArchived: Self.t0))
        #expect(!schedule.isDue(Self.t0, newestArchived: Self.t0))
    }

    /// The pipeline offers every tick (5 s) for 15 minutes from a manual clock: one folder per
    /// 5-minute period, named by the first snapshot's second.
    @Test func tickingClockArchivesOncePerPeriod() throws {
        let fixture = ArchiveFixture(every: .seconds(300), now: Self.t0)
        var archived: [String] = []
        for _ in 0..<(15 * 12) {
            if case .archived(let entry, _) = fixture.offer(fixture.clock.now) { archived.append(entry.folder) }
            fixture.clock.advance(by: .seconds(5))
        }
        #expect(archived == ["2026-11-29T14-04-58Z", "2026-11-29T14-05-03Z", "2026-11-29T14-10-03Z", "2026-11-29T14-15-03Z"])
        #expect(fixture.folders() == archived)
    }
}

struct ArchiveRetentionTests {
    static let now = Timestamp(iso8601: "2026-11-29T14:00:00.000Z")!

    static func entries(_ hoursAgo: [Int64]) -> [ArchiveEntry] {
        hoursAgo.map { hours in
            let time = now.advanced(by: .seconds(-3600 * hours))
            return ArchiveEntry(folder: ArchiveName.folder(for: time), generatedAt: time, spendRatePerHour: .zero, topCustomer: nil)
        }
    }

    @Test func keepOneKeepsOnlyTheNewest() {
        let all = Self.entries([5, 4, 3, 2, 1])
        let doomed = ArchiveRetention(keep: 1).doomed(all, now: Self.now)
        #expect(doomed.map(\.folder) == all.dropLast().map(\.folder))
    }

    @Test func maxAgeDeletesOlderButNeverTheNewest() {
        let all = Self.entries([50, 30, 20])
        #expect(ArchiveRetention(maxAge: .seconds(86_400)).doomed(all, now: Self.now).map(\.folder) == all.prefix(2).map(\.folder))
        // Every snapshot is too old: the newest still stays.
        #expect(ArchiveRetention(maxAge: .seconds(3600)).doomed(all, now: Self.now).count == 2)
        #expect(ArchiveRetention(keep: 1, maxAge: .seconds(1)).doomed(Self.entries([100]), now: Self.now).isEmpty)
    }

    @Test func clockGoingBackwardsDeletesNothingForAge() {
        let all = Self.entries([50, 30, 20])
        let past = Self.now.advanced(by: .seconds(-86_400 * 365))
        #expect(ArchiveRetention(maxAge: .seconds(3600)).doomed(all, now: past).isEmpty)
        // The count limit does not depend on the clock.
        #expect(ArchiveRetention(keep: 2, maxAge: .seconds(3600)).doomed(all, now: past).map(\.folder) == [all[0].folder])
    }

    @Test func pruningOnDiskKeepsOneAndRelinksTheOldest() throws {
        let fixture = ArchiveFixture(retention: .init(keep: 2))
        fixture.fill(4)
        let folders = fixture.folders()
        #expect(folders.count == 2)
        #expect(fixture.catalog.entries.map(\.folder) == folders.reversed())
        // The oldest kept snapshot no longer links to a deleted one.
        let oldest = try #require(fixture.read(folders[0] + "/index.html"))
        #expect(relLink(oldest, "prev") == nil)
        #expect(relLink(oldest, "next") == "../\(folders[1])/index.html")
        // The index lists exactly the kept snapshots; nothing is left half-deleted.
        let index = try #require(fixture.read("index.html"))
        #expect(index.components(separatedBy: "/index.html\"><time").count - 1 == 2)
        #expect(!fixture.names().contains { $0.hasPrefix(".") })
        #expect(try ArchiveVerifier.verify(directory: fixture.directory).problems == [])
    }

    @Test func keepOneWithAClockGoingBackwards() throws {
        let fixture = ArchiveFixture(retention: .init(keep: 1, maxAge: .seconds(600)))
        fixture.fill(3)
        fixture.clock.set(Fixtures.now.advanced(by: .seconds(-86_400)))
        try fixture.archive.prune()
        #expect(fixture.folders().count == 1)
        #expect(fixture.folders() == [ArchiveName.folder(for: Fixtures.now.advanced(by: .seconds(600)))])
        // A later prune with the clock far ahead still keeps the newest.
        fixture.clock.set(Fixtures.now.advanced(by: .seconds(86_400 * 400)))
        #expect(try fixture.archive.prune() == 0)
        #expect(fixture.folders().count == 1)
    }

    /// A crash between renaming a snapshot aside and deleting it leaves a hidden folder: it is
    /// never listed and the next run removes it.
    @Test func halfDeletedSnapshotsAreNeverListed() throws {
        let fixture = ArchiveFixture()
        fixture.fill(2)
        let victim = fixture.folders()[0]
        try FileManager.default.moveItem(atPath: fixture.directory + "/" + victim, toPath: fixture.directory + "/.trash-" + victim + "-1")
        try FileManager.default.removeItem(atPath: fixture.directory + "/.trash-" + victim + "-1/stats.json")
        try FileManager.default.createDirectory(atPath: fixture.directory + "/.partial-2030-01-01T00-00-00Z-1", withIntermediateDirectories: true)
        fixture.catalog.reload()
        #expect(fixture.catalog.entries.map(\.folder) == [fixture.folders()[0]])
        #expect(try ArchiveVerifier.verify(directory: fixture.directory).problems == [])
        try fixture.archive.prune()
        #expect(!fixture.names().contains { $0.hasPrefix(".") })
    }
}

struct ArchiveVerifyTests {
    @Test func cleanArchiveVerifies() throws {
        let fixture = ArchiveFixture()
        fixture.fill(3)
        let report = try ArchiveVerifier.verify(directory: fixture.directory)
        #expect(report.snapshots == 3)
        #expect(report.files == 3 * (ReportRenderer.embedIDs.count + 5))  // embeds, stats.json, index.html, archive pages
        #expect(report.problems == [])
    }

    @Test func catchesAFlippedByteAMissingFileAndAnExtraFile() throws {
        let fixture = ArchiveFixture()
        fixture.fill(2)
        let folder = fixture.folders()[1]
        let gauge = fixture.directory + "/" + folder + "/embed/gauge.svg"
        var bytes = try #require(FileManager.default.contents(atPath: gauge))
        bytes[bytes.count / 2] ^= 0x01
        try bytes.write(to: URL(fileURLWithPath: gauge))
        try FileManager.default.removeItem(atPath: fixture.directory + "/" + folder + "/stats.json")
        try Data("x".utf8).write(to: URL(fileURLWithPath: fixture.directory + "/" + folder + "/notes.txt"))
        let problems = try ArchiveVerifier.verify(directory: fixture.directory).problems
        #expect(problems.map { "\($0.path) \($0.kind)" }.sorted() == ["embed/gauge.svg altered", "notes.txt extra", "stats.json missing"])
        #expect(problems.allSatisfy { $0.folder == folder })
    }

    /// Nothing checked is not "all intact": an archive folder that cannot be read throws.
    @Test func anUnreadableArchiveFolderIsAnError() throws {
        let folder = try Fixtures.temporaryDirectory()
        try Data("x".utf8).write(to: URL(fileURLWithPath: folder + "/archive"))
        #expect(throws: ArchiveError.self) { try ArchiveVerifier.verify(directory: folder + "/archive") }
        #expect(throws: ArchiveError.self) { try ArchiveVerifier.verify(directory: folder + "/missing") }
    }

    @Test func missingManifestIsReported() throws {
        let fixture = ArchiveFixture()
        fixture.fill(1)
        try FileManager.default.removeItem(atPath: fixture.directory + "/" + fixture.folders()[0] + "/manifest.json")
        #expect(try ArchiveVerifier.verify(directory: fixture.directory).problems.map(\.kind) == [.manifest])
    }

    @Test func manifestRoundTripsAndMatchesSha256sum() throws {
        #expect(ArchiveManifest.sha256Hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        let entry = ArchiveEntry(snapshot: Fixtures.hostileSnapshot)
        let manifest = ArchiveManifest(entry: entry, files: [.init(path: "stats.json", contents: [1, 2, 3])])
        #expect(try ArchiveManifest.parse(manifest.jsonBytes(), path: "m") == manifest)
    }

    /// Manifests archived before exact money hold micro-dollars: they are still read, exactly.
    @Test func manifestsInMicroDollarsAreStillRead() throws {
        let old = """
            {"format":"\(ArchiveManifest.format)","snapshot":"2026-11-29T14:05:00.000Z","folder":"2026-11-29T14-05-00Z",
             "spendboardVersion":"0.9","spendRateMicrosPerHour":1234567,
             "topCustomer":{"customerId":"c","tenantId":"t","costMicros":42},"files":[]}
            """
        let manifest = try ArchiveManifest.parse(Array(old.utf8), path: "m")
        #expect(manifest.entry.spendRatePerHour.decimalText == "1.234567")
        #expect(manifest.entry.topCustomer?.cost.decimalText == "0.000042")
    }
}

struct ArchivePagesTests {
    /// Every archive page passes the same libxml2 check as the live pages, hostile names included.
    @Test func everyArchivePageValidates() throws {
        let fixture = ArchiveFixture()
        fixture.fill(3, spacing: .seconds(6 * 3600))
        let (site, snapshot) = ArchiveFixture.stamped(Fixtures.now.advanced(by: .seconds(86_400)))
        _ = site
        let hostile = try ArchiveFixture.renderer.render(Fixtures.hostileSnapshot)
        var hostileSite = hostile
        hostileSite.generatedAt = snapshot.generatedAt
        var hostileSnapshot = Fixtures.hostileSnapshot
        hostileSnapshot.generatedAt = snapshot.generatedAt
        _ = try fixture.archive.archive(hostileSite, entry: ArchiveEntry(snapshot: hostileSnapshot))
        let pages = fixture.allFiles().filter { $0.hasSuffix(".html") }
        #expect(pages.count == 4 * 4 + 1 + 1 + 2)  // 4 snapshots × 4 pages, index, latest, 2 days
        for page in pages {
            let bytes = Array(try #require(FileManager.default.contents(atPath: fixture.directory + "/" + page)))
            #expect(XMLValidator.validate(bytes, file: page) == [], "\(page)")
        }
        let index = try #require(fixture.read("index.html"))
        #expect(index.contains("&lt;b&gt;ten&amp;ant&lt;/b&gt;"))
        #expect(!index.contains("<b>ten"))
    }

    @Test func archivedPagesDoNotRefreshSayTheirMomentAndLinkRelatively() throws {
        let fixture = ArchiveFixture()
        fixture.fill(2)
        let folder = fixture.folders()[0]
        let page = try #require(fixture.read(folder + "/index.html"))
        #expect(refreshTarget(page) == nil)
        #expect(!page.contains("<script"))
        #expect(page.contains("Archived snapshot of <time datetime=\"2026-11-29T14:05:02.500Z\">2026-11-29 14:05:02.500 UTC</time>"))
        #expect(page.contains("href=\"../latest.html\""))
        #expect(page.contains("href=\"../../index.html\">Live dashboard"))
        #expect(page.contains("href=\"../days/2026-11-29.html\""))
        #expect(!page.contains("href=\"/"))
        #expect(!page.contains("src=\"/"))
        let latest = try #require(fixture.read("latest.html"))
        #expect(refreshTarget(latest) == fixture.folders()[1] + "/index.html")
    }

    /// From the oldest snapshot, following a play page's meta-refresh visits every snapshot
    /// once, in order, and stops at the newest; the next/previous links form the same chain.
    @Test(arguments: [1, 2, 5]) func playbackFormsOneChainFromOldestToNewest(seconds: Int) throws {
        let fixture = ArchiveFixture()
        fixture.fill(6)
        let folders = fixture.folders()
        var visited: [String] = []
        var current: String? = folders[0] + "/play-\(seconds)s.html"
        while let path = current {
            visited.append(String(path.split(separator: "/")[0]))
            let page = try #require(fixture.read(path))
            #expect(page.contains("content=\"\(seconds); url=") || path.hasPrefix(folders.last!))
            current = refreshTarget(page).map { String($0.dropFirst(3)) }
            #expect(current == nil || current!.hasSuffix("/play-\(seconds)s.html"))
            #expect(visited.count <= folders.count)
        }
        #expect(visited == folders)
        // Stop returns to the snapshot's own page, which does not refresh.
        let newest = try #require(fixture.read(folders.last! + "/play-\(seconds)s.html"))
        #expect(newest.contains("Playback stopped"))
        // Next and previous links agree with the chain.
        for (index, folder) in folders.enumerated() {
            let page = try #require(fixture.read(folder + "/index.html"))
            #expect(relLink(page, "next") == (index + 1 < folders.count ? "../\(folders[index + 1])/index.html" : nil))
            #expect(relLink(page, "prev") == (index > 0 ? "../\(folders[index - 1])/index.html" : nil))
        }
    }

    @Test func largeArchivesSplitIntoDayPages() throws {
        var entries: [ArchiveEntry] = []
        let start = Timestamp(iso8601: "2026-11-01T00:00:00.000Z")!
        for index in 0..<(3 * 288) {
            let time = start.advanced(by: .seconds(300 * Int64(index)))
            entries.append(
                ArchiveEntry(
                    folder: ArchiveName.folder(for: time), generatedAt: time, spendRatePerHour: Money(dollars: Int64(index)), topCustomer: nil))
        }
        let pages = try ArchiveFixture.pages.listPages(entries)
        #expect(pages.map(\.path) == ["index.html", "days/2026-11-03.html", "days/2026-11-02.html", "days/2026-11-01.html", "latest.html"])
        let index = String(decoding: pages[0].bytes, as: UTF8.self)
        #expect(index.components(separatedBy: "<tr><td>").count - 1 == 100)
        #expect(index.contains("All 288 snapshots of 2026-11-03"))
        let day = String(decoding: pages[2].bytes, as: UTF8.self)
        #expect(day.components(separatedBy: "<tr><td>").count - 1 == 288)
        // Newest first.
        #expect(day.firstRange(of: "23:55:00")!.lowerBound < day.firstRange(of: "00:00:00")!.lowerBound)
    }

}

struct ArchiveFailureTests {
    /// An archive path that cannot be written (here: a file where the folder should be) makes
    /// archiving fail without throwing; it is retried later and recovers.
    @Test func unwritableArchiveIsReportedAndRecovers() throws {
        let fixture = ArchiveFixture(every: .seconds(5))
        try Data("not a folder".utf8).write(to: URL(fileURLWithPath: fixture.directory))
        guard case .failed(let message) = fixture.offer(Fixtures.now) else { Issue.record("expected a failure"); return }
        #expect(message.contains("archive"))
        #expect(fixture.catalog.status.lastError != nil)
        // Not retried on every tick.
        #expect(fixture.offer(Fixtures.now.advanced(by: .seconds(5))) == .notDue)
        try FileManager.default.removeItem(atPath: fixture.directory)
        guard case .archived = fixture.offer(Fixtures.now.advanced(by: .seconds(31))) else { Issue.record("expected recovery"); return }
        #expect(fixture.catalog.status.lastError == nil)
        #expect(fixture.folders().count == 1)
    }

}

struct ArchiveCatalogTests {
    /// After a failed archive the writer reads the folder again itself: the catalog that
    /// requests read is already current, and no request has to scan the manifests.
    @Test func aFailedArchiveReloadsTheCatalogOnTheWritersSide() throws {
        let fixture = ArchiveFixture(every: .seconds(5))
        fixture.fill(2)
        let folders = fixture.folders()
        try FileManager.default.removeItem(atPath: fixture.directory + "/" + folders[1])
        let next = Fixtures.now.advanced(by: .seconds(900))
        // A stray file where the next snapshot's folder goes: that archive fails.
        try Data("x".utf8).write(to: URL(fileURLWithPath: fixture.directory + "/" + ArchiveName.folder(for: next)))
        #expect(fixture.catalog.entries.count == 2)
        guard case .failed = fixture.offer(next) else { Issue.record("expected a failure"); return }
        #expect(fixture.catalog.entries.map(\.folder) == [folders[0]])
        #expect(fixture.catalog.status.lastError != nil)
    }

    /// A folder that cannot be listed is an error in the status, not an empty archive; a
    /// missing one is simply empty.
    @Test func anUnreadableFolderIsAnErrorAndAMissingOneIsEmpty() throws {
        let folder = try Fixtures.temporaryDirectory()
        try Data("x".utf8).write(to: URL(fileURLWithPath: folder + "/archive"))
        let broken = ArchiveCatalog(directory: folder + "/archive", logger: Fixtures.logger)
        #expect(broken.status.lastError?.contains("archive") == true)
        let missing = ArchiveCatalog(directory: folder + "/none", logger: Fixtures.logger)
        #expect(missing.entries.isEmpty)
        #expect(missing.status.lastError == nil)
    }
}

struct ArchiveRepairTests {
    /// The newest snapshot deleted by hand: the next archive links past it and works.
    @Test func aSnapshotDeletedByHandDoesNotStopArchiving() throws {
        let fixture = ArchiveFixture()
        fixture.fill(2)
        let folders = fixture.folders()
        try FileManager.default.removeItem(atPath: fixture.directory + "/" + folders[1])
        guard case .archived(let entry, _) = fixture.offer(Fixtures.now.advanced(by: .seconds(900))) else {
            Issue.record("expected an archive"); return
        }
        #expect(fixture.catalog.entries.map(\.folder) == [entry.folder, folders[0]])
        #expect(fixture.catalog.status.lastError == nil)
        let page = try #require(fixture.read(entry.folder + "/index.html"))
        #expect(relLink(page, "prev") == "../\(folders[0])/index.html")
        let oldest = try #require(fixture.read(folders[0] + "/index.html"))
        #expect(relLink(oldest, "next") == "../\(entry.folder)/index.html")
        #expect(try ArchiveVerifier.verify(directory: fixture.directory).problems == [])
    }
}

/// The archive reuses the files the publisher already wrote instead of copying them.
struct ArchiveLinkTests {
    static func inode(_ path: String) -> UInt64? {
        var info = stat()
        return lstat(path, &info) == 0 ? UInt64(info.st_ino) : nil
    }

    /// Publishes the fixture's snapshot into `root/out` and returns its folder.
    static func publish(_ site: RenderedSite, under root: String) throws -> String {
        let publisher = Publisher(outputDirectory: root + "/out", durable: false, logger: Fixtures.logger)
        return try publisher.publish(site).folder
    }

    @Test func linksThePublishedFilesAndWritesOnlyThePages() throws {
        let fixture = ArchiveFixture()
        let (site, snapshot) = ArchiveFixture.stamped(Fixtures.now)
        let published = try Self.publish(site, under: fixture.root)
        guard case .archived(let entry, _) = fixture.archive.archiveIfDue(site, snapshot: snapshot, publishedIn: published) else {
            Issue.record("not archived")
            return
        }
        let folder = fixture.directory + "/" + entry.folder
        // The hour's embeds and stats.json; the other windows' embeds are not archived.
        let shared = site.files.map(\.path).filter {
            !$0.hasSuffix(".html") && !$0.hasPrefix("window-") && !$0.dropFirst("embed/".count).contains("/")
        }
        #expect(shared.count == ReportRenderer.embedIDs.count + 1)
        for path in shared {
            #expect(Self.inode(folder + "/" + path) != nil)
            #expect(Self.inode(folder + "/" + path) == Self.inode(published + "/" + path), "\(path) is a second name of the published file")
        }
        #expect(Self.inode(folder + "/index.html") != Self.inode(published + "/index.html"), "the archived page is its own file")
        #expect(try ArchiveVerifier.verify(directory: fixture.directory).problems == [])
    }

    /// Published on another file system (tmpfs here), the files cannot be linked: the archive
    /// writes copies, and the folder verifies.
    @Test(.enabled(if: ArchiveLinkTests.otherFileSystem != nil, "needs /dev/shm on another device than the temporary folder"))
    func copiesAcrossFileSystems() throws {
        let fixture = ArchiveFixture()
        let (site, snapshot) = ArchiveFixture.stamped(Fixtures.now)
        let elsewhere = try #require(Self.otherFileSystem) + "/spendboard-link-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: elsewhere, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: elsewhere) }
        let published = try Self.publish(site, under: elsewhere)
        guard case .archived(let entry, _) = fixture.archive.archiveIfDue(site, snapshot: snapshot, publishedIn: published) else {
            Issue.record("not archived")
            return
        }
        let folder = fixture.directory + "/" + entry.folder
        #expect(FileManager.default.contents(atPath: folder + "/stats.json").map(Array.init) == site["stats.json"]?.bytes)
        var info = stat()
        #expect(lstat(folder + "/stats.json", &info) == 0 && info.st_nlink == 1, "a copy, not a link")
        #expect(try ArchiveVerifier.verify(directory: fixture.directory).problems == [])
    }

    /// `/dev/shm` when it is on another device than the temporary folder.
    static var otherFileSystem: String? {
        var shm = stat()
        var temporary = stat()
        guard stat("/dev/shm", &shm) == 0, stat(NSTemporaryDirectory(), &temporary) == 0, shm.st_dev != temporary.st_dev,
            access("/dev/shm", W_OK) == 0
        else { return nil }
        return "/dev/shm"
    }

    /// A published file that is missing or no longer holds the rendered bytes is not linked:
    /// the archive writes the rendered bytes, and the manifest tells the truth.
    @Test func writesACopyOfWhatCannotBeLinked() throws {
        let fixture = ArchiveFixture()
        let (site, snapshot) = ArchiveFixture.stamped(Fixtures.now)
        let published = try Self.publish(site, under: fixture.root)
        var stats = try #require(FileManager.default.contents(atPath: published + "/stats.json"))
        stats[stats.count / 2] ^= 0x01  // same size, other content
        try stats.write(to: URL(fileURLWithPath: published + "/stats.json"))
        try FileManager.default.removeItem(atPath: published + "/embed/gauge.svg")
        guard case .archived(let entry, _) = fixture.archive.archiveIfDue(site, snapshot: snapshot, publishedIn: published) else {
            Issue.record("not archived")
            return
        }
        let folder = fixture.directory + "/" + entry.folder
        #expect(Self.inode(folder + "/stats.json") != Self.inode(published + "/stats.json"))
        #expect(FileManager.default.contents(atPath: folder + "/stats.json").map(Array.init) == site["stats.json"]?.bytes)
        #expect(FileManager.default.contents(atPath: folder + "/embed/gauge.svg").map(Array.init) == site["embed/gauge.svg"]?.bytes)
        #expect(Self.inode(folder + "/embed/token-usage.svg") == Self.inode(published + "/embed/token-usage.svg"))
        #expect(try ArchiveVerifier.verify(directory: fixture.directory).problems == [])
    }
}
