import Foundation
import TerminalKit
import Testing

/// Compares a rendered canvas with a golden file in `__Snapshots__/NAME.txt`: one line per row,
/// framed by `|` so trailing blanks and the right edge are visible. A missing golden file, or
/// `SNAPSHOT_RECORD=1`, writes it and fails, so a new snapshot is always looked at once.
func assertSnapshot(_ canvas: Canvas, named name: String, sourceLocation: SourceLocation = #_sourceLocation,
                    file: StaticString = #filePath) {
    let dir = URL(fileURLWithPath: "\(file)").deletingLastPathComponent().appendingPathComponent("__Snapshots__")
    let golden = dir.appendingPathComponent("\(name).txt")
    let actual = render(canvas)
    let record = ProcessInfo.processInfo.environment["SNAPSHOT_RECORD"] == "1"
    if record || !FileManager.default.fileExists(atPath: golden.path) {
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try? actual.write(to: golden, atomically: true, encoding: .utf8)
        Issue.record("Recorded snapshot \(name); check it and run again.", sourceLocation: sourceLocation)
        return
    }
    let expected = (try? String(contentsOf: golden, encoding: .utf8)) ?? ""
    if expected != actual {
        let out = dir.appendingPathComponent("\(name).actual.txt")
        try? actual.write(to: out, atomically: true, encoding: .utf8)
        Issue.record("Snapshot \(name) differs; see \(out.path)\n--- expected\n\(expected)--- actual\n\(actual)",
                     sourceLocation: sourceLocation)
    }
}

/// The canvas as text: each row padded to the full width (wide glyphs count two cells).
func render(_ canvas: Canvas) -> String {
    var out = ""
    for row in 0..<canvas.rows {
        var line = ""
        for col in 0..<canvas.cols { line += canvas[row, col].text }
        out += "|" + line + "|\n"
    }
    return out
}
