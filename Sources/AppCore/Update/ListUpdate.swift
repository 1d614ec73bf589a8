import TerminalKit

/// What the list's keys do (bound in `KeyTable.list`).
public enum ListAction: Hashable, Sendable {
    case move(Motion), open, filter, clearFilter, copy
}

/// The list's keys (`KeyTable.list`).
func handleList(_ action: ListAction, _ state: inout AppState) -> [Effect] {
    switch action {
    case .move(let motion): moveList(motion, &state)
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
        let row = m.row - Layout.headerRows
        if row >= 0, row < Layout.listRows(screenRows: state.screenRows), state.top + row < state.visibleCount {
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

/// Moves the selection; moving up stops follow mode.
func moveList(_ motion: Motion, _ state: inout AppState) {
    if motion.goesUp { stopFollowingOnScrollUp(&state) }
    select(&state, motion.target(from: state.selected, page: Layout.listRows(screenRows: state.screenRows), count: state.visibleCount))
}

private func move(_ state: inout AppState, by delta: Int) {
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
    let rows = Layout.listRows(screenRows: state.screenRows)
    let count = state.visibleCount
    state.selected = max(0, min(state.selected, count - 1))
    if centre, state.selected < state.top || state.selected >= state.top + rows {
        state.top = state.selected - rows / 2
    }
    if state.selected < state.top { state.top = state.selected }
    if state.selected >= state.top + rows { state.top = state.selected - rows + 1 }
    state.top = max(0, min(state.top, max(0, count - rows)))
}
