import SpendCore

/// One rendered chart: its standalone SVG file, the SVG for inlining into the page, and its
/// numbers as a table.
struct Chart: Sendable {
    /// `gauge`, `token-usage`, …: the file is `embed/<id>.svg`; ids in the page are prefixed with it.
    var id: String
    var title: String
    var standaloneSVG: String
    var inlineSVG: String
    var table: DataTable
}

/// The frame every chart shares: size, viewBox, `<title>`, `<desc>`, and for standalone files
/// a style sheet with a dark-mode media query and a background.
struct SVGFrame {
    var generatedAt: Timestamp
    var id: String
    var width: Int
    var height: Int
    var title: String
    var description: String

    /// Height of the caption band under a standalone chart: its title and when its data is from,
    /// since an embedded image has no page around it to say so.
    static let captionHeight = 24

    /// The document around `body`, standalone (own styles, background and caption) or for
    /// inlining into the page (whose heading and "Data generated" line say the same).
    func document(body: String, standalone: Bool) -> String {
        let total = standalone ? height + Self.captionHeight : height
        var svg = ""
        svg.reserveCapacity(body.utf8.count + 2048)
        svg += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(total)\" viewBox=\"0 0 \(width) \(total)\""
        svg +=
            " role=\"img\" aria-labelledby=\"\(id)-title \(id)-desc\" class=\"chart\" font-family=\"system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif\" font-size=\"12\">"
        svg += "<title id=\"\(id)-title\">\(XMLText.escaped(title))</title>"
        svg += "<desc id=\"\(id)-desc\">\(XMLText.escaped(description)) Data as of \(Format.dateTime(generatedAt)).</desc>"
        if standalone {
            svg += "<style>" + ChartStyle.css + "</style>"
            svg += "<rect class=\"bg\" x=\"0\" y=\"0\" width=\"\(width)\" height=\"\(total)\" rx=\"6\"/>"
        }
        svg += body
        if standalone {
            let y = height + Self.captionHeight - 9
            svg += "<line class=\"grid\" x1=\"12\" y1=\"\(height + 2)\" x2=\"\(width - 12)\" y2=\"\(height + 2)\"/>"
            svg += "<text class=\"fg small\" x=\"12\" y=\"\(y)\" font-weight=\"600\">\(XMLText.escaped(title))</text>"
            svg += "<text class=\"muted small num\" x=\"\(width - 12)\" y=\"\(y)\" text-anchor=\"end\">\(Format.dateTime(generatedAt))</text>"
        }
        svg += "</svg>"
        return svg
    }
}

/// Colours of chart parts by class, light and dark. Standalone SVGs carry it; the page includes
/// it once in its own style sheet.
enum ChartStyle {
    static let css = """
        .bg{fill:#ffffff}.fg{fill:#1f2328}.muted{fill:#59636e}.grid{stroke:#d1d9e0;stroke-width:1}\
        .axis{stroke:#818b98;stroke-width:1}.track{fill:none;stroke:#d1d9e0;stroke-width:18}\
        .value{fill:none;stroke:#0969da;stroke-width:18}.needle{stroke:#1f2328;stroke-width:3;stroke-linecap:round}\
        .pivot{fill:#1f2328}.in{fill:none;stroke:#0969da;stroke-width:2}.out{fill:none;stroke:#bc4c00;stroke-width:2}\
        .in-key{fill:#0969da}.out-key{fill:#bc4c00}.bar{fill:#8250df}\
        .partial{fill:#8250df;fill-opacity:.45;stroke:#8250df;stroke-dasharray:3 2}\
        .spend{fill:none;stroke:#8250df;stroke-width:2}.area{fill:#8250df;fill-opacity:.12}.spend-key{fill:#8250df}\
        .earlier{fill:none;stroke:#59636e;stroke-width:1.5;stroke-dasharray:4 3}\
        .band{fill:#8250df;fill-opacity:.14}.hot{fill:none;stroke:#d1242f;stroke-width:2}.cold{fill:none;stroke:#9a6700;stroke-width:2}\
        .hot-text{fill:#d1242f}.cold-text{fill:#9a6700}.marker{stroke:#d1242f;stroke-width:1;stroke-dasharray:3 2}.marker-head{fill:#d1242f}\
        .big{font-size:22px;font-weight:600}.small{font-size:11px}.num{font-variant-numeric:tabular-nums}\
        @media (prefers-color-scheme:dark){.bg{fill:#0d1117}.fg{fill:#e6edf3}.muted{fill:#9198a1}\
        .grid{stroke:#3d444d}.axis{stroke:#656c76}.track{stroke:#3d444d}.value{stroke:#4493f8}\
        .needle{stroke:#e6edf3}.pivot{fill:#e6edf3}.in{stroke:#4493f8}.out{stroke:#f0883e}\
        .in-key{fill:#4493f8}.out-key{fill:#f0883e}.bar{fill:#a371f7}\
        .partial{fill:#a371f7;stroke:#a371f7}.spend{stroke:#a371f7}.area{fill:#a371f7}.spend-key{fill:#a371f7}\
        .earlier{stroke:#9198a1}.band{fill:#a371f7}.hot{stroke:#f85149}.cold{stroke:#d29922}.hot-text{fill:#f85149}\
        .cold-text{fill:#d29922}.marker{stroke:#f85149}.marker-head{fill:#f85149}}
        """
}
