import Dispatch
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The POSIX calls the publisher and the archive need, turned into Swift values and errors of
/// the caller's type (`ReportError` for the publisher, `ArchiveError` for the archive).
/// Symbolic links are never followed when writing, reading or deleting. Writing never syncs:
/// a caller writes a batch, then makes it durable with one ``sync(_:)``.
///
/// ```swift
/// let disk = ArchiveDisk(durable: true)   // Disk<ArchiveError>
/// try disk.write(page, to: folder + "/index.html")
/// try disk.write(stats, to: folder + "/stats.json")
/// try disk.sync([folder + "/index.html", folder + "/stats.json", folder])   // side by side
/// ```
public struct Disk<Failure: Error>: Sendable {
    /// fsync files and folders (off only for tests and benchmarks on throw-away folders).
    public var durable: Bool
    /// Makes the error for a failed call: what was attempted, on which path, `errno`.
    let failure: @Sendable (_ operation: String, _ path: String, _ errno: Int32) -> Failure

    /// Hidden name prefix of a file being written before it replaces another.
    static var temporaryPrefix: String { ".tmp-" }

    public enum Kind: Equatable, Sendable {
        case file, directory, symlink, other
    }

    /// What `path` is, without following a symbolic link; nil when nothing is there.
    public func kind(_ path: String) -> Kind? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        switch info.st_mode & S_IFMT {
        case S_IFREG: return .file
        case S_IFDIR: return .directory
        case S_IFLNK: return .symlink
        default: return .other
        }
    }

    /// Creates the folder unless it exists. `path` may be a symbolic link to a folder only when
    /// `followingLink` is true (the output folder, which operators may place elsewhere).
    func makeDirectory(_ path: String, followingLink: Bool = false) throws(Failure) {
        if mkdir(path, 0o755) != 0 && errno != EEXIST { throw failure("mkdir", path, errno) }
        var info = stat()
        let found = followingLink ? stat(path, &info) : lstat(path, &info)
        guard found == 0, (info.st_mode & S_IFMT) == S_IFDIR else { throw failure("mkdir", path, ENOTDIR) }
    }

    /// Creates the folder and its missing parents, like `mkdir -p`; the folder itself may be a
    /// symbolic link to a folder.
    func makeDirectoryAndParents(_ path: String) throws(Failure) {
        var parent = path.hasPrefix("/") ? "/" : ""
        for component in path.split(separator: "/").dropLast() {
            parent += component
            // An existing folder may answer mkdir with EACCES or EROFS rather than EEXIST.
            var info = stat()
            if stat(parent, &info) != 0 || (info.st_mode & S_IFMT) != S_IFDIR {
                if mkdir(parent, 0o755) != 0 && errno != EEXIST { throw failure("mkdir", parent, errno) }
            }
            parent += "/"
        }
        try makeDirectory(path, followingLink: true)
    }

    /// Writes `bytes` to `path`, creating or truncating it; ``sync(_:)`` makes it durable.
    func write(_ bytes: [UInt8], to path: String) throws(Failure) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o644)
        guard fd >= 0 else { throw failure("open", path, errno) }
        defer { close(fd) }
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { buffer in
                Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
            }
            if written < 0 {
                if errno == EINTR { continue }
                throw failure("write", path, errno)
            }
            offset += written
        }
    }

    /// Gives the regular file `source` a second name, `path`, when it holds exactly `bytes`: no
    /// copy, no fsync, no new inode. False when it does not or the link cannot be made (another
    /// file system, links not allowed); the caller then writes `bytes`. The new name is durable
    /// once its folder is synced; `source` must already be (the publisher syncs its files).
    func link(_ source: String, to path: String, ifHolding bytes: [UInt8]) -> Bool {
        do {
            guard try read(source) == bytes else { return false }
        } catch {
            return false  // unreadable: the caller writes a copy, which then fails or succeeds on its own
        }
        return Glibc.link(source, path) == 0
    }

    /// Replaces each file with its new bytes, each in one rename, so readers see the old or the
    /// new file: every new content is written and made durable first (one batch), then renamed
    /// into place in the order given.
    func replace(_ files: [(path: String, bytes: [UInt8])], temporaryIn folder: String) throws(Failure) {
        var temporaries: [String] = []
        do {
            for (_, bytes) in files {
                let temporary = folder + "/" + Self.temporaryPrefix + String(UInt32.random(in: .min ... .max), radix: 16)
                temporaries.append(temporary)
                try write(bytes, to: temporary)
            }
            try sync(temporaries)
            for (index, file) in files.enumerated() {
                try rename(temporaries[index], file.path)
            }
        } catch {
            for temporary in temporaries { unlink(temporary) }
            throw error
        }
    }

    /// The contents of a regular file; nil when nothing is there, or it is not a regular file
    /// or is a symbolic link. Reads to the end of the file, whatever its size said, and throws
    /// when the file cannot be opened or read (permissions, an I/O error): a failed read is
    /// never returned as a shorter file.
    public func read(_ path: String) throws(Failure) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else {
            let code = errno
            if code == ENOENT || code == ENOTDIR || code == ELOOP { return nil }
            throw failure("open", path, code)
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw failure("fstat", path, errno) }
        guard (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        // One spare byte, so the usual read ends with the end of the file without growing.
        var bytes = [UInt8](repeating: 0, count: max(0, Int(info.st_size)) + 1)
        var count = 0
        while true {
            if count == bytes.count { bytes += repeatElement(0, count: max(4096, bytes.count)) }
            let received = bytes.withUnsafeMutableBytes { buffer in
                Glibc.read(fd, buffer.baseAddress! + count, buffer.count - count)
            }
            if received < 0 {
                if errno == EINTR { continue }
                throw failure("read", path, errno)
            }
            if received == 0 { break }
            count += received
        }
        bytes.removeLast(bytes.count - count)
        return bytes
    }

    func rename(_ from: String, _ to: String) throws(Failure) {
        guard Glibc.rename(from, to) == 0 else { throw failure("rename to '\(to)'", from, errno) }
    }

    /// fsyncs files and folders side by side and returns when all are on disk; throws the first
    /// failure. The disk then works on them together instead of one round trip after another
    /// (publishing a site's 12 files: 3.1 ms instead of 4.6 ms one by one; docs/benchmarks.md).
    /// Each runs on its own serial queue, because libdispatch gives serial queues a thread of
    /// their own even when every core is busy, and a blocked fsync needs no core. A path that is
    /// a symbolic link (an output folder placed elsewhere) syncs what it names.
    func sync(_ paths: [String]) throws(Failure) {
        guard durable, !paths.isEmpty else { return }
        if paths.count == 1 {
            if let problem = syncToDisk(paths[0]) { throw problem }
            return
        }
        let failures = SyncFailures<Failure>()
        let group = DispatchGroup()
        for (index, path) in paths.enumerated().dropFirst() {
            syncQueues[index % syncQueues.count].async(group: group) {
                if let problem = syncToDisk(path) { failures.add(index, problem) }
            }
        }
        if let problem = syncToDisk(paths[0]) { failures.add(0, problem) }
        group.wait()
        if let first = failures.first { throw first }
    }

    private func syncToDisk(_ path: String) -> Failure? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return failure("open", path, errno) }
        defer { close(fd) }
        return Glibc.fsync(fd) == 0 ? nil : failure("fsync", path, errno)
    }

    func list(_ path: String) throws(Failure) -> [String] {
        guard let dir = opendir(path) else { throw failure("opendir", path, errno) }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// Every regular file under `folder`, relative and `/`-separated, plus anything else found
    /// (links, devices) in `unexpected`.
    func walk(_ folder: String, prefix: String = "") throws(Failure) -> (files: [String], unexpected: [String]) {
        var files: [String] = []
        var unexpected: [String] = []
        for name in try list(folder) {
            let relative = prefix.isEmpty ? name : prefix + "/" + name
            switch kind(folder + "/" + name) {
            case .file: files.append(relative)
            case .directory:
                let inner = try walk(folder + "/" + name, prefix: relative)
                files += inner.files
                unexpected += inner.unexpected
            default: unexpected.append(relative)
            }
        }
        return (files, unexpected)
    }

    /// Deletes a tree without following symbolic links. Goes on past a failure, so as much as
    /// possible is deleted, then throws the first one (nothing there is not a failure).
    func removeTree(_ path: String) throws(Failure) {
        var first: Failure?
        removeTree(path, firstFailure: &first)
        if let first { throw first }
    }

    private func removeTree(_ path: String, firstFailure first: inout Failure?) {
        guard let kind = kind(path) else { return }
        if kind == .directory {
            do {
                for name in try list(path) { removeTree(path + "/" + name, firstFailure: &first) }
            } catch {
                if first == nil { first = error }
            }
            if rmdir(path) != 0 && errno != ENOENT && first == nil { first = failure("rmdir", path, errno) }
        } else if unlink(path) != 0 && errno != ENOENT && first == nil {
            first = failure("unlink", path, errno)
        }
    }
}

/// Where ``Disk/sync(_:)`` runs its fsyncs.
private let syncQueues = (0..<8).map { DispatchQueue(label: "spendboard.disk.fsync-\($0)") }

/// The failures of one ``Disk/sync(_:)``, reported in the order of the paths.
private final class SyncFailures<Failure: Error>: Sendable {
    private let failures = Mutex<[(Int, Failure)]>([])
    func add(_ index: Int, _ failure: Failure) { failures.withLock { $0.append((index, failure)) } }
    var first: Failure? { failures.withLock { $0.min { $0.0 < $1.0 }?.1 } }
}

extension Disk where Failure == ArchiveError {
    public init(durable: Bool) {
        self.init(durable: durable) { operation, path, code in ArchiveError.fileSystem(operation, path: path, errno: code) }
    }
}

extension Disk where Failure == ReportError {
    init(durable: Bool) {
        self.init(durable: durable) { operation, path, code in ReportError.fileSystem(operation, path: path, errno: code) }
    }
}

/// The archive's disk: failures are `ArchiveError`s.
public typealias ArchiveDisk = Disk<ArchiveError>
