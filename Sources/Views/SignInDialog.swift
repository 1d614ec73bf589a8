import AppCore
import Foundation
import TerminalKit

/// The device-code sign-in dialog: the URL, the code large enough to read across a room,
/// elapsed time and a spinner while az waits, az's own message when it fails.
enum SignInDialog {
    static let spinner = ["◐", "◓", "◑", "◒"]

    static func draw(_ s: SignInState, now: Date, into c: inout Canvas, theme t: Theme) {
        var lines: [(String, Style)] = []
        let elapsed = max(0, now.timeIntervalSince(s.startedAt))
        let frame = spinner[Int(elapsed * 5) % spinner.count]
        let clock = Format.countdown(elapsed)
        var keys = "Esc cancel"
        switch s.phase {
        case .starting:
            lines.append(("\(frame) Starting az login --use-device-code…  \(clock)", t.label))
        case .waiting(let url, let code, let message):
            lines.append(("Open this page in a browser:", t.plain))
            lines.append((url, t.emphasis.with(underline: true)))
            lines.append(("", t.plain))
            lines.append(("and enter the code:", t.plain))
            lines.append(("", t.plain))
            lines.append((spaced(code), t.good))
            lines.append(("", t.plain))
            lines.append(("\(frame) waiting for you to sign in…  \(clock)", t.label))
            if !message.contains(url) || !message.contains(code) { lines.append((message, t.label)) }
            keys = "y copy code · Esc cancel"
        case .succeeded:
            lines.append(("Signed in.", t.good))
        case .failed(let problem):
            lines.append(("Sign-in failed", t.error))
            lines.append(contentsOf: MainScreen.wrap(problem.message, width: max(10, c.cols - 10)).map { ($0, t.plain) })
            if let hint = problem.hint {
                lines.append(("", t.plain))
                lines.append(contentsOf: MainScreen.wrap(hint, width: max(10, c.cols - 10)).map { ($0, t.emphasis) })
            }
            keys = "l try again · Esc close"
        }
        let contentWidth = min(c.cols - 4, max(44, lines.map { TextWidth.of($0.0) }.max() ?? 0))
        let width = contentWidth + 4
        let box = Box.draw(width: width, height: lines.count + 4, title: "Sign in to Azure", keys: keys, into: &c, theme: t)
        let (top, left, height) = (box.top, box.left, box.height)
        for (i, (text, style)) in lines.prefix(height - 4).enumerated() {
            let w = min(TextWidth.of(text), contentWidth)
            c.draw(text, row: top + 2 + i, col: left + 2 + (contentWidth - w) / 2, maxWidth: contentWidth, style: style)
        }
    }

    /// `FAKE1234` → `F A K E 1 2 3 4`: easier to read and to type from.
    static func spaced(_ code: String) -> String {
        code.map(String.init).joined(separator: " ")
    }
}

extension Style {
    func with(underline: Bool) -> Style {
        var s = self
        s.underline = underline
        return s
    }
}
