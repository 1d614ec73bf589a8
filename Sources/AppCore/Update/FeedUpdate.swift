import FeedModel

/// Starts a fetcher run from `point` (the effect), noting where the run starts.
func startRun(_ state: inout AppState, from point: FeedCursor.Start) -> [Effect] {
    state.fetch.phase = .fetching
    state.fetch.problem = nil
    state.fetch.retryAttempt = nil
    state.fetch.runStart = point
    state.reach.bounded = false
    return [.startFetching(point)]
}

/// Reads a jump's neighbourhood from `point` (or newer rows after it): about
/// `Reach.neighbourhood` rows, then the run pauses.
func startNeighbourhood(_ state: inout AppState, from point: FeedCursor.Start, rows: Int? = nil) -> [Effect] {
    state.fetch.phase = .fetching
    state.fetch.problem = nil
    state.fetch.retryAttempt = nil
    state.fetch.runStart = point
    state.reach.bounded = true
    state.reach.newerExists = false
    return [.fetchNeighbourhood(point, rows: rows ?? state.reach.neighbourhood)]
}

/// Reads the loaded range again (`R` at rest, `M`): from the list's start to the end of the feed
/// when the list reaches it, else only as many rows as the list holds (a jump's neighbourhood:
/// the rest of the feed is not read for it).
func rereadLoaded(_ state: inout AppState) -> [Effect] {
    guard state.reach.bounded || state.reach.newerExists else { return startRun(&state, from: state.origin) }
    return startNeighbourhood(&state, from: state.origin, rows: max(state.reach.neighbourhood, state.entries.count))
}

/// Goes on after a stop (a new token, `R`): the jump that could not start, or the read that
/// stopped, from where it stopped and as it was (to the end, or a neighbourhood).
func resumeRun(_ state: inout AppState) -> [Effect] {
    state.fetch.stoppedForToken = false
    if let target = state.reach.retrySeek {
        state.reach.retrySeek = nil
        return seek(target, &state)
    }
    return state.reach.bounded ? startNeighbourhood(&state, from: state.resumePoint) : startRun(&state, from: state.resumePoint)
}

func fetchStarted(_ state: inout AppState) -> [Effect] {
    state.fetch.phase = .fetching
    state.fetch.problem = nil
    return []
}

/// A page arrived: its rows join the list; in follow mode at the bottom, the selection stays there.
func pageLoaded(_ entries: [ChangeFeedEntry], unreadable: [UnreadableEntry], _ state: inout AppState) -> [Effect] {
    let atBottom = state.visibleCount == 0 || state.selected >= state.visibleCount - 1
    if !entries.isEmpty || !unreadable.isEmpty { state.reach.lastRead = .newer }
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
    if state.reach.select != nil {
        placeSelection(&state, final: false)
    } else if state.follow.on && atBottom && state.detail == nil {
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
    state.reach.newerExists = false
    if state.reach.select != nil { placeSelection(&state, final: true) }
    finishRereads(&state)
    return []
}

/// A re-read (`R`) or the names' load (`M`) came to its end (of the feed, or of the range a
/// jump's list holds): say what it did.
func finishRereads(_ state: inout AppState) {
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
