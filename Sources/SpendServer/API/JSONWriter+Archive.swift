import SpendCore
import SpendReport

extension JSONWriter {
    /// The `archive` object of `/api/health`: how many snapshots are kept, the newest, and the
    /// last archiving failure (cleared by the next success).
    mutating func archiveHealth(_ archive: ArchiveWriter) {
        let status = archive.catalog.status
        object { a in
            a.field("enabled") { $0.bool(archive.configuration.every > .zero) }
            a.field("every") { $0.string(DurationText.format(archive.configuration.every)) }
            a.field("snapshots") { $0.integer(status.snapshots) }
            a.field("newest") { w in
                if let newest = status.newest { w.timestamp(newest) } else { w.null() }
            }
            a.field("lastError") { w in
                if let error = status.lastError { w.string(error) } else { w.null() }
            }
            a.field("lastErrorAt") { w in
                if let at = status.lastErrorAt { w.timestamp(at) } else { w.null() }
            }
        }
    }
}
