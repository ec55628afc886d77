import Mustache

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

extension DataTable: MustacheParent {
    /// What `table.mustache` reads. The body rows come as markup built here, every text
    /// escaped by `XMLText.escaped`: a 300-point window's tables through Mustache's reflection
    /// took most of a page's rendering time (it looks each key up through the context stack).
    func child(named name: String) -> Any? {
        switch name {
        case "caption": caption
        case "headers": headers
        case "bodyRows": bodyRows
        default: nil
        }
    }

    /// The `<tr>` rows of the body, each on a line of its own.
    var bodyRows: String {
        var html = ""
        html.reserveCapacity(rows.count * (rows.first?.cells.count ?? 1) * 32)
        for row in rows {
            html += row.note ? "<tr class=\"note\">" : "<tr>"
            for cell in row.cells {
                html += cell.numeric ? "<td class=\"n\">" : "<td>"
                html += XMLText.escaped(cell.text)
                html += "</td>"
            }
            html += "</tr>\n"
        }
        return html
    }
}

extension DataTable.Cell: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "text": text
        case "numeric": numeric
        default: nil
        }
    }
}

extension DataTable.Row {
    /// A row from (text, numeric) pairs; texts are sanitized for XML here, escaped by Mustache.
    init(_ cells: [(String, Bool)], note: Bool = false) {
        self.cells = cells.map { DataTable.Cell(text: XMLText.sanitized($0.0), numeric: $0.1) }
        self.note = note
    }
}
