/// The 16 ANSI colours. dicomtui uses only these, so the terminal's own theme (light or dark) applies.
public enum Color: UInt8, Hashable, Sendable, CaseIterable {
    case black = 0, red, green, yellow, blue, magenta, cyan, white
    case brightBlack, brightRed, brightGreen, brightYellow, brightBlue, brightMagenta, brightCyan, brightWhite
}

/// How a cell is drawn. `nil` colours mean the terminal's default foreground or background.
public struct Style: Hashable, Sendable {
    public var fg: Color?
    public var bg: Color?
    public var bold: Bool
    public var dim: Bool
    public var reverse: Bool
    public var underline: Bool

    public init(fg: Color? = nil, bg: Color? = nil, bold: Bool = false, dim: Bool = false,
                reverse: Bool = false, underline: Bool = false) {
        self.fg = fg; self.bg = bg; self.bold = bold; self.dim = dim
        self.reverse = reverse; self.underline = underline
    }

    public static let plain = Style()

    /// The same style with the colours dropped: what a monochrome (NO_COLOR) terminal draws.
    public var monochrome: Style {
        Style(bold: bold, dim: dim, reverse: reverse, underline: underline)
    }
}
