import SpendCore

/// Rolling-hour cost and share per model as horizontal bars in each model's fixed colour.
struct CostByModelChart {
    static let width = 480
    static let rowHeight = 34.0
    static let top = 40.0
    static let barLeft = 150.0
    static let barMaxWidth = 170.0

    var models: [Snapshot.ModelSpend]
    var hourCost: Money
    var period = ChartPeriod.rollingHour

    static func height(rows: Int) -> Int { Int(top + rowHeight * Double(max(rows, 1)) + 12) }

    func chart(generatedAt: Timestamp) -> Chart {
        let f = Format.coordinate
        let maxCost = models.reduce(Money.zero) { max($0, $1.usage.cost) }
        var body = ""
        body += "<text class=\"muted small\" x=\"16\" y=\"22\">model</text>"
        body += "<text class=\"muted small\" x=\"464\" y=\"22\" text-anchor=\"end\">cost \u{00B7} share</text>"
        if models.isEmpty {
            body += "<text class=\"muted\" x=\"16\" y=\"\(f(Self.top + 20))\">No usage in \(period.phrase).</text>"
        }
        for (index, model) in models.enumerated() {
            let y = Self.top + Self.rowHeight * Double(index)
            let name = XMLText.escaped(model.model)
            let shortName = XMLText.escaped(XMLText.truncated(model.model, to: 17))
            let color = ModelColors.color(for: model.model)
            let w = maxCost > .zero ? Self.barMaxWidth * model.usage.cost.approximateDollars / maxCost.approximateDollars : 0
            let value = "\(Format.spend(model.usage)) \u{00B7} \(Format.percent(model.share))"
            body += "<g><title>\(name): \(value)</title>"
            body += "<rect x=\"16\" y=\"\(f(y + 6))\" width=\"12\" height=\"12\" rx=\"2\" fill=\"\(color)\"/>"
            body += "<text class=\"fg\" x=\"36\" y=\"\(f(y + 16))\">\(shortName)</text>"
            body += "<rect x=\"\(f(Self.barLeft))\" y=\"\(f(y + 3))\" width=\"\(f(max(w, 1)))\" height=\"18\" rx=\"2\" fill=\"\(color)\"/>"
            body += "<text class=\"fg num\" x=\"464\" y=\"\(f(y + 16))\" text-anchor=\"end\">\(value)</text></g>"
        }
        let summary = models.prefix(6).map { "\($0.model) \(Format.spend($0.usage)) (\(Format.percent($0.share)))" }
        let frame = SVGFrame(
            generatedAt: generatedAt, id: "cost-by-model", width: Self.width, height: Self.height(rows: models.count),
            title: "Cost by model, \(period.title)",
            description: models.isEmpty
                ? "No usage in \(period.phrase)."
                : "Cost per model in \(period.phrase), \(hourCost.formatted(decimals: 2)) in total: \(summary.joined(separator: "; "))\(models.count > 6 ? "; and \(models.count - 6) more" : "")."
        )
        let table = DataTable(
            caption: "Cost by model, \(period.title)",
            headers: [("Model", false), ("Cost", true), ("Share", true), ("Calls", true), ("Tokens", true)],
            rows: models.map { model in
                .init([
                    (model.model, false), (Format.spend(model.usage), true),
                    (Format.percent(model.share), true), (Format.grouped(model.usage.calls), true),
                    (Format.grouped(model.usage.totalTokens), true),
                ])
            }
        )
        return Chart(
            id: "cost-by-model", title: "Cost by model, \(period.title)", standaloneSVG: frame.document(body: body, standalone: true),
            inlineSVG: frame.document(body: body, standalone: false), table: table
        )
    }
}
