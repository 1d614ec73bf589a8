import Testing
import TerminalKit
@testable import Terminal

/// A stand-in for glibc's wcwidth: ASCII 1, U+0300–036F 0, CJK 2, U+FFFD 1, the rest configurable.
private func fakeWidth(_ overrides: [UInt32: Int] = [:]) -> (UInt32) -> Int {
    { v in
        if let w = overrides[v] { return w }
        switch v {
        case 0..<0x20, 0x7F..<0xA0: return -1
        case 0x300...0x36F, 0x200D, 0xFE0F: return 0
        case 0x4E00...0x9FFF, 0x1F600...0x1F64F: return 2
        default: return 1
        }
    }
}

@Suite struct CellGlyphTests {
    @Test func narrowAndWideGlyphsAsIs() {
        #expect(CellGlyph.resolve("a", cells: 1, unicode: true, width: fakeWidth()) == CellGlyph(scalars: [0x61], padding: 0))
        #expect(CellGlyph.resolve("世", cells: 2, unicode: true, width: fakeWidth()) == CellGlyph(scalars: [0x4E16], padding: 0))
        #expect(CellGlyph.resolve(" ", cells: 1, unicode: true, width: fakeWidth()) == CellGlyph(scalars: [0x20], padding: 0))
        #expect(CellGlyph.resolve("", cells: 1, unicode: true, width: fakeWidth()) == CellGlyph(scalars: [0x20], padding: 0))
    }

    @Test func combiningMarksStayWithTheirBase() {
        let g = CellGlyph.resolve("e\u{301}\u{302}", cells: 1, unicode: true, width: fakeWidth())
        #expect(g == CellGlyph(scalars: [0x65, 0x301, 0x302], padding: 0))
        let many = CellGlyph.resolve("e" + String(repeating: "\u{301}", count: 9), cells: 1, unicode: true, width: fakeWidth())
        #expect(many.scalars.count == CellGlyph.maxScalars)
    }

    @Test func libcNarrowerThanCanvasIsPadded() {
        // The canvas says 2 cells (emoji presentation), libc says 1: glyph plus one blank.
        let g = CellGlyph.resolve("❤\u{FE0F}", cells: 2, unicode: true, width: fakeWidth([0x2764: 1]))
        #expect(g == CellGlyph(scalars: [0x2764], padding: 1))
    }

    @Test func libcWiderThanCanvasIsReplaced() {
        let g = CellGlyph.resolve("x", cells: 1, unicode: true, width: fakeWidth([0x78: 2]))
        #expect(g == CellGlyph(scalars: [0xFFFD], padding: 0))
    }

    @Test func unprintableForLibcIsReplaced() {
        let g = CellGlyph.resolve("\u{E000}", cells: 1, unicode: true, width: fakeWidth([0xE000: -1]))
        #expect(g == CellGlyph(scalars: [0xFFFD], padding: 0))
        let ctl = CellGlyph.resolve("\u{1B}", cells: 1, unicode: true, width: fakeWidth())
        #expect(ctl.scalars == [0xFFFD])
    }

    @Test func zwjSequenceKeepsTheFirstEmojiOnly() {
        let g = CellGlyph.resolve("😀\u{200D}😀", cells: 2, unicode: true, width: fakeWidth())
        #expect(g == CellGlyph(scalars: [0x1F600], padding: 0))
    }

    @Test func nonUTF8LocaleDrawsQuestionMarksOfTheSameWidth() {
        #expect(CellGlyph.resolve("世", cells: 2, unicode: false, width: fakeWidth()) == CellGlyph(scalars: [0x3F], padding: 1))
        #expect(CellGlyph.resolve("é", cells: 1, unicode: false, width: fakeWidth()) == CellGlyph(scalars: [0x3F], padding: 0))
        #expect(CellGlyph.resolve("e\u{301}", cells: 1, unicode: false, width: fakeWidth()) == CellGlyph(scalars: [0x65], padding: 0))
        #expect(CellGlyph.resolve("a", cells: 1, unicode: false, width: fakeWidth()) == CellGlyph(scalars: [0x61], padding: 0))
    }

    @Test func everyResolvedGlyphCoversExactlyItsCells() {
        let w = fakeWidth([0x2764: 1])
        for (text, cells) in [("a", 1), ("世", 2), ("❤\u{FE0F}", 2), ("😀", 2), ("e\u{301}", 1), ("x", 2)] {
            let g = CellGlyph.resolve(text, cells: cells, unicode: true, width: w)
            #expect(w(g.scalars[0]) + g.padding == cells, "\(text)")
        }
    }
}

@Suite struct ColorTests {
    @Test func sixteenColoursMapStraightThrough() {
        #expect(ColorMapping.number(for: .red, colors: 256) == (1, false))
        #expect(ColorMapping.number(for: .brightCyan, colors: 16) == (14, false))
    }

    @Test func brightColoursFallBackOnEightColourTerminals() {
        #expect(ColorMapping.number(for: .brightRed, colors: 8) == (1, true))
        #expect(ColorMapping.number(for: .blue, colors: 8) == (4, false))
    }

    @Test func pairsAreCreatedOnceAndLazily() {
        var t = ColorPairTable(capacity: 300)
        #expect(t.pair(fg: -1, bg: -1) == (0, false))
        #expect(t.pair(fg: 1, bg: -1) == (1, true))
        #expect(t.pair(fg: 2, bg: 4) == (2, true))
        #expect(t.pair(fg: 1, bg: -1) == (1, false))
        #expect(t.pairs.count == 2)
    }

    @Test func allSixteenBySeventeenPairsFitIn256PairTerminals() {
        var t = ColorPairTable(capacity: 65536)
        var seen = Set<Int16>()
        for fg in Int16(-1)...15 { for bg in Int16(-1)...15 { seen.insert(t.pair(fg: fg, bg: bg).pair) } }
        #expect(seen.count == 17 * 17)
    }

    @Test func exhaustedPairsFallBackToDefault() {
        var t = ColorPairTable(capacity: 3)
        #expect(t.pair(fg: 1, bg: 0).pair == 1)
        #expect(t.pair(fg: 2, bg: 0).pair == 2)
        #expect(t.pair(fg: 3, bg: 0) == (0, false))
    }

    @Test func noColorPolicy() {
        #expect(ColorPolicy.wantsColor(requested: true, noColorEnvironment: nil))
        #expect(ColorPolicy.wantsColor(requested: true, noColorEnvironment: ""))
        #expect(!ColorPolicy.wantsColor(requested: true, noColorEnvironment: "1"))
        #expect(!ColorPolicy.wantsColor(requested: false, noColorEnvironment: nil))
    }
}
