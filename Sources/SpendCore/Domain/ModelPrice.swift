/// A price per token, exact: a whole number of picodollars per token, which is the same as
/// millionths of a dollar per million tokens. `$0.0375` per million tokens is 37,500.
public struct TokenPrice: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var picodollarsPerToken: Int64

    public init(picodollarsPerToken: Int64) {
        self.picodollarsPerToken = picodollarsPerToken
    }

    /// Decimal places of a dollar per million tokens a price may have.
    public static let decimalPlacesPerMillion = 6

    /// The price of `text` dollars per million tokens (at most 6 decimal places).
    public static func perMillion(_ text: some StringProtocol) -> Result<TokenPrice, ExactDecimal.Failure> {
        scaled(text, places: decimalPlacesPerMillion)
    }

    /// The price of `text` dollars per 1,000 tokens (at most 9 decimal places), the unit of
    /// price files written before prices per million.
    public static func perThousand(_ text: some StringProtocol) -> Result<TokenPrice, ExactDecimal.Failure> {
        scaled(text, places: decimalPlacesPerMillion + 3)
    }

    private static func scaled(_ text: some StringProtocol, places: Int) -> Result<TokenPrice, ExactDecimal.Failure> {
        ExactDecimal.scaled(text, places: places).flatMap { value in
            value <= Int128(Int64.max) ? .success(TokenPrice(picodollarsPerToken: Int64(value))) : .failure(.tooLarge)
        }
    }

    /// Dollars per million tokens, exact: `0.0375`.
    public var perMillionText: String {
        // picodollars per token = micro-dollars per million tokens
        Money(micros: picodollarsPerToken).decimalText
    }

    public var description: String { "$\(perMillionText)/M" }

    public static func < (lhs: TokenPrice, rhs: TokenPrice) -> Bool { lhs.picodollarsPerToken < rhs.picodollarsPerToken }

    /// The exact cost of `tokens` tokens.
    func cost(of tokens: Int64) -> Int128 { Int128(tokens) * Int128(picodollarsPerToken) }
}

/// A model's list prices: input and output tokens, optionally the cache and reasoning classes
/// (priced as input and output tokens when the provider does not price them apart) and a fee per
/// call.
public struct ModelPrice: Hashable, Sendable {
    public var model: String
    public var input: TokenPrice
    public var output: TokenPrice
    /// Input tokens read from a cache; nil: priced as `input`.
    public var cacheRead: TokenPrice?
    /// Input tokens written to a cache; nil: priced as `input`.
    public var cacheWrite: TokenPrice?
    /// Reasoning tokens; nil: priced as `output`.
    public var reasoning: TokenPrice?
    public var perCall: Money

    public init(
        model: String, input: TokenPrice, output: TokenPrice, cacheRead: TokenPrice? = nil, cacheWrite: TokenPrice? = nil,
        reasoning: TokenPrice? = nil, perCall: Money = .zero
    ) {
        self.model = model
        self.input = input
        self.output = output
        self.cacheRead = cacheRead
        self.cacheWrite = cacheWrite
        self.reasoning = reasoning
        self.perCall = perCall
    }

    /// Prices in whole micro-dollars per million tokens (`perMillion(15, 75)` is $15 / $75).
    public init(model: String, inputPerMillion: Int64, outputPerMillion: Int64) {
        self.init(
            model: model, input: TokenPrice(picodollarsPerToken: inputPerMillion * 1_000_000),
            output: TokenPrice(picodollarsPerToken: outputPerMillion * 1_000_000))
    }

    /// The reference dashboard's prices, per million tokens input / output: gpt-4 $30 / $60,
    /// gpt-3.5-turbo $0.50 / $1.50, claude-3-opus $15 / $75 (cache writes $18.75, cache reads
    /// $1.50, as Anthropic publishes them), claude-3-sonnet $3 / $15.
    public static let reference: [ModelPrice] = [
        ModelPrice(model: "gpt-4", inputPerMillion: 30, outputPerMillion: 60),
        ModelPrice(
            model: "gpt-3.5-turbo", input: TokenPrice(picodollarsPerToken: 500_000), output: TokenPrice(picodollarsPerToken: 1_500_000)),
        ModelPrice(
            model: "claude-3-opus", input: TokenPrice(picodollarsPerToken: 15_000_000), output: TokenPrice(picodollarsPerToken: 75_000_000),
            cacheRead: TokenPrice(picodollarsPerToken: 1_500_000), cacheWrite: TokenPrice(picodollarsPerToken: 18_750_000)),
        ModelPrice(model: "claude-3-sonnet", inputPerMillion: 3, outputPerMillion: 15),
    ]

    /// The exact cost of an update's calls and tokens by class, or nil when it is more than one
    /// update may cost (`UsageUpdate.maximumCost`). Needs both `inputTokens` and
    /// `outputTokens` (a missing side is unknown, not zero) and consistent classes
    /// (`UsageUpdate.tokenClassProblem`); nil otherwise too.
    ///
    /// Uncached input = input − cache reads − cache writes; plain output = output − reasoning.
    public func cost(of update: UsageUpdate) -> CostBreakdown? {
        guard let inputTokens = update.inputTokens, let outputTokens = update.outputTokens, update.tokenClassProblem == nil else {
            return nil
        }
        let cacheReadTokens = update.cacheReadTokens ?? 0
        let cacheWriteTokens = update.cacheWriteTokens ?? 0
        let reasoningTokens = update.reasoningTokens ?? 0
        let parts: [Int128] = [
            input.cost(of: inputTokens - cacheReadTokens - cacheWriteTokens),
            (cacheRead ?? input).cost(of: cacheReadTokens),
            (cacheWrite ?? input).cost(of: cacheWriteTokens),
            output.cost(of: outputTokens - reasoningTokens),
            (reasoning ?? output).cost(of: reasoningTokens),
        ]
        let (fees, feesOverflow) = Int128(update.calls).multipliedReportingOverflow(by: perCall.picodollars)
        guard !feesOverflow else { return nil }
        var total = fees
        for part in parts {
            let (sum, overflow) = total.addingReportingOverflow(part)
            guard !overflow else { return nil }
            total = sum
        }
        guard total <= UsageUpdate.maximumCost.picodollars else { return nil }
        var cost = CostBreakdown()
        cost.input = Money(picodollars: parts[0])
        cost.cacheRead = Money(picodollars: parts[1])
        cost.cacheWrite = Money(picodollars: parts[2])
        cost.output = Money(picodollars: parts[3])
        cost.reasoning = Money(picodollars: parts[4])
        cost.callFees = Money(picodollars: fees)
        return cost
    }
}
