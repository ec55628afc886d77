import SpendReport

/// The serving rules of the archive folder: which URL paths name a file the archive wrote,
/// and reading it. Only plain names, never through a symbolic link, never outside the folder.
struct ArchiveFiles: Sendable {
    enum Served: Sendable, Equatable {
        case file([UInt8])
        /// A folder with a page, asked for without its trailing slash: redirect, so relative
        /// links work. A folder without `index.html` (`days`, `embed`) is not found.
        case folder
        case notFound
    }

    let directory: String
    private let disk = ArchiveDisk(durable: false)

    init(directory: String) {
        self.directory = directory
    }

    /// The path segments of `relative` (the URL path after `/archive/`, still percent-encoded)
    /// when every one is a plain name: letters, digits, `-`, `_` and inner dots, not starting
    /// with a dot. Anything else (`..`, `.hidden`, `%2e`, `%2f`, `\`, empty segments) is nil.
    /// A trailing slash asks for the folder's `index.html`.
    static func safeSegments(_ relative: some StringProtocol) -> [Substring]? {
        var text = Substring(relative)
        if text.isEmpty || text.hasSuffix("/") { text += "index.html" }
        let segments = text.split(separator: "/", omittingEmptySubsequences: false)
        guard segments.count <= 4 else { return nil }
        for segment in segments {
            guard let first = segment.utf8.first, first != UInt8(ascii: "."), segment.utf8.count <= 64 else { return nil }
            for byte in segment.utf8 {
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                    UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."):
                    continue
                default:
                    return nil
                }
            }
        }
        return segments
    }

    /// The file at `relative` inside the archive folder. Every component is checked with
    /// lstat(2): a symbolic link anywhere below the archive folder is not followed. Throws
    /// when a file that is there cannot be read (an I/O error is not a missing file).
    func file(_ relative: some StringProtocol) throws(ArchiveError) -> Served {
        guard let segments = Self.safeSegments(relative) else { return .notFound }
        var path = directory
        for (index, segment) in segments.enumerated() {
            path += "/" + segment
            switch disk.kind(path) {
            case .directory:
                if index == segments.count - 1 { return disk.kind(path + "/index.html") == .file ? .folder : .notFound }
            case .file:
                if index == segments.count - 1 { return try disk.read(path).map(Served.file) ?? .notFound }
                return .notFound
            default:
                return .notFound
            }
        }
        return .notFound
    }

    /// The Content-Type of an archive file, by extension.
    static func contentType(of path: some StringProtocol) -> String {
        if path.hasSuffix(".html") || path.hasSuffix("/") || path.isEmpty { return RenderedSite.htmlContentType }
        if path.hasSuffix(".svg") { return RenderedSite.svgContentType }
        if path.hasSuffix(".json") { return RenderedSite.jsonContentType }
        return "application/octet-stream"
    }
}
