import AppCore
import FeedModel
import Foundation
import TerminalKit

/// The activity timeline under the header: changes per time bucket over the feed's whole time
/// range (block characters scaled to the busiest bucket, coloured by the action the probes saw
/// most of there), the selected row's time on magenta (reverse video without colour), the strip
/// cursor (`T`) on cyan when on,
/// and the range's ends as labels. Without a sample it says why.
enum TimelineStrip {
    static let blocks: [String] = ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"]

    /// The block for `value` on a scale whose top is `top`: nothing for no change, at least `▁` for any.
    static func block(_ value: Double, top: Double) -> String {
        guard value > 0, top > 0 else { return " " }
        let level = Int((value / top * 8).rounded(.up))
        return blocks[max(1, min(8, level)) - 1]
    }

    static func draw(_ state: AppState, _ c: inout Canvas, _ t: Theme) {
        let y = TimelineLayout.row
        guard let curve = state.timeline.curve else {
            let text: String
            switch state.timeline.status {
            case .notAsked: text = "waiting for a token to probe the feed"
            case .probing: text = "probing the feed…"
            case .empty: text = "none: the feed is empty"
            case .unavailable(let why): text = "unavailable: " + why
            case .ready: text = "none"
            }
            let x = c.draw("Activity ", row: y, col: 0, style: t.label)
            c.draw(text, row: y, col: x, maxWidth: c.cols - x, style: t.label)
            return
        }
        let (start, width) = TimelineLayout.bars(cols: c.cols)
        let values = curve.buckets(width: width)
        let top = values.max() ?? 0
        for (i, v) in values.enumerated() {
            let action = v > 0 ? curve.dominantAction(ofColumn: i, width: width) : nil
            c.draw(block(v, top: top), row: y, col: start + i, style: action.map(t.action) ?? t.plain)
        }
        if start > 1 {
            let long = curve.endTicks - curve.startTicks > 300 * Timestamp.ticksPerDay
            let from = Format.stripLabel(Timestamp(ticks: curve.startTicks), in: state.timeZone, long: long)
            let to = Format.stripLabel(Timestamp(ticks: curve.endTicks), in: state.timeZone, long: long)
            c.draw(from, row: y, col: start - 1 - TextWidth.of(from), style: t.label)
            c.draw(to, row: y, col: start + width + 1, maxWidth: c.cols - start - width - 1, style: t.label)
        }
        if let at = timelineViewColumn(state, curve: curve, width: width) {
            // Magenta, a colour no bar has (reverse video without colour).
            c.restyle(row: y, col: start + at, width: 1) { s in
                s = t.color ? Style(fg: .white, bg: .magenta, bold: true) : Style(bold: true, reverse: true)
            }
            if c[y, start + at].text == " " { c.draw("│", row: y, col: start + at, style: c[y, start + at].style) }
        }
        if let cursor = state.timeline.cursor.map({ min($0, width - 1) }) {
            c.restyle(row: y, col: start + cursor, width: 1) { s in
                s = t.color ? Style(fg: .black, bg: .cyan, bold: true) : Style(bold: true, reverse: true, underline: true)
            }
            if c[y, start + cursor].text == " " { c.draw("│", row: y, col: start + cursor, style: c[y, start + cursor].style) }
        }
    }

    /// The status line while the cursor is on the strip: the time under it and its bucket's changes.
    static func cursorNote(_ state: AppState) -> String? {
        guard let at = state.timeline.cursor, let curve = state.timeline.curve else { return nil }
        let width = TimelineLayout.bars(cols: state.screenCols).width
        let column = min(at, width - 1)
        let a = curve.bucketStart(column, width: width), b = curve.bucketStart(column + 1, width: width)
        let changes = curve.buckets(width: width)[column]
        let when = Format.dateTime(timelineCursorTime(curve, column: column, width: width), in: state.timeZone)
        return "timeline ▸ \(when) · \(Format.estimate(changes)) changes in \(duration(Double(b - a) / Double(Timestamp.ticksPerSecond)))"
            + " · Enter goes there, Esc leaves"
    }

    /// `3 d 4 h`, `5 h 12 min`, `12 min`, `40 s`.
    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        if s >= 86_400 { return s % 86_400 >= 3600 ? "\(s / 86_400) d \(s % 86_400 / 3600) h" : "\(s / 86_400) d" }
        if s >= 3600 { return s % 3600 >= 60 ? "\(s / 3600) h \(s % 3600 / 60) min" : "\(s / 3600) h" }
        if s >= 60 { return "\(s / 60) min" }
        return "\(s) s"
    }
}
