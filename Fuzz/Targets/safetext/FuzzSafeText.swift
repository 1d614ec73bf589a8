// libFuzzer target `safetext`: text from outside goes through SafeText into a Canvas. The
// property, checked on every input: no C0 control, DEL, C1 control or bidi control ever reaches
// a cell; and the canvas stays consistent (a wide glyph's right half follows it, the width
// measured before drawing is the width drawn). Built and run by scripts/fuzz; not part of CI.
import FuzzDriver
import Foundation
import TerminalKit

private func forbidden(_ s: Unicode.Scalar) -> Bool {
    switch s.value {
    case 0x00...0x1F, 0x7F...0x9F, 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069, 0x061C: return true
    default: return false
    }
}

private func check(_ data: Data) {
    guard data.count >= 4 else { return }
    let p = Array(data.prefix(4))
    let rows = Int(p[0] % 4) + 1, cols = Int(p[1] % 40) + 1
    let col = Int(p[2] % 48) - 4
    let maxWidth: Int? = p[3] == 255 ? nil : Int(p[3] % 50) - 2
    let text = String(decoding: data.dropFirst(4), as: UTF8.self)

    let clean = SafeText.sanitize(text)
    if let s = clean.unicodeScalars.first(where: forbidden) { fatalError("sanitize left U+\(String(s.value, radix: 16))") }
    guard SafeText.isClean(clean) else { fatalError("sanitized text is not clean") }

    var canvas = Canvas(rows: rows, cols: cols)
    // A first line drawn whole (when it fits, the width measured is the width drawn), then
    // the same text over itself, shifted, to overwrite wide glyphs halfway.
    let used = canvas.draw(text, row: 0, col: col, maxWidth: maxWidth)
    let room = min(cols, maxWidth.map { col + $0 } ?? cols) - col
    guard used >= 0, used <= max(0, room) || col < 0 else { fatalError("drew \(used) cells in a room of \(room)") }
    if col >= 0, TextWidth.of(text) <= room, used != TextWidth.of(text) {
        fatalError("measured \(TextWidth.of(text)) cells, drew \(used): \(text.debugDescription)")
    }
    canvas.draw(text, row: rows - 1, col: col + 1, maxWidth: maxWidth)
    canvas.draw(String(text.reversed()), row: rows - 1, col: col + 2)
    canvas.draw(text, row: rows - 1, col: col - 1, maxWidth: maxWidth.map { $0 / 2 })
    canvas.fill(row: rows - 1, col: col + 3, width: 1)

    for r in 0..<rows {
        for c in 0..<cols {
            let cell = canvas[r, c]
            if let s = cell.text.unicodeScalars.first(where: forbidden) {
                fatalError("U+\(String(s.value, radix: 16)) reached cell (\(r), \(c)) from \(text.debugDescription)")
            }
            if cell.isContinuation {
                guard c > 0, !canvas[r, c - 1].isContinuation, TextWidth.of(canvas[r, c - 1].text) == 2 else {
                    fatalError("cell (\(r), \(c)) is the right half of no wide glyph")
                }
            } else if TextWidth.of(cell.text) == 2, c + 1 < cols, !canvas[r, c + 1].isContinuation {
                fatalError("the wide glyph in cell (\(r), \(c)) has no right half")
            }
        }
    }
    _ = canvas.lines()
    _ = TextWidth.truncateMiddle(text, to: cols, headShare: 0.3)
    guard TextWidth.of(TextWidth.pad(text, to: cols)) == cols else { fatalError("pad is not \(cols) cells wide") }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ bytes: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    check(bytes.map { Data(bytes: $0, count: size) } ?? Data())
    return 0
}

@_cdecl("fuzz_safetext_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv, fuzzOne)
}
