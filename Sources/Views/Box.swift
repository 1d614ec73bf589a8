import TerminalKit

/// A box centred on the screen, cleared inside, with a title on its top edge and its keys on
/// its bottom edge: the frame every overlay (sign-in, help, profiles) is drawn in.
struct Box {
    let top: Int
    let left: Int
    let width: Int
    let height: Int

    /// Draws the frame and returns where it is; callers write inside from `top + 1`, `left + 2`.
    static func draw(width: Int, height: Int, title: String, keys: String, into c: inout Canvas, theme t: Theme) -> Box {
        let width = min(c.cols, width), height = min(c.rows, height)
        let top = max(0, (c.rows - height) / 2)
        let left = max(0, (c.cols - width) / 2)
        let frame = t.emphasis
        for y in top..<(top + height) { c.fill(row: y, col: left, width: width) }
        c.draw("┌" + String(repeating: "─", count: max(0, width - 2)) + "┐", row: top, col: left, style: frame)
        c.draw(" \(title) ", row: top, col: left + 2, maxWidth: max(0, width - 4), style: frame)
        for y in (top + 1)..<max(top + 1, top + height - 1) {
            c.draw("│", row: y, col: left, style: frame)
            c.draw("│", row: y, col: left + width - 1, style: frame)
        }
        c.draw("└" + String(repeating: "─", count: max(0, width - 2)) + "┘", row: top + height - 1, col: left, style: frame)
        let footer = " \(keys) "
        let w = TextWidth.of(footer)
        if w + 4 <= width {
            c.draw(footer, row: top + height - 1, col: left + width - w - 2, style: t.hintKey)
        }
        return Box(top: top, left: left, width: width, height: height)
    }
}
