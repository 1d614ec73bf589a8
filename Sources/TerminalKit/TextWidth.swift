/// Display width in terminal cells, independent of the C locale so that layout and tests agree
/// everywhere: East Asian Wide and Fullwidth characters and emoji take 2 cells, combining marks
/// and format characters 0, everything else 1. A control character (C0, DEL, C1, bidi control,
/// line separator) counts as the 1-cell placeholder `SafeText` draws in its place, so text
/// measured before it is drawn lines up with what `Canvas.draw` produces.
public enum TextWidth {
    /// Cells taken by one Unicode scalar on its own.
    public static func of(_ scalar: Unicode.Scalar) -> Int {
        if SafeText.placeholder(for: scalar) != nil { return 1 }
        let v = scalar.value
        if v < 0x300 { return v < 0x20 || (v >= 0x7F && v < 0xA0) ? 0 : 1 }
        if isWide(v) { return 2 }
        switch scalar.properties.generalCategory {
        case .nonspacingMark, .enclosingMark, .format: return 0
        default: break
        }
        if v >= 0x1160 && v <= 0x11FF { return 0 }     // Hangul medial vowels and final consonants join the syllable
        if scalar.properties.isEmojiPresentation { return 2 }
        return 1
    }

    /// Cells taken by one grapheme cluster (what a user sees as one character).
    public static func of(_ character: Character) -> Int {
        let scalars = character.unicodeScalars
        guard let first = scalars.first else { return 0 }
        // Controls are drawn one placeholder per scalar ("\r\n" is one Character but two cells).
        if SafeText.placeholder(for: first) != nil { return scalars.reduce(0) { $0 + of($1) } }
        var width = of(first)
        if scalars.count > 1 {
            if scalars.contains(where: { $0.value == 0xFE0F }) && first.properties.isEmoji { width = 2 }
            if (0x1F1E6...0x1F1FF).contains(first.value) { width = 2 }        // a flag: two regional indicators
            if width == 0 { width = scalars.map(of).max() ?? 0 }
        }
        return width
    }

    /// The number of scalars of `text` when each of them is a one-cell glyph on its own (printable
    /// ASCII, Latin-1 and the spacing letters and symbols below U+0300, and the few symbols the
    /// views draw: `…`, arrows, box drawing, `▸ ▾ ● •`), else nil. No scalar in that set joins
    /// another into one grapheme or takes two cells, so such text, most of what a frame holds,
    /// is measured, cut and drawn scalar by scalar without the grapheme walk.
    public static func narrowScalarCount(_ text: String) -> Int? {
        var ascii = true
        var count = 0
        for b in text.utf8 {
            if b >= 0x80 { ascii = false; break }
            if b < 0x20 || b == 0x7F { return nil }
            count += 1
        }
        if ascii { return count }
        count = 0
        for s in text.unicodeScalars {
            let v = s.value
            switch v {
            case 0x20...0x7E, 0xA0...0x2FF, 0x2026, 0x2022, 0x2190...0x2193, 0x2500...0x257F, 0x25B8, 0x25BE, 0x25CF:
                count += 1
            default:
                return nil
            }
        }
        return count
    }

    /// Cells taken by a whole string.
    public static func of(_ text: String) -> Int {
        if let n = narrowScalarCount(text) { return n }
        var total = 0
        for ch in text { total += of(ch) }
        return total
    }

    /// The longest prefix of `text` that fits in `width` cells. A wide character that would
    /// straddle the limit is left out whole.
    public static func prefix(_ text: String, fitting width: Int) -> String {
        guard width > 0 else { return "" }
        if let n = narrowScalarCount(text) { return n <= width ? text : String(text.unicodeScalars.prefix(width)) }
        var used = 0
        var end = text.startIndex
        for i in text.indices {
            let w = of(text[i])
            if used + w > width { break }
            used += w
            end = text.index(after: i)
        }
        return String(text[..<end])
    }

    /// The longest suffix of `text` that fits in `width` cells.
    public static func suffix(_ text: String, fitting width: Int) -> String {
        guard width > 0 else { return "" }
        if let n = narrowScalarCount(text) { return n <= width ? text : String(text.unicodeScalars.suffix(width)) }
        var used = 0
        var start = text.endIndex
        var i = text.endIndex
        while i > text.startIndex {
            let prev = text.index(before: i)
            let w = of(text[prev])
            if used + w > width { break }
            used += w
            start = prev
            i = prev
        }
        return String(text[start...])
    }

    /// `text` cut to `width` cells with an ellipsis at the end when it does not fit.
    public static func truncate(_ text: String, to width: Int) -> String {
        guard width > 0 else { return "" }
        if of(text) <= width { return text }
        return prefix(text, fitting: width - 1) + "…"
    }

    /// `text` cut to `width` cells with an ellipsis in the middle (keeps both ends of a UID).
    /// `headShare` is the part of the kept cells given to the head (UIDs differ at the end, so
    /// callers showing UIDs keep more of the tail).
    public static func truncateMiddle(_ text: String, to width: Int, headShare: Double = 0.5) -> String {
        guard width > 0 else { return "" }
        if of(text) <= width { return text }
        if width == 1 { return "…" }
        let keep = width - 1
        let head = prefix(text, fitting: max(1, Int((Double(keep) * headShare).rounded())))
        let tail = suffix(text, fitting: keep - of(head))
        return head + "…" + tail
    }

    /// `text` padded with spaces (or cut) to exactly `width` cells.
    public static func pad(_ text: String, to width: Int, alignRight: Bool = false) -> String {
        let cut = truncate(text, to: width)
        let gap = max(0, width - of(cut))
        let spaces = String(repeating: " ", count: gap)
        return alignRight ? spaces + cut : cut + spaces
    }

    private static func isWide(_ v: UInt32) -> Bool {
        // East Asian Wide (W) and Fullwidth (F) blocks; emoji are handled by their Unicode property.
        switch v {
        case 0x1100...0x115F, 0x2329...0x232A, 0x2E80...0x303E, 0x3041...0x33FF,
             0x3400...0x4DBF, 0x4E00...0x9FFF, 0xA000...0xA4CF, 0xA960...0xA97F,
             0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE10...0xFE19, 0xFE30...0xFE6F,
             0xFF00...0xFF60, 0xFFE0...0xFFE6, 0x16FE0...0x16FE4, 0x17000...0x18CFF,
             0x1B000...0x1B2FF, 0x1F200...0x1F2FF, 0x20000...0x2FFFD, 0x30000...0x3FFFD:
            return true
        default:
            return false
        }
    }
}
