#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why archiving, pruning or reading the archive failed: what was attempted, on which path,
/// and the system's reason.
public struct ArchiveError: Error, CustomStringConvertible, Sendable {
    public var description: String
    /// The `errno` of a failed system call, 0 otherwise (`ENOSPC` for a full disk).
    public var errno: Int32

    init(_ description: String) {
        self.description = description
        self.errno = 0
    }

    static func fileSystem(_ operation: String, path: String, errno code: Int32) -> Self {
        var error = ArchiveError("\(operation) '\(path)' failed: \(String(cString: strerror(code)))")
        error.errno = code
        return error
    }
}
