import AppCore
import DicomKit
import TerminalKit

/// The detail view of one entry: its fields, then its DICOM metadata as a tree (tag, keyword,
/// name, VR, value), with the cursor line reversed and search matches marked.
enum DetailView {
    static func draw(_ state: AppState, _ c: inout Canvas, _ t: Theme) {
        guard let d = state.detail else { return }
        let lines = state.detailLines
        let rows = Layout.listRows(screenRows: state.screenRows)
        let top = Layout.headerRows
        // The heading row names the entry and where the cursor is.
        c.fill(row: top - 1, style: t.heading)
        let title = "ENTRY \(d.sequence)"
        c.draw(title, row: top - 1, col: 0, style: t.heading)
        let pos = lines.isEmpty ? "" : "line \(Format.count(d.cursor + 1)) / \(Format.count(lines.count)) "
        if TextWidth.of(title) + TextWidth.of(pos) + 2 < c.cols {
            c.draw(pos, row: top - 1, col: c.cols - TextWidth.of(pos), style: t.heading)
        }
        let matches = Set(d.search?.matches ?? [])
        let keywordWidth = keywordColumn(d.tree, cols: c.cols)
        for i in 0..<rows {
            let index = d.top + i
            guard index < lines.count else { break }
            let y = top + i
            drawLine(lines[index], tree: d.tree, collapsed: d.collapsed, keywordWidth: keywordWidth, y: y, &c, t)
            if matches.contains(index) {
                c.restyle(row: y) { $0 = t.color ? Style(fg: .black, bg: .yellow, bold: $0.bold) : Style(bold: true, underline: true) }
            }
            if index == d.cursor {
                c.restyle(row: y) { $0 = Style(bold: $0.bold, reverse: true) }
            }
        }
    }

    /// How wide the keyword column is: the longest keyword shown, within limits, so values
    /// line up; narrow terminals give it less.
    static func keywordColumn(_ tree: MetadataTree?, cols: Int) -> Int {
        let longest = tree?.nodes.map { TextWidth.of($0.keyword.isEmpty ? $0.name : $0.keyword) + 2 * $0.depth }.max() ?? 20
        return max(8, min(longest, cols / 3, 40))
    }

    static func drawLine(_ line: DetailLine, tree: MetadataTree?, collapsed: Set<Int>, keywordWidth: Int,
                         y: Int, _ c: inout Canvas, _ t: Theme) {
        switch line.kind {
        case .heading:
            c.draw(line.label, row: y, col: 0, maxWidth: c.cols, style: t.emphasis.with(underline: true))
        case .field:
            let labelWidth = min(21, c.cols / 3)
            c.draw(TextWidth.truncate(line.label, to: labelWidth - 1), row: y, col: 1, style: t.label)
            c.draw(line.value, row: y, col: labelWidth + 1, maxWidth: c.cols - labelWidth - 1, style: t.plain)
        case .message:
            c.draw(line.label, row: y, col: 1, maxWidth: c.cols - 1, style: t.label)
        case .problem:
            let x = c.draw(line.label + (line.value.isEmpty ? "" : ": "), row: y, col: 1, maxWidth: c.cols - 1, style: t.error)
            if !line.value.isEmpty { c.draw(line.value, row: y, col: 1 + x, maxWidth: c.cols - 1 - x, style: t.plain) }
        case .node(let id):
            guard let tree else { return }
            drawNode(tree[id], collapsed: collapsed.contains(id), keywordWidth: keywordWidth, y: y, &c, t)
        }
    }

    static func drawNode(_ n: MetadataTree.Node, collapsed: Bool, keywordWidth: Int, y: Int, _ c: inout Canvas, _ t: Theme) {
        let indent = 2 * n.depth
        var x = 1 + indent
        let marker = n.hasChildren ? (collapsed ? "▸ " : "▾ ") : "  "
        x += c.draw(marker, row: y, col: x, style: t.label)
        let wide = c.cols >= 100
        switch n.kind {
        case .item, .nameGroup:
            let label = n.kind == .item ? n.name : n.name + ":"
            let w = c.draw(label, row: y, col: x, maxWidth: c.cols - x, style: t.label)
            // Under the values of the attributes: marker, tag, keyword column and VR come first.
            let valueCol = max(x + w + 1, keywordWidth + 19)
            if !n.value.isEmpty, valueCol < c.cols {
                c.draw(n.value, row: y, col: valueCol, maxWidth: c.cols - valueCol, style: t.plain)
            }
            return
        case .problem:
            let w = c.draw((n.tag?.text ?? n.name) + " ", row: y, col: x, maxWidth: c.cols - x, style: t.error)
            c.draw(n.value, row: y, col: x + w, maxWidth: max(0, c.cols - x - w), style: t.error)
            return
        case .element, .sequence:
            break
        }
        let tagText = n.tag?.text ?? ""
        x += c.draw(tagText + " ", row: y, col: x, maxWidth: c.cols - x, style: n.tag?.isPrivate == true ? t.warning : t.label)
        // Keyword (or the name for private and unknown tags), padded so VRs and values line up.
        let keyword = n.keyword.isEmpty ? n.name : n.keyword
        let kwCol = max(0, keywordWidth - indent)
        let kwStyle = n.isRetired ? t.label : t.emphasis
        c.draw(TextWidth.truncate(keyword, to: kwCol), row: y, col: x, maxWidth: max(0, c.cols - x), style: kwStyle)
        x += kwCol + 1
        guard x < c.cols else { return }
        x += c.draw(TextWidth.pad(n.vr, to: 2) + " ", row: y, col: x, maxWidth: c.cols - x, style: t.hintKey)
        guard x < c.cols else { return }
        let valueStyle = n.kind == .sequence ? t.label : t.plain
        let w = c.draw(n.value, row: y, col: x, maxWidth: c.cols - x, style: valueStyle)
        if wide, !n.keyword.isEmpty, n.name != n.keyword {
            // Wide terminals show the full name at the right edge, dimmed, where it fits.
            let nameText = n.name + (n.isRetired ? " (retired)" : "")
            let nameWidth = TextWidth.of(nameText)
            if x + w + 3 + nameWidth <= c.cols {
                c.draw(nameText, row: y, col: c.cols - nameWidth - 1, style: t.label)
            }
        }
    }
}
