import Foundation
import NIOCore
import Synchronization

/// The bytes of the fast path's answers, made on each event loop at most once per second and
/// shared by the loop's connections: the status line, every header and the blank line in one
/// buffer, with the body after them when it is at most `bodyLimit`. Most answers are then one
/// write of one buffer instead of three (head, `Date` and the rest, body), which is most of
/// what NIO spends per answer (`docs/benchmarks.md`).
///
/// An answer's `Date` and `Cache-Control: max-age` change with the second, so every entry is
/// dropped when it changes. Each entry holds its representation, which is immutable: a cached
/// answer is always one render's bytes, whole, and the representation's identity (the key)
/// cannot be taken by another while the entry lives. At most `entryLimit` entries; past that,
/// answers are made for each request, as they are for bodies over the limit.
///
/// Not thread-safe: one per event loop (`FastAnswers.Loops`), used only on it.
final class FastAnswers {
    typealias Representation = LiveSite.ServedFile.Representation

    /// What one answer writes: `head`, then `body` unless it is nil (in `head` already, or none);
    /// or, when there is a `file`, the file's region, which holds the same bytes.
    struct Answer {
        let head: ByteBuffer
        let body: ByteBuffer?
        /// For an answer of at least `fileThreshold` bytes: all of it, for `sendfile`.
        let file: AnswerFile?
    }

    struct Key: Hashable {
        var representation: ObjectIdentifier
        var notModified: Bool
        var bodiless: Bool
        var maxAge: Int64?
        var keepAlive: Bool
        var http10: Bool
    }

    static let bodyLimit = 64 * 1024
    static let entryLimit = 64
    /// From this size on an answer is sent from a file (`AnswerFile`): below it, copying the
    /// bytes into the socket costs less than `sendfile`'s setup (`docs/benchmarks.md`).
    static let fileThreshold = 16 * 1024

    /// The wall clock's second (`time`): the `Date` header's.
    private let now: () -> Int
    private var second = -1
    private var date = ""
    private var entries: [Key: (owner: Representation, answer: Answer)] = [:]
    /// The last answer given: most answers in a row are the same, and need no hashing.
    private var last: (key: Key, owner: Representation, answer: Answer)?

    /// Makes the file of an answer's bytes, or nil to write them from memory.
    private let makeFile: (ByteBuffer) -> AnswerFile?

    init(now: @escaping () -> Int = { time(nil) }, makeFile: @escaping (ByteBuffer) -> AnswerFile? = AnswerFile.init) {
        self.now = now
        self.makeFile = makeFile
    }

    /// The answer with `representation`: `200` with its body (none for `HEAD`, when `bodiless`)
    /// or `304`; `Cache-Control: max-age` when `maxAge` is given (a site file); `Connection:
    /// close` unless `keepAlive`, `Connection: keep-alive` for an HTTP/1.0 client keeping it.
    func answer(
        _ representation: Representation, notModified: Bool, bodiless: Bool, maxAge: Int64?, keepAlive: Bool, http10: Bool
    ) -> Answer {
        let current = now()
        if current != second {
            second = current
            date = Self.imfFixdate(current)
            entries.removeAll(keepingCapacity: true)
            last = nil
        }
        let key = Key(
            representation: ObjectIdentifier(representation), notModified: notModified, bodiless: bodiless || notModified, maxAge: maxAge,
            keepAlive: keepAlive, http10: http10)
        if let last, last.key == key { return last.answer }
        if let entry = entries[key] {
            last = (key, entry.owner, entry.answer)
            return entry.answer
        }
        let answer = make(representation, key)
        if entries.count < Self.entryLimit {
            entries[key] = (representation, answer)
            last = (key, representation, answer)
        }
        return answer
    }

    private func make(_ representation: Representation, _ key: Key) -> Answer {
        let start = key.notModified ? representation.notModifiedHead : representation.okHead
        var text = "Date: " + date
        if let maxAge = key.maxAge { text += "\r\nCache-Control: public, max-age=\(maxAge)" }
        if !key.keepAlive {
            text += "\r\nConnection: close"
        } else if key.http10 {
            text += "\r\nConnection: keep-alive"
        }
        text += "\r\n\r\n"
        // The body goes in the same buffer, or is written after it.
        var inside: ByteBuffer?
        var after: ByteBuffer?
        if !key.bodiless {
            if representation.body.readableBytes <= Self.bodyLimit { inside = representation.body } else { after = representation.body }
        }
        var head = ByteBuffer()
        head.reserveCapacity(start.readableBytes + text.utf8.count + (inside?.readableBytes ?? 0))
        head.writeImmutableBuffer(start)
        head.writeString(text)
        if let inside { head.writeImmutableBuffer(inside) }
        var file: AnswerFile?
        if head.readableBytes + (after?.readableBytes ?? 0) >= Self.fileThreshold {
            var whole = head
            if let after { whole.writeImmutableBuffer(after) }
            file = makeFile(whole)
        }
        return Answer(head: head, body: after, file: file)
    }

    static let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// RFC 9110's IMF-fixdate.
    static func imfFixdate(_ seconds: Int) -> String {
        var value = seconds
        var parts = tm()
        gmtime_r(&value, &parts)
        func two(_ number: Int32) -> String { number < 10 ? "0\(number)" : "\(number)" }
        return "\(days[Int(parts.tm_wday)]), \(two(parts.tm_mday)) \(months[Int(parts.tm_mon)]) \(parts.tm_year + 1900) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) GMT"
    }

    /// One `FastAnswers` for each event loop of a server, made when the loop's first
    /// connection opens.
    final class Loops: Sendable {
        private let table = Mutex<[ObjectIdentifier: NIOLoopBound<FastAnswers>]>([:])

        init() {}

        /// The answers of `loop`; called on it.
        func answers(on loop: any EventLoop) -> FastAnswers {
            let bound = table.withLock { table in
                let key = ObjectIdentifier(loop)
                if let bound = table[key] { return bound }
                let bound = NIOLoopBound(FastAnswers(), eventLoop: loop)
                table[key] = bound
                return bound
            }
            return bound.value
        }
    }
}
