import AppCore
import FeedModel
import Foundation
import TerminalKit

/// The activity view (`a`): the timeline's histogram over time with axis labels, the actions
/// the probes read and those of the rows loaded, the busiest hours, the hours of the day, and
/// how many probes ran and when. Every count from the probes is an estimate (sequences have gaps).
enum ActivityView {
    static func draw(_ state: AppState, _ c: inout Canvas, _ t: Theme) {
        let width = min(c.cols, 84)
        let height = min(c.rows, 24)
        let box = Box.draw(width: width, height: height, title: "Activity", keys: "Esc closes", into: &c, theme: t)
        let left = box.left + 2
        let inner = width - 4
        var y = box.top + 1
        let bottom = box.top + height - 1
        func line(_ text: String, _ style: Style, col: Int? = nil) {
            guard y < bottom else { return }
            let x = col ?? left
            c.draw(text, row: y, col: x, maxWidth: max(0, left + inner - x), style: style)
        }
        guard let curve = state.timeline.curve, let sample = state.timeline.sample else {
            line("No timeline: " + timelineWhyNot(state), t.plain)
            return
        }
        let zone = state.timeZone

        // The histogram: `rows` high, a column per bucket.
        let rows = height >= 22 ? 6 : max(1, height - 16)
        let buckets = curve.buckets(width: inner)
        let top = buckets.max() ?? 0
        let bucketSeconds = Double(curve.bucketStart(1, width: inner) - curve.bucketStart(0, width: inner)) / Double(Timestamp.ticksPerSecond)
        line("Changes over time (estimated from the sequence numbers: gaps count)", t.emphasis)
        y += 1
        for r in 0..<rows where y < bottom {
            for (i, v) in buckets.enumerated() {
                let eighths = top > 0 ? Int((v / top * Double(rows * 8)).rounded(.up)) : 0
                let fill = max(0, min(8, eighths - (rows - 1 - r) * 8))
                guard fill > 0 else { continue }
                let style = curve.dominantAction(ofColumn: i, width: inner).map(t.action) ?? t.plain
                c.draw(TimelineStrip.blocks[fill - 1], row: y, col: left + i, style: style)
            }
            y += 1
        }
        if let at = timelineViewColumn(state, curve: curve, width: inner), y < bottom {
            c.draw("▲", row: y, col: left + at, style: t.emphasis)
        }
        // Axis: the start, the middle and the end.
        if y < bottom {
            let long = curve.endTicks - curve.startTicks > 300 * Timestamp.ticksPerDay
            let labels = [0, inner / 2, inner].map { Format.stripLabel(Timestamp(ticks: curve.bucketStart($0, width: inner)), in: zone, long: long) }
            let marks = [left, left + inner / 2 - TextWidth.of(labels[1]) / 2, left + inner - TextWidth.of(labels[2])]
            y += 1
            for (label, x) in zip(labels, marks) { c.draw(label, row: y, col: x, style: t.label) }
            y += 1
        }
        line("\(Format.count(curve.totalChanges)) sequence numbers from \(Format.dateTime(Timestamp(ticks: curve.startTicks), in: zone))"
             + " to \(Format.dateTime(Timestamp(ticks: curve.endTicks), in: zone))", t.plain)
        y += 1
        line("peak \(Format.estimate(top)) changes per \(TimelineStrip.duration(bucketSeconds)) (a column)", t.label)
        y += 2

        // Actions (left) and busiest hours (right).
        let half = inner / 2
        let sampled = curve.sampledActions
        let loaded = state.timeline.loadedActions
        let top3 = curve.busiestHours(in: zone, top: 3)
        let hours = curve.hoursOfDay(in: zone)
        let firstRow = y
        line("Actions      probed   loaded", t.emphasis)
        y += 1
        for action in ChangeFeedAction.allCases {
            let share = sampled.total > 0 ? "\(Int((Double(sampled[action]) * 100 / Double(sampled.total)).rounded())) %" : "–"
            line(TextWidth.pad(action.rawValue, to: 11) + TextWidth.pad(share, to: 8, alignRight: true)
                 + TextWidth.pad(Format.count(loaded[action]), to: 10, alignRight: true), t.action(action))
            y += 1
        }
        line("probed: \(Format.count(sampled.total)) rows read · loaded: \(Format.count(loaded.total)) rows", t.label)
        y += 1
        // Beside the actions when there is room, else under them.
        let side = inner >= 60
        let column = side ? left + half : left
        if side { y = firstRow } else { y += 1 }
        line("Busiest hours", t.emphasis, col: column)
        y += 1
        for h in top3 {
            line(TextWidth.pad(String(Format.dateTime(Timestamp(ticks: h.start), in: zone).prefix(16)), to: 18) + Format.estimate(h.changes),
                 t.plain, col: column)
            y += 1
        }
        if top3.isEmpty { line("none", t.label, col: column); y += 1 }
        if side { y = max(y, firstRow + 5) } else { y += 1 }
        // Hours of the day: 24 columns.
        let busiest = hours.max() ?? 0
        line("Hours of the day", t.emphasis, col: column)
        y += 1
        if y < bottom {
            for (h, v) in hours.enumerated() where column + h < left + inner {
                c.draw(TimelineStrip.block(v, top: busiest), row: y, col: column + h, style: t.plain)
            }
            y += 1
            line("0     6     12    18   23", t.label, col: column)
            y += 1
        }
        y += 1
        // The probes.
        let ago = state.timeline.probedAt.map { ", \(Format.countdown(state.now.timeIntervalSince($0))) ago" } ?? ""
        line("\(sample.points.count) points from \(Format.count(sample.requests)) requests"
             + (sample.missing > 0 ? " (\(sample.missing) probes found no row)" : "")
             + String(format: " in %.1f s", sample.elapsed) + ago
             + (state.timeline.probing ? " · probing again…" : ""), t.label)
    }
}
