/// An exact amount of US dollars, held as an integer number of picodollars (10⁻¹² dollar).
///
/// The unit is fine enough for every cost Spendboard computes: a price has at most 6 decimal
/// places of a dollar per million tokens, which is a whole number of picodollars per token, so
/// a price times a token count is a whole number of picodollars; a per-call fee and a
/// producer's `totalCost` have at most 12 decimal places. Nothing is rounded when it is
/// stored or summed.
///
/// The storage is `Int128`: one update costs at most $1,000,000 (10¹⁸ picodollars), and a sum
/// overflows only past 1.7 × 10²⁶ dollars, that is after 1.7 × 10²⁰ updates at that maximum,
/// far beyond any 30 days the store keeps. Dollars appear only at the edges: `decimalText` (JSON,
/// exact) and `formatted` (pages, rounded for reading).
public struct Money: Hashable, Comparable, Sendable, AdditiveArithmetic, CustomStringConvertible {
    public var picodollars: Int128

    public static let picodollarsPerDollar: Int128 = 1_000_000_000_000
    /// Decimal places of a dollar that `Money` holds.
    public static let decimalPlaces = 12

    public init(picodollars: Int128) {
        self.picodollars = picodollars
    }

    /// An amount in micro-dollars, the unit of data folders written before picodollars.
    public init(micros: Int64) {
        picodollars = Int128(micros) * 1_000_000
    }

    /// Whole dollars.
    public init(dollars: Int64) {
        picodollars = Int128(dollars) * Self.picodollarsPerDollar
    }

    /// The exact amount a decimal text gives (JSON number grammar, exponents allowed), with at
    /// most 12 decimal places; nil when it is not such a number, is negative, or has more
    /// places. `Money(decimal: "0.000045")` is 45,000,000 picodollars.
    public init?(decimal text: some StringProtocol) {
        guard case .success(let picodollars) = ExactDecimal.scaled(text, places: Self.decimalPlaces) else { return nil }
        self.picodollars = picodollars
    }

    public static var zero: Money { Money(picodollars: 0) }

    public static func + (lhs: Money, rhs: Money) -> Money { Money(picodollars: lhs.picodollars + rhs.picodollars) }
    public static func - (lhs: Money, rhs: Money) -> Money { Money(picodollars: lhs.picodollars - rhs.picodollars) }
    public static func < (lhs: Money, rhs: Money) -> Bool { lhs.picodollars < rhs.picodollars }

    @inlinable
    public static func += (lhs: inout Money, rhs: Money) { lhs.picodollars += rhs.picodollars }

    /// The nearest `Double` number of dollars: for chart geometry and ratios, never for sums.
    public var approximateDollars: Double {
        // Through Int64: `Double(Int128)` takes a generic, several times slower path, and
        // dividing an `Int128` is a library call.
        if let small = Int64(exactly: picodollars) { return Double(small) / 1e12 }
        let (whole, fraction) = picodollars.quotientAndRemainder(dividingBy: Self.picodollarsPerDollar)
        guard let wholeDollars = Int64(exactly: whole) else { return Double(whole) + Double(Int64(fraction)) / 1e12 }
        return Double(wholeDollars) + Double(Int64(fraction)) / 1e12
    }

    /// The exact decimal form in dollars, as a JSON number: `12.5`, `0.000045`, `3`. No
    /// floating point is involved, so `0.1 + 0.2` stays `0.3`.
    public var decimalText: String {
        let magnitude = picodollars.magnitude
        let unit = Self.picodollarsPerDollar.magnitude
        var text = (picodollars < 0 ? "-" : "") + String(magnitude / unit)
        var fraction = magnitude % unit
        guard fraction != 0 else { return text }
        var digits = Self.decimalPlaces
        while fraction % 10 == 0 {
            fraction /= 10
            digits -= 1
        }
        let fractionText = String(fraction)
        text += "." + String(repeating: "0", count: digits - fractionText.count) + fractionText
        return text
    }

    public var description: String { "$" + decimalText }

    /// The form of a headline figure: whole dollars from $100 (`$2,454`), below that as
    /// `formatted()` (`$12.40`, `$0.0042`), so a small spend never reads as `$0`.
    public var headline: String {
        self >= Money(dollars: 100) ? formatted(decimals: 0) : formatted()
    }

    /// The form for people, rounded half up: `$78,123.45`. With `decimals` nil, amounts of a
    /// cent or more show cents, and smaller ones enough places to show what they are:
    /// `$0.0042` (4 places from $0.0001), `$0.000045` (6 from $0.000001), `$0.000000450` (9),
    /// down to 12 places.
    public func formatted(decimals: Int? = nil) -> String {
        let magnitude = picodollars.magnitude
        let places: Int
        if let decimals {
            places = min(max(decimals, 0), Self.decimalPlaces)
        } else if magnitude == 0 || magnitude >= 10_000_000_000 {
            places = 2
        } else if magnitude >= 100_000_000 {
            places = 4
        } else if magnitude >= 1_000_000 {
            places = 6
        } else if magnitude >= 1_000 {
            places = 9
        } else {
            places = 12
        }
        var scale: UInt128 = 1
        for _ in 0..<(Self.decimalPlaces - places) { scale *= 10 }
        let rounded = (magnitude + scale / 2) / scale
        var unit: UInt128 = 1
        for _ in 0..<places { unit *= 10 }
        let whole = rounded / unit
        let fraction = rounded % unit
        var grouped = ""
        for (index, character) in String(whole).reversed().enumerated() {
            if index > 0 && index % 3 == 0 { grouped.append(",") }
            grouped.append(character)
        }
        var text = (picodollars < 0 && rounded != 0 ? "-$" : "$") + String(grouped.reversed())
        if places > 0 {
            let digits = String(fraction)
            text += "." + String(repeating: "0", count: places - digits.count) + digits
        }
        return text
    }
}

/// Reads decimal numbers exactly, from their text: never through a binary `Double`.
public enum ExactDecimal {
    public enum Failure: Error, Hashable, Sendable {
        /// Not a number in the JSON grammar.
        case notANumber
        case negative
        /// More decimal places than allowed (digits that would have to be rounded away).
        case tooPrecise
        /// Larger than `Int128` can hold at this scale.
        case tooLarge
    }

    /// The number `text` times 10^`places`, when that is a whole number: `scaled("0.0375", places: 6)`
    /// is 37,500. Accepts the JSON number grammar (`12`, `0.5`, `1.5e-7`, `9E9`); a negative
    /// number other than zero is `.negative`.
    public static func scaled(_ text: some StringProtocol, places: Int) -> Result<Int128, Failure> {
        var utf8 = Array(text.utf8)
        return utf8.withUnsafeMutableBufferPointer { scaled(UnsafeBufferPointer($0), places: places) }
    }

    /// `scaled(_:places:)` on the bytes of the number, without allocating: the ingest path.
    public static func scaled(_ bytes: UnsafeBufferPointer<UInt8>, places: Int) -> Result<Int128, Failure> {
        var index = 0
        let end = bytes.count
        func isDigit(_ i: Int) -> Bool { i < end && bytes[i] >= 48 && bytes[i] <= 57 }
        let negative = index < end && bytes[index] == UInt8(ascii: "-")
        if negative { index += 1 }
        // Integer part: "0", or a digit 1-9 followed by digits.
        let integerStart = index
        guard isDigit(index) else { return .failure(.notANumber) }
        if bytes[index] == 48 {
            index += 1
            if isDigit(index) { return .failure(.notANumber) }
        } else {
            while isDigit(index) { index += 1 }
        }
        let integerEnd = index
        var fractionStart = index
        var fractionEnd = index
        if index < end, bytes[index] == UInt8(ascii: ".") {
            index += 1
            fractionStart = index
            guard isDigit(index) else { return .failure(.notANumber) }
            while isDigit(index) { index += 1 }
            fractionEnd = index
        }
        var exponent = 0
        if index < end, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            var negativeExponent = false
            if index < end, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
                negativeExponent = bytes[index] == UInt8(ascii: "-")
                index += 1
            }
            guard isDigit(index) else { return .failure(.notANumber) }
            while isDigit(index) {
                // Past a million the number is zero, too large or too precise, whatever the rest.
                exponent = min(exponent * 10 + Int(bytes[index] - 48), 1_000_000)
                index += 1
            }
            if negativeExponent { exponent = -exponent }
        }
        guard index == end else { return .failure(.notANumber) }

        // The digits, integer then fraction, as one sequence: digit(k) for k in 0..<count.
        let integerCount = integerEnd - integerStart
        let count = integerCount + (fractionEnd - fractionStart)
        func digit(_ k: Int) -> Int128 {
            Int128(bytes[k < integerCount ? integerStart + k : fractionStart + k - integerCount] - 48)
        }
        // value = digits × 10^shift
        var shift = exponent - (fractionEnd - fractionStart) + places
        var kept = count
        while kept > 0 && digit(kept - 1) == 0 {
            kept -= 1
            shift += 1
        }
        var first = 0
        while first < kept && digit(first) == 0 { first += 1 }
        guard first < kept else { return .success(0) }
        if negative { return .failure(.negative) }
        guard shift >= 0 else { return .failure(.tooPrecise) }
        guard kept - first + shift <= 39 else { return .failure(.tooLarge) }
        var value: Int128 = 0
        for k in first..<(kept + shift) {
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(k < kept ? digit(k) : 0)
            guard !o1, !o2 else { return .failure(.tooLarge) }
            value = sum
        }
        return .success(value)
    }
}
