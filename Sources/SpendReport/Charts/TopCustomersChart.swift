import SpendCore

/// The top 10 customers of the rolling hour: rank, customer, tenant and spend, with bars
/// proportional to spend. The page shows the full table (share, calls, tokens) beside it.
struct TopCustomersChart {
    static let limit = 10
    static let width = 480
    static let rowHeight = 26.0
    static let top = 40.0
    static let barLeft = 262.0
    static let barMaxWidth = 110.0

    var customers: ArraySlice<Snapshot.CustomerSpend>
    var period: ChartPeriod

    init(customers: [Snapshot.CustomerSpend], period: ChartPeriod = .rollingHour) {
        self.customers = customers.prefix(Self.limit)
        self.period = period
    }

    static func height(rows: Int) -> Int { Int(top + rowHeight * Double(max(rows, 1)) + 12) }

    func chart(generatedAt: Timestamp) -> Chart {
        let f = Format.coordinate
        let maxCost = customers.reduce(Money.zero) { max($0, $1.usage.cost) }
        var body = ""
        body += "<text class=\"muted small\" x=\"12\" y=\"22\">#</text>"
        body += "<text class=\"muted small\" x=\"34\" y=\"22\">customer</text>"
        body += "<text class=\"muted small\" x=\"168\" y=\"22\">tenant</text>"
        body += "<text class=\"muted small\" x=\"464\" y=\"22\" text-anchor=\"end\">spend, \(period.short)</text>"
        if customers.isEmpty {
            body += "<text class=\"muted\" x=\"16\" y=\"\(f(Self.top + 18))\">No customers in \(period.phrase).</text>"
        }
        for (index, customer) in customers.enumerated() {
            let y = Self.top + Self.rowHeight * Double(index)
            let w = maxCost > .zero ? Self.barMaxWidth * customer.usage.cost.approximateDollars / maxCost.approximateDollars : 0
            let spend = Format.spend(customer.usage)
            body +=
                "<g><title>\(customer.rank). \(XMLText.escaped(customer.customerId)) (\(XMLText.escaped(customer.tenantId))): \(spend), \(Format.percent(customer.share))</title>"
            body += "<text class=\"muted num\" x=\"12\" y=\"\(f(y + 14))\">\(customer.rank)</text>"
            body += "<text class=\"fg\" x=\"34\" y=\"\(f(y + 14))\">\(XMLText.escaped(XMLText.truncated(customer.customerId, to: 17)))</text>"
            body += "<text class=\"muted\" x=\"168\" y=\"\(f(y + 14))\">\(XMLText.escaped(XMLText.truncated(customer.tenantId, to: 11)))</text>"
            body += "<rect class=\"bar\" x=\"\(f(Self.barLeft))\" y=\"\(f(y + 3))\" width=\"\(f(max(w, 1)))\" height=\"15\" rx=\"2\"/>"
            body += "<text class=\"fg num\" x=\"464\" y=\"\(f(y + 14))\" text-anchor=\"end\">\(spend)</text></g>"
        }
        let summary = customers.prefix(3).map { "\($0.customerId) of \($0.tenantId) \(Format.spend($0.usage))" }
        let frame = SVGFrame(
            generatedAt: generatedAt, id: "top-customers", width: Self.width, height: Self.height(rows: customers.count),
            title: "Top customers, \(period.title)",
            description: customers.isEmpty
                ? "No customers in \(period.phrase)."
                : "The \(customers.count) customers with the highest spend in \(period.phrase); the first: \(summary.joined(separator: "; "))."
        )
        let table = DataTable(
            caption: "Top \(Self.limit) customers, \(period.title)",
            headers: [("Rank", true), ("Customer", false), ("Tenant", false), ("Spend", true), ("Share", true), ("Calls", true), ("Tokens", true)],
            rows: customers.map { customer in
                .init([
                    (String(customer.rank), true), (customer.customerId, false), (customer.tenantId, false),
                    (Format.spend(customer.usage), true), (Format.percent(customer.share), true),
                    (Format.grouped(customer.usage.calls), true), (Format.grouped(customer.usage.totalTokens), true),
                ])
            }
        )
        return Chart(
            id: "top-customers", title: "Top customers, \(period.title)", standaloneSVG: frame.document(body: body, standalone: true),
            inlineSVG: frame.document(body: body, standalone: false), table: table
        )
    }
}
