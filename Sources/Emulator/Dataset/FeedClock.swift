import FeedModel

/// The procedural feed's clock: maps a position along the feed (in rows, with
/// `subunits` steps between two rows) to a time, following a weekly rhythm of hourly rates
/// (busy weekday working hours, quiet nights, quieter weekends; UTC). Each day of each week
/// is made a little busier or quieter than the template, while every week holds the same
/// number of rows, so that position ↔ time stays a closed form: no table grows with the feed.
///
/// Integer arithmetic throughout (128-bit products where needed): equal positions give equal
/// times and a larger position never gives an earlier time.
struct FeedClock: Sendable {
    static let subunits: Int64 = 65_536
    static let hourTicks: Int64 = 3600 * FeedTime.ticksPerSecond
    static let weekTicks: Int64 = 7 * 24 * hourTicks
    /// Monday 1970-01-05T00:00:00Z: weeks start on a Monday.
    static let mondayTicks: Int64 = 4 * FeedTime.ticksPerDay

    /// Relative rates per hour of the day (UTC): weekdays, Saturday, Sunday.
    static let weekdayRates: [Int64] = [3, 2, 2, 2, 3, 5, 10, 25, 50, 65, 70, 68, 55, 60, 68, 65, 55, 40, 25, 15, 10, 7, 5, 4]
    static let saturdayRates: [Int64] = [3, 2, 2, 2, 2, 3, 4, 7, 12, 15, 16, 15, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 3]
    static let sundayRates: [Int64] = [3, 2, 2, 2, 2, 2, 3, 4, 6, 8, 9, 9, 8, 8, 8, 7, 7, 6, 6, 5, 5, 4, 3, 3]

    let seed: UInt64
    /// Positions (rows × subunits) in one week.
    let weekUnits: Int64

    init(seed: UInt64, entriesPerDay: Int) {
        self.seed = seed
        weekUnits = 7 * Int64(max(1, entriesPerDay)) * Self.subunits
    }

    /// Cumulative positions at the start of each hour of `week` (169 values, 0 … weekUnits).
    func table(week: Int64) -> [Int64] {
        var weights = [Int64](repeating: 0, count: 168)
        for day in 0..<7 {
            var h = SplitMix64(seed: SplitMix64.mix(seed ^ 0xDA7_0000_0000_0000 ^ UInt64(bitPattern: week &* 7 &+ Int64(day))))
            let scale = Int64(80 + h.below(41))   // 80 … 120 %
            let rates = day < 5 ? Self.weekdayRates : day == 5 ? Self.saturdayRates : Self.sundayRates
            for hour in 0..<24 { weights[day * 24 + hour] = rates[hour] * scale }
        }
        let total = weights.reduce(0, +)
        var out = [Int64](repeating: 0, count: 169)
        var sum: Int64 = 0
        for i in 0..<168 {
            sum += weights[i]
            out[i + 1] = Self.mulDiv(weekUnits, sum, total)
        }
        return out
    }

    /// Ticks since `mondayTicks` at position `x` (floored). `memo` keeps the last week's table.
    func ticks(at x: Int64, memo: inout Memo) -> Int64 {
        let week = x.flooredDivision(by: weekUnits)
        let rest = x - week * weekUnits
        let q = memo.table(week, self)
        var lo = 0, hi = 168
        while hi - lo > 1 {   // the last hour h with q[h] <= rest
            let mid = (lo + hi) / 2
            if q[mid] <= rest { lo = mid } else { hi = mid }
        }
        let within = Self.mulDiv(rest - q[lo], Self.hourTicks, q[lo + 1] - q[lo])
        return week * Self.weekTicks + Int64(lo) * Self.hourTicks + within
    }

    /// The position of time `t` (ticks since `mondayTicks`), floored: `ticks(at: position(t)) <= t`.
    func position(at t: Int64, memo: inout Memo) -> Int64 {
        let week = t.flooredDivision(by: Self.weekTicks)
        let rest = t - week * Self.weekTicks
        let hour = Int(rest / Self.hourTicks)
        let q = memo.table(week, self)
        return week * weekUnits + q[hour] + Self.mulDiv(rest - Int64(hour) * Self.hourTicks, q[hour + 1] - q[hour], Self.hourTicks)
    }

    /// a × b / c for nonnegative values, without overflow of the product.
    static func mulDiv(_ a: Int64, _ b: Int64, _ c: Int64) -> Int64 {
        let product = a.multipliedFullWidth(by: b)
        return c.dividingFullWidth(product).quotient
    }

    /// The table of the last week asked for.
    struct Memo {
        var week: Int64 = .min
        var q: [Int64] = []

        mutating func table(_ w: Int64, _ clock: FeedClock) -> [Int64] {
            if w != week {
                q = clock.table(week: w)
                week = w
            }
            return q
        }
    }
}
