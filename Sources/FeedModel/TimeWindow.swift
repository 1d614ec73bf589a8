import Foundation

/// Turns the time options a user types (`--since`, `--start-time`, `--end-time`) into the v2
/// window `Fetcher.startTime` (inclusive) and `Fetcher.endTime` (exclusive). Pure: the clock and
/// the local zone are parameters.
///
/// The service requires a zone on both times (`Date and time value must specify a time zone.`);
/// a time typed without one is read in `zone`, the user's local zone, and sent as UTC.
public enum TimeWindow {
    /// Bad input, with a message that says what was wrong and what to type instead.
    public struct InputError: Error, Sendable, Equatable, CustomStringConvertible {
        public let message: String
        public init(_ message: String) { self.message = message }
        public var description: String { message }
    }

    static let timeExamples = "use ISO 8601, for example 2024-05-03, 2024-05-03T10:58 or 2024-05-03T10:58:00 (local time), "
        + "2024-05-03T10:58:00Z (UTC) or 2024-05-03T10:58:00+09:00"
    static let durationExamples = "use a number and a unit (s, m, h, d or w), for example 90s, 15m, 2h, 7d or 1h30m"

    /// `since` is a duration back from `now` and stands for the start; `start` and `end` are
    /// ISO 8601 times. Any may be nil (nil start: from the beginning of the feed; nil end: up
    /// to now and on). Throws when a value does not parse, when both `since` and `start` are
    /// given, or when the start is not strictly before the end (the service refuses that too).
    public static func resolve(since: String?, start: String?, end: String?, now: Date,
                               zone: TimeZone = .current) throws(InputError) -> (start: Timestamp?, end: Timestamp?) {
        let since = since.flatMap(nonBlank), startText = start.flatMap(nonBlank), endText = end.flatMap(nonBlank)
        if since != nil && startText != nil {
            throw InputError("--since and --start-time both say where the window starts: give one of them")
        }
        var from: Timestamp? = nil
        if let since { from = Timestamp(now).adding(seconds: -(try duration(since, option: "--since"))) }
        if let startText { from = try time(startText, option: "--start-time", zone: zone) }
        let to = try endText.map { text throws(InputError) in try time(text, option: "--end-time", zone: zone) }
        if let from, let to, from >= to {
            let what = since != nil ? "--since \(since!) starts at \(utc(from))" : "--start-time is \(utc(from))"
            throw InputError("the window is empty: \(what), which is not before --end-time \(utc(to)); "
                             + "the start must be strictly before the end")
        }
        return (from, to)
    }

    /// `90s`, `15m`, `2h`, `7d`, `1w`, or several joined (`1h30m`); whole numbers, or decimals
    /// like `1.5h`. Must be more than zero and at most 100 years.
    public static func duration(_ text: String, option: String = "--since") throws(InputError) -> TimeInterval {
        let bad = InputError("\(option) '\(text)' is not a duration: \(durationExamples)")
        let chars = Array(text.trimmingCharacters(in: .whitespaces).lowercased())
        guard !chars.isEmpty else { throw bad }
        var i = 0
        var total: Double = 0
        var seenUnits: Set<Character> = []
        while i < chars.count {
            var number = ""
            while i < chars.count, chars[i].isASCII, chars[i].isNumber || chars[i] == "." {
                number.append(chars[i])
                i += 1
            }
            guard let value = Double(number), i < chars.count else { throw bad }
            let unit = chars[i]
            i += 1
            let seconds: Double
            switch unit {
            case "s": seconds = 1
            case "m": seconds = 60
            case "h": seconds = 3600
            case "d": seconds = 86_400
            case "w": seconds = 7 * 86_400
            default: throw bad
            }
            guard seenUnits.insert(unit).inserted else { throw bad }
            total += value * seconds
        }
        guard total > 0 else { throw InputError("\(option) '\(text)' is zero: the window would be empty; \(durationExamples)") }
        guard total <= 100 * 366 * 86_400 else { throw InputError("\(option) '\(text)' is more than 100 years back") }
        return total
    }

    /// An ISO 8601 date, or date and time, with an optional zone (`Z`, `±hh:mm`, `±hhmm`,
    /// `±hh`); without a zone it is read in `zone`. A date alone means its midnight.
    /// Exact to the 100 ns tick (7 fraction digits; more are cut), like the service's times.
    public static func time(_ text: String, option: String, zone: TimeZone) throws(InputError) -> Timestamp {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let bad = InputError("\(option) '\(text)' is not a date and time: \(timeExamples)")
        var sc = ISOScanner(trimmed)
        guard let year = sc.digits(4), sc.accept(45), let month = sc.digits(2), sc.accept(45), let day = sc.digits(2) else { throw bad }
        var hour = 0, minute = 0, second = 0
        var fraction: Int64 = 0
        var dateOnly = true
        if sc.index < sc.bytes.count, sc.current == 84 || sc.current == 116 || sc.current == 32 {   // T, t or space
            sc.index += 1
            dateOnly = false
            guard let h = sc.digits(2), sc.accept(58), let m = sc.digits(2) else { throw bad }
            hour = h; minute = m
            if sc.accept(58) {
                guard let s = sc.digits(2) else { throw bad }
                second = s
                if sc.accept(46) || sc.accept(44) {   // '.' or ','
                    var count = 0
                    while sc.index < sc.bytes.count, sc.bytes[sc.index] >= 48, sc.bytes[sc.index] <= 57 {
                        if count < 7 { fraction = fraction * 10 + Int64(sc.bytes[sc.index] - 48) }
                        sc.index += 1
                        count += 1
                    }
                    guard count > 0 else { throw bad }
                    for _ in min(count, 7)..<7 { fraction *= 10 }
                }
            }
        }
        var explicitOffset: Int? = nil
        if sc.index < sc.bytes.count {
            guard !dateOnly else { throw bad }
            if sc.accept(90) || sc.accept(122) {   // Z
                explicitOffset = 0
            } else if sc.current == 43 || sc.current == 45 {   // + or -
                let sign = sc.current == 45 ? -1 : 1
                sc.index += 1
                guard let oh = sc.digits(2) else { throw bad }
                var om = 0
                if sc.index < sc.bytes.count {
                    _ = sc.accept(58)
                    guard let m = sc.digits(2) else { throw bad }
                    om = m
                }
                guard oh <= 18, om < 60 else {
                    throw InputError("\(option) '\(text)': the zone offset is out of range (at most ±18:00)")
                }
                explicitOffset = sign * (oh * 3600 + om * 60)
            } else {
                throw bad
            }
            guard sc.atEnd else { throw bad }
        }
        guard (1...12).contains(month) else { throw InputError("\(option) '\(text)': there is no month \(month)") }
        guard (1...daysIn(month: month, year: year)).contains(day) else {
            throw InputError("\(option) '\(text)': \(year)-\(pad2(month)) has no day \(day)")
        }
        guard hour < 24, minute < 60, second < 60 else {
            throw InputError("\(option) '\(text)': the time of day is out of range (00:00:00 to 23:59:59)")
        }

        // The calendar the service counts in is the proleptic Gregorian one (Timestamp); Foundation's
        // Gregorian calendar turns Julian before 1582, so it only says what a local zone's offset is.
        let wall = Timestamp(year: year, month: month, day: day, hour: hour, minute: minute, second: second, fraction: fraction)
        func inRange(_ t: Timestamp) throws(InputError) -> Timestamp {
            guard t >= .min && t <= .max else {
                throw InputError("\(option) '\(text)' is \(utc(t)), outside the times the service has "
                                 + "(0001-01-01T00:00:00Z to 9999-12-31T23:59:59.9999999Z)")
            }
            return t
        }
        if let explicitOffset {
            return try inRange(wall.adding(ticks: -Int64(explicitOffset) * Timestamp.ticksPerSecond))
        }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let wanted = DateComponents(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
        guard let date = calendar.date(from: wanted) else { throw bad }
        // A local time that the clocks skip (daylight saving) comes back as another time.
        let back = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        guard back.year == year, back.month == month, back.day == day, back.hour == hour,
              back.minute == minute, back.second == second else {
            throw InputError("\(option) '\(text)' does not exist in \(zone.identifier) (the clocks skip it for "
                             + "daylight saving time); add a zone, for example \(trimmed)Z or \(trimmed)+01:00")
        }
        return try inRange(wall.adding(ticks: -Int64(zone.secondsFromGMT(for: date)) * Timestamp.ticksPerSecond))
    }

    private static func nonBlank(_ s: String) -> String? {
        let t = s.trimmingCharacters(in: .whitespaces)
        return t.isEmpty ? nil : t
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    private static func pad2(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }

    /// `2024-05-03T01:58:00Z` for messages.
    static func utc(_ time: Timestamp) -> String {
        time.format(fractionDigits: 7, trimZeros: true)
    }
}
