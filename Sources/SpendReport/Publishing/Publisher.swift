import Logging
import SpendCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes a rendered, validated site into the output folder and switches to it atomically.
///
/// Layout (the public paths on the left are what readers open):
///
/// ```
/// Output/index.html   -> .current/index.html        (symbolic links, created once)
/// Output/stats.json   -> .current/stats.json
/// Output/embed        -> .current/embed
/// Output/live-5s.html -> .current/live-5s.html  …
/// Output/.current     -> .snapshots/<id>            (replaced by one rename(2) per publish)
/// Output/.snapshots/<id>/index.html, stats.json, embed/*.svg, …
/// Output/archive/                                   (never touched here)
/// ```
///
/// A publish writes every file into `.snapshots/<id>.partial/`, flushes the files and the
/// folder to disk, renames the folder to `.snapshots/<id>`, then points `.current` at it by
/// renaming a new symbolic link over the old one.
///
/// **Guarantee.** That last rename is the only step that changes what the public paths show,
/// and it is atomic: at every instant, for any reader, every public path resolves into one
/// complete snapshot, the previous or the new one, never a half-written file and never a mix
/// written at different times. A crash or `kill -9` at any point leaves the previous snapshot
/// (or, after the rename reached the disk, the new one) in place; a leftover `.partial` folder
/// is deleted by the next publish. What it does *not* promise: a reader that opens two files
/// one after the other may get them from two consecutive snapshots (each complete, each
/// carrying its `generatedAt`), as with any server; the page is self-contained, so one page
/// load is always consistent. The last `keptSnapshots` snapshots stay on disk so a file whose
/// path was resolved just before a switch can still be opened.
///
/// One publisher per output folder at a time.
public struct Publisher: Sendable {
    /// One published snapshot.
    public struct Publication: Sendable {
        /// The snapshot's folder name under `.snapshots/`.
        public var id: String
        /// Its path; it stays on disk until `keptSnapshots` newer ones are published.
        public var folder: String
        /// Old snapshots that could not be deleted after the switch (the new one is published;
        /// disk space is not freed until a later publish manages it).
        public var cleanupFailures: [String]
    }

    public let outputDirectory: String
    /// Snapshots kept on disk, the current one included (at least 2).
    public var keptSnapshots: Int
    /// fsync files and folders before switching (off only for tests on throw-away folders).
    public var durable: Bool
    let logger: Logger

    var disk: Disk<ReportError> { Disk(durable: durable) }

    static let snapshotsFolder = ".snapshots"
    static let currentLink = ".current"

    public init(outputDirectory: String, keptSnapshots: Int = 3, durable: Bool = true, logger: Logger) {
        self.outputDirectory = outputDirectory
        self.keptSnapshots = max(2, keptSnapshots)
        self.durable = durable
        self.logger = logger
    }

    /// Publishes an already validated site (``SnapshotPipeline`` validates first). Throws when
    /// the site could not be published, leaving the previous one in place; a failure to delete
    /// old snapshots afterwards does not undo the publish: it is logged and returned.
    @discardableResult
    public func publish(_ site: RenderedSite) throws -> Publication {
        let root = outputDirectory
        let snapshots = root + "/" + Self.snapshotsFolder
        try disk.makeDirectoryAndParents(root)
        try disk.makeDirectory(snapshots)
        let id = Self.snapshotID(site.generatedAt)
        let partial = snapshots + "/" + id + ".partial"
        let final = snapshots + "/" + id

        // 1. Write every file of the new snapshot where no reader looks, then sync them all.
        try disk.makeDirectory(partial)
        var folders = [partial]
        var written: [String] = []
        for file in site.files {
            try Self.checkRelative(file.path)
            let path = partial + "/" + file.path
            let folder = Self.parent(of: path)
            if !folders.contains(folder) {
                try disk.makeDirectory(folder)
                folders.append(folder)
            }
            try disk.write(file.bytes, to: path)
            written.append(path)
        }
        try disk.sync(written + folders)
        // 2. Complete: give it its final name.
        try disk.rename(partial, final)
        try disk.sync([snapshots])
        // 3. Switch: one rename replaces `.current`.
        try replaceSymlink(at: root + "/" + Self.currentLink, target: Self.snapshotsFolder + "/" + id)
        // 4. Public paths point through `.current` (only changes the first time, or for a new file).
        let entries = Set(site.files.map { String($0.path.split(separator: "/", maxSplits: 1)[0]) })
        for entry in entries.sorted() {
            try ensureEntryLink(entry)
        }
        try disk.sync([root])
        let leftovers = removeOldSnapshots(in: snapshots, current: id)
        for failure in leftovers {
            logger.error("old snapshot not deleted; the output folder grows until it can be", metadata: ["error": "\(failure)"])
        }
        logger.debug("published snapshot", metadata: ["id": "\(id)", "files": "\(site.files.count)"])
        return Publication(id: id, folder: folder(ofSnapshot: id), cleanupFailures: leftovers.map { "\($0)" })
    }

    /// The folder holding the files of the snapshot `publish` returned `id` for; it stays on
    /// disk until `keptSnapshots` newer ones are published.
    public func folder(ofSnapshot id: String) -> String {
        outputDirectory + "/" + Self.snapshotsFolder + "/" + id
    }

    /// `000001764426300123-3fa9c2d1`: sorts by time, unique across publishes of the same instant.
    static func snapshotID(_ generatedAt: Timestamp) -> String {
        let ms = String(max(0, generatedAt.millisecondsSinceEpoch))
        let random = String(UInt32.random(in: .min ... .max), radix: 16)
        return String(repeating: "0", count: max(0, 18 - ms.count)) + ms + "-" + String(repeating: "0", count: 8 - random.count) + random
    }

    static func checkRelative(_ path: String) throws {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        guard !path.hasPrefix("/"), !parts.isEmpty, !parts.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }),
            !path.hasPrefix(".")
        else { throw ReportError.fileSystem("publish (unsafe path)", path: path, errno: EINVAL) }
    }

    static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return String(path[..<slash])
    }

    // MARK: - Steps

    /// Makes `Output/<entry>` a link to `.current/<entry>`, replacing whatever was there
    /// (a file from an older layout) with one rename.
    private func ensureEntryLink(_ entry: String) throws {
        let path = outputDirectory + "/" + entry
        let target = Self.currentLink + "/" + entry
        if readLink(path) == target { return }
        if disk.kind(path) == .directory {
            // A real folder (older layout): move it aside, then drop it.
            let aside = outputDirectory + "/" + Self.snapshotsFolder + "/old-" + entry + "-" + String(UInt32.random(in: .min ... .max), radix: 16)
            try disk.rename(path, aside)
            // Out of the way already; what cannot be deleted now goes with the next clean-up.
            do { try disk.removeTree(aside) } catch { logger.error("old folder not deleted", metadata: ["error": "\(error)"]) }
        }
        try replaceSymlink(at: path, target: target)
    }

    private func replaceSymlink(at path: String, target: String) throws {
        let temporary = path + ".tmp-" + String(UInt32.random(in: .min ... .max), radix: 16)
        guard symlink(target, temporary) == 0 else { throw ReportError.fileSystem("symlink", path: temporary, errno: errno) }
        do {
            try disk.rename(temporary, path)
        } catch {
            unlink(temporary)
            throw error
        }
    }

    /// Deletes the snapshots beyond `keptSnapshots`, a crashed publish's `.partial` folders and
    /// folders moved aside; returns what could not be deleted.
    private func removeOldSnapshots(in snapshots: String, current: String) -> [ReportError] {
        let names: [String]
        do {
            names = try disk.list(snapshots)
        } catch {
            return [error]
        }
        let complete = names.filter { !$0.hasSuffix(".partial") && !$0.hasPrefix("old-") }.sorted()
        var doomed = Array(complete.filter { $0 != current }.dropLast(keptSnapshots - 1))
        // Unfinished snapshots of a crashed publish, and folders moved aside.
        doomed += names.filter { ($0.hasSuffix(".partial") && $0 != current + ".partial") || $0.hasPrefix("old-") }
        var failures: [ReportError] = []
        for name in doomed {
            do {
                try disk.removeTree(snapshots + "/" + name)
            } catch {
                failures.append(error)
            }
        }
        return failures
    }

    // MARK: - Symbolic links

    private func readLink(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: 4096)
        let count = readlink(path, &buffer, buffer.count - 1)
        guard count >= 0 else { return nil }
        return String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
