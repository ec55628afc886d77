/// A chart's numbers as a table, already formatted: the page shows it next to the chart for
/// screen readers, image-less mail clients and people who want the figures.
struct DataTable: Sendable {
    struct Cell: Sendable {
        var text: String
        /// Right-aligned, tabular figures.
        var numeric: Bool
    }

    struct Row: Sendable {
        var cells: [Cell]
        /// Marks a row (for example the current, partial hour).
        var note: Bool = false
    }

    var caption: String
    var headers: [Cell]
    var rows: [Row]
    var isEmpty: Bool { rows.isEmpty }

    init(caption: String, headers: [(String, Bool)], rows: [Row]) {
        self.caption = caption
        self.headers = headers.map { Cell(text: $0.0, numeric: $0.1) }
        self.rows = rows
    }
}

extension DataTable.Row {
    /// A row from (text, numeric) pairs; texts are sanitized for XML here, escaped by Mustache.
    init(_ cells: [(String, Bool)], note: Bool = false) {
        self.cells = cells.map { DataTable.Cell(text: XMLText.sanitized($0.0), numeric: $0.1) }
        self.note = note
    }
}
