/// What the search prompt's keys do (bound in `KeyTable.detailSearch`).
public enum DetailSearchAction: Hashable, Sendable {
    case keep, cancel, deleteBack, clearText
    /// A character the prompt does not bind: it is typed.
    case type(Character)
}

/// The detail view's search prompt (`KeyTable.detailSearch`): the cursor goes to matches as the text changes.
func handleDetailSearch(_ action: DetailSearchAction, _ state: inout AppState) -> [Effect] {
    guard var s = state.detail?.search else { return [] }
    switch action {
    case .keep:
        s.editing = false
        if s.query.isEmpty {
            state.detail?.search = nil
            return []
        }
        state.detail?.search = s
        if s.matches.isEmpty { state.flash = "No match for '\(s.query)'." }
        return []
    case .cancel:
        state.detail?.search = nil
        moveDetail(&state, to: s.origin)
        return []
    case .deleteBack:
        if s.query.isEmpty {
            state.detail?.search = nil
            return []
        }
        s.query.removeLast()
    case .clearText:
        s.query = ""
    case .type(let c):
        s.query.append(c)
    }
    state.detail?.search = s
    runSearch(&state)
    return []
}

/// Finds the query in the fields and the metadata; matches inside collapsed sequences are
/// revealed; the cursor goes to the first match at or after where the search started.
func runSearch(_ state: inout AppState) {
    guard var d = state.detail, var s = d.search else { return }
    let needle = s.query.lowercased()
    guard !needle.isEmpty else {
        s.matches = []
        s.current = nil
        state.detail?.search = s
        return
    }
    var hitNodes: Set<Int> = []
    if let tree = d.tree {
        hitNodes = Set(tree.search(needle))
        for id in hitNodes { for a in tree.ancestors(of: id) { d.collapsed.remove(a) } }
        state.detail = d
    }
    let lines = state.detailLines
    s.matches = lines.indices.filter { i in
        if case .node(let id) = lines[i].kind { return hitNodes.contains(id) }
        return lines[i].searchText.contains(needle)
    }
    s.current = s.matches.firstIndex { $0 >= s.origin } ?? (s.matches.isEmpty ? nil : 0)
    state.detail?.search = s
    if let c = s.current { moveDetail(&state, to: s.matches[c]) }
}

/// `n`, `N`: the next or previous match, wrapping around.
func stepMatch(_ state: inout AppState, forward: Bool) {
    guard let s = state.detail?.search, !s.query.isEmpty else {
        state.flash = "No search: / searches the metadata."
        return
    }
    guard !s.matches.isEmpty, let cursor = state.detail?.cursor else {
        state.flash = "No match for '\(s.query)'."
        return
    }
    let next: Int
    if forward {
        next = s.matches.firstIndex { $0 > cursor } ?? 0
        if next == 0 && s.matches[0] <= cursor { state.flash = "Search wrapped to the top." }
    } else {
        next = s.matches.lastIndex { $0 < cursor } ?? s.matches.count - 1
        if next == s.matches.count - 1 && s.matches[next] >= cursor { state.flash = "Search wrapped to the bottom." }
    }
    state.detail?.search?.current = next
    moveDetail(&state, to: s.matches[next])
}
