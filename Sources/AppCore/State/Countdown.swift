import Foundation
import FeedModel

/// Formatting of durations and counts for the header and status line.
public enum Format {
    /// `52m 10s`, `1h 05m`, `9s`, and `-3m 02s` once past.
    public static func countdown(_ interval: TimeInterval) -> String {
        let negative = interval < 0
        let total = Int(abs(interval).rounded(.down))
        let h = total / 3600, m = total / 60 % 60, s = total % 60
        let body: String
        if h > 0 { body = "\(h)h \(two(m))m" }
        else if m > 0 { body = "\(m)m \(two(s))s" }
        else { body = "\(s)s" }
        return negative ? "-" + body : body
    }

    /// `1,234,567`.
    public static func count<I: BinaryInteger>(_ n: I) -> String {
        let digits = String(n.magnitude)
        var out = ""
        for (i, ch) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(ch)
        }
        return n < 0 ? "-" + out : out
    }

    /// `2026-11-26 14:03:05` in `zone`.
    public static func dateTime(_ date: Date, in zone: TimeZone) -> String {
        let c = components(date, zone)
        return "\(c.year)-\(two(c.month))-\(two(c.day)) \(two(c.hour)):\(two(c.minute)):\(two(c.second))"
    }

    /// `2026-11-26 14:03:05` of a feed time in `zone`.
    public static func dateTime(_ time: Timestamp, in zone: TimeZone) -> String {
        dateTime(Date(timeIntervalSince1970: Double(time.wholeSeconds)), in: zone)
    }

    /// `14:03:05` of a feed time in `zone`.
    public static func time(_ time: Timestamp, in zone: TimeZone) -> String {
        self.time(Date(timeIntervalSince1970: Double(time.wholeSeconds)), in: zone)
    }

    /// `2026-11-26 14:03:05.1234567 UTC+01:00`: the detail view's full timestamp, every one of
    /// the service's seven fraction digits, zone named.
    public static func preciseDateTime(_ time: Timestamp, in zone: TimeZone) -> String {
        var frac = String(time.fractionTicks)
        while frac.count < 7 { frac = "0" + frac }
        let whole = Date(timeIntervalSince1970: Double(time.wholeSeconds))
        return "\(dateTime(whole, in: zone)).\(frac) \(zoneLabel(zone, at: whole))"
    }

    /// `5 s`, `2 min`, `1 min 30 s`.
    public static func seconds(_ interval: TimeInterval) -> String {
        let s = Int(interval.rounded())
        if s < 60 { return "\(s) s" }
        return s % 60 == 0 ? "\(s / 60) min" : "\(s / 60) min \(s % 60) s"
    }

    /// `14:03:05` in `zone`.
    public static func time(_ date: Date, in zone: TimeZone) -> String {
        let c = components(date, zone)
        return "\(two(c.hour)):\(two(c.minute)):\(two(c.second))"
    }

    /// `+01:00`, `Z` style zone label for the header.
    public static func zoneLabel(_ zone: TimeZone, at date: Date) -> String {
        let off = zone.secondsFromGMT(for: date)
        if off == 0 { return "UTC" }
        let sign = off < 0 ? "-" : "+"
        return "UTC\(sign)\(two(abs(off) / 3600)):\(two(abs(off) / 60 % 60))"
    }

    /// Milliseconds until the countdown text for `remaining` next changes: each second under
    /// an hour, each minute above. Lets the run loop sleep instead of ticking.
    public static func millisecondsUntilCountdownChanges(_ remaining: TimeInterval) -> Int {
        let r = abs(remaining)
        let step: Double = r >= 3600 ? 60 : 1
        let frac = r.truncatingRemainder(dividingBy: step)
        let wait = remaining >= 0 ? frac : step - frac
        return max(1, Int((wait * 1000).rounded(.up)) + 1)
    }

    static func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }

    private struct Parts { var year, month, day, hour, minute, second: Int }

    private static func components(_ date: Date, _ zone: TimeZone) -> Parts {
        // Civil time by arithmetic: a formatter per row would cost more than the whole draw.
        let t = Int(date.timeIntervalSince1970.rounded(.down)) + zone.secondsFromGMT(for: date)
        let days = Int((Double(t) / 86_400).rounded(.down))
        let secs = t - days * 86_400
        let (y, m, d) = Timestamp.civilFromDays(days)
        return Parts(year: y, month: m, day: d, hour: secs / 3600, minute: secs / 60 % 60, second: secs % 60)
    }
}
