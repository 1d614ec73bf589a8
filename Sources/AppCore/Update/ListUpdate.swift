import TerminalKit

/// What the list's keys do (bound in `KeyTable.list`).
public enum ListAction: Hashable, Sendable {
    case move(Motion), open, filter, clearFilter, copy
    /// `:`: go to a sequence or a time.
    case seek
    /// `'`: go to where the last run stopped.
    case goSaved
}

/// The list's keys (`KeyTable.list`).
func handleList(_ action: ListAction, _ state: inout AppState) -> [Effect] {
    switch action {
    case .move(let motion): return moveList(motion, &state)
    case .seek: state.seekPrompt = ""
    case .goSaved: return goToSaved(&state)
    case .open: return openDetail(&state)
    case .filter:
        var f = state.filter ?? FilterState(anchor: state.selectedStoreIndex)
        f.editing = true
        if f.anchor == nil { f.anchor = state.selectedStoreIndex }
        state.filter = f
    case .clearFilter:
        if state.filter != nil { clearFilter(&state) }
    case .copy:
        guard let row = state.selectedStoreIndex else {
            state.flash = "Nothing to copy: the list is empty."
            return []
        }
        let e = state.entries[row]
        if e.sopInstanceUid.isEmpty {
            state.flash = "This row has no SOP instance UID to copy."
            return []
        }
        return [.copy(e.sopInstanceUid, label: "SOP instance UID \(e.sopInstanceUid)")]
    }
    return []
}

/// The wheel scrolls, a click selects, a double click opens.
func handleListMouse(_ m: MouseEvent, _ state: inout AppState) -> [Effect] {
    switch m.kind {
    case .wheelDown: move(&state, by: 3)
    case .wheelUp: move(&state, by: -3)
    case .click, .press, .doubleClick:
        let row = m.row - Layout.headerRows - (state.showsOlderRow ? 1 : 0)
        if row >= 0, row < state.listRows, state.top + row < state.visibleCount {
            let target = state.top + row
            if target < state.selected { stopFollowingOnScrollUp(&state) }
            select(&state, target)
            if case .doubleClick = m.kind {
                // Opening from the prompt keeps the filter first, as Enter would: the keys then
                // belong to the detail view, not to the prompt still being typed.
                if state.filter?.editing == true { _ = handleFilterPrompt(.keep, &state) }
                return openDetail(&state)
            }
        }
    default: break
    }
    return []
}

func stopFollowingOnScrollUp(_ state: inout AppState) {
    guard state.follow.on else { return }
    state.follow.on = false
    state.flash = "Stopped following (you scrolled up); f follows again."
}

// MARK: - Moving in the list

/// Moves the selection; moving up stops follow mode. `g` and `G` go to the feed's first and
/// newest entries, loading them when the list does not hold them.
@discardableResult
func moveList(_ motion: Motion, _ state: inout AppState) -> [Effect] {
    state.reach.select = nil
    if motion.goesUp { stopFollowingOnScrollUp(&state) }
    if motion == .first, state.reach.olderExists { return seek(.first, &state) }
    if motion == .last, state.reach.newerExists || state.reach.bounded { return seek(.newest, &state) }
    if motion.goesUp, state.selected == 0, state.reach.olderProblem != nil {
        state.reach.olderProblem = nil   // at the top after a failed read of older rows: try again
    }
    select(&state, motion.target(from: state.selected, page: state.listRows, count: state.visibleCount))
    return []
}

private func move(_ state: inout AppState, by delta: Int) {
    state.reach.select = nil
    if delta < 0 { stopFollowingOnScrollUp(&state) }
    select(&state, state.selected + delta)
}

func select(_ state: inout AppState, _ index: Int) {
    state.selected = max(0, min(index, state.visibleCount - 1))
    keepSelectionVisible(&state)
}

/// Scrolls so the selected row is on screen and the list never shows empty rows past its end
/// while there are rows above. With `centre`, a selection that has to move into view lands
/// in the middle of the screen.
func keepSelectionVisible(_ state: inout AppState, centre: Bool = false) {
    let rows = state.listRows
    let count = state.visibleCount
    state.selected = max(0, min(state.selected, count - 1))
    if centre, state.selected < state.top || state.selected >= state.top + rows {
        state.top = state.selected - rows / 2
    }
    if state.selected < state.top { state.top = state.selected }
    if state.selected >= state.top + rows { state.top = state.selected - rows + 1 }
    state.top = max(0, min(state.top, max(0, count - rows)))
}
