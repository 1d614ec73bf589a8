/// A key press, decoded from the terminal. Pure data: the app core maps keys to actions.
public enum Key: Hashable, Sendable {
    /// A printable character (after any modifier other than Ctrl).
    case char(Character)
    /// Ctrl plus a letter, given in lower case: Ctrl-D is `.ctrl("d")`.
    case ctrl(Character)
    case up, down, left, right
    case pageUp, pageDown, home, end
    case enter, escape, backspace, tab, backTab, delete, insert
    case function(Int)
}

/// A mouse event in screen cells (0-based).
public struct MouseEvent: Hashable, Sendable {
    public enum Kind: Hashable, Sendable {
        case press(button: Int)
        case release(button: Int)
        case click(button: Int)
        case doubleClick(button: Int)
        case wheelUp
        case wheelDown
    }
    public var row: Int
    public var col: Int
    public var kind: Kind
    public init(row: Int, col: Int, kind: Kind) { self.row = row; self.col = col; self.kind = kind }
}

/// Everything a terminal can report to the app.
public enum InputEvent: Hashable, Sendable {
    case key(Key)
    case mouse(MouseEvent)
    /// The terminal now has this many rows and columns.
    case resize(rows: Int, cols: Int)
}
