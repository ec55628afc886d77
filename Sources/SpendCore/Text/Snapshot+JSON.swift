extension Snapshot {
    /// How many customers `topCustomers` lists, as in the reference.
    public static let topCustomerLimit = 100

    /// The snapshot as the `/api/stats` document, which `stats.json` repeats byte for byte.
    ///
    /// It keeps the reference fields `totalCostPerHour`, `topCustomers` (each
    /// `{customerId, totalCost}`, plus `tenantId`) and `costByModel` (`{model: dollars}`), and adds
    /// the rest of the snapshot. Money is in dollars, exact: decimal numbers with up to 12
    /// places, never rounded (read them as decimals, not binary doubles, to keep every digit).
    public func jsonBytes() -> [UInt8] {
        var writer = JSONWriter(capacity: 16_384)
        writer.object { o in
            o.field("generatedAt") { $0.timestamp(generatedAt) }
            o.field("totalCostPerHour") { $0.dollars(spendRatePerHour) }
            o.field("topCustomers") { w in
                w.array(customers.prefix(Self.topCustomerLimit)) { w, customer in
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
            o.field("costByModel") { w in
                w.object { m in
                    for model in costByModel {
                        m.field(model.model) { $0.dollars(model.usage.cost) }
                    }
                }
            }
            o.field("customerCount") { $0.integer(customers.count) }
            o.field("window") { w in
                w.object { window in
                    window.field("start") { $0.timestamp(windowStart) }
                    window.field("end") { $0.timestamp(windowEnd) }
                }
            }
            o.field("hour") { $0.counters(hour) }
            o.field("models") { w in
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
            o.field("tokenUsage") { w in
                w.object { t in
                    t.field("bucketSeconds") { $0.integer(5) }
                    t.field("points") { w in
                        w.array(tokenUsage) { w, point in
                            w.object { p in
                                p.field("start") { $0.timestamp(point.start) }
                                p.field("inputTokens") { $0.integer(point.inputTokens) }
                                p.field("outputTokens") { $0.integer(point.outputTokens) }
                                p.field("cacheReadInputTokens") { $0.integer(point.cacheReadTokens) }
                                p.field("cacheCreationInputTokens") { $0.integer(point.cacheWriteTokens) }
                                p.field("reasoningOutputTokens") { $0.integer(point.reasoningTokens) }
                                p.field("totalTokens") { $0.integer(point.totalTokens) }
                            }
                        }
                    }
                }
            }
            o.field("spendPerHour") { w in
                w.array(spendPerHour) { w, hour in
                    w.object { h in
                        h.field("start") { $0.timestamp(hour.start) }
                        h.field("totalCost") { $0.dollars(hour.cost) }
                        h.field("calls") { $0.integer(hour.calls) }
                        h.field("partial") { $0.bool(hour.isPartial) }
                    }
                }
            }
            o.field("callsPerSecond") { $0.number(callsPerSecond, places: 3) }
            o.field("updatesPerSecond") { $0.number(updatesPerSecond, places: 3) }
            o.field("meanLatencyMs") { w in
                if let latency = meanLatencyMs { w.number(latency, places: 2) } else { w.null() }
            }
        }
        return writer.bytes
    }
}

extension JSONWriter {
    /// Usage totals: calls, tokens by class, cost in dollars by class and mean latency.
    public mutating func counters(_ counters: UsageCounters) {
        object { c in
            c.field("updates") { $0.integer(counters.updates) }
            c.field("calls") { $0.integer(counters.calls) }
            c.field("totalTokens") { $0.integer(counters.totalTokens) }
            c.field("inputTokens") { $0.integer(counters.inputTokens) }
            c.field("outputTokens") { $0.integer(counters.outputTokens) }
            c.field("cacheReadInputTokens") { $0.integer(counters.cacheReadTokens) }
            c.field("cacheCreationInputTokens") { $0.integer(counters.cacheWriteTokens) }
            c.field("reasoningOutputTokens") { $0.integer(counters.reasoningTokens) }
            c.field("totalCost") { $0.dollars(counters.totalCost) }
            c.field("costByClass") { w in
                w.object { classes in
                    for costClass in CostClass.allCases {
                        classes.field(costClass.rawValue) { $0.dollars(counters.cost[costClass]) }
                    }
                }
            }
            c.field("unpricedUpdates") { $0.integer(counters.unpricedUpdates) }
            c.field("meanLatencyMs") { w in
                if let latency = counters.meanLatencyMs { w.number(latency, places: 2) } else { w.null() }
            }
        }
    }

    /// One usage update in the reference wire format.
    public mutating func usageUpdate(_ update: UsageUpdate) {
        object { u in
            u.field("timestamp") { $0.timestamp(update.timestamp) }
            u.field("tenantId") { $0.string(update.tenantId) }
            u.field("customerId") { $0.string(update.customerId) }
            u.field("model") { $0.string(update.model) }
            u.field("metrics") { w in
                w.object { m in
                    m.field("totalCalls") { $0.integer(update.calls) }
                    m.field("totalTokens") { $0.integer(update.totalTokens) }
                    m.field("totalCost") { w in
                        if update.isPriced { w.dollars(update.cost.total) } else { w.null() }
                    }
                    m.field("avgLatencyMs") { $0.number(update.avgLatencyMs, places: 2) }
                    if let input = update.inputTokens { m.field("inputTokens") { $0.integer(input) } }
                    if let output = update.outputTokens { m.field("outputTokens") { $0.integer(output) } }
                    if let cacheRead = update.cacheReadTokens { m.field("cacheReadInputTokens") { $0.integer(cacheRead) } }
                    if let cacheWrite = update.cacheWriteTokens { m.field("cacheCreationInputTokens") { $0.integer(cacheWrite) } }
                    if let reasoning = update.reasoningTokens { m.field("reasoningOutputTokens") { $0.integer(reasoning) } }
                }
            }
        }
    }
}
