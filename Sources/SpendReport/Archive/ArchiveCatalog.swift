import Logging
import SpendCore
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What the archive holds, in memory: every listed snapshot, newest first, and the health of
/// the archive's writer. Read by requests (`/api/archive`, `/api/health`, the archive pages'
/// server) without touching the disk; changed only by the ``ArchiveWriter`` that owns the
/// folder, which also reloads it from the manifests when the disk may have changed under it.
///
/// ```swift
/// let catalog = ArchiveCatalog(directory: "Output/archive", logger: logger)   // reads the manifests once
/// for entry in catalog.entries { print(entry.folder) }
/// ```
public final class ArchiveCatalog: Sendable {
    /// What `/api/health` shows about the archive.
    public struct Status: Sendable {
        public var snapshots: Int
        public var newest: Timestamp?
        public var lastError: String?
        public var lastErrorAt: Timestamp?
    }

    public let directory: String
    let logger: Logger

    private struct State {
        /// Newest first.
        var entries: [ArchiveEntry] = []
        var lastError: String?
        var lastErrorAt: Timestamp?
    }

    private let state = Mutex(State())

    /// Reads the catalog from the manifests under `directory`; a folder that cannot be read is
    /// logged and shown as the archive's last error (an archive that does not exist yet is
    /// simply empty).
    public init(directory: String, logger: Logger) {
        self.directory = directory
        self.logger = logger
        reload()
    }

    /// Every listed snapshot, newest first.
    public var entries: [ArchiveEntry] { state.withLock { $0.entries } }

    public var status: Status {
        state.withLock {
            Status(snapshots: $0.entries.count, newest: $0.entries.first?.generatedAt, lastError: $0.lastError, lastErrorAt: $0.lastErrorAt)
        }
    }

    /// Reads the catalog from disk again (after a failed write, or another process changed the
    /// archive). When the folder cannot be read, the entries stay as they were and the error is
    /// logged and recorded.
    public func reload() {
        do {
            let entries = try Self.scan(directory, disk: ArchiveDisk(durable: false), logger: logger)
            state.withLock { $0.entries = entries }
        } catch {
            logger.error(
                "archive folder could not be read; its listing was not refreshed", metadata: ["directory": "\(directory)", "error": "\(error)"])
            recordFailure("\(error)", at: nil)
        }
    }

    /// Snapshot folders with a readable manifest, newest first. A folder without one is left
    /// out (and reported by `verify`); a missing archive folder is empty.
    static func scan(_ directory: String, disk: ArchiveDisk, logger: Logger) throws(ArchiveError) -> [ArchiveEntry] {
        let names: [String]
        do throws(ArchiveError) {
            names = try disk.list(directory)
        } catch  where error.errno == ENOENT {
            return []
        }
        var entries: [ArchiveEntry] = []
        for name in names where ArchiveName.isSnapshotFolder(name) && disk.kind(directory + "/" + name) == .directory {
            let path = directory + "/" + name + "/" + ArchiveName.manifestFile
            do {
                guard let bytes = try disk.read(path) else { throw ArchiveError("\(path) is missing") }
                let manifest = try ArchiveManifest.parse(bytes, path: path)
                guard manifest.entry.folder == name else { throw ArchiveError("\(path) names folder \(manifest.entry.folder)") }
                entries.append(manifest.entry)
            } catch {
                logger.warning("archived snapshot without a valid manifest is not listed", metadata: ["folder": "\(name)", "error": "\(error)"])
            }
        }
        return entries.sorted { $0.folder > $1.folder }
    }

    // MARK: - Changes, by the writer

    /// Adds an entry at its place in time order.
    func insert(_ entry: ArchiveEntry) {
        state.withLock {
            $0.entries.insert(entry, at: $0.entries.firstIndex { $0.folder < entry.folder } ?? $0.entries.endIndex)
        }
    }

    func remove(folder: String) {
        state.withLock { $0.entries.removeAll { $0.folder == folder } }
    }

    /// The newest entry older than `folder`.
    func entry(before folder: String) -> ArchiveEntry? {
        state.withLock { $0.entries.first { $0.folder < folder } }
    }

    func recordFailure(_ message: String, at time: Timestamp?) {
        state.withLock {
            $0.lastError = message
            $0.lastErrorAt = time
        }
    }

    /// Clears the last error; true when there was one.
    func recordSuccess() -> Bool {
        state.withLock { state in
            let had = state.lastError != nil
            state.lastError = nil
            state.lastErrorAt = nil
            return had
        }
    }
}
