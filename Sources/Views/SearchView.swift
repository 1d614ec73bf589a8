import AppCore
import FeedModel
import Foundation
import TerminalKit

/// The whole-feed search (`F`): the filter, how far the scan has come, and the matches in feed
/// order, drawn as the list draws its rows.
enum SearchView {
    static func draw(_ state: AppState, _ c: inout Canvas, _ t: Theme) {
        guard let s = state.search else { return }
        let height = max(5, c.rows - 2)
        let box = Box.draw(width: c.cols, height: height, title: "Search the whole feed",
                           keys: "Enter goes there · s stops · Esc closes", into: &c, theme: t)
        let left = box.left + 1
        let inner = max(0, box.width - 2)
        var y = box.top + 1
        c.draw("filter: " + s.text, row: y, col: left + 1, maxWidth: max(0, inner - 2), style: t.emphasis)
        y += 1
        let style = s.problem != nil ? t.error : s.cut ? t.warning : t.label
        c.draw(s.progress(in: state.timeZone), row: y, col: left + 1, maxWidth: max(0, inner - 2), style: style)
        y += 1
        let rows = max(0, box.top + height - 1 - (y + 1))
        guard s.found.count > 0 else {
            if rows > 0 {
                c.draw(s.reading || s.goesOn ? "No match yet." : "No match.", row: y + 1, col: left + 1, style: t.label)
            }
            return
        }
        let maxSeq = s.found.highestSequence ?? 0
        let shown = (0..<rows).map { s.top + $0 }.filter { $0 < s.found.count }.map { s.found[$0] }
        let cols = Columns.fit(width: inner - 1, sequenceDigits: String(maxSeq).count,
                               withSummary: shown.contains { $0.patientName != nil || $0.modality != nil })
        var x = left
        c.fill(row: y, col: left, width: inner, style: t.heading)
        for col in cols.columns {
            c.draw(TextWidth.pad(col.title, to: col.width, alignRight: col.kind == .sequence), row: y, col: x,
                   maxWidth: max(0, left + inner - x), style: t.heading)
            x += col.width + 1
        }
        for (i, row) in shown.enumerated() {
            let at = y + 1 + i
            MainScreen.drawRow(row, cols, y: at, &c, t, zone: state.timeZone, left: left)
            if s.top + i == s.selected { c.restyle(row: at, col: left, width: inner) { $0 = Style(bold: $0.bold, reverse: true) } }
            // The frame's right side, over anything a long row drew there.
            c.draw("│", row: at, col: box.left + box.width - 1, style: t.emphasis)
            c.draw("│", row: at, col: box.left, style: t.emphasis)
        }
    }
}
