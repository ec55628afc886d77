import Foundation
import Testing

extension EndToEndTests {
    /// `spendboard import` applies the same limits as the store: a `totalCost` above what one
    /// update may cost stops the import with its line, and nothing is imported (it used to be
    /// stored as a priced $0).
    @Test func importRefusesACostTheStoreCannotHold() async throws {
        let data = Self.scratch("data")
        defer { try? FileManager.default.removeItem(atPath: data) }
        let now = ISO8601DateFormatter().string(from: Date().addingTimeInterval(-60))
        let good =
            "{\"timestamp\": \"\(now)\", \"tenantId\": \"t\", \"customerId\": \"c\", \"model\": \"m\", \"metrics\": {\"totalCalls\": 1, \"totalTokens\": 1, \"totalCost\": 1, \"avgLatencyMs\": 1}}"
        let huge = good.replacingOccurrences(of: "\"totalCost\": 1,", with: "\"totalCost\": 9e9,")
        let file = Self.scratch("usage.ndjson")
        defer { try? FileManager.default.removeItem(atPath: file) }
        try [good, huge].joined(separator: "\n").write(toFile: file, atomically: true, encoding: .utf8)

        let (status, output) = try Self.run(["import", file, "--data", data])
        #expect(status == 1, "\(output)")
        #expect(
            output.contains("line 2: metrics.totalCost must be a non-negative number of dollars with at most 12 decimal places, at most 1000000"),
            "\(output)")
        #expect(output.contains("nothing was imported"))
    }
}
