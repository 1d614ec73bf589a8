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
}
