import Testing
import TerminalKit

/// The scalar-by-scalar path (`TextWidth.narrowScalarCount`) measures, cuts and draws narrow text
/// exactly as the grapheme path does: checked against the per-character width, character by
/// character, on texts of every kind of scalar the fast path takes and some it must refuse.
@Suite struct TextWidthFastPathTests {
    static let pieces = ["a", "Z", "9", " ", "~", "é", "ß", "·", "ÿ", "ʼ", "…", "→", "↓", "│", "─", "▸", "▾", "●", "•",
                         "山", "e\u{301}", "\u{1b}", "👍", "\u{202e}", "\u{ad}"]

    /// Widths and cuts computed character by character (the grapheme path's own rule).
    static func reference(_ text: String) -> (width: Int, prefix: (Int) -> String, suffix: (Int) -> String) {
        let chars = Array(text)
        let widths = chars.map { TextWidth.of($0) }
        return (widths.reduce(0, +),
                { n in var used = 0, k = 0; while k < chars.count, used + widths[k] <= n { used += widths[k]; k += 1 }; return String(chars[..<k]) },
                { n in var used = 0, k = chars.count; while k > 0, used + widths[k - 1] <= n { used += widths[k - 1]; k -= 1 }; return String(chars[k...]) })
    }

    @Test func narrowTextMeasuresAndCutsAsTheGraphemePathDoes() {
        var seed: UInt64 = 7
        func next() -> Int { seed = seed &* 6364136223846793005 &+ 1442695040888963407; return Int(seed >> 33) }
        var fast = 0
        for _ in 0..<2000 {
            let text = (0..<(next() % 12)).map { _ in Self.pieces[next() % Self.pieces.count] }.joined()
            let ref = Self.reference(text)
            if TextWidth.narrowScalarCount(text) != nil { fast += 1 }
            #expect(TextWidth.of(text) == ref.width, "\(text.debugDescription)")
            for n in 1...6 {
                #expect(TextWidth.prefix(text, fitting: n) == ref.prefix(n), "\(text.debugDescription) prefix \(n)")
                #expect(TextWidth.suffix(text, fitting: n) == ref.suffix(n), "\(text.debugDescription) suffix \(n)")
            }
        }
        #expect(fast > 100, "the fast path was taken (\(fast) texts)")
        #expect(TextWidth.narrowScalarCount("e\u{301}") == nil && TextWidth.narrowScalarCount("a\u{1b}") == nil)
    }

    @Test func narrowTextDrawsAsTheGraphemePathDraws() {
        for text in ["1.2.826.0…498.4791029173.1", "▸ Item · ok", "Yamada, Tarou ↓"] {
            var canvas = Canvas(rows: 1, cols: 12)
            let used = canvas.draw(text, row: 0, col: 0)
            #expect(used == min(12, TextWidth.of(text)))
            var expected = TextWidth.prefix(text, fitting: 12)
            while expected.last == " " { expected.removeLast() }
            #expect(canvas.line(0) == expected)
        }
    }
}
