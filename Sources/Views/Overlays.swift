import AppCore
import TerminalKit

/// The help overlay (`?`): the current view's keys first, then the keys that work everywhere.
enum HelpOverlay {
    static func draw(_ state: AppState, _ c: inout Canvas, _ t: Theme) {
        var lines: [(String, String, Bool)] = []   // (keys, action, isTitle)
        for (i, section) in KeyHelp.sections(for: state).enumerated() {
            if i > 0 { lines.append(("", "", false)) }
            lines.append((section.title, "", true))
            for h in section.hints { lines.append((h.keys, h.action, false)) }
        }
        // What the list holds, against its budget (`--memory`).
        let r = state.reach
        lines.append(("", "", false))
        lines.append(("Memory", "", true))
        lines.append(("rows", "\(Format.count(state.entries.count)) loaded, at most \(Format.count(r.maxRows)) "
                      + "(about \(max(1, state.entries.approximateBytes / 1_000_000)) MB)"
                      + (r.dropped > 0 ? "; \(Format.count(r.dropped)) let go, read again when needed" : ""), false))
        let keyWidth = min(22, lines.filter { !$0.2 }.map { TextWidth.of($0.0) }.max() ?? 10)
        let contentWidth = min(c.cols - 4, max(40, keyWidth + 2 + (lines.map { TextWidth.of($0.1) }.max() ?? 0)))
        let width = contentWidth + 4
        let height = min(c.rows, lines.count + 2)
        let inner = max(0, height - 2)
        let maxTop = max(0, lines.count - inner)
        let first = min(state.helpTop, maxTop)
        let more = maxTop > 0 ? "j/k scroll · " : ""
        let box = Box.draw(width: width, height: height, title: "Keys", keys: "\(more)Esc or ? closes", into: &c, theme: t)
        let (top, left) = (box.top, box.left)
        for (i, line) in lines.dropFirst(first).prefix(inner).enumerated() {
            let y = top + 1 + i
            if line.2 {
                c.draw(line.0, row: y, col: left + 2, maxWidth: contentWidth, style: t.emphasis.with(underline: true))
            } else if !line.0.isEmpty {
                c.draw(TextWidth.truncate(line.0, to: keyWidth), row: y, col: left + 2, style: t.hintKey)
                let x = left + 2 + keyWidth + 2
                c.draw(line.1, row: y, col: x, maxWidth: max(0, left + 2 + contentWidth - x), style: t.plain)
            }
        }
    }
}

/// The profile picker (`p`): the configuration file's profiles, the current one marked,
/// production ones in red.
enum ProfilePicker {
    static func draw(_ state: AppState, _ c: inout Canvas, _ t: Theme) {
        guard let at = state.profilePicker else { return }
        let names = state.profiles
        let width = min(c.cols, max(30, (names.map { TextWidth.of($0) }.max() ?? 0) + 10))
        let inner = max(1, min(names.count, c.rows - 4))
        let height = inner + 2
        let box = Box.draw(width: width, height: height, title: "Profiles", keys: "Enter switch · Esc", into: &c, theme: t)
        let (top, left) = (box.top, box.left)
        let first = max(0, min(at - inner + 1, names.count - inner))
        for i in 0..<inner where first + i < names.count {
            let name = names[first + i]
            let y = top + 1 + i
            let mark = name == state.profileName ? "● " : "  "
            c.draw(mark + name, row: y, col: left + 2, maxWidth: width - 4, style: t.plain)
            if first + i == at { c.restyle(row: y, col: left + 1, width: width - 2) { $0 = Style(bold: true, reverse: true) } }
        }
    }
}
