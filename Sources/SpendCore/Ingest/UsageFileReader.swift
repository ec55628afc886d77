import Dispatch
import Synchronization

/// Reads a file of usage updates, NDJSON or a JSON array, checking every item with a
/// `UsageBatchDecoder`. NDJSON is cut at line boundaries and parsed on every core.
///
/// A file is taken whole or not at all: the first problems found are reported with their line
/// numbers and nothing is returned.
public enum UsageFileReader {
    public struct ReadError: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// Problems reported at most, so a file of garbage still gives a readable message.
    static let reportedProblems = 10

    /// - Parameter chunkSize: bytes of NDJSON parsed per task (cut after a newline).
    public static func read(
        _ bytes: [UInt8], decoder: UsageBatchDecoder, now: Timestamp, chunkSize: Int = 4 << 20
    ) throws(ReadError) -> [UsageUpdate] {
        var decoder = decoder
        decoder.maximumItems = .max
        guard let first = bytes.first(where: { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }) else { return [] }
        if first == UInt8(ascii: "[") {
            do {
                return try decoder.decode(bytes, format: .json, now: now)
            } catch {
                throw ReadError(description: describe(error, lineOffset: 0))
            }
        }
        return try readLines(bytes, decoder: decoder, now: now, chunkSize: max(1, chunkSize))
    }

    private static func readLines(_ bytes: [UInt8], decoder: UsageBatchDecoder, now: Timestamp, chunkSize: Int) throws(ReadError) -> [UsageUpdate] {
        // Chunks of about 4 MB, cut after a newline, each with the number of lines before it.
        var bounds: [(start: Int, end: Int, linesBefore: Int)] = []
        var start = 0
        var lines = 0
        while start < bytes.count {
            var end = min(bytes.count, start + chunkSize)
            while end < bytes.count && bytes[end - 1] != UInt8(ascii: "\n") { end += 1 }
            bounds.append((start, end, lines))
            lines += bytes[start..<end].reduce(0) { $0 + ($1 == UInt8(ascii: "\n") ? 1 : 0) }
            start = end
        }
        let chunks = bounds
        let results = Mutex([Result<[UsageUpdate], ReadError>?](repeating: nil, count: chunks.count))
        DispatchQueue.concurrentPerform(iterations: chunks.count) { index in
            let chunk = chunks[index]
            let result: Result<[UsageUpdate], ReadError>
            do throws(UsageBatchDecoder.Failure) {
                result = .success(try decoder.decode(Array(bytes[chunk.start..<chunk.end]), format: .ndjson, now: now))
            } catch {
                result = .failure(ReadError(description: describe(error, lineOffset: chunk.linesBefore)))
            }
            results.withLock { $0[index] = result }
        }
        var updates: [UsageUpdate] = []
        updates.reserveCapacity(lines)
        for result in results.withLock({ $0 }) {
            switch result! {
            case .success(let chunk): updates += chunk
            case .failure(let error): throw error
            }
        }
        return updates
    }

    static func describe(_ failure: UsageBatchDecoder.Failure, lineOffset: Int) -> String {
        switch failure {
        case .syntax(let error):
            return "line \(error.line + lineOffset), column \(error.column): not valid JSON: \(error.message)"
        case .shape(let message):
            return message
        case .tooManyItems(let count, let limit):
            return "\(count) updates, more than \(limit)"
        case .invalid(let problems):
            let shown = problems.prefix(reportedProblems).map { problem in
                (problem.line.map { "line \($0 + lineOffset)" } ?? "item \(problem.index)") + ": \(problem.field) \(problem.rule)"
            }
            let more = problems.count > reportedProblems ? "\n… and \(problems.count - reportedProblems) more problems" : ""
            return shown.joined(separator: "\n") + more
        }
    }
}
