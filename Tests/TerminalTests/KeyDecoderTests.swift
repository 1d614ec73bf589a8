import Testing
import TerminalKit
@testable import Terminal

@Suite struct KeyDecoderTests {
    typealias K = CursesKeyCode

    @Test(arguments: [
        (K.up, Key.up), (K.down, .down), (K.left, .left), (K.right, .right),
        (K.pageUp, .pageUp), (K.pageDown, .pageDown), (K.home, .home), (K.end, .end),
        (K.enter, .enter), (K.backspace, .backspace), (K.delete, .delete), (K.insert, .insert),
        (K.backTab, .backTab), (K.f(1), .function(1)), (K.f(12), .function(12)),
        (K.keypadA1, .home), (K.keypadC1, .end), (K.keypadA3, .pageUp), (K.keypadC3, .pageDown),
    ])
    func keyCodes(code: Int32, key: Key) {
        #expect(KeyDecoder.decode(.keyCode(code)) == .key(key))
    }

    @Test func resizeMouseAndUnknownCodes() {
        #expect(KeyDecoder.decode(.keyCode(K.resize)) == .resize)
        #expect(KeyDecoder.decode(.keyCode(K.mouse)) == .mouse)
        #expect(KeyDecoder.decode(.keyCode(K.shiftLeft)) == .ignored)
        #expect(KeyDecoder.decode(.keyCode(K.f0)) == .ignored)
    }

    @Test(arguments: [
        (UInt32(13), Key.enter), (10, .enter), (127, .backspace), (8, .backspace),
        (9, .tab), (27, .escape),
        (4, .ctrl("d")), (21, .ctrl("u")), (1, .ctrl("a")), (26, .ctrl("z")), (12, .ctrl("l")),
        (0, .ctrl(" ")), (29, .ctrl("]")),
    ])
    func controlCharacters(value: UInt32, key: Key) {
        #expect(KeyDecoder.decode(.character(value)) == .key(key))
    }

    @Test func printableCharacters() {
        #expect(KeyDecoder.decode(.character(0x6A)) == .key(.char("j")))
        #expect(KeyDecoder.decode(.character(0x3F)) == .key(.char("?")))
        #expect(KeyDecoder.decode(.character(0x20)) == .key(.char(" ")))
        #expect(KeyDecoder.decode(.character(0x4E16)) == .key(.char("世")))
        #expect(KeyDecoder.decode(.character(0xE9)) == .key(.char("é")))
    }

    @Test func c1ControlsAndInvalidScalarsAreIgnored() {
        #expect(KeyDecoder.decode(.character(0x9B)) == .ignored)
        #expect(KeyDecoder.decode(.character(0xD800)) == .ignored)
        #expect(KeyDecoder.decode(.character(0x110000)) == .ignored)
    }

    @Test func mouseWheel() {
        let up = KeyDecoder.decodeMouse(row: 3, col: 7, buttonState: CursesMouseMask.pressed[3])
        #expect(up == MouseEvent(row: 3, col: 7, kind: .wheelUp))
        let down = KeyDecoder.decodeMouse(row: 0, col: 0, buttonState: CursesMouseMask.pressed[4])
        #expect(down == MouseEvent(row: 0, col: 0, kind: .wheelDown))
    }

    @Test func mouseClicks() {
        #expect(KeyDecoder.decodeMouse(row: 5, col: 4, buttonState: CursesMouseMask.clicked[0])
                == MouseEvent(row: 5, col: 4, kind: .click(button: 1)))
        #expect(KeyDecoder.decodeMouse(row: 5, col: 4, buttonState: CursesMouseMask.doubleClicked[0])
                == MouseEvent(row: 5, col: 4, kind: .doubleClick(button: 1)))
        #expect(KeyDecoder.decodeMouse(row: 1, col: 2, buttonState: CursesMouseMask.clicked[2])
                == MouseEvent(row: 1, col: 2, kind: .click(button: 3)))
        #expect(KeyDecoder.decodeMouse(row: 1, col: 2, buttonState: CursesMouseMask.pressed[0])
                == MouseEvent(row: 1, col: 2, kind: .press(button: 1)))
        #expect(KeyDecoder.decodeMouse(row: 1, col: 2, buttonState: CursesMouseMask.released[1])
                == MouseEvent(row: 1, col: 2, kind: .release(button: 2)))
        #expect(KeyDecoder.decodeMouse(row: 1, col: 2, buttonState: 0) == nil)
    }

    @Test func requestedMaskCoversClicksAndWheel() {
        let m = CursesMouseMask.requested
        #expect(m & CursesMouseMask.clicked[0] != 0)
        #expect(m & CursesMouseMask.doubleClicked[0] != 0)
        #expect(m & CursesMouseMask.pressed[3] != 0)
        #expect(m & CursesMouseMask.pressed[4] != 0)
        #expect(m & CursesMouseMask.pressed[0] == 0)     // presses of button 1 come as clicks
    }

    // MARK: - Escape sequences, in every form terminals send

    /// Feeds `text` one character at a time, as curses hands over a sequence it does not know,
    /// then ends the read.
    static func assemble(_ text: String) -> [DecodedInput] {
        var assembler = EscapeAssembler()
        var out: [DecodedInput] = []
        for scalar in text.unicodeScalars { out += assembler.feed(.character(scalar.value)) }
        return out + assembler.flush()
    }

    /// Home, End, PgUp, PgDn, Insert, Delete and the arrows: CSI and SS3, VT220 (`ESC [ 1 ~`),
    /// rxvt (`ESC [ 7 ~`, `^ $ @`), SCO (`ESC [ H`), xterm modifiers (`ESC [ 1 ; 5 H`), the
    /// Linux console, and the keypad in application mode.
    static let forms: [(String, Key)] = [
        // Home
        ("\u{1B}[1~", .home), ("\u{1B}[7~", .home), ("\u{1B}[H", .home), ("\u{1B}OH", .home),
        ("\u{1B}[1;2H", .home), ("\u{1B}[1;3H", .home), ("\u{1B}[1;5H", .home), ("\u{1B}[1;8H", .home),
        ("\u{1B}[1;5~", .home), ("\u{1B}[7^", .home), ("\u{1B}[7$", .home), ("\u{1B}[7@", .home), ("\u{1B}O5H", .home),
        // End
        ("\u{1B}[4~", .end), ("\u{1B}[8~", .end), ("\u{1B}[F", .end), ("\u{1B}OF", .end),
        ("\u{1B}[1;2F", .end), ("\u{1B}[1;5F", .end), ("\u{1B}[4;5~", .end), ("\u{1B}[8^", .end), ("\u{1B}[8$", .end),
        // PgUp, PgDn
        ("\u{1B}[5~", .pageUp), ("\u{1B}[5;2~", .pageUp), ("\u{1B}[5;5~", .pageUp), ("\u{1B}[5^", .pageUp), ("\u{1B}[5$", .pageUp),
        ("\u{1B}[6~", .pageDown), ("\u{1B}[6;3~", .pageDown), ("\u{1B}[6;5~", .pageDown), ("\u{1B}[6^", .pageDown),
        // Insert, Delete
        ("\u{1B}[2~", .insert), ("\u{1B}[2;5~", .insert), ("\u{1B}[2^", .insert),
        ("\u{1B}[3~", .delete), ("\u{1B}[3;2~", .delete), ("\u{1B}[3;5~", .delete), ("\u{1B}[3$", .delete),
        // Arrows
        ("\u{1B}[A", .up), ("\u{1B}OA", .up), ("\u{1B}[1;5A", .up), ("\u{1B}[1;2A", .up), ("\u{1B}[a", .up), ("\u{1B}Oa", .up),
        ("\u{1B}[B", .down), ("\u{1B}OB", .down), ("\u{1B}[1;3B", .down), ("\u{1B}[b", .down), ("\u{1B}Ob", .down),
        ("\u{1B}[C", .right), ("\u{1B}OC", .right), ("\u{1B}[1;5C", .right), ("\u{1B}[c", .right), ("\u{1B}Oc", .right),
        ("\u{1B}[D", .left), ("\u{1B}OD", .left), ("\u{1B}[1;6D", .left), ("\u{1B}[d", .left), ("\u{1B}Od", .left),
        ("\u{1B}[1;5:1A", .up),                    // kitty: event type after a colon
        // Shift-Tab, function keys
        ("\u{1B}[Z", .backTab), ("\u{1B}OP", .function(1)), ("\u{1B}[1;5P", .function(1)), ("\u{1B}OS", .function(4)),
        ("\u{1B}[15~", .function(5)), ("\u{1B}[24~", .function(12)), ("\u{1B}[[A", .function(1)), ("\u{1B}[[E", .function(5)),
        // The keypad in application mode
        ("\u{1B}OM", .enter), ("\u{1B}Op", .char("0")), ("\u{1B}Oy", .char("9")), ("\u{1B}Ok", .char("+")), ("\u{1B}Oo", .char("/")),
    ]

    @Test(arguments: forms)
    func escapeSequenceForms(sequence: String, key: Key) {
        #expect(Self.assemble(sequence) == [.key(key)], "\(sequence.debugDescription)")
    }

    /// The navigation forms are taught to curses too (`define_key`): curses then waits for a
    /// sequence's end however the bytes are split, and maps it to a key code the decoder knows.
    @Test(arguments: forms.filter { [Key.home, .end, .pageUp, .pageDown, .insert, .delete, .up, .down, .left, .right].contains($0.1) }
                          .filter { !$0.0.contains(":") && !$0.0.hasPrefix("\u{1B}O5") })
    func navigationFormsAreRegisteredWithCurses(sequence: String, key: Key) throws {
        let entry = try #require(EscapeSequences.registered.first { $0.sequence == sequence }, "\(sequence.debugDescription) is registered")
        #expect(entry.key == key)
        let code = try #require(CursesKeyCode.code(for: key))
        #expect(KeyDecoder.decode(.keyCode(code)) == .key(key))
    }

    @Test func everyRegisteredSequenceDecodesToItsKey() throws {
        #expect(EscapeSequences.registered.count > 100)
        #expect(Set(EscapeSequences.registered.map(\.sequence)).count == EscapeSequences.registered.count, "no sequence twice")
        for (sequence, key) in EscapeSequences.registered {
            #expect(Self.assemble(sequence) == [.key(key)], "\(sequence.debugDescription)")
            let code = try #require(CursesKeyCode.code(for: key), "a curses code for \(key)")
            #expect(KeyDecoder.decode(.keyCode(code)) == .key(key))
        }
    }

    /// Esc followed by something that is not a sequence stays Esc and that something; a
    /// sequence cut off by the end of a read comes out as it came in.
    @Test func notASequence() {
        #expect(Self.assemble("\u{1B}") == [.key(.escape)])
        #expect(Self.assemble("\u{1B}x") == [.key(.escape), .key(.char("x"))])
        #expect(Self.assemble("\u{1B}\u{1B}") == [.key(.escape), .key(.escape)])
        #expect(Self.assemble("\u{1B}\u{1B}[A") == [.key(.escape), .key(.up)])
        #expect(Self.assemble("\u{1B}[") == [.key(.escape), .key(.char("["))])
        #expect(Self.assemble("\u{1B}[1") == [.key(.escape), .key(.char("[")), .key(.char("1"))])
        #expect(Self.assemble("\u{1B}[1\u{7}") == [.key(.escape), .key(.char("[")), .key(.char("1")), .key(.ctrl("g"))])
        #expect(Self.assemble("j\u{1B}[4~k") == [.key(.char("j")), .key(.end), .key(.char("k"))])
        #expect(Self.assemble("\u{1B}[1~\u{1B}[4~") == [.key(.home), .key(.end)])
        let long = Self.assemble("\u{1B}[" + String(repeating: "1", count: 40))      // longer than any key
        #expect(long.first == .key(.escape) && long.count == 42)
    }

    /// Complete sequences the app has no use for are swallowed, never read as Esc and text
    /// (Esc goes back, `[` opens the previous entry).
    @Test func unknownSequencesAreSwallowed() {
        for sequence in ["\u{1B}[I", "\u{1B}[O", "\u{1B}[200~", "\u{1B}[201~", "\u{1B}[<0;10;5M", "\u{1B}[<64;3;4m",
                         "\u{1B}[M !!", "\u{1B}[E", "\u{1B}OE", "\u{1B}[97;5u", "\u{1B}[?1;2c", "\u{1B}[99~", "\u{1B}[1 q"] {
            #expect(Self.assemble(sequence + "j") == [.ignored, .key(.char("j"))], "\(sequence.debugDescription)")
        }
    }

    /// A curses key code or a resize in the middle of a pending Esc ends the sequence.
    @Test func keyCodesEndAPendingEscape() {
        var assembler = EscapeAssembler()
        #expect(assembler.feed(.character(27)) == [])
        #expect(assembler.feed(.keyCode(K.up)) == [.key(.escape), .key(.up)])
        #expect(assembler.feed(.character(27)) == [])
        #expect(assembler.feed(.character(0x5B)) == [])
        #expect(assembler.feed(.keyCode(K.resize)) == [.key(.escape), .key(.char("[")), .resize])
        #expect(assembler.flush() == [])
    }
}

