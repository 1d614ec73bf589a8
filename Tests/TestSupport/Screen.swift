import Foundation
import Testing

/// What shows the app's screen as text lines: the tmux pane of the built binary (`Tmux`), or
/// the last frame of the app run in the test's process. Tests wait on it for what they expect.
public protocol ScreenReading {
    /// The visible screen as text lines.
    func screen() throws -> [String]
}

public struct ScreenTimeout: Error, CustomStringConvertible {
    public let what: String
    public init(what: String) { self.what = what }
    public var description: String { "timed out waiting for \(what)" }
}

extension ScreenReading {
    /// Waits until `predicate` holds for the screen; fails the test with the last screen otherwise.
    @discardableResult
    public func waitFor(_ what: String, timeout: TimeInterval = 20, sourceLocation: SourceLocation = #_sourceLocation,
                        _ predicate: ([String]) -> Bool) async throws -> [String] {
        let deadline = Date().addingTimeInterval(timeout)
        var last: [String] = []
        while Date() < deadline {
            last = try screen()
            if predicate(last) { return last }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("Timed out waiting for \(what). Screen:\n\(last.joined(separator: "\n"))", sourceLocation: sourceLocation)
        throw ScreenTimeout(what: what)
    }

    /// Waits until some line contains `text`.
    @discardableResult
    public func waitFor(text: String, timeout: TimeInterval = 20, sourceLocation: SourceLocation = #_sourceLocation) async throws -> [String] {
        try await waitFor("'\(text)'", timeout: timeout, sourceLocation: sourceLocation) { $0.contains { $0.contains(text) } }
    }
}

/// A count as the app shows it (`1,234`), written here independently of the app's formatter.
public func formatted(_ n: Int) -> String {
    let f = NumberFormatter()
    f.numberStyle = .decimal
    f.groupingSeparator = ","
    f.locale = Locale(identifier: "en_US_POSIX")
    return f.string(from: NSNumber(value: n)) ?? String(n)
}

/// The status line's `selected / total` counter.
public struct Position: Equatable, CustomStringConvertible, Sendable {
    public var selected: Int
    public var total: Int
    public init(_ selected: Int, _ total: Int) { self.selected = selected; self.total = total }
    public var description: String { "\(selected) / \(total)" }
}

/// The index of the hint bar (it starts with `? help`); the status line is just above it.
public func hintBarIndex(_ lines: [String]) -> Int? {
    lines.lastIndex { $0.hasPrefix(" ? help") }
}

/// The `selected / total` counter at the end of the status line.
public func position(in lines: [String]) -> Position? {
    guard let h = hintBarIndex(lines), h > 0 else { return nil }
    let status = lines[h - 1]
    guard let match = status.firstMatch(of: /([0-9][0-9,]*) \/ ([0-9][0-9,]*)\s*$/),
          let a = Int(match.1.replacingOccurrences(of: ",", with: "")),
          let b = Int(match.2.replacingOccurrences(of: ",", with: "")) else { return nil }
    return Position(a, b)
}
