import Testing
@testable import TerminalKit

@Suite struct SafeTextTests {
    @Test func cleanTextIsUntouched() {
        for s in ["plain", "患者 山田太郎", "José Müller", "e\u{301}", "🙂", "a|b (c) [d]", ""] {
            #expect(SafeText.isClean(s))
            #expect(SafeText.sanitize(s) == s)
        }
    }

    @Test func escapeSequencesBecomeVisible() {
        let s = SafeText.sanitize("\u{1B}[2J\u{1B}[31mred")
        #expect(s == "␛[2J␛[31mred")
        #expect(!s.unicodeScalars.contains { $0.value < 0x20 })
    }

    @Test func osc52ClipboardWriteIsDefused() {
        let s = SafeText.sanitize("\u{1B}]52;c;SGVsbG8=\u{07}")
        #expect(s == "␛]52;c;SGVsbG8=␇")
    }

    @Test func c1CSIIsReplaced() {
        let s = SafeText.sanitize("a\u{9B}31mb")
        #expect(s == "a�31mb")
    }

    @Test func bidiOverrideIsReplaced() {
        #expect(SafeText.sanitize("abc\u{202E}fdp.exe") == "abc⁇fdp.exe")
        #expect(SafeText.sanitize("\u{2066}x\u{2069}") == "⁇x⁇")
    }

    @Test func bellBackspaceNulAndDelBecomePlaceholders() {
        #expect(SafeText.sanitize("\u{07}") == "␇")
        #expect(SafeText.sanitize("ab\u{08}c") == "ab␈c")
        #expect(SafeText.sanitize("\u{00}") == "␀")
        #expect(SafeText.sanitize("\u{7F}") == "␡")
        #expect(SafeText.sanitize("a\r\nb") == "a␍␊b")
        #expect(SafeText.sanitize("l1\u{2028}l2") == "l1↵l2")
    }

    @Test func noControlSurvivesSanitizing() {
        var all = ""
        for v in UInt32(0)...0xA0 { all.unicodeScalars.append(Unicode.Scalar(v)!) }
        let s = SafeText.sanitize(all)
        #expect(!s.unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) })
        #expect(SafeText.isClean(s))
    }
}
