/// ISO-8601 conversion without Foundation's formatters, which cost microseconds per call and
/// dominate a response of 10,000 updates.
extension Timestamp {
    /// `YYYY-MM-DDTHH:MM:SS.mmmZ`, always UTC with milliseconds.
    public var iso8601: String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(24)
        appendISO8601(to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends `YYYY-MM-DDTHH:MM:SS.mmmZ` as UTF-8.
    public func appendISO8601(to bytes: inout [UInt8]) {
        let ms = millisecondsSinceEpoch
        let days = ms.flooredDivision(by: 86_400_000)
        let msOfDay = ms - days * 86_400_000
        let (year, month, day) = Self.civil(fromDays: days)
        func put(_ value: Int64, digits: Int) {
            var divisor: Int64 = 1
            for _ in 1..<digits { divisor *= 10 }
            var v = value
            while divisor > 0 {
                bytes.append(UInt8(truncatingIfNeeded: 48 + (v / divisor) % 10))
                v %= divisor
                divisor /= 10
            }
        }
        if year < 0 || year > 9999 {
            bytes.append(year < 0 ? UInt8(ascii: "-") : UInt8(ascii: "+"))
            put(abs(year), digits: 6)
        } else {
            put(year, digits: 4)
        }
        bytes.append(UInt8(ascii: "-"))
        put(month, digits: 2)
        bytes.append(UInt8(ascii: "-"))
        put(day, digits: 2)
        bytes.append(UInt8(ascii: "T"))
        put(msOfDay / 3_600_000, digits: 2)
        bytes.append(UInt8(ascii: ":"))
        put(msOfDay / 60_000 % 60, digits: 2)
        bytes.append(UInt8(ascii: ":"))
        put(msOfDay / 1000 % 60, digits: 2)
        bytes.append(UInt8(ascii: "."))
        put(msOfDay % 1000, digits: 3)
        bytes.append(UInt8(ascii: "Z"))
    }

    /// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`. A fraction finer than milliseconds
    /// is truncated. Returns nil for anything else, including impossible dates such as Feb 30.
    public init?(iso8601 text: some StringProtocol) {
        let bytes = Array(text.utf8)
        guard let parsed = bytes.withUnsafeBufferPointer({ Timestamp(iso8601Bytes: $0) }) else { return nil }
        self = parsed
    }

    /// Parses ISO-8601 from UTF-8 bytes; see `init?(iso8601:)`.
    init?(iso8601Bytes bytes: UnsafeBufferPointer<UInt8>) {
        var utf8 = bytes[...]
        func number(_ count: Int) -> Int64? {
            guard utf8.count >= count else { return nil }
            var value: Int64 = 0
            for byte in utf8.prefix(count) {
                guard byte >= 48 && byte <= 57 else { return nil }
                value = value * 10 + Int64(byte - 48)
            }
            utf8 = utf8.dropFirst(count)
            return value
        }
        func expect(_ ascii: Unicode.Scalar) -> Bool {
            guard utf8.first == UInt8(ascii: ascii) else { return false }
            utf8 = utf8.dropFirst()
            return true
        }
        guard let year = number(4), expect("-"), let month = number(2), expect("-"), let day = number(2),
            expect("T") || expect("t") || expect(" "),
            let hour = number(2), expect(":"), let minute = number(2), expect(":"), let second = number(2)
        else { return nil }
        var millis: Int64 = 0
        if expect(".") {
            var digits = 0
            while let byte = utf8.first, byte >= 48 && byte <= 57 {
                if digits < 3 { millis = millis * 10 + Int64(byte - 48) }
                digits += 1
                utf8 = utf8.dropFirst()
            }
            guard digits > 0 else { return nil }
            for _ in digits..<max(digits, 3) { millis *= 10 }
        }
        var offsetMinutes: Int64 = 0
        if expect("Z") || expect("z") {
        } else if let sign = utf8.first, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") {
            utf8 = utf8.dropFirst()
            guard let oh = number(2), expect(":"), let om = number(2), oh < 24, om < 60 else { return nil }
            offsetMinutes = (oh * 60 + om) * (sign == UInt8(ascii: "-") ? -1 : 1)
        } else {
            return nil
        }
        guard utf8.isEmpty, (1...12).contains(month), day >= 1, day <= Self.daysIn(month: month, year: year),
            hour < 24, minute < 60, second < 60
        else { return nil }
        let days = Self.days(fromCivil: year, month, day)
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offsetMinutes * 60
        self.init(millisecondsSinceEpoch: seconds * 1000 + millis)
    }

    static func daysIn(month: Int64, year: Int64) -> Int64 {
        switch month {
        case 2: return (year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Howard Hinnant's `civil_from_days`.
    static func civil(fromDays z: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = z + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// Howard Hinnant's `days_from_civil`.
    static func days(fromCivil year: Int64, _ month: Int64, _ day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// Hour of the day in UTC, 0–23.
    public var utcHour: Int {
        Int(millisecondsSinceEpoch.flooredDivision(by: 3_600_000) - millisecondsSinceEpoch.flooredDivision(by: 86_400_000) * 24)
    }
}
