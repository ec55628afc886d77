import Foundation
import NIOCore
import Synchronization

/// One whole answer (status line, headers and body) in an unlinked shared-memory file, sent
/// with `sendfile(2)` as a `FileRegion`. The kernel then takes the file's pages into the socket
/// as they are, where writing from memory copies every byte into it first: for the 58 KB live
/// page that copy was a fifth of the server's time under load (`docs/benchmarks.md`).
///
/// Nobody else can open the file (it is unlinked as soon as it is made) and it is never written
/// again, so it sends the bytes it was made with. It is closed when the last reference goes: whoever writes its region keeps a
/// reference until the write has completed (`LiveSiteConnection.answer`).
final class AnswerFile: Sendable {
    let region: FileRegion
    private let handle: NIOFileHandle

    /// The file holding `bytes`, or nil when one cannot be made here (not Linux, no
    /// `/dev/shm`, out of descriptors): the answer is then written from memory, the same bytes.
    init?(_ bytes: ByteBuffer) {
        #if os(Linux)
        guard let descriptor = Self.sharedMemory(bytes) else { return nil }
        handle = NIOFileHandle(_deprecatedTakingOwnershipOfDescriptor: descriptor)
        region = FileRegion(fileHandle: handle, readerIndex: 0, endIndex: bytes.readableBytes)
        #else
        return nil
        #endif
    }

    deinit {
        // Nothing is sending from it any more; a failed close loses nothing.
        try? handle.close()
    }

    #if os(Linux)
    private static let sequence = Atomic<UInt64>(0)

    /// A new shared-memory object named for this process, unlinked at once (so it goes away with
    /// its last descriptor, also when the process dies), holding `bytes`.
    private static func sharedMemory(_ bytes: ByteBuffer) -> CInt? {
        let number = sequence.add(1, ordering: .relaxed).newValue
        let name = "/spendboard-\(getpid())-\(number)"
        // shm_open sets FD_CLOEXEC.
        let descriptor = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0o600)
        guard descriptor >= 0 else { return nil }
        // A name left behind would keep its memory until the machine restarts.
        guard shm_unlink(name) == 0 else {
            close(descriptor)
            return nil
        }
        let written = bytes.withUnsafeReadableBytes { raw -> Bool in
            var offset = 0
            while offset < raw.count {
                let result = write(descriptor, raw.baseAddress! + offset, raw.count - offset)
                if result < 0 && errno == EINTR { continue }
                guard result > 0 else { return false }
                offset += result
            }
            return true
        }
        guard written else {
            close(descriptor)
            return nil
        }
        return descriptor
    }
    #endif
}
