import DicomKit
import FeedModel
import TerminalKit

/// Rows of the screen the detail view's lines get (below the header, above status and hints).
func detailPageRows(_ state: AppState) -> Int { Layout.listRows(screenRows: state.screenRows) }

/// Enter on a row: open its detail view, from the cache or with a one-entry request.
func openDetail(_ state: inout AppState) -> [Effect] {
    guard let row = state.selectedStoreIndex else {
        state.flash = "Nothing to open: the list is empty."
        return []
    }
    let r = state.entries[row]
    if let reason = r.unreadable {
        state.detail = DetailState(row: row, sequence: r.sequence, load: .unreadable(reason))
        return []
    }
    if let cached = state.metadataCache[r.sequence] {
        state.detail = DetailState(row: row, sequence: r.sequence, load: .loaded(cached))
        detailLoaded(&state)
        return []
    }
    state.detail = DetailState(row: row, sequence: r.sequence, load: .loading)
    return [.loadEntry(sequence: r.sequence)]
}

/// The entry arrived: build its tree.
func detailLoaded(_ state: inout AppState) {
    guard case .loaded(let e)? = state.detail?.load else { return }
    state.detail?.tree = e.metadata.map { MetadataTree(json: $0) }
    state.detail?.collapsed = []
    if let search = state.detail?.search, !search.query.isEmpty { runSearch(&state) }
}

/// Keys of the detail view; nil hands the key to the global keys.
func handleDetail(_ key: Key, _ state: inout AppState) -> [Effect]? {
    guard var d = state.detail else { return nil }
    if d.search?.editing == true { return handleSearchPrompt(key, &state) }
    let lines = state.detailLines
    let page = detailPageRows(state)
    switch key {
    case .escape, .left, .char("h"), .backspace:
        if d.search != nil, key == .escape {
            state.detail?.search = nil
            return []
        }
        state.detail = nil
        keepSelectionVisible(&state)
        return []
    case .char("j"), .down: moveDetail(&state, by: 1)
    case .char("k"), .up: moveDetail(&state, by: -1)
    case .pageDown, .char(" "): moveDetail(&state, by: page)
    case .pageUp: moveDetail(&state, by: -page)
    case .ctrl("d"): moveDetail(&state, by: max(1, page / 2))
    case .ctrl("u"): moveDetail(&state, by: -max(1, page / 2))
    case .char("g"), .home: moveDetail(&state, to: 0)
    case .char("G"), .end: moveDetail(&state, to: lines.count - 1)
    case .enter, .tab, .right:
        guard d.cursor < lines.count, case .node(let id) = lines[d.cursor].kind, let tree = d.tree, tree[id].hasChildren else {
            return []
        }
        if d.collapsed.contains(id) { d.collapsed.remove(id) } else { d.collapsed.insert(id) }
        state.detail = d
    case .char("-"):
        guard let tree = d.tree else { return [] }
        let anchor = nodeAtCursor(state, lines)
        d.collapsed = Set(tree.nodes.filter { $0.hasChildren && $0.kind != .nameGroup }.map(\.id))
        state.detail = d
        if let anchor { placeCursor(onNode: tree.ancestors(of: anchor).first ?? anchor, &state) }
    case .char("+"), .char("="):
        let anchor = nodeAtCursor(state, lines)
        d.collapsed = []
        state.detail = d
        if let anchor { placeCursor(onNode: anchor, &state) }
    case .char("]"), .char("["):
        // The next or previous entry of the list (as filtered), without going back to it.
        let target = state.selected + (key == .char("]") ? 1 : -1)
        guard target >= 0, target < state.visibleCount else {
            state.flash = key == .char("]") ? "This is the last entry of the list." : "This is the first entry of the list."
            return []
        }
        let search = d.search.map { old -> DetailSearch in
            var s = DetailSearch(origin: 0)
            s.query = old.query
            s.editing = false
            return s
        }
        state.detail = nil
        select(&state, target)
        let effects = openDetail(&state)
        if let search, !search.query.isEmpty {
            state.detail?.search = search
            runSearch(&state)
        }
        return effects
    case .char("/"):
        var s = d.search ?? DetailSearch(origin: d.cursor)
        s.editing = true
        s.origin = d.cursor
        state.detail?.search = s
    case .char("n"): stepMatch(&state, forward: true)
    case .char("N"): stepMatch(&state, forward: false)
    case .char("y"):
        guard d.cursor < lines.count, let text = lines[d.cursor].copyText, !text.isEmpty else {
            state.flash = "Nothing to copy on this line."
            return []
        }
        let line = lines[d.cursor]
        var label = line.label
        if case .node(let id) = line.kind, let tag = d.tree?[id].tag { label = "\(tag.text) \(d.tree![id].keyword)" }
        return [.copy(text, label: "\(label) (\(text.count) characters)")]
    default:
        return nil
    }
    return []
}

private func nodeAtCursor(_ state: AppState, _ lines: [DetailLine]) -> Int? {
    guard let d = state.detail, d.cursor < lines.count, case .node(let id) = lines[d.cursor].kind else { return nil }
    return id
}

private func placeCursor(onNode id: Int, _ state: inout AppState) {
    let lines = state.detailLines
    if let i = lines.firstIndex(where: { $0.kind == .node(id) }) { moveDetail(&state, to: i) }
    else { keepDetailCursorVisible(&state) }
}

func handleDetailMouse(_ m: MouseEvent, _ state: inout AppState) -> [Effect] {
    switch m.kind {
    case .wheelDown: moveDetail(&state, by: 3)
    case .wheelUp: moveDetail(&state, by: -3)
    case .click, .press, .doubleClick:
        let row = m.row - Layout.headerRows
        guard let d = state.detail, row >= 0, row < detailPageRows(state) else { return [] }
        moveDetail(&state, to: d.top + row)
        if case .doubleClick = m.kind { return handleDetail(.enter, &state) ?? [] }
    default: break
    }
    return []
}

private func moveDetail(_ state: inout AppState, by delta: Int) {
    guard let d = state.detail else { return }
    moveDetail(&state, to: d.cursor + delta)
}

private func moveDetail(_ state: inout AppState, to line: Int) {
    guard state.detail != nil else { return }
    state.detail!.cursor = line
    keepDetailCursorVisible(&state)
}

func keepDetailCursorVisible(_ state: inout AppState) {
    guard var d = state.detail else { return }
    let count = state.detailLines.count
    let rows = detailPageRows(state)
    d.cursor = max(0, min(d.cursor, count - 1))
    if d.cursor < d.top { d.top = d.cursor }
    if d.cursor >= d.top + rows { d.top = d.cursor - rows + 1 }
    d.top = max(0, min(d.top, max(0, count - rows)))
    state.detail = d
}

// MARK: - Search in the metadata

private func handleSearchPrompt(_ key: Key, _ state: inout AppState) -> [Effect] {
    guard var s = state.detail?.search else { return [] }
    switch key {
    case .enter:
        s.editing = false
        if s.query.isEmpty {
            state.detail?.search = nil
            return []
        }
        state.detail?.search = s
        if s.matches.isEmpty { state.flash = "No match for '\(s.query)'." }
        return []
    case .escape:
        state.detail?.search = nil
        moveDetail(&state, to: s.origin)
        return []
    case .backspace, .delete:
        if s.query.isEmpty {
            state.detail?.search = nil
            return []
        }
        s.query.removeLast()
    case .ctrl("u"):
        s.query = ""
    case .char(let c):
        s.query.append(c)
    default:
        return []
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

private func stepMatch(_ state: inout AppState, forward: Bool) {
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
