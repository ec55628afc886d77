/// Round numbers for chart scales and ticks.
enum Scale {
    /// The smallest "round" number ≥ `value`: 1, 1.5, 2, 2.5, 3, 4, 5, 6, 8 or 10 times a power of
    /// ten. Zero and negative values give 0.
    static func roundUp(_ value: Double) -> Double {
        guard value > 0, value.isFinite else { return 0 }
        var power = 1.0
        while power * 10 <= value { power *= 10 }
        while power > value { power /= 10 }
        for step in [1.0, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10] where step * power >= value * (1 - 1e-12) {
            return step * power
        }
        return 10 * power
    }

    /// A readable tick step for `0...maximum` with about `target` intervals: 1, 2, 2.5 or 5 times
    /// a power of ten.
    static func tickStep(maximum: Double, target: Int = 4) -> Double {
        guard maximum > 0, maximum.isFinite else { return 1 }
        let raw = maximum / Double(max(1, target))
        var power = 1.0
        while power * 10 <= raw { power *= 10 }
        while power > raw { power /= 10 }
        for step in [1.0, 2, 2.5, 5, 10] where step * power >= raw * (1 - 1e-12) {
            return step * power
        }
        return 10 * power
    }

    /// A scale for `0...dataMaximum`: an upper bound that is a whole number of tick steps, and the
    /// ticks from 0 to it.
    static func axis(dataMaximum: Double, target: Int = 4) -> (maximum: Double, ticks: [Double]) {
        guard dataMaximum > 0, dataMaximum.isFinite else { return (1, [0, 1]) }
        let step = tickStep(maximum: dataMaximum, target: target)
        let count = (dataMaximum / step * (1 - 1e-12)).rounded(.up)
        let maximum = max(1, count) * step
        return (maximum, (0...Int(max(1, count))).map { Double($0) * step })
    }
}
