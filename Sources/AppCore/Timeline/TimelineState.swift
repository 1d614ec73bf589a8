import Foundation
import FeedModel

/// The activity timeline: what the probes found, the strip's cursor (`T`) and the activity
/// view (`a`).
public struct TimelineState: Sendable, Equatable {
    public enum Status: Sendable, Equatable {
        /// No probe asked yet (no token yet).
        case notAsked
        case probing
        case ready
        /// The feed has no entries.
        case empty
        /// The probes could not answer: why (a service without v1, a refusal, the network).
        case unavailable(String)
    }

    public var status: Status = .notAsked
    /// The last sample that arrived, and its curve; kept while a new probe runs.
    public var sample: ActivitySample?
    public var curve: ActivityCurve?
    /// When the last sample arrived.
    public var probedAt: Date?
    /// A probe is running.
    public var probing = false
    /// How often the probes run again while following.
    public var refreshInterval: TimeInterval = 300
    /// The cursor's column on the strip, while `T` has put one there.
    public var cursor: Int?
    /// The activity view (`a`), while open, and the actions of the rows loaded when it opened.
    public var viewOpen = false
    public var loadedActions = ActionCounts()

    public init() {}
}

/// Where the strip goes on screen, for the view that draws it and the keys that move its cursor.
public enum TimelineLayout {
    /// The strip's row: under the title, token and identity lines.
    public static let row = 3
    /// Below this width the strip has no time labels at its ends.
    public static let labelledCols = 60
    /// The width of each end's label, its space included.
    public static func labelWidth(cols: Int) -> Int { cols >= labelledCols ? 12 : 1 }

    /// The first column of the bars and how many there are.
    public static func bars(cols: Int) -> (start: Int, width: Int) {
        let label = labelWidth(cols: cols)
        return (label, max(1, cols - 2 * label))
    }
}

extension Format {
    /// `11-28 09:12` (a range within a year) or `2024-03-04` (longer): the strip's end labels, 11 columns at most.
    public static func stripLabel(_ t: Timestamp, in zone: TimeZone, long: Bool) -> String {
        let text = dateTime(t, in: zone)   // 2026-11-26 14:03:05
        return long ? String(text.prefix(10)) : String(text.dropFirst(5).prefix(11))
    }

    /// `~1.2k`, `~340`, `~8`: an estimated count, short.
    public static func estimate(_ n: Double) -> String {
        let v = max(0, n)
        if v >= 1_000_000 { return String(format: "~%.1fM", v / 1_000_000) }
        if v >= 10_000 { return "~\(Int((v / 1000).rounded()))k" }
        if v >= 1_000 { return String(format: "~%.1fk", v / 1000) }
        return "~\(Int(v.rounded()))"
    }
}
