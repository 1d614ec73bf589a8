/// One cell of the screen.
public struct Cell: Hashable, Sendable {
    /// The grapheme drawn here; `" "` for a blank; `""` for the right half of a wide glyph.
    public var text: String
    public var style: Style
    /// True for the right half of a 2-cell glyph that starts in the cell to the left.
    public var isContinuation: Bool { text.isEmpty }

    public init(text: String = " ", style: Style = .plain) { self.text = text; self.style = style }
    public static let blank = Cell()
}

/// A grid of cells that views draw into. Terminals present it (curses or in memory).
///
/// Every string drawn here goes through `SafeText.sanitize`, so no control character from the
/// service or from az can reach the terminal, and through `TextWidth`, so wide glyphs take two
/// cells and are never cut in half at an edge.
public struct Canvas: Sendable, Equatable {
    public let rows: Int
    public let cols: Int
    public private(set) var cells: [Cell]

    public init(rows: Int, cols: Int) {
        self.rows = max(0, rows)
        self.cols = max(0, cols)
        self.cells = Array(repeating: .blank, count: self.rows * self.cols)
    }

    public subscript(row: Int, col: Int) -> Cell {
        cells[row * cols + col]
    }

    /// Draws `text` from (`row`, `col`), clipped to `maxWidth` cells and to the canvas edge.
    /// Returns the number of cells used.
    @discardableResult
    public mutating func draw(_ text: String, row: Int, col: Int, maxWidth: Int? = nil, style: Style = .plain) -> Int {
        guard row >= 0, row < rows, col < cols else { return 0 }
        let limit = maxWidth.map { min(cols, col + $0) } ?? cols
        if let used = drawNarrow(text, row: row, col: col, limit: limit, style: style) { return used }
        var x = col
        var lastDrawn: Int? = nil          // where the previous glyph of this call landed
        /// Draws one grapheme; false when it does not fit.
        func glyph(_ ch: Character) -> Bool {
            let w = TextWidth.of(ch)
            if w == 0 {
                // A combining mark on its own: attach it to the previous glyph when that was drawn.
                if let at = lastDrawn { appendMark(ch, row: row, col: at) }
                return true
            }
            if x + w > limit { return false }
            if x >= 0 {
                put(String(ch), width: w, row: row, col: x, style: style)
                lastDrawn = x
            } else {
                lastDrawn = nil            // clipped at the left edge
            }
            x += w
            return true
        }
        if SafeText.isClean(text) {
            for ch in text where !glyph(ch) { break }
        } else {
            // Graphemes as the text has them, each control replaced by its placeholder on its own:
            // a mark or an emoji modifier after a control must not fuse with the placeholder
            // (TextWidth measured it on its own, and the terminal draws it on its own).
            outer: for ch in text {
                if SafeText.isClean(String(ch)) {
                    if !glyph(ch) { break }
                } else {
                    for piece in SafeText.sanitize(String(ch)) where !glyph(piece) { break outer }
                }
            }
        }
        return max(0, x - col)
    }

    /// Fills `width` cells from (`row`, `col`) with blanks in `style`.
    public mutating func fill(row: Int, col: Int = 0, width: Int? = nil, style: Style = .plain) {
        guard row >= 0, row < rows else { return }
        let start = max(0, col)
        let end = width.map { min(cols, col + $0) } ?? cols
        guard start < end else { return }
        for x in start..<end { put(" ", width: 1, row: row, col: x, style: style) }
    }

    /// Sets the style of existing cells without changing their text (for highlights).
    public mutating func restyle(row: Int, col: Int = 0, width: Int? = nil, _ change: (inout Style) -> Void) {
        guard row >= 0, row < rows else { return }
        let start = max(0, col)
        let end = width.map { min(cols, col + $0) } ?? cols
        guard start < end else { return }
        for x in start..<end { change(&cells[row * cols + x].style) }
    }

    /// The text of each row, wide glyphs once, trailing blanks trimmed: what a snapshot compares.
    public func lines() -> [String] {
        (0..<rows).map { line($0) }
    }

    /// The text of one row, trailing blanks trimmed.
    public func line(_ row: Int) -> String {
        var s = ""
        for x in 0..<cols { s += cells[row * cols + x].text }
        while s.last == " " { s.removeLast() }
        return s
    }

    // MARK: - Private

    /// The one-character strings of printable ASCII (small strings: no allocation per cell).
    private static let asciiGlyphs: [String] = (0..<128).map { String(UnicodeScalar(UInt8($0))) }

    /// Most of what a frame draws (numbers, times, UIDs, labels) is text whose every scalar is a
    /// one-cell glyph on its own (`TextWidth.narrowScalarCount`): nothing to sanitize, measure or
    /// group. Draws such a text scalar by scalar and returns the cells used; nil (nothing drawn)
    /// for any other text, which takes the grapheme path.
    private mutating func drawNarrow(_ text: String, row: Int, col: Int, limit: Int, style: Style) -> Int? {
        guard TextWidth.narrowScalarCount(text) != nil else { return nil }
        let glyphs = Self.asciiGlyphs
        var x = col
        for s in text.unicodeScalars {
            if x + 1 > limit { break }
            if x >= 0 { put(s.value < 0x80 ? glyphs[Int(s.value)] : String(Character(s)), width: 1, row: row, col: x, style: style) }
            x += 1
        }
        return max(0, x - col)
    }

    private mutating func put(_ text: String, width: Int, row: Int, col: Int, style: Style) {
        let base = row * cols
        // Overwriting half of a wide glyph blanks its other half.
        if cells[base + col].isContinuation, col > 0 { cells[base + col - 1] = Cell(text: " ", style: cells[base + col - 1].style) }
        if width == 2 {
            if col + 1 < cols, col + 2 < cols, cells[base + col + 2].isContinuation {
                cells[base + col + 2] = Cell(text: " ", style: cells[base + col + 2].style)
            }
            cells[base + col] = Cell(text: text, style: style)
            if col + 1 < cols { cells[base + col + 1] = Cell(text: "", style: style) }
        } else {
            if col + 1 < cols, cells[base + col + 1].isContinuation {
                cells[base + col + 1] = Cell(text: " ", style: cells[base + col + 1].style)
            }
            cells[base + col] = Cell(text: text, style: style)
        }
    }

    private mutating func appendMark(_ mark: Character, row: Int, col: Int) {
        var x = col
        if cells[row * cols + x].isContinuation, x > 0 { x -= 1 }
        cells[row * cols + x].text += String(mark)
    }
}
