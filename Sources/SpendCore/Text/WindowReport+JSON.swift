extension WindowReport {
    /// A figure against the previous period: the relative change of its rate (per hour for
    /// totals, as is for means), so that periods whose lengths differ by a bucket compare fairly.
    /// Nil without a previous period or when the previous value is zero.
    public func change(_ value: (UsageCounters) -> Double?, isTotal: Bool = true) -> Double? {
        guard let previous, let now = value(current.totals), let before = value(previous.totals) else { return nil }
        let a = isTotal ? current.perHour(now) : now
        let b = isTotal ? previous.perHour(before) : before
        guard let a, let b, b != 0 else { return nil }
        return (a - b) / b
    }

    /// The spend rate over the period, in dollars per hour (rounded to the picodollar).
    public var spendRatePerHour: Money { current.spendRatePerHour }

    /// The report as JSON, for `/api/stats?window=` and `?from=&to=`: the range asked and the
    /// range covered, totals against the previous period, the chart points, models and the top
    /// customers. Money in exact decimal dollars, like `stats.json`.
    public func jsonBytes() -> [UInt8] {
        var writer = JSONWriter(capacity: 8192 + points.count * 200)
        writer.object { o in
            o.field("generatedAt") { $0.timestamp(generatedAt) }
            o.field("window") { w in if let window { w.string(window.id) } else { w.null() } }
            o.field("requested") { w in
                w.object { r in
                    r.field("from") { $0.timestamp(requested.lowerBound) }
                    r.field("to") { $0.timestamp(requested.upperBound) }
                }
            }
            o.field("current") { $0.period(current) }
            o.field("previous") { w in if let previous { w.period(previous) } else { w.null() } }
            o.field("change") { w in
                w.object { c in
                    func put(_ name: String, _ value: Double?) {
                        c.field(name) { w in if let value { w.number(value, places: 6) } else { w.null() } }
                    }
                    put("spend", change { $0.totalCost.approximateDollars })
                    put("calls", change { Double($0.calls) })
                    put("tokens", change { Double($0.totalTokens) })
                    put("meanLatencyMs", change({ $0.meanLatencyMs }, isTotal: false))
                }
            }
            o.field("stepSeconds") { $0.integer(step.milliseconds / 1000) }
            o.field("comparisonShiftSeconds") { $0.integer(comparisonShift.milliseconds / 1000) }
            o.field("points") { w in
                w.array(points.indices) { w, index in
                    let point = points[index]
                    w.object { p in
                        p.field("start") { $0.timestamp(point.start) }
                        p.field("end") { $0.timestamp(point.end) }
                        p.field("totalCost") { $0.dollars(point.totals.totalCost) }
                        p.field("calls") { $0.integer(point.totals.calls) }
                        p.field("inputTokens") { $0.integer(point.totals.inputTokens) }
                        p.field("outputTokens") { $0.integer(point.totals.outputTokens) }
                        p.field("totalTokens") { $0.integer(point.totals.totalTokens) }
                        p.field("comparisonCost") { w in
                            if let earlier = comparison[index] { w.dollars(earlier.totals.totalCost) } else { w.null() }
                        }
                    }
                }
            }
            o.field("costByModel") { w in
                w.array(costByModel) { w, model in
                    w.object { m in
                        m.field("model") { $0.string(model.model) }
                        m.field("totalCost") { $0.dollars(model.usage.cost) }
                        m.field("share") { $0.number(model.share, places: 6) }
                        m.field("calls") { $0.integer(model.usage.calls) }
                        m.field("tokens") { $0.integer(model.usage.totalTokens) }
                    }
                }
            }
            o.field("customerCount") { $0.integer(customers.count) }
            o.field("topCustomers") { w in
                w.array(customers.prefix(Snapshot.topCustomerLimit)) { w, customer in
                    w.object { c in
                        c.field("customerId") { $0.string(customer.customerId) }
                        c.field("tenantId") { $0.string(customer.tenantId) }
                        c.field("totalCost") { $0.dollars(customer.usage.cost) }
                        c.field("rank") { $0.integer(customer.rank) }
                        c.field("share") { $0.number(customer.share, places: 6) }
                        c.field("calls") { $0.integer(customer.usage.calls) }
                        c.field("tokens") { $0.integer(customer.usage.totalTokens) }
                    }
                }
            }
        }
        return writer.bytes
    }
}

extension WindowReport.Period {
    /// Spend per hour over the period, rounded down to the picodollar; zero for an empty period.
    public var spendRatePerHour: Money {
        let ms = Int128(duration.milliseconds)
        guard ms > 0 else { return .zero }
        return Money(picodollars: totals.totalCost.picodollars * 3_600_000 / ms)
    }
}

extension JSONWriter {
    mutating func period(_ period: WindowReport.Period) {
        object { p in
            p.field("from") { $0.timestamp(period.start) }
            p.field("to") { $0.timestamp(period.end) }
            p.field("seconds") { $0.integer(period.duration.milliseconds / 1000) }
            p.field("spendRatePerHour") { $0.dollars(period.spendRatePerHour) }
            p.field("totals") { $0.counters(period.totals) }
        }
    }
}
