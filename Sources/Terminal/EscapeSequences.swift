import TerminalKit

/// Keys as escape sequences, in every form terminals send them, whatever the terminfo entry of
/// `TERM` names. Pure.
///
/// curses decodes only the sequences the terminfo entry lists: under `TERM=xterm-256color`
/// Home is `ESC O H`, so the `ESC [ 1 ~` that tmux, screen, the Linux console and rxvt send
/// arrived as Esc, `[`, `1`, `~`. `CursesTerminal` teaches curses the forms in ``registered``
/// (`define_key`), and passes whatever curses still hands over character by character through
/// an ``EscapeAssembler``, which knows the general grammar:
///
/// - CSI `ESC [` params final: `A B C D` arrows, `H F` Home/End, `Z` Shift-Tab, `P Q R S` F1–F4,
///   `~` (and rxvt's `^ $ @`) after a number: 1 Home, 2 Insert, 3 Delete, 4 End, 5 PgUp,
///   6 PgDn, 7 Home, 8 End (rxvt), 11–34 function keys; `a b c d` rxvt's Shift-arrows.
///   Modifiers (`ESC [ 1 ; 5 H`, `ESC [ 5 ; 3 ~`) give the plain key: the app has no modified keys.
/// - SS3 `ESC O` final: arrows, Home/End, F1–F4, rxvt's Ctrl-arrows `a b c d`, and the keypad
///   in application mode (`ESC O p` … `ESC O y` are 0–9, `ESC O M` is Enter).
/// - The Linux console's `ESC [ [ A` … `ESC [ [ E` (F1–F5).
/// Any other complete CSI or SS3 sequence (focus reports, mouse reports nobody asked for,
/// bracketed-paste marks, keys the app has no use for) is swallowed, never taken for Esc and text.
public enum EscapeSequences {
    public enum ScanResult: Hashable, Sendable {
        /// A prefix of a sequence: more bytes are needed.
        case incomplete
        /// A whole sequence: this key, or `.ignored`.
        case complete(DecodedInput)
        /// Not an escape sequence (Esc, then something else).
        case invalid
    }

    /// Longest sequence looked for; anything longer is not one.
    static let maxLength = 32

    /// Scans `bytes`, which start with ESC (27).
    public static func scan(_ bytes: [UInt32]) -> ScanResult {
        guard bytes.first == 27 else { return .invalid }
        guard bytes.count >= 2 else { return .incomplete }
        guard bytes.count <= maxLength else { return .invalid }
        switch bytes[1] {
        case 0x5B: return scanCSI(bytes)
        case 0x4F: return scanSS3(bytes)
        default: return .invalid
        }
    }

    private static func scanCSI(_ bytes: [UInt32]) -> ScanResult {
        guard bytes.count >= 3 else { return .incomplete }
        // The Linux console's F1–F5: ESC [ [ A … E.
        if bytes[2] == 0x5B {
            guard bytes.count >= 4 else { return .incomplete }
            guard bytes.count == 4, (0x40...0x7E).contains(bytes[3]) else { return .invalid }
            let n = Int(bytes[3]) - 0x40       // A = 1
            return .complete((1...5).contains(n) ? .key(.function(n)) : .ignored)
        }
        // An X10 mouse report (ESC [ M and three bytes) that curses did not take.
        if bytes[2] == 0x4D {
            return bytes.count < 6 ? .incomplete : (bytes.count == 6 ? .complete(.ignored) : .invalid)
        }
        var params: [UInt32] = []
        var intermediates: [UInt32] = []
        for (i, b) in bytes.enumerated().dropFirst(2) {
            switch b {
            case 0x30...0x3F where intermediates.isEmpty:
                params.append(b)
            case 0x24 where intermediates.isEmpty && !params.isEmpty && params.allSatisfy({ (0x30...0x39).contains($0) }):
                // rxvt's Shift form, ESC [ 7 $: '$' ends it (elsewhere it is an intermediate byte).
                guard i == bytes.count - 1 else { return .invalid }
                return .complete(csiKey(params: params, final: b))
            case 0x20...0x2F:
                intermediates.append(b)
            case 0x40...0x7E:
                guard i == bytes.count - 1 else { return .invalid }
                return .complete(intermediates.isEmpty ? csiKey(params: params, final: b) : .ignored)
            default:
                return .invalid
            }
        }
        return .incomplete
    }

    private static func scanSS3(_ bytes: [UInt32]) -> ScanResult {
        guard bytes.count >= 3 else { return .incomplete }
        var params: [UInt32] = []
        for (i, b) in bytes.enumerated().dropFirst(2) {
            switch b {
            case 0x30...0x3F: params.append(b)
            case 0x40...0x7E:
                guard i == bytes.count - 1 else { return .invalid }
                return .complete(ss3Key(final: b))
            default: return .invalid
            }
        }
        return .incomplete
    }

    /// The numbers of a parameter string (`1;5` → [1, 5]); kitty's sub-parameters (`1;5:1`)
    /// are dropped. Nil for private parameters (`<`, `=`, `>`, `?`: mouse and replies).
    private static func numbers(_ params: [UInt32]) -> [Int]? {
        if let first = params.first, (0x3C...0x3F).contains(first) { return nil }
        var result: [Int] = []
        for field in params.split(separator: 0x3B, omittingEmptySubsequences: false) {
            let main = field.prefix { $0 != 0x3A }
            var n = 0
            for d in main {
                guard (0x30...0x39).contains(d) else { return nil }
                n = min(n * 10 + Int(d - 0x30), 100_000)
            }
            result.append(n)
        }
        return result
    }

    private static func csiKey(params: [UInt32], final: UInt32) -> DecodedInput {
        guard let numbers = numbers(params) else { return .ignored }
        switch final {
        case 0x7E, 0x5E, 0x24, 0x40:            // ~, and rxvt's ^ (Ctrl), $ (Shift), @ (Ctrl-Shift)
            guard let n = numbers.first, let key = tildeKey(n) else { return .ignored }
            return .key(key)
        case 0x41: return .key(.up)              // A
        case 0x42: return .key(.down)            // B
        case 0x43: return .key(.right)           // C
        case 0x44: return .key(.left)            // D
        case 0x48: return .key(.home)            // H
        case 0x46: return .key(.end)             // F
        case 0x5A: return .key(.backTab)         // Z
        case 0x50...0x53: return .key(.function(Int(final - 0x50) + 1))   // P Q R S: F1–F4
        case 0x61: return .key(.up)              // rxvt Shift-arrows: a b c d
        case 0x62: return .key(.down)
        case 0x63: return .key(.right)
        case 0x64: return .key(.left)
        default: return .ignored                 // E, G (keypad 5), I/O (focus), u (kitty), ...
        }
    }

    /// The key of `ESC [ n ~`.
    static func tildeKey(_ n: Int) -> Key? {
        switch n {
        case 1, 7: return .home
        case 2: return .insert
        case 3: return .delete
        case 4, 8: return .end
        case 5: return .pageUp
        case 6: return .pageDown
        case 11...15: return .function(n - 10)       // F1–F5
        case 17...21: return .function(n - 11)       // F6–F10
        case 23...26: return .function(n - 12)       // F11–F14
        case 28, 29: return .function(n - 13)        // F15, F16
        case 31...34: return .function(n - 14)       // F17–F20
        default: return nil                          // 200/201: bracketed paste marks
        }
    }

    private static func ss3Key(final: UInt32) -> DecodedInput {
        switch final {
        case 0x41, 0x61: return .key(.up)            // A, and rxvt's Ctrl form a
        case 0x42, 0x62: return .key(.down)
        case 0x43, 0x63: return .key(.right)
        case 0x44, 0x64: return .key(.left)
        case 0x48: return .key(.home)
        case 0x46: return .key(.end)
        case 0x50...0x53: return .key(.function(Int(final - 0x50) + 1))
        case 0x4D: return .key(.enter)               // the keypad's Enter
        // The keypad in application mode: * + , - . / 0–9 =
        case 0x6A...0x79, 0x58:
            let text: Character = final == 0x58 ? "=" : Character(Unicode.Scalar(UInt8(final - 0x40)))
            return .key(.char(text))
        default: return .ignored
        }
    }

    /// The sequences `CursesTerminal` teaches curses (`define_key`), each with its key: Home,
    /// End, PgUp, PgDn, Insert, Delete, the arrows and Shift-Tab in CSI and SS3 form, with the
    /// xterm modifiers 2–8 (`ESC [ 1 ; 5 H`), `ESC [ 1 ~` … `ESC [ 8 ~` with modifiers, rxvt's
    /// `^ $ @` forms and Shift/Ctrl-arrows. Curses then waits for the rest of a sequence as
    /// long as its escape delay allows, so a sequence split across reads still makes one key.
    public static let registered: [(sequence: String, key: Key)] = {
        var list: [(String, Key)] = []
        let esc = "\u{1B}"
        let letters: [(Character, Key)] = [("A", .up), ("B", .down), ("C", .right), ("D", .left), ("H", .home), ("F", .end)]
        for (letter, key) in letters {
            list.append((esc + "[" + String(letter), key))
            list.append((esc + "O" + String(letter), key))
            for m in 2...8 { list.append((esc + "[1;\(m)" + String(letter), key)) }
        }
        list.append((esc + "[Z", .backTab))
        for n in 1...8 {
            guard let key = tildeKey(n) else { continue }
            list.append((esc + "[\(n)~", key))
            for m in 2...8 { list.append((esc + "[\(n);\(m)~", key)) }
            for suffix in ["^", "$", "@"] { list.append((esc + "[\(n)" + suffix, key)) }
        }
        for (letter, key) in [("a", Key.up), ("b", .down), ("c", .right), ("d", .left)] {
            list.append((esc + "[" + letter, key))     // rxvt Shift-arrows
            list.append((esc + "O" + letter, key))     // rxvt Ctrl-arrows
        }
        return list
    }()
}

/// Puts together escape sequences that reach the app a character at a time (curses returns
/// what it does not know as Esc and then the rest). Feed it every `RawInput` of one read, in
/// order, then `flush()`: a sequence cut off by the end of the read comes out as it came in
/// (Esc, then characters), as before.
public struct EscapeAssembler: Sendable {
    private var pending: [UInt32] = []

    public init() {}

    public mutating func feed(_ raw: RawInput) -> [DecodedInput] {
        guard case .character(let c) = raw else {
            return flush() + [KeyDecoder.decode(raw)]
        }
        if pending.isEmpty {
            if c == 27 { pending = [27]; return [] }
            return [KeyDecoder.decode(raw)]
        }
        pending.append(c)
        switch EscapeSequences.scan(pending) {
        case .incomplete:
            return []
        case .complete(let decoded):
            pending.removeAll()
            return [decoded]
        case .invalid:
            // Esc, then whatever followed it (which may start a sequence of its own).
            let rest = pending.dropFirst()
            pending.removeAll()
            var out: [DecodedInput] = [.key(.escape)]
            for r in rest { out += feed(.character(r)) }
            return out
        }
    }

    /// Ends the read: whatever is pending comes out character by character.
    public mutating func flush() -> [DecodedInput] {
        let chars = pending
        pending.removeAll()
        return chars.map { KeyDecoder.decode(.character($0)) }
    }
}
