import Foundation

/// A change-feed timestamp, exactly: 100-nanosecond ticks since 1970-01-01T00:00:00Z, the
/// resolution of the service's SQL `DATETIMEOFFSET(7)`.
///
/// The feed's v2 order is `(timestamp, sequence)` and its windows are half-open
/// (`startTime` inclusive, `endTime` exclusive), so a timestamp must survive being read,
/// stored, printed and sent back as a window bound without moving by a single tick. A `Date`
/// (a `Double` of seconds) cannot promise that: about half of all 7-digit fractions come back
/// one tick off. Everything that holds a feed time holds this integer instead; `date` is only
/// for showing it in a calendar.
public struct Timestamp: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// 100-ns ticks since the Unix epoch, UTC (negative before 1970).
    public var ticks: Int64

    public static let ticksPerSecond: Int64 = 10_000_000
    public static let ticksPerDay: Int64 = 86_400 * ticksPerSecond
    /// .NET `DateTimeOffset.MinValue` (0001-01-01T00:00:00Z): the v2 window's default start.
    public static let min = Timestamp(ticks: Int64(daysFromCivil(year: 1, month: 1, day: 1)) * ticksPerDay)
    /// .NET `DateTimeOffset.MaxValue` (9999-12-31T23:59:59.9999999Z): the v2 window's default end.
    public static let max = Timestamp(ticks: Int64(daysFromCivil(year: 10_000, month: 1, day: 1)) * ticksPerDay - 1)

    public init(ticks: Int64) { self.ticks = ticks }

    /// The tick nearest to `date` (for clocks and user input; never for the service's times).
    public init(_ date: Date) {
        let seconds = date.timeIntervalSince1970.rounded(.down)
        let fraction = ((date.timeIntervalSince1970 - seconds) * Double(Self.ticksPerSecond)).rounded()
        ticks = Int64(seconds) * Self.ticksPerSecond + Int64(fraction)
    }

    /// A UTC calendar time; `fraction` is in ticks (0 ..< 10,000,000).
    public init(year: Int, month: Int, day: Int, hour: Int = 0, minute: Int = 0, second: Int = 0, fraction: Int64 = 0) {
        ticks = Int64(Self.daysFromCivil(year: year, month: month, day: day)) * Self.ticksPerDay
            + Int64(hour * 3600 + minute * 60 + second) * Self.ticksPerSecond + fraction
    }

    public static func < (a: Timestamp, b: Timestamp) -> Bool { a.ticks < b.ticks }

    /// For calendars and clocks (may be a tick off; never compare or send it back).
    public var date: Date {
        Date(timeIntervalSince1970: Double(wholeSeconds) + Double(fractionTicks) / Double(Self.ticksPerSecond))
    }

    /// Seconds since the epoch, rounded down.
    public var wholeSeconds: Int64 { ticks.flooredDivision(by: Self.ticksPerSecond) }
    /// The ticks past `wholeSeconds` (0 ..< 10,000,000).
    public var fractionTicks: Int64 { ticks.flooredModulo(Self.ticksPerSecond) }

    public func adding(ticks delta: Int64) -> Timestamp { Timestamp(ticks: ticks &+ delta) }
    public func adding(seconds: TimeInterval) -> Timestamp {
        Timestamp(ticks: ticks &+ Int64((seconds * Double(Self.ticksPerSecond)).rounded()))
    }
    /// `self - other` in seconds.
    public func seconds(since other: Timestamp) -> TimeInterval {
        Double(ticks - other.ticks) / Double(Self.ticksPerSecond)
    }

    /// `2024-03-04T08:15:02.1234567Z`: UTC, 7 fraction digits. Parses back to the same ticks;
    /// what the app prints and sends as window bounds.
    public var iso: String { format() }
    public var description: String { iso }

    /// UTC with `fractionDigits` digits (0 to 7; fewer digits round down) and `Z`, or `+00:00`
    /// with `numericZone`. With `trimZeros`, trailing zeros of the fraction are dropped and a
    /// zero fraction is left out, as .NET writes a `DateTimeOffset`.
    public func format(fractionDigits: Int = 7, trimZeros: Bool = false, numericZone: Bool = false) -> String {
        // Any Int64 formats (the service's range is year 1 to 9999; wrapped arithmetic can
        // leave it): `days * ticksPerDay` would overflow near Int64.min, the remainder cannot.
        let days = ticks.flooredDivision(by: Self.ticksPerDay)
        let inDay = ticks.flooredModulo(Self.ticksPerDay)
        let (y, m, d) = Self.civilFromDays(Int(days))
        let secondOfDay = Int(inDay / Self.ticksPerSecond)
        var s = Self.pad(y, 4) + "-" + Self.pad(m, 2) + "-" + Self.pad(d, 2) + "T" + Self.pad(secondOfDay / 3600, 2)
            + ":" + Self.pad(secondOfDay / 60 % 60, 2) + ":" + Self.pad(secondOfDay % 60, 2)
        let digits = Swift.max(0, Swift.min(7, fractionDigits))
        var fraction = Int(inDay % Self.ticksPerSecond)
        for _ in digits..<7 { fraction /= 10 }
        var count = digits
        if trimZeros {
            while count > 0 && fraction % 10 == 0 { fraction /= 10; count -= 1 }
        }
        if count > 0 { s += "." + Self.pad(fraction, count) }
        return s + (numericZone ? "+00:00" : "Z")
    }

    /// Reads a timestamp as the service writes it: `2020-03-04T01:03:08.4834Z` or
    /// `…08.4834+00:00` (or any other offset, `±hh:mm` or `±hhmm`), 0 to 7 fraction digits
    /// (more are cut to 7), `T`, `t` or a space between date and time. A zone is required.
    /// Nil when the text is not such a timestamp, or when its instant is outside `min...max`.
    public static func parse(_ text: String) -> Timestamp? {
        var sc = ISOScanner(text)
        return parse(&sc, requireEnd: true)
    }

    /// The same over bytes (the page decoder's fast path).
    public static func parse<C: Collection>(utf8 bytes: C) -> Timestamp? where C.Element == UInt8 {
        var sc = ISOScanner(bytes: Array(bytes))
        return parse(&sc, requireEnd: true)
    }

    static func parse(_ sc: inout ISOScanner, requireEnd: Bool) -> Timestamp? {
        guard let year = sc.digits(4), sc.accept(45), let month = sc.digits(2), sc.accept(45), let day = sc.digits(2) else { return nil }
        guard let sep = sc.current, sep == 84 || sep == 116 || sep == 32 else { return nil }   // T, t or space
        sc.index += 1
        guard let hour = sc.digits(2), sc.accept(58), let minute = sc.digits(2), sc.accept(58), let second = sc.digits(2) else { return nil }
        guard (1...12).contains(month), (1...daysIn(month: month, year: year)).contains(day), hour < 24, minute < 60,
              second < 61 else { return nil }
        var fraction: Int64 = 0
        if sc.accept(46) {   // '.'
            var count = 0
            while let c = sc.current, c >= 48, c <= 57 {
                if count < 7 { fraction = fraction * 10 + Int64(c - 48) }
                count += 1
                sc.index += 1
            }
            guard count > 0 else { return nil }
            for _ in Swift.min(count, 7)..<7 { fraction *= 10 }
        }
        var offsetSeconds = 0
        switch sc.current {
        case 90, 122:   // Z
            sc.index += 1
        case 43, 45:    // + or -
            let sign = sc.current == 45 ? -1 : 1
            sc.index += 1
            guard let oh = sc.digits(2) else { return nil }
            _ = sc.accept(58)
            guard let om = sc.digits(2), oh < 24, om < 60 else { return nil }
            offsetSeconds = sign * (oh * 3600 + om * 60)
        default:
            return nil   // no zone
        }
        if requireEnd && !sc.atEnd { return nil }
        let local = Timestamp(year: year, month: month, day: day, hour: hour, minute: minute, second: second, fraction: fraction)
        let t = local.adding(ticks: -Int64(offsetSeconds) * ticksPerSecond)
        // As .NET's DateTimeOffset: the instant must lie in years 1 to 9999 UTC (a year 0, or an
        // offset or leap second past either end, is no instant the service has).
        return t >= .min && t <= .max ? t : nil
    }

    public static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    private static func pad(_ v: Int, _ n: Int) -> String {
        let s = String(v)
        return s.count >= n ? s : String(repeating: "0", count: n - s.count) + s
    }

    // Howard Hinnant's days-from-civil algorithm (public domain arithmetic).
    /// Days since 1970-01-01 of a proleptic Gregorian date.
    public static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
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

extension Int64 {
    /// Division rounding towards negative infinity (times before 1970 stay in their second).
    @inline(__always) public func flooredDivision(by d: Int64) -> Int64 {
        let q = self / d
        return (self % d != 0 && (self < 0) != (d < 0)) ? q - 1 : q
    }

    /// The remainder that goes with `flooredDivision` (0 ..< d for a positive `d`), without
    /// the overflow of `self - q * d` near `Int64.min`.
    @inline(__always) public func flooredModulo(_ d: Int64) -> Int64 {
        let r = self % d
        return (r != 0 && (r < 0) != (d < 0)) ? r + d : r
    }
}

extension Timestamp {
    /// `iso` written into a byte buffer (what `feed` writes for every entry): the same text,
    /// without building strings.
    public func appendISO(to out: inout [UInt8]) {
        let days = ticks.flooredDivision(by: Self.ticksPerDay)
        let inDay = ticks.flooredModulo(Self.ticksPerDay)
        let (y, m, d) = Self.civilFromDays(Int(days))
        let secondOfDay = Int(inDay / Self.ticksPerSecond)
        func digits(_ v: Int, _ n: Int) {
            var v = v
            var k = n
            let start = out.count
            out.append(contentsOf: repeatElement(0x30, count: n))
            while k > 0 { out[start + k - 1] = UInt8(48 + v % 10); v /= 10; k -= 1 }
        }
        guard y >= 0 && y <= 9999 else { out.append(contentsOf: iso.utf8); return }
        digits(y, 4); out.append(0x2D); digits(m, 2); out.append(0x2D); digits(d, 2); out.append(0x54)
        digits(secondOfDay / 3600, 2); out.append(0x3A); digits(secondOfDay / 60 % 60, 2); out.append(0x3A)
        digits(secondOfDay % 60, 2); out.append(0x2E); digits(Int(inDay % Self.ticksPerSecond), 7); out.append(0x5A)
    }
}
