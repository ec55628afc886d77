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

    /// What `Browser/cdp-steps.py` saw at one `dump`.
    struct Seen: Decodable {
        var url: String
        var html: String
        /// Page loads since the previous dump; a reload counts.
        var loads: Int
        var console: [String]

        /// The choices marked current: (href, label) of the window, then of the refresh.
        var current: [String] {
            html.matches(of: /<a href="[^"]+" aria-current="page">([^<]+)<\/a>/).map { String($0.1) }
        }
    }

    /// Runs `steps` in Chromium through the DevTools protocol (`Browser/cdp-steps.py`): real
    /// page loads and mouse clicks, with or without JavaScript.
    static func drive(scripts: Bool, _ steps: [String]) throws -> [Seen] {
        let browser = try #require(Browser.path, "install Debian's chromium to run the browser check")
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Browser/cdp-steps.py").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script, browser] + (scripts ? [] : ["--no-scripts"]) + steps
        let output = Pipe()
        process.standardOutput = output
        // Its message goes to a file: a pipe nobody reads could fill up and block it.
        let errorPath = FileManager.default.temporaryDirectory.appendingPathComponent("spendboard-cdp-\(UUID().uuidString).log").path
        try #require(FileManager.default.createFile(atPath: errorPath, contents: nil), "cannot create \(errorPath)")
        defer { try? FileManager.default.removeItem(atPath: errorPath) }
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errorPath))
        try process.run()
        let stdout = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let message = FileManager.default.contents(atPath: errorPath).map { String(decoding: $0, as: UTF8.self) } ?? ""
        try #require(process.terminationStatus == 0, "cdp-steps.py failed: \(message.suffix(1000))")
        return try stdout.split(separator: UInt8(ascii: "\n")).map { try JSONDecoder().decode(Seen.self, from: Data($0)) }
    }

    /// The window and refresh choices in a real browser, clicked, with scripts on and off: a
    /// window's page keeps its window and refresh through reloads (the live script's fetches,
    /// or the `noscript` meta refresh), each click keeps the other choice, and the archive is
    /// one click away.
    @Test(arguments: [true, false])
    func windowNavigationKeepsTheOtherChoice(scripts: Bool) async throws {
        let output = EndToEndTests.scratch("output")
        let data = EndToEndTests.scratch("data")
        defer {
            try? FileManager.default.removeItem(atPath: output)
            try? FileManager.default.removeItem(atPath: data)
        }
        let server = try await EndToEndTests.Server(
            arguments: ["--backfill", "30m", "--render-interval", "1s", "--archive-every", "1s", "--data", data, "--seed", "7"], output: output)
        let base = "http://127.0.0.1:\(server.port)/"
        let seen = try Self.drive(
            scripts: scripts,
            [
                "load", base + "window-24h-live-1s.html", "wait", "2.5", "dump",
                "click", "nav.windows a[href='window-7d-live-1s.html']", "dump",
                "click", "nav.refresh a[href='window-7d-paused.html']", "dump",
                "click", "nav.windows a[href='paused.html']", "dump",
                "click", "nav.history a", "dump",
            ])
        try #require(seen.count == 5)
        for page in seen { #expect(page.console.isEmpty, "\(page.url): \(page.console)") }

        // Reloaded for 2.5 s at 1 s: still the 24-hour window, still every second.
        #expect(seen[0].current == ["24h", "1 s"])
        #expect(seen[0].html.contains("last 24 hours"))
        if scripts {
            // The live script fetches the same address instead of reloading.
            #expect(seen[0].html.contains("class=\"status live\""), "the live script did not reach Live")
            #expect(seen[0].loads == 1)
        } else {
            #expect(seen[0].loads >= 2, "the meta refresh did not reload")
            #expect(!seen[0].html.contains("class=\"status live\""))
        }
        #expect(seen[1].url == base + "window-7d-live-1s.html")
        #expect(seen[1].current == ["7d", "1 s"])
        #expect(seen[2].url == base + "window-7d-paused.html")
        #expect(seen[2].current == ["7d", "Pause"])
        #expect(seen[3].url == base + "paused.html")
        #expect(seen[3].current == ["1h", "Pause"])
        #expect(seen[4].url == base + "archive/index.html")
        #expect(seen[4].html.contains("Archive"))
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
