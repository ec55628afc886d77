import Crypto
import Foundation
import SpendCore

/// `manifest.json` of one snapshot folder: which snapshot it is, which Spendboard wrote it, and
/// the size and SHA-256 of every other file in the folder. `spendboard archive verify` checks
/// a folder against it.
///
/// ```json
/// {"format":"spendboard-archive-manifest/1","snapshot":"2026-11-29T14:05:00.123Z",
///  "folder":"2026-11-29T14-05-00Z","spendboardVersion":"0.4.0",
///  "spendRatePerHour":"1234.5","topCustomer":{"customerId":"…","tenantId":"…","cost":"…"},
///  "files":[{"path":"embed/gauge.svg","bytes":5120,"sha256":"9f86d0…"}, …]}
/// ```
public struct ArchiveManifest: Equatable, Sendable {
    public struct File: Equatable, Sendable {
        /// Relative to the snapshot folder, `/`-separated.
        public var path: String
        public var bytes: Int
        /// Lower-case hex.
        public var sha256: String

        public init(path: String, bytes: Int, sha256: String) {
            self.path = path
            self.bytes = bytes
            self.sha256 = sha256
        }

        public init(path: String, contents: [UInt8]) {
            self.init(path: path, bytes: contents.count, sha256: ArchiveManifest.sha256Hex(contents))
        }
    }

    public static let format = "spendboard-archive-manifest/1"

    public var entry: ArchiveEntry
    public var spendboardVersion: String
    /// Sorted by path; the manifest itself is not listed.
    public var files: [File]

    public init(entry: ArchiveEntry, spendboardVersion: String = SpendboardVersion.current, files: [File]) {
        self.entry = entry
        self.spendboardVersion = spendboardVersion
        self.files = files.sorted { $0.path < $1.path }
    }

    public static func sha256Hex(_ bytes: [UInt8]) -> String {
        let digest = SHA256.hash(data: bytes)
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for byte in digest {
            out.append(hex[Int(byte >> 4)])
            out.append(hex[Int(byte & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    public func jsonBytes() -> [UInt8] {
        var writer = JSONWriter(capacity: 512 + files.count * 120)
        writer.object { o in
            o.field("format") { $0.string(Self.format) }
            o.field("snapshot") { $0.timestamp(entry.generatedAt) }
            o.field("folder") { $0.string(entry.folder) }
            o.field("spendboardVersion") { $0.string(spendboardVersion) }
            // Exact decimal dollars, as strings: manifests are read with JSONSerialization, whose
            // numbers are doubles.
            o.field("spendRatePerHour") { $0.string(entry.spendRatePerHour.decimalText) }
            o.field("topCustomer") { w in
                if let top = entry.topCustomer {
                    w.object { t in
                        t.field("customerId") { $0.string(top.customerId) }
                        t.field("tenantId") { $0.string(top.tenantId) }
                        t.field("cost") { $0.string(top.cost.decimalText) }
                    }
                } else {
                    w.null()
                }
            }
            o.field("files") { w in
                w.array(files) { w, file in
                    w.object { f in
                        f.field("path") { $0.string(file.path) }
                        f.field("bytes") { $0.integer(file.bytes) }
                        f.field("sha256") { $0.string(file.sha256) }
                    }
                }
            }
        }
        var bytes = writer.bytes
        bytes.append(UInt8(ascii: "\n"))
        return bytes
    }

    /// Reads a manifest; throws an `ArchiveError` naming `path` when it is not one.
    public static func parse(_ bytes: [UInt8], path: String) throws(ArchiveError) -> ArchiveManifest {
        func bad(_ why: String) -> ArchiveError { ArchiveError("manifest \(path) is not valid: \(why)") }
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
            throw bad("not a JSON object")
        }
        guard object["format"] as? String == format else { throw bad("unknown format \(object["format"] ?? "none")") }
        guard let snapshotText = object["snapshot"] as? String, let generatedAt = Timestamp(iso8601: snapshotText) else {
            throw bad("no snapshot time")
        }
        guard let folder = object["folder"] as? String, ArchiveName.isSnapshotFolder(folder) else { throw bad("no folder") }
        guard let version = object["spendboardVersion"] as? String else { throw bad("no spendboardVersion") }
        // Manifests written before exact money held micro-dollars.
        func money(_ object: [String: Any], _ key: String, microsKey: String) -> Money? {
            if let text = object[key] as? String { return Money(decimal: text) }
            return (object[microsKey] as? NSNumber).map { Money(micros: $0.int64Value) }
        }
        guard let rate = money(object, "spendRatePerHour", microsKey: "spendRateMicrosPerHour") else { throw bad("no spendRatePerHour") }
        var top: ArchiveEntry.TopCustomer?
        if let t = object["topCustomer"] as? [String: Any] {
            guard let customer = t["customerId"] as? String, let tenant = t["tenantId"] as? String,
                let cost = money(t, "cost", microsKey: "costMicros")
            else { throw bad("incomplete topCustomer") }
            top = .init(customerId: customer, tenantId: tenant, cost: cost)
        }
        guard let list = object["files"] as? [[String: Any]] else { throw bad("no files") }
        var files: [File] = []
        for item in list {
            guard let p = item["path"] as? String, let size = (item["bytes"] as? NSNumber)?.intValue,
                let hash = item["sha256"] as? String, hash.utf8.count == 64
            else { throw bad("incomplete file entry") }
            files.append(File(path: p, bytes: size, sha256: hash))
        }
        return ArchiveManifest(
            entry: ArchiveEntry(folder: folder, generatedAt: generatedAt, spendRatePerHour: rate, topCustomer: top),
            spendboardVersion: version, files: files
        )
    }
}

/// The version written into archive manifests.
public enum SpendboardVersion {
    public static let current = "0.4.0"
}
