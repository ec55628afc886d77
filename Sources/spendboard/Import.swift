import ArgumentParser
import Foundation
import Logging
import SpendCore
import SpendStorage

struct Import: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Import usage updates from a file (NDJSON or a JSON array; - for standard input) into the data folder.",
        discussion: """
            Every line is checked first, with the rules of POST /api/metrics and then those of the store (what the \
            server would not count is not imported either); a bad line stops the import with its line number and \
            nothing is imported. Updates with an eventId already stored in the last 24 hours are counted once. Start \
            (or restart) the server on the same --data folder to see them.
            """
    )

    @Argument(help: "The file to import, or - for standard input.")
    var file: String

    @Option(help: "Folder of the durable store (SQLite).")
    var data = "data"

    @Option(help: "Price table (JSON) for updates without totalCost; the reference prices are built in.")
    var prices: String?

    func run() async throws {
        let bytes = try readInput(file)
        var decoder = UsageBatchDecoder(prices: try loadPrices(prices))
        // What the server's store would refuse is a bad line too: only what it counts is stored.
        decoder.storeRules = UsageLedger.Configuration()
        let now = WallClock().now
        let updates: [UsageUpdate]
        do {
            updates = try UsageFileReader.read(bytes, decoder: decoder, now: now)
        } catch {
            printError("\(file): \(error)\nnothing was imported")
            throw ExitCode.failure
        }
        let journal = try SQLiteJournal(directory: data)
        let progress = Progress(total: updates.count)
        var accepted = 0
        var start = 0
        while start < updates.count {
            let batch = Array(updates[start..<min(updates.count, start + 10_000)])
            accepted += try await journal.append(batch, now: now).count
            start += batch.count
            progress.show(done: start)
        }
        progress.finish()
        print("imported \(accepted) updates (\(updates.count - accepted) duplicates) into \(journal.path)")
    }
}

/// The bytes of a file, or of standard input for `-`.
func readInput(_ path: String) throws -> [UInt8] {
    if path == "-" {
        return Array(FileHandle.standardInput.readDataToEndOfFile())
    }
    guard let data = FileManager.default.contents(atPath: path) else {
        throw ValidationError("cannot read \(path)")
    }
    return Array(data)
}

func printError(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}

/// A one-line progress bar on standard error, drawn only when it is a terminal.
struct Progress {
    let total: Int
    let enabled = isatty(STDERR_FILENO) == 1

    func show(done: Int) {
        guard enabled, total > 0 else { return }
        let width = 30
        let filled = width * done / total
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        FileHandle.standardError.write(Data("\r[\(bar)] \(done)/\(total) (\(100 * done / total)%)".utf8))
    }

    func finish() {
        if enabled { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
