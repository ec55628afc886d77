import Foundation
import Testing

@testable import SpendServer

/// The serving rules of `/archive/…`, without a server.
struct ArchiveFilesTests {
    @Test(arguments: ["..", "../x", "%2e%2e/x", "a%2fb", ".trash-x/index.html", ".partial-y/", "a//b", "a\\b", "x/./y", "é"])
    func unsafeArchivePathsAreRefused(path: String) {
        #expect(ArchiveFiles.safeSegments(path) == nil)
    }

    @Test func safePathsResolveFolderIndexes() {
        #expect(ArchiveFiles.safeSegments("")?.joined(separator: "/") == "index.html")
        #expect(ArchiveFiles.safeSegments("2026-11-29T14-05-00Z/")?.joined(separator: "/") == "2026-11-29T14-05-00Z/index.html")
        #expect(ArchiveFiles.safeSegments("2026-11-29T14-05-00Z/embed/gauge.svg")?.count == 3)
    }

    @Test func symlinksInsideTheArchiveAreNotServed() throws {
        let directory = NSTemporaryDirectory() + "spendboard-archive-files-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let folder = "2026-11-29T14-05-00Z"
        try FileManager.default.createDirectory(atPath: directory + "/" + folder, withIntermediateDirectories: true)
        try Data("<html/>".utf8).write(to: URL(fileURLWithPath: directory + "/" + folder + "/index.html"))
        try FileManager.default.createSymbolicLink(atPath: directory + "/link", withDestinationPath: "/etc")
        try FileManager.default.createSymbolicLink(atPath: directory + "/" + folder + "/passwd", withDestinationPath: "/etc/passwd")
        let files = ArchiveFiles(directory: directory)
        #expect(try files.file("link/passwd") == .notFound)
        #expect(try files.file(folder + "/passwd") == .notFound)
        #expect(try files.file(folder) == .folder)
        #expect(try files.file(folder + "/") == .file(Array("<html/>".utf8)))
    }
}
