import SpendCore

/// One archived snapshot as the archive lists it: its folder, its instant and the figures the
/// index shows. Read from the snapshot's manifest, so listing never parses `stats.json`.
public struct ArchiveEntry: Hashable, Sendable {
    /// The folder under `archive/`: `2026-11-29T14-05-00Z`.
    public var folder: String
    /// The snapshot's `generatedAt` (millisecond precision; the folder name keeps seconds).
    public var generatedAt: Timestamp
    /// Rolling-hour spend per hour.
    public var spendRatePerHour: Money
    /// The customer with the highest spend in the rolling hour, if any.
    public var topCustomer: TopCustomer?

    public struct TopCustomer: Hashable, Sendable {
        public var customerId: String
        public var tenantId: String
        public var cost: Money

        public init(customerId: String, tenantId: String, cost: Money) {
            self.customerId = customerId
            self.tenantId = tenantId
            self.cost = cost
        }
    }

    public init(folder: String, generatedAt: Timestamp, spendRatePerHour: Money, topCustomer: TopCustomer?) {
        self.folder = folder
        self.generatedAt = generatedAt
        self.spendRatePerHour = spendRatePerHour
        self.topCustomer = topCustomer
    }

    /// The entry of a snapshot about to be archived.
    public init(snapshot: Snapshot) {
        let top = snapshot.customers.first.map {
            TopCustomer(customerId: $0.customerId, tenantId: $0.tenantId, cost: $0.usage.cost)
        }
        self.init(
            folder: ArchiveName.folder(for: snapshot.generatedAt), generatedAt: snapshot.generatedAt,
            spendRatePerHour: snapshot.spendRatePerHour, topCustomer: top
        )
    }

    /// The UTC day, `2026-11-29`.
    public var day: String { String(folder.prefix(10)) }
}

/// Names inside `archive/`: snapshot folders, day pages, and the hidden names of work in
/// progress that listing never shows.
public enum ArchiveName {
    /// `2026-11-29T14-05-00Z`: the UTC second of `time`, with `-` for `:` so it is a valid file
    /// name everywhere and sorts by time.
    public static func folder(for time: Timestamp) -> String {
        let iso = time.iso8601  // 2026-11-29T14:05:00.123Z
        return String(iso.prefix(19).map { $0 == ":" ? "-" : $0 }) + "Z"
    }

    /// The instant a folder name stands for (whole seconds), nil for any other name.
    public static func time(ofFolder name: some StringProtocol) -> Timestamp? {
        let bytes = Array(name.utf8)
        guard bytes.count == 20 else { return nil }
        let pattern = Array("dddd-dd-ddTdd-dd-ddZ".utf8)
        for (byte, expected) in zip(bytes, pattern) {
            if expected == UInt8(ascii: "d") {
                guard byte >= 48 && byte <= 57 else { return nil }
            } else if byte != expected {
                return nil
            }
        }
        let text = String(decoding: bytes, as: UTF8.self)
        let date = text.prefix(10)
        let clock = String(text.dropFirst(11).prefix(8).map { $0 == "-" ? ":" : $0 })
        return Timestamp(iso8601: "\(date)T\(clock)Z")
    }

    public static func isSnapshotFolder(_ name: some StringProtocol) -> Bool { time(ofFolder: name) != nil }

    /// Work in progress: a snapshot being written, or one being deleted. Hidden names, never listed.
    static let partialPrefix = ".partial-"
    static let trashPrefix = ".trash-"
    static let temporaryPrefix = ArchiveDisk.temporaryPrefix

    /// Folder of the per-day pages, `days/2026-11-29.html`.
    static let daysFolder = "days"
    static func dayPage(_ day: String) -> String { "\(daysFolder)/\(day).html" }
    static let indexPage = "index.html"
    static let latestPage = "latest.html"
    public static let manifestFile = "manifest.json"
    /// The snapshot page (no refresh) and its playback variants.
    static let snapshotPage = "index.html"
    static let playbackSeconds = [1, 2, 5]
    static func playPage(seconds: Int) -> String { "play-\(seconds)s.html" }
    static var navigationPages: [String] { [snapshotPage] + playbackSeconds.map(playPage) }
}
