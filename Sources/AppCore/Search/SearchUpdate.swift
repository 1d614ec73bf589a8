import FeedModel
import Foundation

/// What the whole-feed search's keys do (bound in `KeyTable.search`).
public enum SearchAction: Hashable, Sendable {
    /// `F` in the list, with a filter kept.
    case open
    case move(Motion), go, stop, close
}

func handleSearch(_ action: SearchAction, _ state: inout AppState) -> [Effect] {
    switch action {
    case .open: return openSearch(&state)
    case .move(let motion):
        guard var s = state.search else { return [] }
        s.selected = motion.target(from: s.selected, page: searchRows(state), count: s.found.count)
        keepSearchSelectionVisible(&s, rows: searchRows(state))
        state.search = s
    case .go:
        guard var s = state.search, s.found.count > 0 else { return [] }
        let row = min(s.selected, s.found.count - 1)
        s.open = false
        state.search = s
        guard s.found.sequenceKnown(at: row) else {
            state.flash = "This element did not decode and its sequence is unknown: there is nowhere to go."
            return []
        }
        state.reach.select = nil
        return seek(.sequence(s.found.sequence(at: row)), &state)
    case .stop:
        guard var s = state.search, s.goesOn else { return [] }
        s.stopped = true
        state.search = s
    case .close:
        state.search?.open = false
    }
    return []
}

/// Rows the results view lists on screen.
func searchRows(_ state: AppState) -> Int { max(1, state.screenRows - 7) }

private func keepSearchSelectionVisible(_ s: inout FeedSearch, rows: Int) {
    s.selected = max(0, min(s.selected, s.found.count - 1))
    if s.selected < s.top { s.top = s.selected }
    if s.selected >= s.top + rows { s.top = s.selected - rows + 1 }
    s.top = max(0, min(s.top, max(0, s.found.count - rows)))
}

/// `F`: search the whole feed for the filter kept. The same filter again shows its results
/// (and goes on if the scan was stopped or failed); another starts a new scan.
func openSearch(_ state: inout AppState) -> [Effect] {
    guard let f = state.filter, let query = f.query else {
        state.flash = "F searches the whole feed for a filter: type one with / first."
        return []
    }
    if var s = state.search, s.text == f.text {
        s.open = true
        if s.before != nil && !s.cut && (s.stopped || s.problem != nil) {
            s.stopped = false
            s.problem = nil
        }
        state.search = s
        return readMoreForSearch(&state)
    }
    var s = FeedSearch(text: f.text, query: query, order: state.entries.order,
                       generation: (state.search?.generation ?? 0) + 1)
    // The list's own matches at once.
    let matcher = state.entries.matcher(for: query)
    for row in state.entries.indices where matcher.matches(row) { s.found.append(state.entries[row]) }
    s.examined = state.entries.count
    s.before = state.reach.olderExists ? state.origin : nil
    s.selected = max(0, s.found.count - 1)
    keepSearchSelectionVisible(&s, rows: searchRows(state))
    state.search = s
    return readMoreForSearch(&state)
}

/// The next read of the scan, if it goes on and none is under way.
func readMoreForSearch(_ state: inout AppState) -> [Effect] {
    guard var s = state.search, s.goesOn, !s.reading, s.problem == nil, let before = s.before else { return [] }
    s.reading = true
    state.search = s
    return [.searchOlder(before: before, spanHint: s.spanHint, generation: s.generation)]
}

/// Rows before where the scan was: their matches go in front, and the scan goes on from where
/// they begin.
func searchRead(_ entries: [ChangeFeedEntry], unreadable: [UnreadableEntry], boundary: FeedCursor.Start?,
                nextSpan: Int64?, generation: Int, _ state: inout AppState) -> [Effect] {
    guard var s = state.search, s.generation == generation else { return [] }
    s.reading = false
    if let nextSpan { s.spanHint = nextSpan }
    s.before = boundary
    // The page as a store of its own, for the filter's matcher.
    var page = EntryStore(order: s.found.order)
    walkPage(entries, unreadable, entry: { _, e in page.append(e, summary: e.metadata.map(RowSummary.init(metadata:)) ?? RowSummary()) },
             unreadable: { u, _ in page.insert(unreadable: u, at: page.count) })
    s.examined += page.count
    let matcher = page.matcher(for: s.query)
    var front = EntryStore(order: s.found.order)
    for row in page.indices where matcher.matches(row) { front.append(page[row]) }
    s.found.prepend(front)
    s.selected += front.count
    s.top += front.count
    if s.found.count > s.limit {
        let over = s.found.count - s.limit
        s.found = s.found.keeping(over..<s.found.count)
        s.selected = max(0, s.selected - over)
        s.top = max(0, s.top - over)
        s.cut = true
    }
    keepSearchSelectionVisible(&s, rows: searchRows(state))
    state.search = s
    return readMoreForSearch(&state)
}

func searchFailed(_ problem: Problem, generation: Int, _ state: inout AppState) -> [Effect] {
    guard state.search?.generation == generation else { return [] }
    state.search?.reading = false
    state.search?.problem = problem
    return []
}
