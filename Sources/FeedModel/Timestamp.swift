import Foundation

/// ISO 8601 timestamps as the service writes them: `2020-03-04T01:03:08.4834Z` or
/// `2020-03-04T01:03:08.4834+00:00`, with 0 to 7 fraction digits. A zone is required.
public enum Timestamp {
    /// Parses a timestamp; nil when it is malformed or has no zone.
    public static func parse(_ text: String) -> Date? {
        var sc = ISOScanner(text)
        guard let year = sc.digits(4), sc.accept(45), let month = sc.digits(2), sc.accept(45), let day = sc.digits(2) else { return nil }
        guard sc.index < sc.bytes.count, sc.current == 84 || sc.current == 116 || sc.current == 32 else { return nil }   // T, t or space
        sc.index += 1
        guard let hour = sc.digits(2), sc.accept(58), let minute = sc.digits(2), sc.accept(58), let second = sc.digits(2) else { return nil }
        guard (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61 else { return nil }
        var fraction = 0.0
        if sc.index < sc.bytes.count, sc.current == 46 {   // '.'
            sc.index += 1
            var scale = 0.1
            var count = 0
            while sc.index < sc.bytes.count, sc.bytes[sc.index] >= 48, sc.bytes[sc.index] <= 57 {
                fraction += Double(sc.bytes[sc.index] - 48) * scale
                scale /= 10
                sc.index += 1
                count += 1
            }
            guard count > 0 else { return nil }
        }
        guard sc.index < sc.bytes.count else { return nil }   // no zone
        var offsetSeconds = 0
        if sc.current == 90 || sc.current == 122 {   // Z
            sc.index += 1
        } else if sc.current == 43 || sc.current == 45 {   // + or -
            let sign = sc.current == 45 ? -1 : 1
            sc.index += 1
            guard let oh = sc.digits(2) else { return nil }
            _ = sc.accept(58)
            guard let om = sc.digits(2), oh < 24, om < 60 else { return nil }
            offsetSeconds = sign * (oh * 3600 + om * 60)
        } else {
            return nil
        }
        guard sc.atEnd else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        let seconds = Double(days * 86_400 + hour * 3600 + minute * 60 + second - offsetSeconds) + fraction
        return Date(timeIntervalSince1970: seconds)
    }

    /// Formats a date the way the service does (UTC, 7 fraction digits, `Z`), which also parses back.
    public static func format(_ date: Date, fractionDigits: Int = 7) -> String {
        let t = date.timeIntervalSince1970
        var whole = Int(t.rounded(.down))
        let scale = pow(10.0, Double(fractionDigits))
        var frac = Int(((t - Double(whole)) * scale).rounded())
        if frac >= Int(scale) { frac -= Int(scale); whole += 1 }
        let (y, m, d) = civilFromDays(Int((Double(whole) / 86_400).rounded(.down)))
        let secOfDay = whole - Int((Double(whole) / 86_400).rounded(.down)) * 86_400
        var s = pad(y, 4) + "-" + pad(m, 2) + "-" + pad(d, 2) + "T"
        s += pad(secOfDay / 3600, 2) + ":" + pad(secOfDay / 60 % 60, 2) + ":" + pad(secOfDay % 60, 2)
        if fractionDigits > 0 { s += "." + pad(frac, fractionDigits) }
        return s + "Z"
    }

    private static func pad(_ v: Int, _ n: Int) -> String {
        let s = String(v)
        return s.count >= n ? s : String(repeating: "0", count: n - s.count) + s
    }

    // Howard Hinnant's days-from-civil algorithm (public domain arithmetic).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// (year, month, day) of the proleptic Gregorian calendar for days since 1970-01-01.
    public static func civilFromDays(_ z0: Int) -> (Int, Int, Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? y + 1 : y, m, d)
    }
}
