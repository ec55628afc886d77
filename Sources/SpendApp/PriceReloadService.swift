import Foundation
import Logging
import ServiceLifecycle
import SpendCore
import UnixSignals

/// Reloads the `--prices` file on `SIGHUP`: a file with any problem is refused, every problem
/// logged and shown in `/api/health` (`prices.lastReloadProblems`), and the table in force
/// stays; a good file is in force for every batch decoded after it.
struct PriceReloadService: Service {
    let book: PriceBook
    let path: String
    let clock: any TimeSource
    let logger: Logger
    /// Trapped when the service is made, before the server listens: a `SIGHUP` that arrives
    /// early is a reload, never the signal's default action (the end of the process).
    let signals: UnixSignalsSequence

    init(book: PriceBook, path: String, clock: any TimeSource, logger: Logger) async {
        self.book = book
        self.path = path
        self.clock = clock
        self.logger = logger
        signals = await UnixSignalsSequence(trapping: .sighup)
    }

    func run() async throws {
        for await _ in signals.cancelOnGracefulShutdown() {
            reload()
        }
    }

    /// Reads and checks the file, then puts it in force or refuses it.
    func reload() {
        let now = clock.now
        let problems: [String]
        do {
            let table = try PriceTable.load(path)
            book.replace(with: table, at: now)
            logger.notice("prices reloaded", metadata: ["file": "\(path)", "entries": "\(table.entries.count)"])
            return
        } catch {
            // `load` throws only `FormatError`, which lists every problem.
            problems = error.problems
        }
        book.refuse(problems, at: now)
        logger.error(
            "prices not reloaded: the file has problems; the previous prices stay in force",
            metadata: ["file": "\(path)", "problems": "\(problems.joined(separator: "; "))"])
    }
}
