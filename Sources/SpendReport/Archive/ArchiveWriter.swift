import Logging
import SpendCore
import Synchronization

/// Writes the archive folder, `Output/archive/`: keeps a published snapshot now and then,
/// keeps the navigation between snapshots and the index pages current, and deletes old
/// snapshots. What it holds is listed by its ``ArchiveCatalog``; the pages come from an
/// ``ArchiveRenderer``.
///
/// Layout:
///
/// ```
/// archive/index.html                      newest first, grouped by day
/// archive/days/2026-11-29.html            every snapshot of one day
/// archive/latest.html                     forwards to the newest snapshot
/// archive/2026-11-29T14-05-00Z/index.html the snapshot's page (no refresh)
///                             /play-1s.html, play-2s.html, play-5s.html
///                             /stats.json, embed/*.svg  (the files published live)
///                             /manifest.json            (time, version, SHA-256 of every file)
/// archive/.partial-*, .trash-*, .tmp-*    work in progress: hidden, never listed, cleaned up
/// ```
///
/// **Crash safety.** A snapshot is written into a hidden `.partial-…` folder and renamed to
/// its final name only when complete; a snapshot is deleted by renaming it to a hidden
/// `.trash-…` name first (and rebuilding the index without it), then removing the files. So
/// a crash at any moment never leaves a half-written or half-deleted snapshot under a listed
/// name. Pages that change after the fact (the previous snapshot's "next" link) are replaced
/// file by file with rename(2), then the manifest; each run repairs the navigation of the
/// neighbours it touches, so an interrupted update is completed by the next archive.
///
/// One writer per archive folder (the serving process or the `archive prune` command). Its
/// methods block on the disk: call them from the snapshot pipeline's thread, not from a task
/// on the cooperative pool.
///
/// ```swift
/// let catalog = ArchiveCatalog(directory: "Output/archive", logger: logger)
/// let writer = ArchiveWriter(catalog: catalog, renderer: archiveRenderer,
///                            configuration: .init(every: .seconds(300)), clock: WallClock(), logger: logger)
/// writer.archiveIfDue(site, snapshot: snapshot)   // after each publish; never throws, see catalog.status
/// ```
public final class ArchiveWriter: Sendable {
    public struct Configuration: Sendable {
        /// How often a snapshot is kept; zero turns archiving off.
        public var every: Duration
        public var retention: ArchiveRetention
        /// fsync files and folders (off only for tests and benchmarks).
        public var durable: Bool
        /// After a failure, archiving is tried again after this long (a full disk is not
        /// retried, and logged, on every tick).
        public var retryAfter: Duration

        public init(every: Duration = .seconds(300), retention: ArchiveRetention = .init(), durable: Bool = true, retryAfter: Duration = .seconds(30))
        {
            self.every = every
            self.retention = retention
            self.durable = durable
            self.retryAfter = retryAfter
        }
    }

    public enum Outcome: Equatable, Sendable {
        case archived(ArchiveEntry, pruned: Int)
        case notDue
        case failed(String)
    }

    public let catalog: ArchiveCatalog
    public let configuration: Configuration
    let renderer: ArchiveRenderer
    let clock: any TimeSource
    let logger: Logger
    let disk: ArchiveDisk

    public var directory: String { catalog.directory }

    private struct State {
        var retryAt: Timestamp?
        var needsRepair = true
    }

    private let state = Mutex(State())

    public init(catalog: ArchiveCatalog, renderer: ArchiveRenderer, configuration: Configuration = .init(), clock: any TimeSource, logger: Logger) {
        self.catalog = catalog
        self.renderer = renderer
        self.configuration = configuration
        self.clock = clock
        self.logger = logger
        self.disk = ArchiveDisk(durable: configuration.durable)
    }

    // MARK: - Archiving

    /// Archives `site` when the schedule says so, then prunes. Never throws: a failure (full
    /// disk, unwritable folder) is logged, kept in the catalog's `status`, and tried again
    /// later; the live pages are not affected. After a failure the catalog is read again from
    /// the disk here, so requests never do it.
    /// - Parameter published: the folder the publisher wrote `site` into, if any; see
    ///   ``archive(_:entry:publishedIn:)``.
    @discardableResult
    public func archiveIfDue(_ site: RenderedSite, snapshot: Snapshot, publishedIn published: String? = nil) -> Outcome {
        let schedule = ArchiveSchedule(every: configuration.every)
        guard schedule.isEnabled else { return .notDue }
        guard schedule.isDue(site.generatedAt, newestArchived: catalog.entries.first?.generatedAt) else { return .notDue }
        if let retryAt = state.withLock({ $0.retryAt }), site.generatedAt < retryAt { return .notDue }
        do {
            let (entry, pruned) = try archive(site, entry: ArchiveEntry(snapshot: snapshot), publishedIn: published)
            state.withLock { $0.retryAt = nil }
            if catalog.recordSuccess() { logger.notice("archiving works again", metadata: ["folder": "\(entry.folder)"]) }
            return .archived(entry, pruned: pruned)
        } catch {
            let message = "\(error)"
            state.withLock { $0.retryAt = site.generatedAt.advanced(by: configuration.retryAfter) }
            logger.error("snapshot not archived; the live pages are not affected", metadata: ["error": "\(message)", "directory": "\(directory)"])
            // The folder may have changed under us (deleted by hand, half-written): read it again
            // now, before the next attempt and before any request asks.
            catalog.reload()
            catalog.recordFailure(message, at: site.generatedAt)
            return .failed(message)
        }
    }

    /// Archives `site` now under `entry.folder` (the snapshot's UTC second), fills in the
    /// previous snapshot's "next" links, prunes, and rewrites the index pages. Returns the
    /// entry and how many snapshots were pruned.
    ///
    /// - Parameter published: the folder holding `site`'s files as published, already on disk
    ///   (synced when this archive is durable). Its `stats.json` and SVGs are not written again
    ///   but hard-linked, which saves a copy, an fsync and a new inode each; a file that cannot
    ///   be linked (missing, changed, on another file system) is written as usual. Nothing rewrites a
    ///   file in place, in the archive or in the live folders, so the shared inode never changes.
    @discardableResult
    public func archive(_ site: RenderedSite, entry: ArchiveEntry, publishedIn published: String? = nil) throws(ArchiveError) -> (ArchiveEntry, Int) {
        try disk.makeDirectory(directory)
        try removeLeftovers()
        let final = directory + "/" + entry.folder
        if disk.kind(final) != nil { throw ArchiveError("snapshot \(entry.folder) is already archived") }
        guard let page = site[ArchiveName.snapshotPage] else { throw ArchiveError("the rendered site has no index.html") }
        let parts = try ArchiveRenderer.PageParts(page: page.bytes)
        var previous = catalog.entry(before: entry.folder)
        while let candidate = previous, disk.kind(directory + "/" + candidate.folder) != .directory {
            // Deleted behind our back: link past it.
            catalog.remove(folder: candidate.folder)
            previous = catalog.entry(before: entry.folder)
        }

        // 1. Every file of the folder, written where no listing looks, then renamed.
        // The hour's files: the other windows' pages, JSON and embeds (`embed/24h/…`) are not kept.
        var files: [(String, [UInt8])] = site.files.filter {
            !$0.path.hasSuffix(".html") && !$0.path.hasPrefix("window-") && !$0.path.dropFirst("embed/".count).contains("/")
        }
        .map { ($0.path, $0.bytes) }
        let shared = files.count
        do {
            files += try renderer.snapshotPages(entry, parts: parts, previous: previous, next: nil)
        } catch {
            throw ArchiveError("archive pages of \(entry.folder) could not be rendered: \(error)")
        }
        try checkValid(files, folder: entry.folder)
        let manifest = ArchiveManifest(entry: entry, files: files.map { .init(path: $0.0, contents: $0.1) })
        files.append((ArchiveName.manifestFile, manifest.jsonBytes()))
        let partial = directory + "/" + ArchiveName.partialPrefix + entry.folder + "-" + String(UInt32.random(in: .min ... .max), radix: 16)
        do {
            try disk.makeDirectory(partial)
            var folders: Set<String> = [partial]
            var written: [String] = []
            for (index, (path, bytes)) in files.enumerated() {
                let target = partial + "/" + path
                let folder = String(target[..<target.lastIndex(of: "/")!])
                if folders.insert(folder).inserted { try disk.makeDirectory(folder) }
                if index < shared, let published, disk.link(published + "/" + path, to: target, ifHolding: bytes) { continue }
                try disk.write(bytes, to: target)
                written.append(target)
            }
            // Everything in the folder reaches the disk before the folder gets its listed name.
            try disk.sync(written + folders.sorted())
            // Its name reaches the disk with the renames of pruning: one folder sync for both,
            // before any other snapshot links to it.
            try disk.rename(partial, final)
        } catch {
            discard(partial)
            throw error
        }
        catalog.insert(entry)
        logger.debug("archived snapshot", metadata: ["folder": "\(entry.folder)", "files": "\(files.count)"])

        // 2. The neighbours learn about it; old snapshots go; the index follows.
        var touched: Set<String> = []
        if let previous { touched.insert(previous.folder) }
        // Once per process, also the one before: completes an update that a crash may have
        // interrupted (pages replaced, manifest not yet).
        if state.withLock({ $0.needsRepair }), let older = catalog.entry(before: previous?.folder ?? "") {
            touched.insert(older.folder)
        }
        state.withLock { $0.needsRepair = false }
        let pruned = try prune(refreshing: touched, days: [entry.day, previous?.day ?? entry.day], renamed: true)
        return (entry, pruned)
    }

    /// Deletes snapshots the retention settings no longer keep (never the newest), then
    /// rewrites the navigation of the snapshots next to the gap and the index pages. Returns
    /// how many were deleted.
    @discardableResult
    public func prune(now: Timestamp? = nil) throws(ArchiveError) -> Int {
        try disk.makeDirectory(directory)
        try removeLeftovers()
        return try prune(refreshing: [], days: nil, now: now)
    }

    /// - Parameter days: the days whose pages changed besides those of pruned snapshots; nil
    ///   rewrites every day page.
    /// - Parameter renamed: a snapshot folder has just been renamed into the archive folder and
    ///   the archive folder still has to be synced.
    private func prune(refreshing: Set<String>, days: Set<String>?, now: Timestamp? = nil, renamed: Bool = false) throws(ArchiveError) -> Int {
        let doomed = configuration.retention.doomed(catalog.entries, now: now ?? clock.now)
        var trash: [String] = []
        var touched = refreshing
        var days = days
        if !doomed.isEmpty {
            // Out of the listing first: rename to a hidden name, one rename per snapshot.
            for entry in doomed {
                let aside = directory + "/" + ArchiveName.trashPrefix + entry.folder + "-" + String(UInt32.random(in: .min ... .max), radix: 16)
                do {
                    try disk.rename(directory + "/" + entry.folder, aside)
                } catch {
                    // The new snapshot's name must still reach the disk; the rename's error is the one to report.
                    if renamed {
                        do { try disk.sync([directory]) } catch { logger.error("archive folder not synced", metadata: ["error": "\(error)"]) }
                    }
                    throw error
                }
                trash.append(aside)
                catalog.remove(folder: entry.folder)
            }
            // Retention removes the oldest snapshots only: the new oldest loses its "previous" link.
            if let oldest = catalog.entries.last {
                touched.insert(oldest.folder)
                days?.insert(oldest.day)
            }
            days?.formUnion(doomed.map(\.day))
            logger.info("pruned archived snapshots", metadata: ["count": "\(doomed.count)", "oldest": "\(doomed.first!.folder)"])
        }
        if renamed || !doomed.isEmpty { try disk.sync([directory]) }
        for folder in touched.sorted() {
            // A neighbour that cannot be updated (removed by hand, no manifest) keeps its old
            // links; `verify` reports it. It does not undo the archive that was just written.
            do {
                try refreshNavigation(of: folder)
            } catch {
                logger.warning("archived snapshot's links not updated", metadata: ["folder": "\(folder)", "error": "\(error)"])
            }
        }
        try writeListPages(days: days)
        for aside in trash { discard(aside) }
        return doomed.count
    }

    // MARK: - Pages

    /// Re-renders a snapshot's page and play pages with its current neighbours, replacing
    /// only files whose content changed, then its manifest.
    func refreshNavigation(of folder: String) throws(ArchiveError) {
        let entries = catalog.entries
        guard let index = entries.firstIndex(where: { $0.folder == folder }) else { return }
        let entry = entries[index]
        let next = index > 0 ? entries[index - 1] : nil
        let previous = index + 1 < entries.count ? entries[index + 1] : nil
        let base = directory + "/" + folder
        guard disk.kind(base) == .directory else {
            // Deleted behind our back: forget it, so the next snapshot links past it.
            catalog.remove(folder: folder)
            throw ArchiveError("archived snapshot \(folder) disappeared")
        }
        guard let page = try disk.read(base + "/" + ArchiveName.snapshotPage) else {
            throw ArchiveError("archived page \(base)/index.html is missing; run spendboard archive verify")
        }
        let parts = try ArchiveRenderer.PageParts(page: page)
        let pages: [(path: String, bytes: [UInt8])]
        do {
            pages = try renderer.snapshotPages(entry, parts: parts, previous: previous, next: next)
        } catch {
            throw ArchiveError("archive pages of \(folder) could not be rendered: \(error)")
        }
        try checkValid(pages, folder: folder)
        let manifestPath = base + "/" + ArchiveName.manifestFile
        guard let old = try disk.read(manifestPath) else { throw ArchiveError("manifest \(manifestPath) is missing; run spendboard archive verify") }
        var manifest = try ArchiveManifest.parse(old, path: manifestPath)
        let fresh = Dictionary(uniqueKeysWithValues: pages.map { ($0.path, ArchiveManifest.File(path: $0.path, contents: $0.bytes)) })
        manifest.files = manifest.files.map { fresh[$0.path] ?? $0 }
        let bytes = manifest.jsonBytes()
        // The pages that changed, then the manifest: renamed in that order, so a crash in between
        // leaves new pages under the old manifest, which the next archive's repair completes.
        var changed: [(path: String, bytes: [UInt8])] = []
        for page in pages {
            let path = base + "/" + page.path
            if try disk.read(path) != page.bytes { changed.append((path, page.bytes)) }
        }
        if bytes != old { changed.append((manifestPath, bytes)) }
        try disk.replace(changed, temporaryIn: base)
    }

    /// Writes `index.html`, the day pages and `latest.html` where they changed, and removes the
    /// pages of days that no longer hold a snapshot.
    /// `days` limits the day pages rendered (nil: all); pages of days without snapshots go.
    func writeListPages(days: Set<String>? = nil) throws(ArchiveError) {
        let entries = catalog.entries
        let pages: [(path: String, bytes: [UInt8])]
        do {
            pages = try renderer.listPages(entries, only: days)
        } catch {
            throw ArchiveError("archive index could not be rendered: \(error)")
        }
        try checkValid(pages, folder: nil)
        try disk.makeDirectory(directory + "/" + ArchiveName.daysFolder)
        // No fsync here: these pages are derived from the catalog and every run rewrites any
        // that differ, so one lost in a crash is put right by the next archive.
        let derived = ArchiveDisk(durable: false)
        for (path, bytes) in pages {
            let target = directory + "/" + path
            guard try derived.read(target) != bytes else { continue }
            try derived.replace([(target, bytes)], temporaryIn: String(target[..<target.lastIndex(of: "/")!]))
        }
        let dayPages = Set(entries.map { ArchiveName.dayPage($0.day) })
        for name in try disk.list(directory + "/" + ArchiveName.daysFolder) where !dayPages.contains(ArchiveName.daysFolder + "/" + name) {
            try disk.removeTree(directory + "/" + ArchiveName.daysFolder + "/" + name)
        }
    }

    /// Archive pages pass the same libxml2 check as live pages, or they are not written.
    private func checkValid(_ files: [(String, [UInt8])], folder: String?) throws(ArchiveError) {
        var issues: [ValidationIssue] = []
        for (path, bytes) in files where path.hasSuffix(".html") {
            issues += XMLValidator.validate(bytes, file: "archive/" + (folder.map { $0 + "/" } ?? "") + path)
        }
        guard issues.isEmpty else { throw ArchiveError("\(ReportError.validationFailed(issues))") }
    }

    /// Removes what an interrupted archive or prune left behind (hidden names only).
    private func removeLeftovers() throws(ArchiveError) {
        for name in try disk.list(directory)
        where name.hasPrefix(ArchiveName.partialPrefix) || name.hasPrefix(ArchiveName.trashPrefix) || name.hasPrefix(ArchiveName.temporaryPrefix) {
            discard(directory + "/" + name)
        }
    }

    /// Deletes a hidden work folder. Nothing lists it, and the next run tries again, so a
    /// failure only costs disk space: logged, not thrown.
    private func discard(_ path: String) {
        do {
            try disk.removeTree(path)
        } catch {
            logger.error("archive work folder not deleted; the next archive tries again", metadata: ["path": "\(path)", "error": "\(error)"])
        }
    }
}
