import FeedModel

/// Enter on the strip's cursor: go to the time chosen, as `:` with that time does (selected at
/// once when the list holds it, else only that neighbourhood of the feed is read).
public func timelineGo(_ state: inout AppState, to time: Timestamp) -> [Effect] {
    state.reach.select = nil
    state.flash = "Timeline: \(Format.dateTime(time, in: state.timeZone))."
    return seek(.time(time), &state)
}
