import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import SpendCore
import SpendReport
import Synchronization
import Testing

/// Loads the served dashboard in headless Chromium: no console message may appear, every chart
/// must be on the page, the live script must reach "Live", and screenshots are kept for people
/// to look at (`.build/browser-check/`). Then drives the live script against a scripted server
/// to see it report failed reloads with its backoff and recover.
///
/// Runs when Chromium is installed (Debian's `chromium`); `SPENDBOARD_REQUIRE_BROWSER=1` (set by
/// `.ci/run`) makes a missing browser a failure instead of a skip.
@Suite(.serialized, .enabled(if: Browser.path != nil || Browser.required, "Chromium is not installed"))
struct BrowserTests {
    static let charts = ["gauge", "token-usage", "cost-by-model", "spend-per-hour"]

    /// Runs Chromium headless; returns standard output and the console lines it logged.
    static func browse(_ url: String, extra: [String]) throws -> (output: String, console: [String]) {
        let browser = try #require(Browser.path, "install Debian's chromium to run the browser check")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: browser)
        process.arguments =
            [
                "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--enable-logging=stderr", "--v=0",
                "--user-data-dir=\(FileManager.default.temporaryDirectory.appendingPathComponent("spendboard-chromium-\(UUID().uuidString)").path)",
            ] + extra + [url]
        // The log goes to a file: a pipe nobody reads could fill up and block the browser.
        let logPath = FileManager.default.temporaryDirectory.appendingPathComponent("spendboard-chromium-\(UUID().uuidString).log").path
        try #require(FileManager.default.createFile(atPath: logPath, contents: nil), "cannot create \(logPath)")
        defer { try? FileManager.default.removeItem(atPath: logPath) }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        try process.run()
        let stdout = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        let console = log.split(separator: "\n").filter { $0.contains(":CONSOLE") }.map(String.init)
        return (String(decoding: stdout, as: UTF8.self), console)
    }

    @Test func theDashboardLoadsCleanlyWithEveryChart() async throws {
        let output = EndToEndTests.scratch("output")
        let data = EndToEndTests.scratch("data")
        defer {
            try? FileManager.default.removeItem(atPath: output)
            try? FileManager.default.removeItem(atPath: data)
        }
        let server = try await EndToEndTests.Server(arguments: ["--backfill", "30m", "--render-interval", "1s", "--data", data, "--seed", "5"])
        let base = "http://127.0.0.1:\(server.port)"

        // The page after the live script has run a few cycles.
        let page = try Self.browse(base + "/", extra: ["--virtual-time-budget=6000", "--dump-dom"])
        #expect(page.console.isEmpty, "console: \(page.console)")
        for chart in Self.charts {
            #expect(page.output.contains("aria-labelledby=\"\(chart)-title \(chart)-desc\""), "chart \(chart) missing")
            #expect(page.output.contains("id=\"\(chart)-numbers\""), "numbers of \(chart) missing")
        }
        #expect(page.output.contains("id=\"customers\""))
        #expect(page.output.contains("class=\"status live\""), "the live script did not reach Live")

        // Every embed renders on its own.
        for chart in Self.charts + ["top-customers"] {
            let embed = try Self.browse(base + "/embed/\(chart).svg", extra: ["--dump-dom"])
            #expect(embed.console.isEmpty, "\(chart).svg console: \(embed.console)")
            #expect(embed.output.contains("<svg"), "\(chart).svg did not render")
        }

        // Screenshots for people: a wall screen and a phone.
        let shots = FileManager.default.currentDirectoryPath + "/.build/browser-check"
        try FileManager.default.createDirectory(atPath: shots, withIntermediateDirectories: true)
        for (name, size) in [("dashboard-1280.png", "1280,2200"), ("dashboard-360.png", "360,3200")] {
            let path = shots + "/" + name
            try? FileManager.default.removeItem(atPath: path)
            let shot = try Self.browse(base + "/paused.html", extra: ["--window-size=\(size)", "--screenshot=\(path)"])
            #expect(shot.console.isEmpty, "console: \(shot.console)")
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            #expect((attributes[.size] as? Int ?? 0) > 20_000, "\(name) looks empty")
        }
        #expect(await server.stop(with: SIGTERM) == 0)
    }
}

/// Where the browser is, and whether it must be.
extension BrowserTests {
    /// The live script when reloading fails: it says so with its backoff and keeps the snapshot
    /// it has; when the server answers again it goes back to "Live". A scripted server answers
    /// the page first, then 503 `failures` times, then the page again.
    @Test(arguments: [(Int.max, "error"), (2, "live")])
    func theLiveScriptShowsFailuresAndRecovers(failures: Int, finalState: String) async throws {
        let logger = Logger(label: "spendboard.tests", factory: { _ in SwiftLogNoOpLogHandler() })
        let renderer = try ReportRenderer(configuration: .init(templatesDirectory: nil, renderInterval: .seconds(1)), logger: logger)
        let page = try #require(try renderer.render(UsageLedger().snapshot(at: WallClock().now))["index.html"]).bytes
        let requests = Mutex(0)
        let router = Router()
        router.get("/") { _, _ -> Response in
            let count = requests.withLock { count in
                count += 1
                return count
            }
            guard count == 1 || count - 1 > failures else { return Response(status: .serviceUnavailable) }
            return Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(bytes: page)))
        }
        try await Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0))).test(.live) { client in
            let port = try #require(client.port)
            // Virtual time: 1 s polling, then retries after 1, 2, 4 s; the run sees about 10 s.
            let result = try Self.browse("http://127.0.0.1:\(port)/", extra: ["--virtual-time-budget=10000", "--dump-dom"])
            #expect(result.output.contains("class=\"status \(finalState)\""), "\(result.output.suffix(2000))")
            if finalState == "error" {
                #expect(result.output.contains("Error (HTTP 503), retrying in"))
            }
            #expect(result.output.contains("id=\"customers\""), "the snapshot stays on the page")
            #expect(requests.withLock { $0 } >= 4, "the script reloaded and retried")
        }
    }
}

enum Browser {
    static let required = ProcessInfo.processInfo.environment["SPENDBOARD_REQUIRE_BROWSER"] == "1"
    static let path: String? = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]
        .first { FileManager.default.isExecutableFile(atPath: $0) }
}
