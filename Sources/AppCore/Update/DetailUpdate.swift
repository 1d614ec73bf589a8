import DicomKit
import FeedModel
import TerminalKit

/// What the detail view's keys do (bound in `KeyTable.detail`).
public enum DetailAction: Hashable, Sendable {
    case move(Motion)
    /// `Esc`: closes the search if one is shown, else goes back to the list.
    case dismiss
    case back, toggle, expandAll, collapseAll, previousEntry, nextEntry, search, nextMatch, previousMatch, copy
}

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
    state.detail?.tree = e.metadata.map { MetadataTree(json: $0.value) }
    state.detail?.collapsed = []
    if let search = state.detail?.search, !search.query.isEmpty { runSearch(&state) }
}

/// The detail view's keys (`KeyTable.detail`).
func handleDetail(_ action: DetailAction, _ state: inout AppState) -> [Effect] {
    guard var d = state.detail else { return [] }
    let lines = state.detailLines
    switch action {
    case .dismiss where d.search != nil:
        state.detail?.search = nil
    case .dismiss, .back:
        state.detail = nil
        keepSelectionVisible(&state)
    case .move(let motion):
        moveDetail(&state, to: motion.target(from: d.cursor, page: detailPageRows(state), count: lines.count))
    case .toggle:
        guard d.cursor < lines.count, case .node(let id) = lines[d.cursor].kind, let tree = d.tree, tree[id].hasChildren else {
            return []
        }
        if d.collapsed.contains(id) { d.collapsed.remove(id) } else { d.collapsed.insert(id) }
        state.detail = d
    case .collapseAll:
        guard let tree = d.tree else { return [] }
        let anchor = nodeAtCursor(state, lines)
        d.collapsed = Set(tree.nodes.filter { $0.hasChildren && $0.kind != .nameGroup }.map(\.id))
        state.detail = d
        if let anchor { placeCursor(onNode: tree.ancestors(of: anchor).first ?? anchor, &state) }
    case .expandAll:
        let anchor = nodeAtCursor(state, lines)
        d.collapsed = []
        state.detail = d
        if let anchor { placeCursor(onNode: anchor, &state) }
    case .nextEntry: return openNeighbour(1, &state)
    case .previousEntry: return openNeighbour(-1, &state)
    case .search:
        var s = d.search ?? DetailSearch(origin: d.cursor)
        s.editing = true
        s.origin = d.cursor
        state.detail?.search = s
    case .nextMatch: stepMatch(&state, forward: true)
    case .previousMatch: stepMatch(&state, forward: false)
    case .copy:
        guard d.cursor < lines.count, let text = lines[d.cursor].copyText, !text.isEmpty else {
            state.flash = "Nothing to copy on this line."
            return []
        }
        let line = lines[d.cursor]
        var label = line.label
        if case .node(let id) = line.kind, let tag = d.tree?[id].tag { label = "\(tag.text) \(d.tree![id].keyword)" }
        return [.copy(text, label: "\(label) (\(text.count) characters)")]
    }
    return []
}

/// `]` and `[`: the next or previous entry of the list (as filtered), without going back to it;
/// a search goes on in it.
private func openNeighbour(_ delta: Int, _ state: inout AppState) -> [Effect] {
    guard let d = state.detail else { return [] }
    let target = state.selected + delta
    guard target >= 0, target < state.visibleCount else {
        state.flash = delta > 0 ? "This is the last entry of the list." : "This is the first entry of the list."
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

/// The entry a detail view asked for arrived (nil: the service has no such entry).
func entryLoaded(sequence: Int64, _ entry: ChangeFeedEntry?, _ state: inout AppState) -> [Effect] {
    if let entry {
        state.metadataCache.insert(entry)
        state.refreshRow(entry, summary: entry.metadata.map(RowSummary.init(metadata:)) ?? RowSummary())
    }
    if state.detail?.sequence == sequence, state.detail?.load == .loading {
        state.detail?.load = entry.map { .loaded($0) } ?? .notFound
        detailLoaded(&state)
    }
    return []
}

func entryFailed(sequence: Int64, _ problem: Problem, _ state: inout AppState) -> [Effect] {
    if state.detail?.sequence == sequence { state.detail?.load = .failed(problem) }
    return []
}

func handleDetailMouse(_ m: MouseEvent, _ state: inout AppState) -> [Effect] {
    switch m.kind {
    case .wheelDown: moveDetail(&state, by: 3)
    case .wheelUp: moveDetail(&state, by: -3)
    case .click, .press, .doubleClick:
        let row = m.row - Layout.headerRows
        guard let d = state.detail, row >= 0, row < detailPageRows(state) else { return [] }
        moveDetail(&state, to: d.top + row)
        // As Enter: expand or collapse, or keep the search being typed.
        if case .doubleClick = m.kind {
            return d.search?.editing == true ? handleDetailSearch(.keep, &state) : handleDetail(.toggle, &state)
        }
    default: break
    }
    return []
}

func moveDetail(_ state: inout AppState, by delta: Int) {
    guard let d = state.detail else { return }
    moveDetail(&state, to: d.cursor + delta)
}

func moveDetail(_ state: inout AppState, to line: Int) {
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
