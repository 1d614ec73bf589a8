import Testing
@testable import TerminalKit

@Suite struct TextWidthTests {
    @Test func asciiIsOneCellEach() {
        #expect(TextWidth.of("hello") == 5)
        #expect(TextWidth.of("") == 0)
        #expect(TextWidth.of(Character("~")) == 1)
    }

    @Test(arguments: ["患", "者", "山", "Ａ", "한", "ひ"])
    func cjkAndFullwidthAreTwoCells(_ s: String) {
        #expect(TextWidth.of(s) == 2)
    }

    @Test func halfwidthKatakanaIsOneCell() {
        #expect(TextWidth.of("ｶﾀｶﾅ") == 4)
    }

    @Test func mixedString() {
        #expect(TextWidth.of("患者 山田太郎") == 13)
        #expect(TextWidth.of("José Müller") == 11)
    }

    @Test func combiningMarksTakeNoCell() {
        #expect(TextWidth.of(Unicode.Scalar(0x301)!) == 0)
        #expect(TextWidth.of("e\u{301}cole") == 5)
        #expect(TextWidth.of(Character("e\u{301}")) == 1)
    }

    @Test func emojiAreTwoCells() {
        #expect(TextWidth.of("🙂") == 2)
        #expect(TextWidth.of("❤️") == 2)          // text-default heart made emoji by VS16
        #expect(TextWidth.of("🇯🇵") == 2)          // a flag: two regional indicators, one glyph
        #expect(TextWidth.of("👨‍👩‍👧") == 2)      // ZWJ family: one grapheme
    }

    @Test func controlsCountAsTheirPlaceholder() {
        // Layout measured with TextWidth must match what Canvas draws after sanitising.
        for raw in ["a\u{1B}b", "\u{07}", "x\u{202E}y", "\r\n", "\u{9B}"] {
            var c = Canvas(rows: 1, cols: 20)
            let used = c.draw(raw, row: 0, col: 0)
            #expect(TextWidth.of(raw) == used, "\(raw.unicodeScalars.map { $0.value })")
        }
    }

    @Test func prefixNeverSplitsAWideGlyph() {
        #expect(TextWidth.prefix("患者山田", fitting: 3) == "患")
        #expect(TextWidth.prefix("患者山田", fitting: 4) == "患者")
        #expect(TextWidth.prefix("a患者", fitting: 2) == "a")
        #expect(TextWidth.prefix("abc", fitting: 0) == "")
        #expect(TextWidth.suffix("患者山田", fitting: 3) == "田")
    }

    @Test func truncateAddsAnEllipsisWithinTheWidth() {
        #expect(TextWidth.truncate("abcdef", to: 4) == "abc…")
        #expect(TextWidth.truncate("abc", to: 4) == "abc")
        let cut = TextWidth.truncate("患者山田太郎", to: 6)
        #expect(cut == "患者…")
        #expect(TextWidth.of(cut) <= 6)
    }

    @Test func truncateMiddleKeepsBothEndsAndNeverSplitsWideGlyphs() {
        let uid = "1.2.826.0.1.3680043.8.498.12345"
        let cut = TextWidth.truncateMiddle(uid, to: 11)
        #expect(TextWidth.of(cut) == 11)
        #expect(cut.hasPrefix("1.2.8"))
        #expect(cut.hasSuffix("12345"))
        #expect(cut.contains("…"))
        for width in 1...12 {
            let c = TextWidth.truncateMiddle("患者山田太郎様", to: width)
            #expect(TextWidth.of(c) <= width, "width \(width): \(c)")
            #expect(c.allSatisfy { $0 == "…" || TextWidth.of($0) == 2 })
        }
        #expect(TextWidth.truncateMiddle("abc", to: 0) == "")
    }

    @Test func padReachesExactlyTheWidth() {
        #expect(TextWidth.pad("患者", to: 6) == "患者  ")
        #expect(TextWidth.pad("患者", to: 6, alignRight: true) == "  患者")
        #expect(TextWidth.of(TextWidth.pad("患者山田", to: 5)) == 5)
        #expect(TextWidth.of(TextWidth.pad("evil\u{1B}]52;c;SGVsbG8=\u{07}", to: 10)) == 10)
    }
}
