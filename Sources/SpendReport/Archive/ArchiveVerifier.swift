/// Checks every snapshot folder of an archive against its manifest: `spendboard archive verify`.
///
/// ```swift
/// let report = try ArchiveVerifier.verify(directory: "Output/archive")
/// for problem in report.problems { print(problem) }   // 2026-11-29T14-05-00Z/stats.json: altered (sha256 …)
/// ```
public enum ArchiveVerifier {
    public struct Problem: Hashable, Sendable, CustomStringConvertible {
        public enum Kind: String, Sendable {
            /// Listed in the manifest, not on disk.
            case missing
            /// On disk, not in the manifest (or not a regular file).
            case extra
            /// Size or SHA-256 differs from the manifest.
            case altered
            /// The manifest is missing or unreadable.
            case manifest
            /// A file or folder that is there but cannot be read (permissions, I/O error).
            case unreadable
        }

        public var folder: String
        public var path: String
        public var kind: Kind
        public var detail: String

        public var description: String { "\(folder)/\(path): \(kind.rawValue)\(detail.isEmpty ? "" : " (\(detail))")" }
    }

    public struct Report: Sendable {
        public var snapshots: Int
        public var files: Int
        public var problems: [Problem]
        public var isClean: Bool { problems.isEmpty }
    }

    /// Throws when the archive folder itself cannot be read (missing, not a folder, no
    /// permission): nothing could be checked, which is not an intact archive.
    public static func verify(directory: String) throws(ArchiveError) -> Report {
        let disk = ArchiveDisk(durable: false)
        var report = Report(snapshots: 0, files: 0, problems: [])
        let names = try disk.list(directory).filter { ArchiveName.isSnapshotFolder($0) }.sorted()
        for folder in names {
            let base = directory + "/" + folder
            guard disk.kind(base) == .directory else {
                report.problems.append(Problem(folder: folder, path: "", kind: .extra, detail: "not a folder"))
                continue
            }
            report.snapshots += 1
            report.problems += verify(folder: folder, base: base, disk: disk, files: &report.files)
        }
        return report
    }

    static func verify(folder: String, base: String, disk: ArchiveDisk, files checked: inout Int) -> [Problem] {
        var problems: [Problem] = []
        let manifestPath = base + "/" + ArchiveName.manifestFile
        let manifest: ArchiveManifest
        do {
            guard let bytes = try disk.read(manifestPath) else {
                return [Problem(folder: folder, path: ArchiveName.manifestFile, kind: .manifest, detail: "missing")]
            }
            manifest = try ArchiveManifest.parse(bytes, path: manifestPath)
        } catch {
            return [Problem(folder: folder, path: ArchiveName.manifestFile, kind: .manifest, detail: "\(error)")]
        }
        if manifest.entry.folder != folder {
            problems.append(Problem(folder: folder, path: ArchiveName.manifestFile, kind: .manifest, detail: "names folder \(manifest.entry.folder)"))
        }
        let onDisk: [String], unexpected: [String]
        do {
            (onDisk, unexpected) = try disk.walk(base)
        } catch {
            return problems + [Problem(folder: folder, path: "", kind: .unreadable, detail: "\(error)")]
        }
        let listed = Set(manifest.files.map(\.path))
        for file in manifest.files {
            checked += 1
            let contents: [UInt8]
            do {
                guard let bytes = try disk.read(base + "/" + file.path) else {
                    problems.append(Problem(folder: folder, path: file.path, kind: .missing, detail: ""))
                    continue
                }
                contents = bytes
            } catch {
                problems.append(Problem(folder: folder, path: file.path, kind: .unreadable, detail: "\(error)"))
                continue
            }
            if contents.count != file.bytes {
                problems.append(
                    Problem(folder: folder, path: file.path, kind: .altered, detail: "\(contents.count) bytes, manifest says \(file.bytes)"))
            } else if ArchiveManifest.sha256Hex(contents) != file.sha256 {
                problems.append(Problem(folder: folder, path: file.path, kind: .altered, detail: "SHA-256 differs from the manifest"))
            }
        }
        for path in onDisk.sorted() where path != ArchiveName.manifestFile && !listed.contains(path) {
            problems.append(Problem(folder: folder, path: path, kind: .extra, detail: ""))
        }
        for path in unexpected.sorted() {
            problems.append(Problem(folder: folder, path: path, kind: .extra, detail: "not a regular file"))
        }
        return problems
    }
}
