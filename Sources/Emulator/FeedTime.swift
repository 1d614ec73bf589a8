import FeedModel
import Foundation

/// Time in the emulator: 100-nanosecond ticks since 1970-01-01T00:00:00Z (signed), the
/// resolution of SQL `DATETIMEOFFSET(7)`. Integers keep ordering and equality exact, which
/// v2's `ORDER BY Timestamp, Sequence` and the inclusive/exclusive window bounds depend on.
public enum FeedTime {
    public static let ticksPerSecond: Int64 = 10_000_000
    static let ticksPerDay: Int64 = 86_400 * ticksPerSecond
    /// .NET `DateTimeOffset.MinValue` (0001-01-01T00:00:00Z).
    public static let minTicks: Int64 = Int64(daysFromCivil(1, 1, 1)) * ticksPerDay
    /// .NET `DateTimeOffset.MaxValue` (9999-12-31T23:59:59.9999999Z).
    public static let maxTicks: Int64 = Int64(daysFromCivil(10_000, 1, 1)) * ticksPerDay - 1

    public static func ticks(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * Double(ticksPerSecond)).rounded())
    }

    public static func date(_ ticks: Int64) -> Date {
        // Split to keep the fraction exact enough for round trips.
        let seconds = ticks.quotientRoundingDown(ticksPerSecond)
        let rest = ticks - seconds * ticksPerSecond
        return Date(timeIntervalSince1970: Double(seconds) + Double(rest) / Double(ticksPerSecond))
    }

    /// Ticks for a UTC calendar time.
    public static func ticks(year: Int, month: Int, day: Int, hour: Int = 0, minute: Int = 0,
                             second: Int = 0, fraction7: Int64 = 0) -> Int64 {
        Int64(daysFromCivil(year, month, day)) * ticksPerDay
            + Int64(hour * 3600 + minute * 60 + second) * ticksPerSecond + fraction7
    }

    /// `2024-03-04T08:15:02.1234567+00:00` (the .NET "O" form of a UTC DateTimeOffset).
    /// With `trimFraction`, trailing zeros of the fraction are dropped (and a zero fraction
    /// is omitted), as System.Text.Json does.
    public static func format(_ ticks: Int64, trimFraction: Bool = false) -> String {
        var w = JSONWriter(capacity: 40, escapeNonASCII: false)
        write(ticks, into: &w, trimFraction: trimFraction)
        return String(decoding: w.bytes, as: UTF8.self)
    }

    static func write(_ ticks: Int64, into w: inout JSONWriter, trimFraction: Bool) {
        let days = ticks.quotientRoundingDown(ticksPerDay)
        var rest = ticks - days * ticksPerDay
        let (y, m, d) = civilFromDays(Int(days))
        let fraction = rest % ticksPerSecond
        rest /= ticksPerSecond
        let second = Int(rest % 60), minute = Int(rest / 60 % 60), hour = Int(rest / 3600)
        digits(&w, y, 4); w.byte(45); digits(&w, m, 2); w.byte(45); digits(&w, d, 2); w.byte(84)
        digits(&w, hour, 2); w.byte(58); digits(&w, minute, 2); w.byte(58); digits(&w, second, 2)
        if !trimFraction || fraction != 0 {
            var f = Int(fraction), n = 7
            if trimFraction { while f % 10 == 0 { f /= 10; n -= 1 } }
            w.byte(46)
            digits(&w, f, n)
        }
        w.raw("+00:00")
    }

    @inline(__always) private static func digits(_ w: inout JSONWriter, _ value: Int, _ count: Int) {
        var div = 1
        for _ in 1..<count { div *= 10 }
        var v = value
        while div > 0 {
            w.byte(UInt8(48 + (v / div) % 10))
            v %= div
            div /= 10
        }
    }

    /// The result of reading a query-string time the way the service's binder does
    /// (`DateTime.Parse` then "the kind must not be Unspecified").
    enum ParsedTime: Equatable {
        case ticks(Int64)
        /// It parsed, but carries no zone (`2023-05-03T10:58:00`, `2023-05-03`).
        case noZone
        /// It did not parse at all (`foo`).
        case invalid
    }

    /// Accepts ISO 8601: `YYYY-MM-DD`, optionally `T` (or a space) and `HH:MM[:SS[.fraction]]`,
    /// optionally a zone `Z`, `±HH`, `±HHMM` or `±HH:MM`.
    static func parseQueryTime(_ text: String) -> ParsedTime {
        var sc = ISOScanner(text.trimmingCharacters(in: .whitespaces))
        guard let year = sc.digits(4), sc.accept(45), let month = sc.digits(2), sc.accept(45), let day = sc.digits(2),
              year >= 1, (1...12).contains(month), (1...daysIn(year, month)).contains(day) else { return .invalid }
        if sc.atEnd { return .noZone }
        guard sc.current == 84 || sc.current == 116 || sc.current == 32 else { return .invalid }
        sc.index += 1
        guard let hour = sc.digits(2), sc.accept(58), let minute = sc.digits(2), hour < 24, minute < 60 else { return .invalid }
        var second = 0
        var fraction: Int64 = 0
        if sc.accept(58) {
            guard let s = sc.digits(2), s < 60 else { return .invalid }
            second = s
            if sc.accept(46) {
                var count = 0
                while sc.index < sc.bytes.count, sc.bytes[sc.index] >= 48, sc.bytes[sc.index] <= 57 {
                    if count < 7 { fraction = fraction * 10 + Int64(sc.bytes[sc.index] - 48) }
                    count += 1
                    sc.index += 1
                }
                guard count > 0 else { return .invalid }
                for _ in min(count, 7)..<7 { fraction *= 10 }
            }
        }
        if sc.atEnd { return .noZone }
        var offsetMinutes = 0
        if sc.current == 90 || sc.current == 122 {
            sc.index += 1
        } else if sc.current == 43 || sc.current == 45 {
            let sign = sc.current == 45 ? -1 : 1
            sc.index += 1
            guard let oh = sc.digits(2), oh <= 14 else { return .invalid }
            var om = 0
            if sc.index < sc.bytes.count {
                _ = sc.accept(58)
                guard let m = sc.digits(2), m < 60 else { return .invalid }
                om = m
            }
            offsetMinutes = sign * (oh * 60 + om)
        } else {
            return .invalid
        }
        guard sc.atEnd else { return .invalid }
        let local = ticks(year: year, month: month, day: day, hour: hour, minute: minute, second: second, fraction7: fraction)
        let utc = local - Int64(offsetMinutes) * 60 * ticksPerSecond
        guard utc >= minTicks, utc <= maxTicks else { return .invalid }
        return .ticks(utc)
    }

    static func daysIn(_ year: Int, _ month: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (the usual era arithmetic).
    static func daysFromCivil(_ year: Int, _ month: Int, _ day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let shiftedMonth = month > 2 ? month - 3 : month + 9
        let dayOfYear = (153 * shiftedMonth + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    static func civilFromDays(_ days: Int) -> (Int, Int, Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}

extension Int64 {
    @inline(__always) func quotientRoundingDown(_ d: Int64) -> Int64 {
        let q = self / d
        return (self % d != 0 && (self < 0) != (d < 0)) ? q - 1 : q
    }
}
