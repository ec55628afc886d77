import SpendCore

/// Every file of one rendered snapshot, in memory: what the validator checks, the publisher
/// writes and the server can serve directly.
public struct RenderedSite: Sendable {
    public struct File: Sendable {
        /// Relative path with `/` separators: `index.html`, `embed/gauge.svg`.
        public var path: String
        public var bytes: [UInt8]
        public var contentType: String
        /// Taken unchanged from a site that was validated before (a long window's page between
        /// its once-a-minute renders): the validator skips it.
        public var isReused = false

        public init(path: String, bytes: [UInt8], contentType: String) {
            self.path = path
            self.bytes = bytes
            self.contentType = contentType
        }
    }

    /// When the snapshot was taken; every file carries it.
    public var generatedAt: Timestamp
    public var files: [File]
    /// For each live window's files, the `generatedAt` of the report they show.
    public var windowVersions: [String: Timestamp] = [:]

    public init(generatedAt: Timestamp, files: [File]) {
        self.generatedAt = generatedAt
        self.files = files
    }

    /// The file at `path`, if the site has one.
    public subscript(path: String) -> File? {
        files.first { $0.path == path }
    }

    public static let htmlContentType = "text/html; charset=utf-8"
    public static let svgContentType = "image/svg+xml"
    public static let jsonContentType = "application/json"
}
