// Micro-benchmarks of the store, the snapshot, the `since` query, decoding, JSON, the charts,
// the whole site and one archive step, on ordo-one's package-benchmark. Run in release by the
// plugin:
//
//     swift package benchmark                          # every benchmark, a few minutes
//     swift package benchmark --filter "snapshot.*"    # the ones whose name matches
//     scripts/benchmark-check.sh                       # fails on a p90 more than 10 % off Thresholds/
//
// Each benchmark runs in its own process; filling a ledger with simulated history is done in
// its setup closure, never in the measured part. Names and custom metric names have no spaces:
// the plugin stores a benchmark's thresholds in a file named after it with spaces replaced,
// but looks the file up with the spaces kept. docs/benchmarks.md records the figures.
import Benchmark

/// The tolerances: `percent` on p50 and p90 of every metric, `wallClockPercent` for wall clock.
/// `thresholds check` compares the p90 of a run with the p90 stored in `Thresholds/`;
/// `baseline check` compares two runs on both. p99 is left out: on a shared 2-core machine it
/// moves by more than 10 % from run to run.
func tolerances(_ metrics: [BenchmarkMetric], percent: Double, wallClockPercent: Double) -> [BenchmarkMetric: BenchmarkThresholds] {
    Dictionary(
        uniqueKeysWithValues: metrics.map { metric in
            let tolerance = metric == .wallClock ? wallClockPercent : percent
            return (metric, BenchmarkThresholds(relative: [.p50: tolerance, .p90: tolerance]))
        })
}

/// A configuration measuring wall clock and mallocs (plus `extra`), with tolerances of 10 %
/// unless `wallClockTolerance` says otherwise for wall clock.
///
/// Samples are spread over about 5 seconds (`maxDuration`, or `maxIterations` samples for the
/// slower benchmarks): a burst of other work on the machine then touches fewer than one sample
/// in ten, and leaves p90 alone.
func configuration(
    _ extra: [BenchmarkMetric] = [], scalingFactor: BenchmarkScalingFactor = .one, warmupIterations: Int = 3,
    maxDuration: Duration = .seconds(5), maxIterations: Int = 100_000, wallClockTolerance: Double = 10
) -> Benchmark.Configuration {
    let metrics: [BenchmarkMetric] = [.wallClock, .mallocCountTotal] + extra
    return .init(
        metrics: metrics, warmupIterations: warmupIterations, scalingFactor: scalingFactor,
        maxDuration: maxDuration, maxIterations: maxIterations,
        thresholds: tolerances(metrics, percent: 10, wallClockPercent: wallClockTolerance)
    )
}

let benchmarks: @Sendable () -> Void = {
    storeBenchmarks()
    reportBenchmarks()
    archiveBenchmarks()
}
