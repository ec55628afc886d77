import CompressNIO
import Hummingbird
import NIOCore
import SpendCore
import SpendReport
import Synchronization

/// The published site, held in memory and swapped whole on every render: requests are answered
/// from bytes prepared once per render (ETag and gzip included), never from the file system.
///
/// A reader sees one render or the next, never a mix: the whole table of files is replaced in
/// one assignment under a lock.
public final class LiveSite: Sendable {
    /// One file ready to serve, in its plain and (when worth it) gzip form, with every header
    /// but `Cache-Control` built once per render. Immutable and shared by reference: an answer
    /// takes one reference, not a copy of its buffers and headers.
    final class ServedFile: Sendable {
        final class Representation: Sendable {
            let body: ByteBuffer
            let etag: String
            let headers: HTTPFields
            /// For the fast path: the status line and every header but `Date`, `Cache-Control`
            /// and `Connection`, which each answer adds.
            let okHead: ByteBuffer
            let notModifiedHead: ByteBuffer

            init(body: ByteBuffer, etag: String, headers: HTTPFields) {
                self.body = body
                self.etag = etag
                self.headers = headers
                var ok = headers
                ok[.contentLength] = String(body.readableBytes)
                okHead = Self.encode("HTTP/1.1 200 OK", ok)
                var notModified = headers
                notModified[.contentEncoding] = nil
                notModifiedHead = Self.encode("HTTP/1.1 304 Not Modified", notModified)
            }

            static func encode(_ statusLine: String, _ fields: HTTPFields) -> ByteBuffer {
                var text = statusLine + "\r\nServer: spendboard\r\n"
                for field in fields { text += "\(field.name.rawName): \(field.value)\r\n" }
                return ByteBuffer(string: text)
            }
        }

        let plain: Representation
        /// The gzip representation, when it is worth sending (text larger than 1 KiB).
        let gzipped: Representation?
        /// Its route in the request counters (`/` is counted apart, as `root`).
        let route: FastPathCounters.Route

        init(plain: Representation, gzipped: Representation?, route: FastPathCounters.Route) {
            self.plain = plain
            self.gzipped = gzipped
            self.route = route
        }
    }

    struct State: Sendable {
        var files: [String: ServedFile] = [:]
        /// `/api/stats`: the bytes of `stats.json` with the API's headers (no ETag, `no-cache`).
        var apiStats: ServedFile.Representation?
        var generatedAt: Timestamp?
        var expiresAt: Timestamp?
    }

    /// The state behind one reference: a reader takes the reference (one retain) under the
    /// lock, never a copy of the table.
    final class Published: Sendable {
        let state: State

        init(_ state: State) {
            self.state = state
        }
    }

    private let published = Mutex(Published(State()))

    public init() {}

    /// Replaces the served files with those of `site`; they expire at `expiresAt` (the next
    /// render), which sets `Cache-Control: max-age`.
    public func publish(_ site: RenderedSite, expiresAt: Timestamp) {
        var files: [String: ServedFile] = [:]
        files.reserveCapacity(site.files.count)
        var apiStats: ServedFile.Representation?
        for file in site.files {
            files[file.path] = Self.prepare(file)
            if file.path == "stats.json" {
                apiStats = ServedFile.Representation(
                    body: ByteBuffer(bytes: file.bytes), etag: "",
                    headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-cache"])
            }
        }
        let next = Published(State(files: files, apiStats: apiStats, generatedAt: site.generatedAt, expiresAt: expiresAt))
        published.withLock { $0 = next }
    }

    var current: State { published.withLock { $0 }.state }

    /// The current render, by reference (the fast path's read).
    var currentPublished: Published { published.withLock { $0 } }

    static let contentSecurityPolicy =
        "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'"

    static func prepare(_ file: RenderedSite.File) -> ServedFile {
        var common: HTTPFields = [.contentType: file.contentType, .xContentTypeOptions: "nosniff"]
        // Embeds are meant to be shown by other sites in <img>; everything else stays ours.
        common[.crossOriginResourcePolicy] = file.path.hasPrefix("embed/") ? "cross-origin" : "same-origin"
        if file.contentType.hasPrefix("text/html") {
            common[.contentSecurityPolicy] = contentSecurityPolicy
        }
        let body = ByteBuffer(bytes: file.bytes)
        // A file that does not compress is served plain: it costs bandwidth, never content.
        let compressed = file.bytes.count > 1024 ? try? body.compressed() : nil
        if compressed != nil { common[.vary] = "Accept-Encoding" }
        func representation(_ body: ByteBuffer, etag: String, encoding: String?) -> ServedFile.Representation {
            var headers = common
            headers[.eTag] = etag
            if let encoding { headers[.contentEncoding] = encoding }
            return ServedFile.Representation(body: body, etag: etag, headers: headers)
        }
        return ServedFile(
            plain: representation(body, etag: etag(file.bytes), encoding: nil),
            gzipped: compressed.map { representation($0, etag: etag(file.bytes, suffix: "-gz"), encoding: "gzip") },
            route: .of(key: file.path))
    }

    /// A strong entity tag from the content: 64-bit FNV-1a and the length. It changes whenever
    /// the bytes change (unlike modification-time tags, which miss rewrites within a second).
    static func etag(_ bytes: [UInt8], suffix: String = "") -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
        }
        return "\"\(String(bytes.count, radix: 16))-\(String(hash, radix: 16))\(suffix)\""
    }
}

extension LiveSite {
    /// The pipeline step that serves each published snapshot from memory until the next
    /// render, `renderInterval` later.
    public func sink(renderInterval: Duration) -> some SnapshotSink {
        LiveSiteSink(site: self, renderInterval: renderInterval)
    }
}

struct LiveSiteSink: SnapshotSink {
    let site: LiveSite
    let renderInterval: Duration

    func accept(_ rendered: RenderedSite, of snapshot: Snapshot) {
        site.publish(rendered, expiresAt: snapshot.generatedAt.advanced(by: renderInterval))
    }
}

extension ByteBuffer {
    fileprivate func compressed() throws -> ByteBuffer {
        var input = self
        return try input.compress(with: .gzip())
    }
}
