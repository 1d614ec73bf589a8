import FeedModel

/// Enter on the strip's cursor: go to the time chosen. For now this selects the loaded row
/// nearest that time when the time is within the loaded rows, and otherwise says in the status
/// line what time was chosen. (A seek that loads any position can take over here.)
public func timelineGo(_ state: inout AppState, to time: Timestamp) -> [Effect] {
    let entries = state.entries
    var lowest = Int64.max, highest = Int64.min
    var nearest: Int?
    var distance = UInt64.max
    for row in entries.indices where entries.sequenceKnown(at: row) && !entries.isUnreadable(at: row) {
        let t = entries.timestamp(at: row).ticks
        lowest = min(lowest, t)
        highest = max(highest, t)
        let d = t.subtractingReportingOverflow(time.ticks).partialValue.magnitude
        if d < distance {
            distance = d
            nearest = row
        }
    }
    let when = Format.dateTime(time, in: state.timeZone)
    guard let row = nearest else {
        state.flash = "Timeline: \(when) chosen; no rows are loaded yet."
        return []
    }
    guard time.ticks >= lowest, time.ticks <= highest else {
        state.flash = "Timeline: \(when) chosen, outside the rows loaded ("
            + Format.dateTime(Timestamp(ticks: lowest), in: state.timeZone) + " to "
            + Format.dateTime(Timestamp(ticks: highest), in: state.timeZone) + ")."
        return []
    }
    let target = state.visiblePosition(nearStoreIndex: row)
    if target < state.selected { stopFollowingOnScrollUp(&state) }
    state.selected = max(0, min(target, state.visibleCount - 1))
    keepSelectionVisible(&state, centre: true)
    state.flash = "Timeline: \(when) · row \(Format.count(state.selected + 1)), sequence \(Format.count(entries.sequence(at: row)))."
    return []
}
