import Foundation
import SpendCore
import Testing

@testable import SpendReport

struct PublisherTests {
    static func publisher(_ directory: String) -> Publisher {
        Publisher(outputDirectory: directory, durable: false, logger: Fixtures.logger)
    }

    static func read(_ path: String) -> [UInt8]? {
        FileManager.default.contents(atPath: path).map { Array($0) }
    }

    @Test func publishedSiteIsCompleteAtThePublicPaths() throws {
        let output = try Fixtures.temporaryDirectory()
        let site = try Fixtures.renderer().render(Fixtures.seededSnapshot)
        try Self.publisher(output).publish(site)
        for file in site.files {
            let same = Self.read("\(output)/\(file.path)") == file.bytes
            #expect(same, "\(file.path)")
        }
        let statsAreTheSnapshot = Self.read("\(output)/stats.json") == Fixtures.seededSnapshot.jsonBytes()
        #expect(statsAreTheSnapshot)
        for required in [
            "index.html", "stats.json", "embed/gauge.svg", "embed/token-usage.svg", "embed/cost-by-model.svg", "embed/spend-per-hour.svg",
            "embed/top-customers.svg",
        ] {
            #expect(FileManager.default.fileExists(atPath: "\(output)/\(required)"), "\(required)")
        }
    }

    @Test func aNewSnapshotReplacesEveryFileAndKeepsArchiveAndOldLayoutIsMigrated() throws {
        let output = try Fixtures.temporaryDirectory()
        // An older layout with real files, an archive from another feature, a crashed publish.
        try FileManager.default.createDirectory(atPath: "\(output)/embed", withIntermediateDirectories: true)
        try Data("old".utf8).write(to: URL(fileURLWithPath: "\(output)/index.html"))
        try Data("old".utf8).write(to: URL(fileURLWithPath: "\(output)/embed/gauge.svg"))
        try FileManager.default.createDirectory(atPath: "\(output)/archive/2026", withIntermediateDirectories: true)
        try Data("keep".utf8).write(to: URL(fileURLWithPath: "\(output)/archive/2026/x.html"))
        try FileManager.default.createDirectory(atPath: "\(output)/.snapshots/000000000000000001-dead.partial", withIntermediateDirectories: true)

        let renderer = try Fixtures.renderer()
        let publisher = Self.publisher(output)
        try publisher.publish(renderer.render(Fixtures.hostileSnapshot))
        let second = try renderer.render(Fixtures.seededSnapshot)
        try publisher.publish(second)
        for file in second.files {
            let same = Self.read("\(output)/\(file.path)") == file.bytes
            #expect(same, "\(file.path)")
        }
        let archiveKept = Self.read("\(output)/archive/2026/x.html") == Array("keep".utf8)
        #expect(archiveKept)
        let snapshots = try FileManager.default.contentsOfDirectory(atPath: "\(output)/.snapshots")
        #expect(!snapshots.contains { $0.hasSuffix(".partial") }, "a crashed publish's leftovers are removed")
        for _ in 0..<4 { try publisher.publish(second) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: "\(output)/.snapshots").count == publisher.keptSnapshots)
    }

    @Test func anInvalidFileIsCaughtWithItsLineAndNothingIsPublished() throws {
        let output = try Fixtures.temporaryDirectory()
        let renderer = try Fixtures.renderer()
        let good = try renderer.render(Fixtures.seededSnapshot)
        let pipeline = SnapshotPipeline(renderer: renderer, publisher: Self.publisher(output))
        _ = try pipeline.deliver(good, of: Fixtures.seededSnapshot)

        var broken = try renderer.render(Fixtures.hostileSnapshot)
        let index = try #require(broken.files.firstIndex { $0.path == "index.html" })
        let page = Fixtures.text(broken.files[index]).replacingOccurrences(of: "<h1>Spendboard</h1>", with: "<h1>Spendboard")
        broken.files[index].bytes = Array(page.utf8)
        let brokenLine = page.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.hasPrefix("<h1>Spendboard") }! + 1

        let error = try #require(throws: SnapshotPipeline.StepError.self) { try pipeline.deliver(broken, of: Fixtures.hostileSnapshot) }
        #expect(error.step == .validate)
        #expect(!error.validationIssues.isEmpty)
        #expect(error.validationIssues.allSatisfy { $0.file == "index.html" })
        #expect(error.validationIssues.contains { $0.line >= brokenLine })
        for file in good.files {
            let same = Self.read("\(output)/\(file.path)") == file.bytes
            #expect(same, "the previous \(file.path) stays")
        }
    }

    @Test func unsafePathsAreRefused() throws {
        let output = try Fixtures.temporaryDirectory()
        for path in ["../x.html", "/etc/x", "embed/../../x", ".current", "a//b"] {
            let site = RenderedSite(generatedAt: Fixtures.now, files: [.init(path: path, bytes: [1], contentType: "x")])
            #expect(throws: ReportError.self, "\(path)") { try Self.publisher(output).publish(site) }
        }
    }
}

/// Durable publishing (with fsync), as the server runs it.
struct DurablePublisherTests {
    /// Operators may make `Output` a symbolic link to a folder elsewhere; publishing with fsync
    /// follows it for the output folder itself.
    @Test func publishesIntoAnOutputFolderThatIsALink() throws {
        let folder = try Fixtures.temporaryDirectory()
        try FileManager.default.createDirectory(atPath: folder + "/real", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: folder + "/Output", withDestinationPath: folder + "/real")
        let site = try Fixtures.renderer().render(Fixtures.seededSnapshot)
        try Publisher(outputDirectory: folder + "/Output", durable: true, logger: Fixtures.logger).publish(site)
        #expect(FileManager.default.contents(atPath: folder + "/real/index.html").map(Array.init) == site["index.html"]?.bytes)
    }

    /// `--output reports/2026/yesterday` works like `mkdir -p`; a file in the way is an error.
    @Test func createsMissingParentsOfTheOutputFolder() throws {
        let folder = try Fixtures.temporaryDirectory()
        let site = try Fixtures.renderer().render(Fixtures.seededSnapshot)
        try PublisherTests.publisher(folder + "/reports/2026/yesterday").publish(site)
        #expect(PublisherTests.read(folder + "/reports/2026/yesterday/stats.json") == site["stats.json"]?.bytes)

        #expect(FileManager.default.createFile(atPath: folder + "/file", contents: Data()))
        let error = #expect(throws: ReportError.self) { try PublisherTests.publisher(folder + "/file/out").publish(site) }
        #expect(error.map { "\($0)".contains("/file/out") } == true, "\(String(describing: error))")
    }
}

/// What the publisher cannot delete after a switch is reported, not dropped.
struct PublisherCleanupTests {
    /// A tree deeper than PATH_MAX, made with *at() calls: path-based deletion cannot reach its
    /// bottom, as with any folder the process may not delete.
    static func makeUndeletableTree(in folder: String) throws {
        var fd = open(folder, O_RDONLY | O_DIRECTORY)
        try #require(fd >= 0)
        let name = String(repeating: "d", count: 200)
        for _ in 0..<25 {
            try #require(mkdirat(fd, name, 0o755) == 0)
            let inner = openat(fd, name, O_RDONLY | O_DIRECTORY)
            close(fd)
            try #require(inner >= 0)
            fd = inner
        }
        let file = openat(fd, "bottom", O_WRONLY | O_CREAT, 0o644)
        try #require(file >= 0)
        close(file)
        close(fd)
    }

    @Test func oldSnapshotsThatCannotBeDeletedAreReportedAndThePublishStands() throws {
        let output = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: output) }
        let site = try Fixtures.renderer().render(Fixtures.seededSnapshot)
        let publisher = PublisherTests.publisher(output)
        let first = try publisher.publish(site)
        #expect(first.cleanupFailures.isEmpty)
        try Self.makeUndeletableTree(in: first.folder)
        var last = first
        for index in 1...publisher.keptSnapshots {
            var later = site
            later.generatedAt = site.generatedAt.advanced(by: .seconds(5 * Int64(index)))  // snapshot ids sort by time
            last = try publisher.publish(later)
        }
        #expect(last.cleanupFailures.count == 1, "\(last.cleanupFailures)")
        #expect(last.cleanupFailures.first?.contains(first.id) == true)
        #expect(PublisherTests.read(output + "/index.html") == site["index.html"]?.bytes)
    }
}
