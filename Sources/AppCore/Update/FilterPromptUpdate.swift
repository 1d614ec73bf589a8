import Foundation

/// What the filter prompt's keys do (bound in `KeyTable.filterPrompt`).
public enum FilterPromptAction: Hashable, Sendable {
    case keep, clear, deleteBack, clearText, move(Motion)
    /// A character the prompt does not bind: it is typed.
    case type(Character)
}

/// The filter prompt's keys (`KeyTable.filterPrompt`): the list narrows as the text changes.
func handleFilterPrompt(_ action: FilterPromptAction, _ state: inout AppState) -> [Effect] {
    guard var f = state.filter else { return [] }
    switch action {
    case .keep:
        if f.text.trimmingCharacters(in: .whitespaces).isEmpty || f.query == nil && f.error == nil {
            state.filter = nil
            return []
        }
        f.editing = false
        state.filter = f
        if f.error != nil { state.flash = "The filter does not apply: \(f.error!)" }
        return []
    case .clear:
        clearFilter(&state)
        return []
    case .deleteBack:
        if f.text.isEmpty {
            clearFilter(&state)
            return []
        }
        f.text.removeLast()
    case .clearText:
        f.text = ""
    case .move(let motion):
        state.filter?.anchor = nil
        return moveList(motion, &state)
    case .type(let c):
        f.text.append(c)
    }
    applyFilterText(f, &state)
    return []
}

/// The run loop has a moment: the filter examines its next rows.
func filterStep(_ state: inout AppState) -> [Effect] {
    state.filterNewRows()
    if let f = state.filter, f.editing, let anchor = f.anchor {
        // Until the user moves, the selection stays on (or next to) the entry it was on.
        state.selected = state.visiblePosition(nearStoreIndex: anchor)
        keepSelectionVisible(&state, centre: true)
    } else {
        keepSelectionVisible(&state)
    }
    return []
}

/// Re-runs the filter for new text, keeping the selection on (or near) the same entry.
private func applyFilterText(_ new: FilterState, _ state: inout AppState) {
    var f = new
    let keep = f.anchor ?? state.selectedStoreIndex
    let previous = state.filter
    do {
        f.query = try FeedFilter.parse(f.text)
        f.error = nil
    } catch {
        // Keep showing what the last valid text matched while the user types on.
        f.error = error.message
        f.query = previous?.query
        f.matches = previous?.matches ?? []
        f.scanned = previous?.scanned ?? 0
        state.filter = f
        return
    }
    // Typing on (a longer word, a narrower value, another term) can only narrow the filter:
    // test the rows it matched instead of every row, so a million rows stay quick key by key.
    if let prev = previous, let old = prev.query, let query = f.query, query.narrows(old) {
        // What the wider filter matched, plus what it had still to test, is all there is to test.
        var candidates = prev.matches
        if let rest = prev.candidates { candidates += rest[prev.candidateCursor...] }
        candidates.sort()
        f.candidates = candidates
        f.candidateCursor = 0
        f.matches = []
        f.scanned = prev.scanned
    } else {
        f.candidates = nil
        f.candidateCursor = 0
        f.matches = []
        f.scanned = 0
    }
    state.filter = f
    state.filterNewRows()
    if let keep {
        state.selected = state.visiblePosition(nearStoreIndex: keep)
    }
    state.top = 0
    keepSelectionVisible(&state, centre: true)
}

func clearFilter(_ state: inout AppState) {
    let row = state.selectedStoreIndex ?? state.filter?.anchor
    state.filter = nil
    if let row { state.selected = row }
    keepSelectionVisible(&state, centre: true)
}
