import Testing
@testable import TerminalKit

@Suite struct CanvasTests {
    @Test func drawClipsAtTheRightEdge() {
        var c = Canvas(rows: 2, cols: 5)
        let used = c.draw("abcdefgh", row: 0, col: 2)
        #expect(used == 3)
        #expect(c.lines() == ["  abc", ""])
    }

    @Test func drawOutsideTheCanvasDoesNothing() {
        var c = Canvas(rows: 2, cols: 5)
        #expect(c.draw("x", row: 2, col: 0) == 0)
        #expect(c.draw("x", row: -1, col: 0) == 0)
        #expect(c.draw("x", row: 0, col: 5) == 0)
        #expect(c.lines() == ["", ""])
    }

    @Test func maxWidthLimitsTheText() {
        var c = Canvas(rows: 1, cols: 10)
        #expect(c.draw("abcdef", row: 0, col: 1, maxWidth: 3) == 3)
        #expect(c.line(0) == " abc")
    }

    @Test func leftClippingDropsCellsBeforeColumnZero() {
        var c = Canvas(rows: 1, cols: 4)
        c.draw("abcdef", row: 0, col: -2)
        #expect(c.line(0) == "cdef")
        var d = Canvas(rows: 1, cols: 4)
        d.draw("患者", row: 0, col: -1)        // the first wide glyph straddles the left edge
        #expect(d.line(0) == " 者")
        #expect(!d[0, 0].isContinuation)
    }

    @Test func wideGlyphsTakeTwoCells() {
        var c = Canvas(rows: 1, cols: 6)
        #expect(c.draw("患者x", row: 0, col: 0) == 5)
        #expect(c[0, 0].text == "患")
        #expect(c[0, 1].isContinuation)
        #expect(c[0, 2].text == "者")
        #expect(c[0, 3].isContinuation)
        #expect(c[0, 4].text == "x")
        #expect(c.line(0) == "患者x")
    }

    @Test func wideGlyphAtTheLastColumnIsNotDrawnHalf() {
        var c = Canvas(rows: 1, cols: 5)
        let used = c.draw("abcd患", row: 0, col: 0)
        #expect(used == 4)
        #expect(c[0, 4] == .blank)
        #expect(c.line(0) == "abcd")
        var d = Canvas(rows: 1, cols: 10)
        d.draw("a患", row: 0, col: 0, maxWidth: 2)
        #expect(d.line(0) == "a")
        #expect(d[0, 2] == .blank)
    }

    /// `text` drawn at `col` over "患者" blanks the other half (`blanked`) of the glyph it hits.
    @Test(arguments: [
        (col: 2, text: "x", blanked: 3, line: "患x"),     // the left half of 者
        (col: 1, text: "y", blanked: 0, line: " y者"),    // the right half of 患
    ])
    func overwritingHalfAWideGlyphBlanksTheOtherHalf(col: Int, text: String, blanked: Int, line: String) {
        var c = Canvas(rows: 1, cols: 4)
        c.draw("患者", row: 0, col: 0)
        c.draw(text, row: 0, col: col)
        #expect(c[0, col].text == text)
        #expect(c[0, blanked] == Cell(text: " "))
        #expect(c.line(0) == line)
    }

    @Test func aWideGlyphOverTwoWideGlyphsLeavesNoOrphans() {
        var c = Canvas(rows: 1, cols: 6)
        c.draw("患者山", row: 0, col: 0)
        c.draw("田", row: 0, col: 1)      // covers the right half of 患 and the left half of 者
        #expect(c.line(0) == " 田 山")
        for x in 0..<6 where c[0, x].isContinuation {
            #expect(x > 0 && !c[0, x - 1].isContinuation && TextWidth.of(c[0, x - 1].text) == 2)
        }
    }

    @Test func combiningMarkJoinsThePreviousGlyph() {
        var c = Canvas(rows: 1, cols: 5)
        #expect(c.draw("e\u{301}x", row: 0, col: 0) == 2)
        #expect(c[0, 0].text == "e\u{301}")
        var d = Canvas(rows: 1, cols: 5)
        d.draw("\u{301}a", row: 0, col: 1)  // nothing before it in this call: dropped
        #expect(d[0, 0] == .blank)
        #expect(d.line(0) == " a")
    }

    @Test func drawSanitisesControls() {
        var c = Canvas(rows: 1, cols: 20)
        c.draw("a\u{1B}[2Jb", row: 0, col: 0)
        #expect(c.line(0) == "a␛[2Jb")
    }

    @Test func fillAndRestyle() {
        var c = Canvas(rows: 2, cols: 6)
        c.draw("患者ab", row: 0, col: 0)
        let hi = Style(fg: .black, bg: .cyan)
        c.fill(row: 1, col: 1, width: 3, style: hi)
        #expect((0..<6).map { c[1, $0].style == hi } == [false, true, true, true, false, false])
        c.restyle(row: 0, col: 0, width: 4) { $0.reverse = true }
        #expect(c.line(0) == "患者ab")
        #expect((0..<6).map { c[0, $0].style.reverse } == [true, true, true, true, false, false])
        c.fill(row: 0, col: 1, width: 1)    // blanks the right half of 患 and so its left half
        #expect(c.line(0) == "  者ab")
        c.fill(row: 5)                      // off the canvas: no effect, no crash
    }

    @Test func linesTrimTrailingBlanksAndShowWideGlyphsOnce() {
        var c = Canvas(rows: 3, cols: 8)
        c.draw("患者 x", row: 0, col: 1)
        c.draw("tail  ", row: 2, col: 0)
        #expect(c.lines() == [" 患者 x", "", "tail"])
    }

    @Test func emptyAndNegativeSizes() {
        var c = Canvas(rows: -1, cols: 0)
        #expect(c.rows == 0 && c.cols == 0)
        #expect(c.draw("x", row: 0, col: 0) == 0)
        #expect(c.lines() == [])
    }
}

@Suite struct CanvasEdgeTests {
    @Test func fillAndRestyleFromANegativeColumnReachTheRightEdge() {
        var c = Canvas(rows: 1, cols: 4)
        let hi = Style(bg: .blue)
        c.fill(row: 0, col: -2, style: hi)
        #expect((0..<4).allSatisfy { c[0, $0].style == hi })
        c.restyle(row: 0, col: -1) { $0.bold = true }
        #expect((0..<4).allSatisfy { c[0, $0].style.bold })
    }
}

/// Found by the `safetext` fuzz target (Fuzz/Corpus/safetext/crash-c26a9715…).
@Suite struct CanvasControlTests {
    /// An emoji modifier after a control fused with the control's placeholder into one
    /// grapheme, one cell wide, where TextWidth measured the control and the modifier (1 + 2):
    /// the line was drawn narrower than it was measured, and the terminal would draw the
    /// modifier in cells the canvas thought free.
    @Test func aModifierAfterAControlIsNotFusedWithItsPlaceholder() {
        for text in ["\u{1B}\u{1F3FD}x", "\u{0B}\u{1F3FD}", "a\u{200E}\u{1F3FB}b"] {
            var c = Canvas(rows: 1, cols: 10)
            #expect(c.draw(text, row: 0, col: 0) == TextWidth.of(text), "\(text.debugDescription)")
            #expect(c[0, 0].text.unicodeScalars.count == 1 || text.hasPrefix("a"))
        }
        var c = Canvas(rows: 1, cols: 10)
        c.draw("\u{1B}\u{1F3FD}x", row: 0, col: 0)
        #expect(c.line(0) == "␛\u{1F3FD}x")
        #expect(c[0, 0].text == "␛" && c[0, 1].text == "\u{1F3FD}" && c[0, 2].isContinuation)
    }

    /// A combining mark after a control still goes with the placeholder, as it did.
    @Test func aCombiningMarkAfterAControlStaysWithThePlaceholder() {
        var c = Canvas(rows: 1, cols: 4)
        #expect(c.draw("\u{07}\u{0301}b", row: 0, col: 0) == 2)
        #expect(c[0, 0].text == "␇\u{0301}" && c[0, 1].text == "b")
    }
}
