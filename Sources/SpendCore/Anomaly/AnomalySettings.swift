/// The gates an anomaly must pass before it is opened, and how it ends. Every one is a flag of
/// `spendboard serve` (`docs/operations.md`); the defaults are what `docs/benchmarks.md`
/// measures: at most one false anomaly a simulated day on the reference traffic, every 3×
/// customer incident of $200/h caught within two minutes.
public struct AnomalySettings: Hashable, Sendable {
    /// A spike spends at least this many times the expected rate.
    public var spikeRatio: Double = 1.5
    /// A drop spends at most this fraction of the expected rate.
    public var dropRatio: Double = 0.25
    /// Once a series has `bandHistory` of history, it must also leave the band of this many
    /// standard deviations around the expected rate.
    public var bandSigmas: Double = 3
    /// The least change, in dollars per hour, that counts, by scope: a wobble of a few dollars
    /// is not an incident, and the whole platform moves more than one customer.
    public var minimumChangePerHour: [AnomalySubject.Scope: Double] = [.total: 2000, .tenant: 500, .model: 500, .customer: 100]
    /// Real volume: a spike needs this many calls in its last minute, a drop this many
    /// expected per minute.
    public var minimumCallsPerMinute: Int64 = 30
    /// How long the condition must hold before an anomaly is opened.
    public var openAfter: Duration = .seconds(60)
    /// How long it must be gone before an anomaly is resolved.
    public var resolveAfter: Duration = .seconds(180)
    /// An anomaly open this long is a new level: the baseline takes it as normal.
    public var adaptAfter: Duration = .seconds(3600)
    /// A series is judged once it has this much history (before, it only learns).
    public var minimumHistory: Duration = .seconds(600)
    /// Until a series has this much history, the band is relative (the ratios alone); from
    /// then on the standard deviation band applies as well.
    public var bandHistory: Duration = .seconds(1800)
    /// How long incidents are kept, open or resolved.
    public var retention: Duration = .seconds(30 * 86_400)

    public init() {}

    /// What is wrong with these settings, as (flag, rule) pairs; empty when they are usable.
    public var problems: [(setting: String, rule: String)] {
        var problems: [(String, String)] = []
        if !(spikeRatio > 1 && spikeRatio.isFinite) { problems.append(("spikeRatio", "must be a number above 1")) }
        if !(dropRatio >= 0 && dropRatio < 1) { problems.append(("dropRatio", "must be at least 0 and below 1")) }
        if !(bandSigmas >= 0 && bandSigmas.isFinite) { problems.append(("bandSigmas", "must be a number of at least 0")) }
        for scope in AnomalySubject.Scope.allCases {
            let value = minimumChangePerHour[scope] ?? -1
            if !(value >= 0 && value.isFinite) { problems.append(("minimumChangePerHour.\(scope.rawValue)", "must be dollars of at least 0")) }
        }
        if minimumCallsPerMinute < 0 { problems.append(("minimumCallsPerMinute", "must be at least 0")) }
        if openAfter < .zero || openAfter > .seconds(3600) { problems.append(("openAfter", "must be between 0 and 1 hour")) }
        if resolveAfter < .zero || resolveAfter > .seconds(3600) { problems.append(("resolveAfter", "must be between 0 and 1 hour")) }
        if adaptAfter < .seconds(60) || adaptAfter > .seconds(86_400) { problems.append(("adaptAfter", "must be between 1 minute and 24 hours")) }
        if minimumHistory < .seconds(60) || minimumHistory > .seconds(3600) {
            problems.append(("minimumHistory", "must be between 1 minute and 1 hour"))
        }
        if bandHistory < minimumHistory || bandHistory > .seconds(3600) {
            problems.append(("bandHistory", "must be between minimumHistory and 1 hour"))
        }
        if retention < .seconds(86_400) { problems.append(("retention", "must be at least 1 day")) }
        return problems
    }
}
