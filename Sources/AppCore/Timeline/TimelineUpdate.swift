import Foundation
import FeedModel

/// What the strip cursor's keys do (bound in `KeyTable.timeline`).
public enum TimelineAction: Hashable, Sendable {
    /// `T` in the list puts the cursor on the strip.
    case open
    case left, right, pageLeft, pageRight, start, end, go, leave
}

/// What the activity view's keys do (bound in `KeyTable.activity`).
public enum ActivityAction: Hashable, Sendable {
    /// `a` in the list opens it.
    case open
    case close
}

/// `T` in the list: a cursor on the strip, at the view's position (else at the end).
func openTimelineCursor(_ state: inout AppState) -> [Effect] {
    guard let curve = state.timeline.curve else {
        state.flash = "No timeline yet: " + timelineWhyNot(state)
        return []
    }
    let width = TimelineLayout.bars(cols: state.screenCols).width
    let at = timelineViewColumn(state, curve: curve, width: width) ?? width - 1
    state.timeline.cursor = at
    return []
}

/// `a`: the activity view; it counts the actions of the rows loaded so far.
func openActivityView(_ state: inout AppState) -> [Effect] {
    var counts = ActionCounts()
    for row in state.entries.indices where !state.entries.isUnreadable(at: row) { counts[state.entries.action(at: row)] += 1 }
    state.timeline.loadedActions = counts
    state.timeline.viewOpen = true
    return []
}

func handleTimeline(_ action: TimelineAction, _ state: inout AppState) -> [Effect] {
    let width = TimelineLayout.bars(cols: state.screenCols).width
    let at = min(state.timeline.cursor ?? width - 1, width - 1)
    let step = max(2, width / 10)
    switch action {
    case .open: return openTimelineCursor(&state)
    case .left: state.timeline.cursor = max(0, at - 1)
    case .right: state.timeline.cursor = min(width - 1, at + 1)
    case .pageLeft: state.timeline.cursor = max(0, at - step)
    case .pageRight: state.timeline.cursor = min(width - 1, at + step)
    case .start: state.timeline.cursor = 0
    case .end: state.timeline.cursor = width - 1
    case .leave: state.timeline.cursor = nil
    case .go:
        state.timeline.cursor = nil
        guard let curve = state.timeline.curve else { return [] }
        return timelineGo(&state, to: timelineCursorTime(curve, column: at, width: width))
    }
    return []
}

func handleActivity(_ action: ActivityAction, _ state: inout AppState) -> [Effect] {
    switch action {
    case .open: return openActivityView(&state)
    case .close: state.timeline.viewOpen = false
    }
    return []
}

/// The time the cursor at `column` stands for: the middle of its bucket, but the first entry's
/// time at the strip's start and the latest entry's at its end.
public func timelineCursorTime(_ curve: ActivityCurve, column: Int, width: Int) -> Timestamp {
    if column <= 0 { return Timestamp(ticks: curve.startTicks) }
    if column >= width - 1 { return Timestamp(ticks: curve.endTicks) }
    return Timestamp(ticks: curve.middle(ofColumn: column, width: width))
}

/// The column of the selected row's time on a strip `width` wide, if a row is selected.
public func timelineViewColumn(_ state: AppState, curve: ActivityCurve, width: Int) -> Int? {
    guard let row = state.selectedStoreIndex, state.entries[row].timeKnown else { return nil }
    return curve.column(ofTicks: state.entries.timestamp(at: row).ticks, width: width)
}

/// Why there is no timeline, in a few words.
public func timelineWhyNot(_ state: AppState) -> String {
    switch state.timeline.status {
    case .notAsked: "the probes run once there is a token."
    case .probing: "probing the feed…"
    case .ready: "the probes found nothing."
    case .empty: "the feed is empty."
    case .unavailable(let why): why
    }
}

// MARK: - Probes

/// Starts the probes unless they are running (or there is no token to send).
func probeActivity(_ state: inout AppState) -> [Effect] {
    guard !state.timeline.probing, state.token.info != nil else { return [] }
    state.timeline.probing = true
    if state.timeline.curve == nil { state.timeline.status = .probing }
    return [.probeActivity]
}

/// The first token: the timeline's first probes. A new token also retries probes that failed
/// (a refused token, say: one request when the service has no v1).
func timelineAfterToken(_ state: inout AppState) -> [Effect] {
    switch state.timeline.status {
    case .notAsked, .unavailable: probeActivity(&state)
    case .probing, .ready, .empty: []
    }
}

/// While following, the probes run again every `refreshInterval` (between, `/latest` extends the curve).
func timelineTick(_ state: inout AppState) -> [Effect] {
    guard state.follow.on, let at = state.timeline.probedAt,
          state.now.timeIntervalSince(at) >= state.timeline.refreshInterval else { return [] }
    return probeActivity(&state)
}

/// The probes answered.
func activityProbed(_ outcome: ActivityOutcome, _ state: inout AppState) -> [Effect] {
    state.timeline.probing = false
    state.timeline.probedAt = state.now
    switch outcome {
    case .sample(let sample) where !sample.points.isEmpty:
        state.timeline.sample = sample
        state.timeline.curve = ActivityCurve(sample)
        state.timeline.status = .ready
    case .sample, .empty:
        state.timeline.sample = nil
        state.timeline.curve = nil
        state.timeline.status = .empty
    case .noV1(let why), .failed(let why):
        // A sample from before stays on screen; the failure shows only when there is none.
        if state.timeline.curve == nil { state.timeline.status = .unavailable(why) }
        else { state.flash = "The activity probes failed: \(why)" }
    }
    return []
}

/// A fetcher run began with `/latest`: a newer latest entry extends the curve at no cost.
func timelineHeardLatest(sequence: Int64?, timestamp: Timestamp?, _ state: inout AppState) {
    guard let sequence, let timestamp, var sample = state.timeline.sample,
          sequence > sample.latest.sequence, timestamp >= sample.latest.timestamp else { return }
    sample.latest = ProbePoint(sequence: sequence, timestamp: timestamp)
    state.timeline.sample = sample
    state.timeline.curve = ActivityCurve(sample)
}
