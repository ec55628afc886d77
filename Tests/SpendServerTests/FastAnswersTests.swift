import Foundation
import HTTPTypes
import NIOCore
import Synchronization
import Testing

@testable import SpendServer

/// The fast path's answer bytes (`FastAnswers`): whole and exact, one render's bytes only, made
/// again when the second changes.
struct FastAnswersTests {
    typealias Representation = LiveSite.ServedFile.Representation

    /// A wall clock the test moves.
    final class Second: Sendable {
        let value = Mutex(1_700_000_000)
        func callAsFunction() -> Int { value.withLock { $0 } }
        func advance() { value.withLock { $0 += 1 } }
    }

    static func representation(_ body: String) -> Representation {
        Representation(
            body: ByteBuffer(string: body), etag: "\"\(body.utf8.count)\"", headers: [.contentType: "text/plain", .eTag: "\"\(body.utf8.count)\""])
    }

    /// What the answer writes, in order, as text.
    static func text(_ answer: FastAnswers.Answer) -> String {
        var bytes = answer.head
        if var body = answer.body { bytes.writeBuffer(&body) }
        return String(buffer: bytes)
    }

    @Test func aSmallAnswerIsOneBufferWithEveryHeaderAndTheBody() {
        let second = Second()
        let answers = FastAnswers(now: second.callAsFunction)
        let file = Self.representation("hello")
        let answer = answers.answer(file, notModified: false, bodiless: false, maxAge: 4, keepAlive: true, http10: false)
        #expect(answer.body == nil, "the body is in the same buffer")
        #expect(
            String(buffer: answer.head)
                == "HTTP/1.1 200 OK\r\nServer: spendboard\r\nContent-Type: text/plain\r\nETag: \"5\"\r\nContent-Length: 5\r\n"
                + "Date: Tue, 14 Nov 2023 22:13:20 GMT\r\nCache-Control: public, max-age=4\r\n\r\nhello")
    }

    @Test func aLargeBodyIsWrittenAfterTheHeadNotCopied() {
        let answers = FastAnswers(now: Second().callAsFunction)
        let large = String(repeating: "x", count: FastAnswers.bodyLimit + 1)
        let file = Self.representation(large)
        let answer = answers.answer(file, notModified: false, bodiless: false, maxAge: nil, keepAlive: true, http10: false)
        #expect(answer.body == file.body)
        #expect(String(buffer: answer.head).hasSuffix("Content-Length: \(large.utf8.count)\r\nDate: Tue, 14 Nov 2023 22:13:20 GMT\r\n\r\n"))
    }

    @Test(arguments: [(false, true), (true, false), (true, true)])
    func headAndNotModifiedHaveNoBody(notModified: Bool, bodiless: Bool) {
        let answers = FastAnswers(now: Second().callAsFunction)
        let file = Self.representation("hello")
        let answer = answers.answer(file, notModified: notModified, bodiless: bodiless, maxAge: 0, keepAlive: true, http10: false)
        let text = Self.text(answer)
        #expect(text.hasPrefix(notModified ? "HTTP/1.1 304 Not Modified\r\n" : "HTTP/1.1 200 OK\r\n"))
        #expect(text.hasSuffix("Cache-Control: public, max-age=0\r\n\r\n"), "nothing after the head")
    }

    @Test func connectionHeadersFollowTheClient() {
        let answers = FastAnswers(now: Second().callAsFunction)
        let file = Self.representation("hello")
        func head(keepAlive: Bool, http10: Bool) -> String {
            Self.text(answers.answer(file, notModified: false, bodiless: true, maxAge: nil, keepAlive: keepAlive, http10: http10))
        }
        #expect(head(keepAlive: true, http10: false).hasSuffix("GMT\r\n\r\n"))
        #expect(head(keepAlive: false, http10: false).hasSuffix("GMT\r\nConnection: close\r\n\r\n"))
        #expect(head(keepAlive: false, http10: true).hasSuffix("GMT\r\nConnection: close\r\n\r\n"))
        #expect(head(keepAlive: true, http10: true).hasSuffix("GMT\r\nConnection: keep-alive\r\n\r\n"))
    }

    /// Representations made and dropped one after the other (renders) within one second: each
    /// answer carries its own representation's bytes, never a cached answer of another that
    /// lived at the same address.
    @Test func answersWithinOneSecondNeverMixRepresentations() {
        let answers = FastAnswers(now: Second().callAsFunction)
        for index in 0..<(FastAnswers.entryLimit * 3) {
            let body = "render \(index)"
            let answer = answers.answer(Self.representation(body), notModified: false, bodiless: false, maxAge: 1, keepAlive: true, http10: false)
            #expect(Self.text(answer).hasSuffix("\r\n\r\n" + body), "render \(index)")
        }
    }

    @Test func theNextSecondMakesTheAnswersAgain() {
        let second = Second()
        let answers = FastAnswers(now: second.callAsFunction)
        let file = Self.representation("hello")
        let first = Self.text(answers.answer(file, notModified: false, bodiless: false, maxAge: 2, keepAlive: true, http10: false))
        #expect(Self.text(answers.answer(file, notModified: false, bodiless: false, maxAge: 2, keepAlive: true, http10: false)) == first)
        second.advance()
        let next = Self.text(answers.answer(file, notModified: false, bodiless: false, maxAge: 1, keepAlive: true, http10: false))
        #expect(next.contains("Date: Tue, 14 Nov 2023 22:13:21 GMT\r\nCache-Control: public, max-age=1\r\n"))
    }

    /// The bytes of an answer's file, read back from its descriptor.
    static func contents(_ file: AnswerFile) throws -> String {
        try file.region.fileHandle.withUnsafeFileDescriptor { descriptor in
            var bytes = [UInt8](repeating: 0, count: file.region.readableBytes + 1)
            let count = bytes.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, 0) }
            return String(decoding: bytes[..<max(0, count)], as: UTF8.self)
        }
    }

    /// An answer of at least `fileThreshold` bytes is also a file holding exactly the bytes
    /// written from memory otherwise: with its body in the head's buffer, and after it.
    @Test(arguments: [FastAnswers.fileThreshold, FastAnswers.bodyLimit + 1])
    func aLargeAnswerIsAFileOfTheSameBytes(size: Int) throws {
        #if os(Linux)
        let answers = FastAnswers(now: Second().callAsFunction)
        let body = String(repeating: "x", count: size - 1) + "!"
        let answer = answers.answer(Self.representation(body), notModified: false, bodiless: false, maxAge: 3, keepAlive: true, http10: false)
        let file = try #require(answer.file, "no file for \(size) bytes")
        #expect(file.region.readerIndex == 0)
        #expect(file.region.readableBytes == Self.text(answer).utf8.count)
        #expect(try Self.contents(file) == Self.text(answer))
        #expect(Self.text(answer).hasSuffix("max-age=3\r\n\r\n" + body))
        #endif
    }

    @Test func smallAndBodilessAnswersAreWrittenFromMemory() {
        let answers = FastAnswers(now: Second().callAsFunction)
        let small = Self.representation(String(repeating: "x", count: FastAnswers.fileThreshold - 300))
        #expect(answers.answer(small, notModified: false, bodiless: false, maxAge: 3, keepAlive: true, http10: false).file == nil)
        let large = Self.representation(String(repeating: "x", count: FastAnswers.bodyLimit + 1))
        #expect(answers.answer(large, notModified: false, bodiless: true, maxAge: 3, keepAlive: true, http10: false).file == nil)
        #expect(answers.answer(large, notModified: true, bodiless: false, maxAge: 3, keepAlive: true, http10: false).file == nil)
    }

    /// Without a file (none can be made), the same answer is written from memory.
    @Test func withoutAFileTheAnswerIsWrittenFromMemory() {
        let asked = Mutex(0)
        let answers = FastAnswers(
            now: Second().callAsFunction,
            makeFile: { _ in
                asked.withLock { $0 += 1 }
                return nil
            })
        let body = String(repeating: "y", count: FastAnswers.fileThreshold)
        let answer = answers.answer(Self.representation(body), notModified: false, bodiless: false, maxAge: nil, keepAlive: true, http10: false)
        #expect(asked.withLock { $0 } == 1)
        #expect(answer.file == nil)
        #expect(Self.text(answer).hasSuffix("GMT\r\n\r\n" + body))
    }

    /// A file is closed when its last holder lets it go: here the answers' cache, when the
    /// second changes.
    @Test func aFileIsClosedWhenTheAnswersMoveOn() throws {
        #if os(Linux)
        let second = Second()
        let answers = FastAnswers(now: second.callAsFunction)
        let representation = Self.representation(String(repeating: "z", count: FastAnswers.fileThreshold))
        weak var file: AnswerFile?
        var descriptor: CInt = -1
        var inode: ino_t = 0
        do {
            let answer = answers.answer(representation, notModified: false, bodiless: false, maxAge: 1, keepAlive: true, http10: false)
            let held = try #require(answer.file)
            file = held
            try held.region.fileHandle.withUnsafeFileDescriptor { fd in
                descriptor = fd
                var status = stat()
                #expect(fstat(fd, &status) == 0)
                inode = status.st_ino
            }
        }
        #expect(file != nil, "the cache holds it within the second")
        second.advance()
        _ = answers.answer(Self.representation("next"), notModified: false, bodiless: false, maxAge: 1, keepAlive: true, http10: false)
        #expect(file == nil)
        // The descriptor is closed (or, taken since by another test's file, another file).
        var status = stat()
        #expect(fstat(descriptor, &status) != 0 || status.st_ino != inode)
        #endif
    }

    @Test(arguments: [
        (0, "Thu, 01 Jan 1970 00:00:00 GMT"), (951_782_400, "Tue, 29 Feb 2000 00:00:00 GMT"), (1_796_169_599, "Tue, 01 Dec 2026 23:59:59 GMT"),
    ])
    func datesAreIMFFixdate(seconds: Int, text: String) {
        #expect(FastAnswers.imfFixdate(seconds) == text)
    }
}
