import FeedModel
import Foundation

/// Time in the emulator: 100-nanosecond ticks since 1970-01-01T00:00:00Z (signed), the
/// resolution of SQL `DATETIMEOFFSET(7)`. Integers keep ordering and equality exact, which
/// v2's `ORDER BY Timestamp, Sequence` and the inclusive/exclusive window bounds depend on.
/// The calendar arithmetic is `FeedModel.Timestamp`'s; this adds what the wire needs (writing
/// straight into a page's bytes, in any zone) and the query binder's reading of times.
public enum FeedTime {
    public static let ticksPerSecond: Int64 = Timestamp.ticksPerSecond
    static let ticksPerDay: Int64 = Timestamp.ticksPerDay
    /// .NET `DateTimeOffset.MinValue` (0001-01-01T00:00:00Z).
    public static let minTicks: Int64 = Timestamp.min.ticks
    /// .NET `DateTimeOffset.MaxValue` (9999-12-31T23:59:59.9999999Z).
    public static let maxTicks: Int64 = Timestamp.max.ticks

    /// The tick nearest to `date`.
    public static func ticks(_ date: Date) -> Int64 { Timestamp(date).ticks }

    public static func date(_ ticks: Int64) -> Date { Timestamp(ticks: ticks).date }

    /// Ticks for a UTC calendar time.
    public static func ticks(year: Int, month: Int, day: Int, hour: Int = 0, minute: Int = 0,
                             second: Int = 0, fraction7: Int64 = 0) -> Int64 {
        Timestamp(year: year, month: month, day: day, hour: hour, minute: minute, second: second, fraction: fraction7).ticks
    }

    /// `2024-03-04T08:15:02.1234567+00:00` (the .NET "O" form of a UTC DateTimeOffset).
    /// With `trimFraction`, trailing zeros of the fraction are dropped (and a zero fraction
    /// is omitted), as System.Text.Json does.
    public static func format(_ ticks: Int64, trimFraction: Bool = false) -> String {
        Timestamp(ticks: ticks).format(trimZeros: trimFraction, numericZone: true)
    }

    /// How a timestamp's zone is written.
    enum Zone: Equatable {
        /// `+00:00`, as System.Text.Json writes a UTC DateTimeOffset.
        case utcOffset
        /// `Z`, as the docs' samples show.
        case zulu
        /// The same instant in another zone, e.g. `+09:00` (minutes east of UTC).
        case offset(minutes: Int)
        /// No zone at all (a timestamp no client can place: for rows the wire always breaks).
        case missing
    }

    /// Writes a timestamp into a page: the clock time in `zone`, then the zone.
    static func write(_ ticks: Int64, into w: inout JSONWriter, trimFraction: Bool, zone: Zone = .utcOffset) {
        var local = ticks
        if case .offset(let minutes) = zone { local += Int64(minutes) * 60 * ticksPerSecond }
        let days = local.flooredDivision(by: ticksPerDay)
        var rest = local - days * ticksPerDay
        let (y, m, d) = Timestamp.civilFromDays(Int(days))
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
        switch zone {
        case .utcOffset: w.raw("+00:00")
        case .zulu: w.byte(90)
        case .missing: break
        case .offset(let minutes):
            w.byte(minutes < 0 ? 45 : 43)
            digits(&w, abs(minutes) / 60, 2); w.byte(58); digits(&w, abs(minutes) % 60, 2)
        }
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
              year >= 1, (1...12).contains(month), (1...Timestamp.daysIn(month: month, year: year)).contains(day) else { return .invalid }
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
}
