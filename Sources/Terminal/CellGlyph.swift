import TerminalKit

/// What curses is asked to draw for one canvas cell. Pure, so the policy is testable with a fake `wcwidth`.
///
/// The canvas (`TextWidth`) and the C library (`wcwidth`, which curses and usually the terminal
/// use) can disagree about a glyph's width. The rule here keeps curses' idea of every cell equal to
/// the canvas: the glyph is drawn only when libc gives it at most the canvas width, the rest of the
/// canvas width is padded with blanks, and anything else becomes a 1-cell replacement.
public struct CellGlyph: Hashable, Sendable {
    /// The spacing character followed by its zero-width marks (at most `maxScalars`).
    public var scalars: [UInt32]
    /// Blank cells to draw after the glyph so it covers exactly the canvas width.
    public var padding: Int

    public static let maxScalars = 5     // CCHARW_MAX in ncurses

    /// - Parameters:
    ///   - text: the cell's grapheme (`" "` for a blank).
    ///   - cells: the width the canvas gives it (1, or 2 for a wide glyph).
    ///   - unicode: false in a non-UTF-8 locale: only ASCII is drawn, the rest becomes `?`.
    ///   - width: `wcwidth` (or a stand-in).
    public static func resolve(_ text: String, cells: Int, unicode: Bool, width: (UInt32) -> Int) -> CellGlyph {
        let cells = max(1, cells)
        let scalars = Array(text.unicodeScalars)
        guard let first = scalars.first else { return CellGlyph(scalars: [0x20], padding: cells - 1) }
        let replacement: UInt32 = unicode && width(0xFFFD) == 1 ? 0xFFFD : 0x3F   // "�" or "?"
        let base = first.value
        if base < 0x20 || (base >= 0x7F && base < 0xA0) { return CellGlyph(scalars: [replacement], padding: cells - 1) }
        if !unicode && base >= 0x80 { return CellGlyph(scalars: [0x3F], padding: cells - 1) }
        let w = width(base)
        if w <= 0 || w > cells { return CellGlyph(scalars: [replacement], padding: cells - 1) }
        var out = [base]
        for s in scalars.dropFirst() {
            if out.count >= maxScalars { break }
            let v = s.value
            // Joiners and variation selectors change the width differently in every terminal: drop them.
            if v == 0x200D || v == 0xFE0E || v == 0xFE0F { continue }
            if !unicode && v >= 0x80 { continue }
            if width(v) != 0 { break }      // a second spacing character (ZWJ sequence, flag): keep the first only
            out.append(v)
        }
        return CellGlyph(scalars: out, padding: cells - w)
    }
}

/// How `Style` maps onto curses colour numbers.
public enum ColorMapping {
    /// The curses colour number for `color` on a terminal with `colors` colours. With fewer than
    /// 16 colours a bright colour becomes its base colour (and `bold` is suggested for a foreground).
    public static func number(for color: Color, colors: Int) -> (number: Int16, bold: Bool) {
        let raw = Int16(color.rawValue)
        if colors >= 16 || raw < 8 { return (raw, false) }
        return (raw - 8, true)
    }
}

/// Hands out colour-pair numbers for (fg, bg) combinations as they are first used.
struct ColorPairTable {
    struct Key: Hashable { var fg: Int16; var bg: Int16 }
    private(set) var pairs: [Key: Int16] = [:]
    let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    /// The pair for `fg`/`bg` (`-1` = default), and whether it is new and must be `init_pair`ed.
    /// Returns pair 0 (the default colours) when the terminal has no pairs left.
    mutating func pair(fg: Int16, bg: Int16) -> (pair: Int16, isNew: Bool) {
        if fg == -1 && bg == -1 { return (0, false) }
        let key = Key(fg: fg, bg: bg)
        if let p = pairs[key] { return (p, false) }
        let next = pairs.count + 1
        guard next < capacity, next <= Int(Int16.max) else { return (0, false) }
        pairs[key] = Int16(next)
        return (Int16(next), true)
    }
}

/// Whether to use colour: `--no-color` (passed in as `requested == false`) and a non-empty
/// `NO_COLOR` (https://no-color.org) both turn it off.
public enum ColorPolicy {
    public static func wantsColor(requested: Bool, noColorEnvironment: String?) -> Bool {
        guard requested else { return false }
        if let v = noColorEnvironment, !v.isEmpty { return false }
        return true
    }
}
