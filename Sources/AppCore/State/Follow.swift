import Foundation

/// Follow mode (`f`): once the feed is read to the end, poll it every `interval` for new
/// entries, and keep the list at the bottom while the user is there.
public struct FollowState: Sendable, Equatable {
    public var on = false
    /// Seconds between polls (`--follow-interval`, default 5).
    public var interval: TimeInterval = 5
    public init() {}

    /// When the next poll is due, if following and the fetcher rests at the end of the feed.
    public func nextPoll(after caughtUpAt: Date?, phase: FetchPhase) -> Date? {
        guard on, phase == .idle, let at = caughtUpAt else { return nil }
        return at.addingTimeInterval(interval)
    }
}
