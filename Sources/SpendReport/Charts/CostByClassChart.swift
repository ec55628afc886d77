import SpendCore

/// Rolling-hour cost and tokens by class: uncached input, cache reads, cache writes, output,
/// reasoning, call fees and costs reported as totals, as horizontal bars of cost. Shows where
/// the money goes beyond "input and output", and what the cache saves. Its colours differ from
/// the models' (`ModelColors`), beside which it is shown.
struct CostByClassChart {
    static let width = 480
    static let rowHeight = 34.0
    static let top = 40.0
    static let barLeft = 172.0
    static let barMaxWidth = 120.0

    struct Row {
        var costClass: CostClass
        var label: String
        var cost: Money
        /// Tokens of the class; nil where the class is not a token count.
        var tokens: Int64?
        var color: String
    }

    var hour: UsageCounters
    var period = ChartPeriod.rollingHour

    /// The classes with usage, in `CostClass` order. Uncached input and plain output are the
    /// reported counts less the cached and reasoning tokens they include.
    var rows: [Row] {
        let all = [
            Row(
                costClass: .input, label: "Input, uncached", cost: hour.cost.input,
                tokens: hour.inputTokens - hour.cacheReadTokens - hour.cacheWriteTokens, color: "#0284c7"),
            Row(costClass: .cacheRead, label: "Cache reads", cost: hour.cost.cacheRead, tokens: hour.cacheReadTokens, color: "#0d9488"),
            Row(costClass: .cacheWrite, label: "Cache writes", cost: hour.cost.cacheWrite, tokens: hour.cacheWriteTokens, color: "#db2777"),
            Row(costClass: .output, label: "Output", cost: hour.cost.output, tokens: hour.outputTokens - hour.reasoningTokens, color: "#4f46e5"),
            Row(costClass: .reasoning, label: "Reasoning", cost: hour.cost.reasoning, tokens: hour.reasoningTokens, color: "#ca8a04"),
            Row(costClass: .callFees, label: "Call fees", cost: hour.cost.callFees, tokens: nil, color: "#64748b"),
            Row(costClass: .unattributed, label: "Reported totals", cost: hour.cost.unattributed, tokens: nil, color: "#94a3b8"),
        ]
        return all.filter { $0.cost > .zero || ($0.tokens ?? 0) > 0 }
    }

    static func height(rows: Int) -> Int { Int(top + rowHeight * Double(max(rows, 1)) + 12) }

    func chart(generatedAt: Timestamp) -> Chart {
        let f = Format.coordinate
        let rows = rows
        let maxCost = rows.reduce(Money.zero) { max($0, $1.cost) }
        var body = ""
        body += "<text class=\"muted small\" x=\"16\" y=\"22\">class</text>"
        body += "<text class=\"muted small\" x=\"464\" y=\"22\" text-anchor=\"end\">cost \u{00B7} tokens</text>"
        if rows.isEmpty {
            body += "<text class=\"muted\" x=\"16\" y=\"\(f(Self.top + 20))\">No usage in \(period.phrase).</text>"
        }
        func tokens(_ row: Row) -> String { row.tokens.map { Format.compact(Double($0)) } ?? "\u{2013}" }
        for (index, row) in rows.enumerated() {
            let y = Self.top + Self.rowHeight * Double(index)
            let w = maxCost > .zero ? Self.barMaxWidth * row.cost.approximateDollars / maxCost.approximateDollars : 0
            let value = "\(row.cost.formatted()) \u{00B7} \(tokens(row))"
            body += "<g><title>\(row.label): \(row.cost.formatted())\(row.tokens.map { ", \(Format.grouped($0)) tokens" } ?? "")</title>"
            body += "<rect x=\"16\" y=\"\(f(y + 6))\" width=\"12\" height=\"12\" rx=\"2\" fill=\"\(row.color)\"/>"
            body += "<text class=\"fg\" x=\"36\" y=\"\(f(y + 16))\">\(row.label)</text>"
            body += "<rect x=\"\(f(Self.barLeft))\" y=\"\(f(y + 3))\" width=\"\(f(max(w, 1)))\" height=\"18\" rx=\"2\" fill=\"\(row.color)\"/>"
            body += "<text class=\"fg num\" x=\"464\" y=\"\(f(y + 16))\" text-anchor=\"end\">\(value)</text></g>"
        }
        let summary = rows.map { "\($0.label) \($0.cost.formatted())" }
        let frame = SVGFrame(
            generatedAt: generatedAt, id: "cost-by-class", width: Self.width, height: Self.height(rows: rows.count),
            title: "Cost by token class, \(period.title)",
            description: rows.isEmpty
                ? "No usage in \(period.phrase)."
                : "Cost by token class in \(period.phrase), \(hour.totalCost.formatted()) in total: \(summary.joined(separator: "; "))."
        )
        let table = DataTable(
            caption: "Cost by token class, \(period.title)",
            headers: [("Class", false), ("Cost", true), ("Tokens", true)],
            rows: rows.map { row in
                .init([(row.label, false), (row.cost.formatted(), true), (row.tokens.map { Format.grouped($0) } ?? "\u{2013}", true)])
            }
        )
        return Chart(
            id: "cost-by-class", title: "Cost by token class, \(period.title)", standaloneSVG: frame.document(body: body, standalone: true),
            inlineSVG: frame.document(body: body, standalone: false), table: table
        )
    }
}
