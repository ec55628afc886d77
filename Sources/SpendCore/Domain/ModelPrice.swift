/// A model's list price in micro-dollars per 1,000 tokens, input and output.
public struct ModelPrice: Hashable, Sendable {
    public var model: String
    public var inputMicrosPer1K: Int64
    public var outputMicrosPer1K: Int64

    public init(model: String, inputMicrosPer1K: Int64, outputMicrosPer1K: Int64) {
        self.model = model
        self.inputMicrosPer1K = inputMicrosPer1K
        self.outputMicrosPer1K = outputMicrosPer1K
    }

    /// The reference dashboard's prices (US dollars per 1,000 tokens, input / output):
    /// gpt-4 0.03 / 0.06, gpt-3.5-turbo 0.0005 / 0.0015, claude-3-opus 0.015 / 0.075,
    /// claude-3-sonnet 0.003 / 0.015.
    public static let reference: [ModelPrice] = [
        ModelPrice(model: "gpt-4", inputMicrosPer1K: 30_000, outputMicrosPer1K: 60_000),
        ModelPrice(model: "gpt-3.5-turbo", inputMicrosPer1K: 500, outputMicrosPer1K: 1_500),
        ModelPrice(model: "claude-3-opus", inputMicrosPer1K: 15_000, outputMicrosPer1K: 75_000),
        ModelPrice(model: "claude-3-sonnet", inputMicrosPer1K: 3_000, outputMicrosPer1K: 15_000),
    ]

    /// Cost of a call pattern, rounded to 4 decimal places of a dollar (100 micro-dollars) as the
    /// reference does. For token counts and prices known to fit (the simulator's); it traps when
    /// the cost does not fit `Int64`. Counts from outside go through `checkedCostMicros`.
    public func costMicros(inputTokens: Int64, outputTokens: Int64) -> Int64 {
        guard let cost = checkedCostMicros(inputTokens: inputTokens, outputTokens: outputTokens) else {
            preconditionFailure("the cost of \(inputTokens) input and \(outputTokens) output tokens of \(model) does not fit Int64")
        }
        return cost
    }

    /// Cost of a call pattern as `costMicros` computes it, or nil when it does not fit `Int64`
    /// micro-dollars (a large price times billions of tokens).
    public func checkedCostMicros(inputTokens: Int64, outputTokens: Int64) -> Int64? {
        // micro-dollars × 1000
        let (input, inputOverflow) = inputTokens.multipliedReportingOverflow(by: inputMicrosPer1K)
        let (output, outputOverflow) = outputTokens.multipliedReportingOverflow(by: outputMicrosPer1K)
        let (exact, sumOverflow) = input.addingReportingOverflow(output)
        let (rounding, roundingOverflow) = exact.addingReportingOverflow(50_000)
        guard !(inputOverflow || outputOverflow || sumOverflow || roundingOverflow) else { return nil }
        return rounding / 100_000 * 100
    }
}
