import FeedModel

/// Starts a fetcher run from `point` (the effect), noting where the run starts.
func startRun(_ state: inout AppState, from point: FeedCursor.Start) -> [Effect] {
    state.fetch.phase = .fetching
    state.fetch.problem = nil
    state.fetch.runStart = point
    return [.startFetching(point)]
}

func fetchStarted(_ state: inout AppState) -> [Effect] {
    state.fetch.phase = .fetching
    state.fetch.problem = nil
    return []
}

/// A page arrived: its rows join the list; in follow mode at the bottom, the selection stays there.
func pageLoaded(_ entries: [ChangeFeedEntry], unreadable: [UnreadableEntry], _ state: inout AppState) -> [Effect] {
    let atBottom = state.visibleCount == 0 || state.selected >= state.visibleCount - 1
    if state.metadataWithPages {
        for e in entries where e.metadata != nil { state.metadataCache.insert(e) }
    }
    let live = state.fetch.caughtUpAt != nil && !state.fetch.rereading
    state.merge(entries, unreadable: unreadable, inferStates: live, summary: { e in e.metadata.map(RowSummary.init(metadata:)) ?? RowSummary() })
    state.fetch.pagesLoaded += 1
    state.fetch.retryAttempt = nil
    state.fetch.problem = nil
    if let highest = entries.map(\.sequence).max(), highest > (state.fetch.latestSequence ?? 0) {
        state.fetch.latestSequence = highest
    }
    if state.follow.on && atBottom && state.detail == nil {
        select(&state, state.visibleCount - 1)
    } else {
        keepSelectionVisible(&state)
    }
    return []
}

func latest(sequence: Int64?, timestamp: Timestamp?, _ state: inout AppState) -> [Effect] {
    if let sequence { state.fetch.latestSequence = max(sequence, state.fetch.latestSequence ?? 0) }
    state.runStarted(latestSequence: sequence, latestTime: timestamp)
    return []
}

/// The end of the feed: a re-read (`R`) or the names' load (`M`) says what it did.
func caughtUp(_ state: inout AppState) -> [Effect] {
    state.runFinished()
    state.fetch.phase = .idle
    state.fetch.retryAttempt = nil
    state.fetch.caughtUpAt = state.now
    if state.fetch.rereading {
        state.fetch.rereading = false
        let added = state.entries.count - state.fetch.rereadFrom
        state.flash = "Re-read done: \(Format.count(state.fetch.rewritten)) state\(state.fetch.rewritten == 1 ? "" : "s") updated"
            + (added > 0 ? ", \(Format.count(added)) new entr\(added == 1 ? "y" : "ies")." : ".")
    }
    if state.fetch.loadingNames {
        state.fetch.loadingNames = false
        state.rescanFilter()
        if state.filter?.query != nil { state.selected = min(state.selected, max(0, state.visibleCount - 1)) }
        keepSelectionVisible(&state)
        state.flash = "Names loaded for \(Format.count(state.entries.summaryCount)) of \(Format.count(state.entries.count)) entries"
            + (state.filter?.query != nil ? "; the filter matches \(Format.count(state.visibleCount))." : ".")
    }
    return []
}

func fetchRetrying(_ problem: Problem, attempt: Int, _ state: inout AppState) -> [Effect] {
    state.fetch.problem = problem
    state.fetch.retryAttempt = attempt
    return []
}

func fetchStopped(_ problem: Problem, needsToken: Bool, _ state: inout AppState) -> [Effect] {
    state.fetch.phase = .stopped
    state.fetch.problem = problem
    state.fetch.retryAttempt = nil
    state.fetch.stoppedForToken = needsToken
    state.fetch.rereading = false
    return []
}
