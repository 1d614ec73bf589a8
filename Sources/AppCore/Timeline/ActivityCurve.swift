import Foundation
import FeedModel

/// The sequence-to-time curve of the feed, from the activity probes' points, and what the
/// timeline reads off it: changes per time bucket, where a time falls on the strip, the busiest
/// hours. Pure arithmetic on a few dozen points.
///
/// Every count is an estimate: the curve says how far the sequence advanced between two
/// probes, and sequences have gaps (rolled-back inserts), so the rate is that of sequence
/// numbers, which is at least the rate of changes. Between two probes the changes are taken to
/// be spread evenly over the time between them.
public struct ActivityCurve: Sendable, Equatable {
    /// The probes' points, by sequence, with times made non-decreasing (a row stamped earlier than
    /// the row before it, which happens when rows commit late, counts at the earlier row's time).
    public let sequences: [Int64]
    public let ticks: [Int64]
    /// The actions each probe saw.
    public let actions: [ActionCounts]

    public init(_ sample: ActivitySample) {
        var points = sample.points
        if points.last.map({ $0.sequence < sample.latest.sequence }) ?? true { points.append(sample.latest) }
        var seqs: [Int64] = [], times: [Int64] = [], acts: [ActionCounts] = []
        var latestTime = Int64.min
        for p in points.sorted(by: { $0.sequence < $1.sequence }) where seqs.last.map({ p.sequence > $0 }) ?? true {
            latestTime = max(latestTime, p.timestamp.ticks)
            seqs.append(p.sequence)
            times.append(latestTime)
            acts.append(p.actions)
        }
        sequences = seqs
        ticks = times
        actions = acts
    }

    /// The time the curve covers, first probe to latest entry.
    public var startTicks: Int64 { ticks.first ?? 0 }
    public var endTicks: Int64 { ticks.last ?? 0 }
    /// Changes from the first entry to the latest (sequence numbers, gaps included).
    public var totalChanges: Int64 { (sequences.last ?? 0) - (sequences.first ?? 0) }
    /// The actions of every row the probes read.
    public var sampledActions: ActionCounts { actions.reduce(ActionCounts(), +) }

    /// The estimated sequence reached just before time `t` (ticks): the changes stamped at `t`
    /// itself are not counted yet, so a bucket `[a, b)` holds `sequence(before: b) - sequence(before: a)`.
    public func sequence(before t: Int64) -> Double {
        guard let first = ticks.first else { return 0 }
        if t <= first { return Double(sequences[0]) }
        // The first point at or after t.
        var lo = 0, hi = ticks.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if ticks[mid] < t { lo = mid + 1 } else { hi = mid }
        }
        if lo == ticks.count { return Double(sequences[ticks.count - 1]) }
        let (t0, t1) = (ticks[lo - 1], ticks[lo])
        let (s0, s1) = (Double(sequences[lo - 1]), Double(sequences[lo]))
        return s0 + (s1 - s0) * Double(t - t0) / Double(t1 - t0)
    }

    /// Estimated changes in `[a, b)`.
    public func changes(from a: Int64, to b: Int64) -> Double {
        b <= a ? 0 : sequence(before: b) - sequence(before: a)
    }

    /// The strip's time range, `[startTicks, endTicks]`, as `width` buckets of equal length: the
    /// start of bucket `i` (bucket `width` is one tick past the latest entry).
    public func bucketStart(_ i: Int, width: Int) -> Int64 {
        guard width > 0 else { return startTicks }
        let span = Double(endTicks - startTicks + 1)
        return startTicks + Int64((span * Double(i) / Double(width)).rounded(.down))
    }

    /// Estimated changes in each of `width` buckets; they add up to `totalChanges`.
    public func buckets(width: Int) -> [Double] {
        guard width > 0, !ticks.isEmpty else { return [] }
        var out: [Double] = []
        out.reserveCapacity(width)
        var previous = sequence(before: bucketStart(0, width: width))
        for i in 0..<width {
            let next = i == width - 1 ? Double(sequences.last!) : sequence(before: bucketStart(i + 1, width: width))
            out.append(max(0, next - previous))
            previous = next
        }
        return out
    }

    /// The bucket a time falls in (times outside the range go to the nearest end).
    public func column(ofTicks t: Int64, width: Int) -> Int {
        guard width > 0 else { return 0 }
        let span = Double(endTicks - startTicks + 1)
        var c = max(0, min(width - 1, Int((Double(t - startTicks) * Double(width) / span).rounded(.down))))
        // The estimate can be one off where a bucket starts: the bucket is the last one starting at or before t.
        while c + 1 < width, bucketStart(c + 1, width: width) <= t { c += 1 }
        while c > 0, bucketStart(c, width: width) > t { c -= 1 }
        return c
    }

    /// The middle of bucket `i`: where the timeline's cursor goes.
    public func middle(ofColumn i: Int, width: Int) -> Int64 {
        let a = bucketStart(i, width: width), b = bucketStart(i + 1, width: width)
        return a + max(0, b - a - 1) / 2
    }

    /// What the probes nearest a bucket saw most of: those inside it, else the first one after
    /// its middle. Nil when the probes read no row there.
    public func dominantAction(ofColumn i: Int, width: Int) -> ChangeFeedAction? {
        let a = bucketStart(i, width: width), b = bucketStart(i + 1, width: width)
        var inside = ActionCounts()
        for k in ticks.indices where ticks[k] >= a && ticks[k] < b { inside = inside + actions[k] }
        if inside.total > 0 { return inside.dominant }
        let mid = middle(ofColumn: i, width: width)
        guard let k = ticks.firstIndex(where: { $0 >= mid }) else { return actions.last?.dominant }
        return actions[k].dominant
    }

    /// The clock hours (in `zone`) with the most changes, busiest first, at most `top`: each hour's
    /// start and its estimated changes. Hours without changes are left out.
    public func busiestHours(in zone: TimeZone, top: Int) -> [(start: Int64, changes: Double)] {
        var best: [(start: Int64, changes: Double)] = []
        forEachHour(in: zone) { start, _, changes in
            guard changes > 0 else { return }
            if best.count < top || changes > best[best.count - 1].changes {
                let at = best.firstIndex { changes > $0.changes } ?? best.count
                best.insert((start, changes), at: at)
                if best.count > top { best.removeLast() }
            }
        }
        return best
    }

    /// Estimated changes by hour of the day (0 to 23 in `zone`) over the whole range.
    public func hoursOfDay(in zone: TimeZone) -> [Double] {
        var out = [Double](repeating: 0, count: 24)
        forEachHour(in: zone) { _, hour, changes in out[hour] += changes }
        return out
    }

    /// Longer ranges are not cut into hours (about eleven years).
    static let maxHours = 100_000

    /// Calls `body` for each clock hour of `zone` that the range touches: its start (ticks), its
    /// hour of the day and its estimated changes.
    private func forEachHour(in zone: TimeZone, _ body: (Int64, Int, Double) -> Void) {
        guard !ticks.isEmpty else { return }
        let hour = 3600 * Timestamp.ticksPerSecond
        var offset = Int64(zone.secondsFromGMT(for: Timestamp(ticks: startTicks).date)) * Timestamp.ticksPerSecond
        var start = (startTicks + offset).flooredDivision(by: hour) * hour - offset
        var n = 0
        while start <= endTicks, n < Self.maxHours {
            if n % 24 == 0 {
                // Offsets change (summer time) at most a few times a year: look once a day.
                let now = Int64(zone.secondsFromGMT(for: Timestamp(ticks: start).date)) * Timestamp.ticksPerSecond
                if now != offset {
                    start = (start + now).flooredDivision(by: hour) * hour - now
                    offset = now
                }
            }
            let local = Int((start + offset).flooredModulo(Timestamp.ticksPerDay) / hour)
            let end = start + hour
            let count = end > endTicks ? Double(sequences.last!) - sequence(before: start) : changes(from: start, to: end)
            body(start, local, count)
            start = end
            n += 1
        }
    }
}
