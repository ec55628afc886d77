import Foundation
import Testing

@testable import SpendReport

/// The file operations under the publisher and the archive, durable (with fsync).
struct DiskTests {
    @Test func syncsABatchAndReportsTheFirstFailureInPathOrder() throws {
        let folder = try Fixtures.temporaryDirectory()
        let disk = ArchiveDisk(durable: true)
        let paths = (0..<6).map { folder + "/file-\($0)" }
        for path in paths { try disk.write(Array(path.utf8), to: path) }
        try disk.sync(paths + [folder])
        for path in paths { #expect(FileManager.default.contents(atPath: path) == Data(path.utf8)) }

        let error = try #require(throws: ArchiveError.self) {
            try disk.sync([paths[0], folder + "/missing-1", paths[1], folder + "/missing-2", paths[2]])
        }
        #expect(error.errno == ENOENT)
        #expect(error.description.contains("missing-1"), "\(error)")
    }

    @Test func replaceSwapsEveryFileAndLeavesNoTemporaryBehind() throws {
        let folder = try Fixtures.temporaryDirectory()
        let disk = ArchiveDisk(durable: true)
        try disk.write(Array("old a".utf8), to: folder + "/a")
        try disk.write(Array("old b".utf8), to: folder + "/b")
        try disk.replace([(folder + "/a", Array("new a".utf8)), (folder + "/b", Array("new b".utf8))], temporaryIn: folder)
        #expect(try disk.read(folder + "/a") == Array("new a".utf8))
        #expect(try disk.read(folder + "/b") == Array("new b".utf8))

        // A target that cannot be reached: the error says which, and no temporary file stays.
        #expect(throws: ArchiveError.self) {
            try disk.replace([(folder + "/a", Array("newer a".utf8)), (folder + "/gone/b", Array("x".utf8))], temporaryIn: folder)
        }
        #expect(try disk.list(folder).sorted() == ["a", "b"])
    }

    @Test func theOutputFolderMayBeALinkButNothingInsideMay() throws {
        let folder = try Fixtures.temporaryDirectory()
        let disk = ArchiveDisk(durable: false)
        try disk.makeDirectory(folder + "/real")
        try FileManager.default.createSymbolicLink(atPath: folder + "/link", withDestinationPath: folder + "/real")
        try disk.makeDirectory(folder + "/link", followingLink: true)
        #expect(throws: ArchiveError.self) { try disk.makeDirectory(folder + "/link") }
    }

    /// A read error is an error, never a shorter file; a file whose size the kernel reports as
    /// 0 is still read whole; nothing there, a folder or a link is nil.
    @Test func readsToTheEndAndThrowsOnAReadError() throws {
        let folder = try Fixtures.temporaryDirectory()
        let disk = ArchiveDisk(durable: false)
        let error = try #require(throws: ArchiveError.self) { try disk.read("/proc/self/mem") }
        #expect(error.errno == EIO, "\(error)")
        let status = try #require(try disk.read("/proc/self/status"))
        #expect(String(decoding: status, as: UTF8.self).contains("VmRSS"))
        #expect(try disk.read(folder + "/missing") == nil)
        #expect(try disk.read(folder) == nil)
        try FileManager.default.createSymbolicLink(atPath: folder + "/link", withDestinationPath: "/proc/self/status")
        #expect(try disk.read(folder + "/link") == nil)
        let big = [UInt8](repeating: 7, count: 100_000)
        try disk.write(big, to: folder + "/big")
        #expect(try disk.read(folder + "/big") == big)
    }
}
