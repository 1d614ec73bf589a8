import CNcursesw
import TerminalKit

/// What one `get_wch` call returned, before decoding.
public enum RawInput: Hashable, Sendable {
    /// `get_wch` returned `OK`: a character (wide character value).
    case character(UInt32)
    /// `get_wch` returned `KEY_CODE_YES`: a curses key code such as `KEY_UP` (see `CursesKeyCode`).
    case keyCode(Int32)
}

/// The result of decoding one `RawInput`.
public enum DecodedInput: Hashable, Sendable {
    case key(Key)
    /// `KEY_RESIZE`: the terminal changed size (read `LINES`/`COLS`).
    case resize
    /// `KEY_MOUSE`: a mouse event is waiting in `getmouse`.
    case mouse
    /// Nothing the app understands (shifted arrows, unknown keys...).
    case ignored
}

/// The curses key codes, re-exported so tests can build `RawInput` values without importing the C module.
public enum CursesKeyCode {
    public static let up = Int32(KEY_UP), down = Int32(KEY_DOWN), left = Int32(KEY_LEFT), right = Int32(KEY_RIGHT)
    public static let home = Int32(KEY_HOME), end = Int32(KEY_END)
    public static let pageUp = Int32(KEY_PPAGE), pageDown = Int32(KEY_NPAGE)
    public static let enter = Int32(KEY_ENTER), backspace = Int32(KEY_BACKSPACE)
    public static let delete = Int32(KEY_DC), insert = Int32(KEY_IC), backTab = Int32(KEY_BTAB)
    public static let f0 = Int32(KEY_F0)
    public static let resize = Int32(KEY_RESIZE), mouse = Int32(KEY_MOUSE)
    public static let keypadA1 = Int32(KEY_A1), keypadA3 = Int32(KEY_A3)
    public static let keypadC1 = Int32(KEY_C1), keypadC3 = Int32(KEY_C3)
    public static let find = Int32(KEY_FIND), select = Int32(KEY_SELECT), lowerLeft = Int32(KEY_LL)
    public static let shiftLeft = Int32(KEY_SLEFT)
    public static func f(_ n: Int) -> Int32 { f0 + Int32(n) }

    /// The code curses reports for `key` (what `define_key` is given for a sequence), nil for
    /// keys that are characters.
    public static func code(for key: Key) -> Int32? {
        switch key {
        case .up: return up
        case .down: return down
        case .left: return left
        case .right: return right
        case .home: return home
        case .end: return end
        case .pageUp: return pageUp
        case .pageDown: return pageDown
        case .delete: return delete
        case .insert: return insert
        case .backTab: return backTab
        case .function(let n) where (1...63).contains(n): return f(n)
        default: return nil
        }
    }
}

/// The ncurses mouse button-state bits, re-exported for tests.
public enum CursesMouseMask {
    public static let pressed: [UInt32] = [CS_BUTTON1_PRESSED, CS_BUTTON2_PRESSED, CS_BUTTON3_PRESSED, CS_BUTTON4_PRESSED, CS_BUTTON5_PRESSED]
    public static let released: [UInt32] = [CS_BUTTON1_RELEASED, CS_BUTTON2_RELEASED, CS_BUTTON3_RELEASED, CS_BUTTON4_RELEASED, CS_BUTTON5_RELEASED]
    public static let clicked: [UInt32] = [CS_BUTTON1_CLICKED, CS_BUTTON2_CLICKED, CS_BUTTON3_CLICKED]
    public static let doubleClicked: [UInt32] = [CS_BUTTON1_DOUBLE_CLICKED, CS_BUTTON2_DOUBLE_CLICKED, CS_BUTTON3_DOUBLE_CLICKED]
    public static let tripleClicked: [UInt32] = [CS_BUTTON1_TRIPLE_CLICKED, CS_BUTTON2_TRIPLE_CLICKED, CS_BUTTON3_TRIPLE_CLICKED]
    /// What `CursesTerminal` asks `mousemask` for: clicks and double clicks of buttons 1–3, and the wheel.
    public static let requested: UInt32 = clicked.reduce(0, |) | doubleClicked.reduce(0, |) | pressed[3] | pressed[4]
}

/// Raw curses input to `Key`/`MouseEvent`. Pure: no curses state is touched.
public enum KeyDecoder {
    public static func decode(_ raw: RawInput) -> DecodedInput {
        switch raw {
        case .keyCode(let code): return decodeKeyCode(code)
        case .character(let value): return decodeCharacter(value)
        }
    }

    static func decodeCharacter(_ value: UInt32) -> DecodedInput {
        switch value {
        case 13, 10: return .key(.enter)                 // nonl() gives \r; \n from Ctrl-J or pastes
        case 9: return .key(.tab)
        case 8, 127: return .key(.backspace)              // ^H and DEL: terminals send either
        case 27: return .key(.escape)
        case 0: return .key(.ctrl(" "))                  // Ctrl-Space / Ctrl-@
        case 1...26: return .key(.ctrl(Character(Unicode.Scalar(UInt8(value) + 0x60))))
        case 28...31: return .key(.ctrl(Character(Unicode.Scalar(UInt8(value) + 0x40))))  // \ ] ^ _
        case 0x80...0x9F: return .ignored                  // C1 controls never mean a key
        default:
            guard let scalar = Unicode.Scalar(value) else { return .ignored }
            return .key(.char(Character(scalar)))
        }
    }

    static func decodeKeyCode(_ code: Int32) -> DecodedInput {
        typealias K = CursesKeyCode
        switch code {
        case K.up: return .key(.up)
        case K.down: return .key(.down)
        case K.left: return .key(.left)
        case K.right: return .key(.right)
        case K.home, K.keypadA1, K.find: return .key(.home)
        case K.end, K.keypadC1, K.select, K.lowerLeft: return .key(.end)
        case K.pageUp, K.keypadA3: return .key(.pageUp)
        case K.pageDown, K.keypadC3: return .key(.pageDown)
        case K.enter: return .key(.enter)
        case K.backspace: return .key(.backspace)
        case K.delete: return .key(.delete)
        case K.insert: return .key(.insert)
        case K.backTab: return .key(.backTab)
        case K.resize: return .resize
        case K.mouse: return .mouse
        case (K.f0 + 1)...(K.f0 + 63): return .key(.function(Int(code - K.f0)))
        default: return .ignored
        }
    }

    /// Decodes an ncurses `MEVENT` (`y`, `x`, `bstate`). Wheel first (buttons 4 and 5), then
    /// double clicks, clicks, presses and releases of buttons 1–3.
    public static func decodeMouse(row: Int32, col: Int32, buttonState: UInt32) -> MouseEvent? {
        typealias M = CursesMouseMask
        let r = Int(row), c = Int(col)
        if buttonState & M.pressed[3] != 0 { return MouseEvent(row: r, col: c, kind: .wheelUp) }
        if buttonState & M.pressed[4] != 0 { return MouseEvent(row: r, col: c, kind: .wheelDown) }
        for b in 0..<3 {
            let button = b + 1
            if buttonState & (M.doubleClicked[b] | M.tripleClicked[b]) != 0 { return MouseEvent(row: r, col: c, kind: .doubleClick(button: button)) }
            if buttonState & M.clicked[b] != 0 { return MouseEvent(row: r, col: c, kind: .click(button: button)) }
            if buttonState & M.pressed[b] != 0 { return MouseEvent(row: r, col: c, kind: .press(button: button)) }
            if buttonState & M.released[b] != 0 { return MouseEvent(row: r, col: c, kind: .release(button: button)) }
        }
        return nil
    }
}
