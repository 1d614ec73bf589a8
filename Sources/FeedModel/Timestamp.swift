import Foundation

/// ISO 8601 timestamps as the service writes them: `2020-03-04T01:03:08.4834Z` or
/// `2020-03-04T01:03:08.4834+00:00`, with 0 to 7 fraction digits. A zone is required.
public enum Timestamp {
    /// Parses a timestamp; nil when it is malformed or has no zone.
    public static func parse(_ text: String) -> Date? {
        let u = Array(text.utf8)
        var i = 0
        func digits(_ n: Int) -> Int? {
            guard i + n <= u.count else { return nil }
            var v = 0
            for k in 0..<n {
                let c = u[i + k]
                guard c >= 48 && c <= 57 else { return nil }
                v = v * 10 + Int(c - 48)
            }
            i += n
            return v
        }
        func expect(_ c: UInt8) -> Bool {
            guard i < u.count, u[i] == c else { return false }
            i += 1
            return true
        }
        guard let year = digits(4), expect(45), let month = digits(2), expect(45), let day = digits(2) else { return nil }
        guard i < u.count, u[i] == 84 || u[i] == 116 || u[i] == 32 else { return nil }   // T, t or space
        i += 1
        guard let hour = digits(2), expect(58), let minute = digits(2), expect(58), let second = digits(2) else { return nil }
        guard (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61 else { return nil }
        var fraction = 0.0
        if i < u.count, u[i] == 46 {   // '.'
            i += 1
            var scale = 0.1
            var count = 0
            while i < u.count, u[i] >= 48, u[i] <= 57 {
                fraction += Double(u[i] - 48) * scale
                scale /= 10
                i += 1
                count += 1
            }
            guard count > 0 else { return nil }
        }
        guard i < u.count else { return nil }   // no zone
        var offsetSeconds = 0
        if u[i] == 90 || u[i] == 122 {   // Z
            i += 1
        } else if u[i] == 43 || u[i] == 45 {   // + or -
            let sign = u[i] == 45 ? -1 : 1
            i += 1
            guard let oh = digits(2) else { return nil }
            _ = expect(58)
            guard let om = digits(2), oh < 24, om < 60 else { return nil }
            offsetSeconds = sign * (oh * 3600 + om * 60)
        } else {
            return nil
        }
        guard i == u.count else { return nil }
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
