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
        #expect(disk.read(folder + "/a") == Array("new a".utf8))
        #expect(disk.read(folder + "/b") == Array("new b".utf8))

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
}
