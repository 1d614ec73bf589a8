import FeedModel
import Foundation

// How much of the feed the list holds (see `Reach`): where it opens, jumps (`g`, `G`, `:`),
// older entries as the view comes near the list's start, newer ones near its end.

/// The first read, once there is a token: at the newest entries, unless told where to start
/// (or the list was there already: a profile switched back to goes on as it was).
func firstRead(_ state: inout AppState) -> [Effect] {
    if state.reach.tailFirst, state.entries.isEmpty, state.fetch.pagesLoaded == 0 { return seek(.newest, &state) }
    return resumeRun(&state)
}

/// Goes to `target`: at once when it is in the list already, else the list starts again
/// where it lands (after asking where that is, when the service must say).
func seek(_ target: SeekTarget, _ state: inout AppState) -> [Effect] {
    if selectIfLoaded(target, &state) { return [] }
    state.reach.generation += 1
    let generation = state.reach.generation
    state.reach.olderProblem = nil
    let sequenceMode = state.apiVersion.isSequenceMode
    switch target {
    case .newest:
        state.reach.seeking = .newest
        state.fetch.phase = .fetching
        state.fetch.problem = nil
        state.fetch.retryAttempt = nil
        return [.probeLatest(generation: generation)]
    case .first:
        return jump(to: .beginning, olderExists: false, select: .first, &state)
    case .sequence(let s) where sequenceMode:
        return jump(to: FeedCursor.Start(afterSequence: max(0, s - 1)), olderExists: s > 1, select: target, &state)
    case .time(let t) where !sequenceMode:
        return jump(to: FeedCursor.Start(startTime: t), olderExists: true, select: target, &state)
    case .sequence, .time:
        state.reach.seeking = target
        state.fetch.phase = .fetching
        state.fetch.problem = nil
        state.fetch.retryAttempt = nil
        return [.locate(target, generation: generation)]
    }
}

/// The target is among the rows loaded (or at an end the list reaches): select it.
private func selectIfLoaded(_ target: SeekTarget, _ state: inout AppState) -> Bool {
    guard !state.entries.isEmpty, state.reach.seeking == nil else { return false }
    switch target {
    case .first:
        guard !state.reach.olderExists else { return false }
    case .newest:
        guard !state.reach.newerExists, state.fetch.caughtUpAt != nil else { return false }
    case .sequence(let s):
        guard let row = firstRow(of: target, in: state), row > 0 || !state.reach.olderExists,
              state.entries.sequence(at: row) == s || row < state.entries.count - 1 else { return false }
    case .time:
        guard let row = firstRow(of: target, in: state), row > 0 || !state.reach.olderExists,
              row < state.entries.count - 1 || !state.reach.newerExists else { return false }
    }
    state.reach.select = target
    placeSelection(&state, final: true)
    return true
}

/// The store row a target stands for, among the rows loaded: the entry with the sequence (v1:
/// or the first after it), the first row at or after a time.
private func firstRow(of target: SeekTarget, in state: AppState) -> Int? {
    let store = state.entries
    guard !store.isEmpty else { return nil }
    switch target {
    case .first: return 0
    case .newest: return store.count - 1
    case .sequence(let s):
        if let row = store.position(ofSequence: s) { return row }
        guard store.order == .sequence else { return nil }
        let row = store.insertionPoint(sequence: s, ticks: 0)
        return row < store.count ? row : nil
    case .time(let t):
        var lo = 0, hi = store.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if store.timestamp(at: mid) < t { lo = mid + 1 } else { hi = mid }
        }
        return lo < store.count ? lo : nil
    }
}

/// The list starts again at `point`; only the neighbourhood is read.
private func jump(to point: FeedCursor.Start, olderExists: Bool, select: SeekTarget, _ state: inout AppState) -> [Effect] {
    if state.follow.on, select != .newest {
        state.follow.on = false
        state.flash = "Stopped following (you went elsewhere in the feed); G goes back to the newest, f follows."
    }
    state.restart(at: point)
    state.reach.seeking = nil
    state.reach.select = select
    state.reach.olderExists = olderExists
    state.reach.loadingOlder = false
    return startNeighbourhood(&state, from: point)
}

/// `/latest` answered a jump to the newest entries: the list starts a little before them (a
/// small feed, at its first entry) and reads to the end.
func latestProbed(sequence: Int64?, timestamp: Timestamp?, generation: Int, _ state: inout AppState) -> [Effect] {
    guard generation == state.reach.generation, state.reach.seeking == .newest else { return [] }
    state.reach.seeking = nil
    state.reach.newestSequence = sequence
    state.reach.newestTime = timestamp
    var point = FeedCursor.Start.beginning
    var older = false
    if let sequence, sequence > state.reach.wholeFeedUpTo {
        if state.apiVersion.isSequenceMode {
            point = FeedCursor.Start(afterSequence: max(0, sequence - state.reach.tailRows))
            older = point.afterSequence > 0
        } else if let timestamp {
            // Before the late window, so that nothing can still appear before the list's start.
            let lateWindow = Double(state.cursor.lateWindowTicks) / Double(Timestamp.ticksPerSecond)
            point = FeedCursor.Start(startTime: timestamp.adding(seconds: -(lateWindow + state.reach.tailSpan)))
            older = true
        }
    }
    if state.follow.on == false, !state.entries.isEmpty { state.flash = "The newest entries." }
    state.restart(at: point)
    state.reach.olderExists = older
    state.reach.newerExists = false
    state.reach.loadingOlder = false
    state.reach.select = .newest
    return startRun(&state, from: point)
}

/// Where a jump by sequence (v2) or time (v1) lands.
func located(_ point: FeedCursor.Start?, generation: Int, _ state: inout AppState) -> [Effect] {
    guard generation == state.reach.generation, let target = state.reach.seeking else { return [] }
    state.reach.seeking = nil
    guard let point else {
        state.flash = "Nothing at or after that point: the newest entries."
        return seek(.newest, &state)
    }
    let older = point.afterSequence > 0 || point.startTime != nil
    return jump(to: point, olderExists: older, select: target, &state)
}

func locateFailed(_ problem: Problem, generation: Int, _ state: inout AppState) -> [Effect] {
    guard generation == state.reach.generation, state.reach.seeking != nil else { return [] }
    state.reach.retrySeek = state.reach.seeking
    state.reach.seeking = nil
    state.fetch.phase = .stopped
    state.fetch.problem = problem
    state.fetch.retryAttempt = nil
    state.fetch.stoppedForToken = problem.needsToken
    return []
}

/// Older rows arrived: they go before the list's first.
func olderLoaded(_ entries: [ChangeFeedEntry], unreadable: [UnreadableEntry], boundary: FeedCursor.Start?,
                 nextSpan: Int64?, generation: Int, _ state: inout AppState) -> [Effect] {
    guard generation == state.reach.generation else { return [] }
    state.reach.loadingOlder = false
    state.reach.olderProblem = nil
    if let nextSpan { state.reach.spanHint = nextSpan }
    if state.metadataWithPages {
        for e in entries where e.metadata != nil { state.metadataCache.insert(e) }
    }
    state.prepend(entries, unreadable: unreadable, boundary: boundary,
                  summary: { e in e.metadata.map(RowSummary.init(metadata:)) ?? RowSummary() })
    state.reach.olderExists = boundary != nil
    if !entries.isEmpty || !unreadable.isEmpty { state.reach.lastRead = .older }
    if state.reach.select != nil { placeSelection(&state, final: false) }
    keepSelectionVisible(&state)
    return []
}

func olderFailed(_ problem: Problem, generation: Int, _ state: inout AppState) -> [Effect] {
    guard generation == state.reach.generation else { return [] }
    state.reach.loadingOlder = false
    state.reach.olderProblem = problem
    return []
}

/// A jump's neighbourhood is read; newer rows exist.
func paused(_ state: inout AppState) -> [Effect] {
    state.fetch.phase = .idle
    state.fetch.retryAttempt = nil
    state.reach.newerExists = true
    if state.reach.select != nil { placeSelection(&state, final: true) }
    finishRereads(&state)
    return []
}

/// Puts the selection where a jump asked, once the rows are there (`final`: the read is over,
/// go to the nearest row there is). Any key that moves the selection ends it.
func placeSelection(_ state: inout AppState, final: Bool) {
    guard let target = state.reach.select, !state.entries.isEmpty else { return }
    var row = firstRow(of: target, in: state)
    if row == nil, final { row = state.entries.count - 1 }
    guard let row else { return }
    state.selected = state.visiblePosition(nearStoreIndex: row)
    keepSelectionVisible(&state, centre: target != .newest && target != .first)
    // The newest row moves on while the read goes on; any other target stays where it is.
    if final || target != .newest { state.reach.select = nil }
}

/// After every event: read older rows when the view is near the list's start (or the list's
/// start may still gain late rows), newer ones near its end after a jump.
func readWhereNeeded(_ state: inout AppState) -> [Effect] {
    guard state.token.info != nil, state.reach.seeking == nil else { return [] }
    var effects: [Effect] = []
    let page = state.listRows
    // Not before the read that starts the list has shown something (the first screen first),
    // unless it found nothing there.
    let started = !state.entries.isEmpty || state.fetch.phase != .fetching
    if state.reach.olderExists, !state.reach.loadingOlder, state.reach.olderProblem == nil, started {
        let firstShown = state.visibleCount == 0 ? 0 : state.storeIndex(atVisible: min(state.top, state.visibleCount - 1))
        let nearStart = firstShown < page * 2 || state.visibleCount < page * 2 && state.filter?.query == nil
        if nearStart || firstRowUnsettled(state) {
            state.reach.loadingOlder = true
            effects.append(.loadOlder(before: state.origin, spanHint: state.reach.spanHint ?? pageSpan(state),
                                      generation: state.reach.generation))
        }
    }
    if state.reach.newerExists, state.fetch.phase == .idle, state.visibleCount - state.selected <= page * 2 {
        effects += startNeighbourhood(&state, from: state.resumePoint)
    }
    return effects
}

/// Keeps the list within `Reach.maxRows`: past it, an eighth of the rows go from one end.
///
/// - **Which end:** the one away from the last read. After older rows came in front of the list,
///   the newest go; after newer rows (a poll, a neighbourhood), the oldest. So the rows just
///   read, which the view is moving towards, are never the ones let go, even those past what
///   the view needs now: the next move would read them again, and a budget of a few reads
///   would do so forever. When that end cannot give rows yet (a read of newer rows runs), the
///   list waits over its budget. Before the first read after a jump, the end farther from the
///   selection goes.
/// - **What stays:** the view and the rows `readWhereNeeded` looks ahead to on either side
///   (two screens), so that a cut never asks for the same rows again at once. A budget smaller
///   than that is exceeded rather than read in a loop.
/// - **The oldest** go only if settled long ago (the newest may still gain rows that commit
///   late), and the list then begins after them: scrolling up reads them again.
/// - **The newest** go only while no read of newer rows runs, and the list then ends before
///   them (follow mode stops; newer rows are read again as the view comes near the end).
/// - In v2 a cut falls between two times, so that a list that begins (or ends) at a time holds
///   every row at it.
func keepWithinBudget(_ state: inout AppState) {
    let count = state.entries.count
    let limit = state.reach.maxRows
    guard count > limit, state.reach.seeking == nil, !state.reach.loadingOlder else { return }
    let keep = limit - limit / 8
    let end: Reach.End = switch state.reach.lastRead {
    case .older: .newest
    case .newer: .oldest
    case nil: (state.selectedStoreIndex ?? 0) >= count / 2 ? .oldest : .newest
    }
    trim(end, keeping: keep, &state)
}

/// Lets go of the rows at `end` down to `keep`, or as near as the view allows (maybe none).
private func trim(_ end: Reach.End, keeping keep: Int, _ state: inout AppState) {
    let store = state.entries
    let count = store.count
    let byTime = store.order == .time
    // What `readWhereNeeded` looks ahead to, in rows of the store.
    let ahead = state.listRows * 2
    switch end {
    case .oldest:
        let firstShown = state.visibleCount == 0 ? count : state.storeIndex(atVisible: min(state.top, state.visibleCount - 1))
        var cut = min(count - keep, firstShown - ahead)
        if byTime { while cut > 0, cut < count, store.timestamp(at: cut) == store.timestamp(at: cut - 1) { cut -= 1 } }
        guard cut > 0, cut < count else { return }
        if let settled = state.cursor.settled, store.timestamp(at: cut - 1) >= settled { return }
        let boundary = byTime ? FeedCursor.Start(startTime: store.timestamp(at: cut))
            : FeedCursor.Start(afterSequence: store.sequence(at: cut - 1))
        state.keepRows(cut..<count)
        state.moveOrigin(to: boundary)
        state.reach.olderExists = true
        state.reach.dropped += cut
    case .newest:
        guard state.fetch.phase != .fetching else { return }
        let selected = state.selectedStoreIndex ?? 0
        let lastShown = state.visibleCount == 0 ? 0
            : state.storeIndex(atVisible: min(state.visibleCount - 1, max(state.selected, state.top + state.listRows - 1) + ahead))
        var cut = max(keep, selected + 1, lastShown + 1)
        if byTime { while cut < count, store.timestamp(at: cut) == store.timestamp(at: cut - 1) { cut += 1 } }
        guard cut < count else { return }
        let last = cut - 1
        let after = byTime ? FeedCursor.Start(startTime: store.timestamp(at: last))
            : FeedCursor.Start(afterSequence: store.sequence(at: last))
        state.keepRows(0..<cut)
        state.restartCursor(after: after)
        state.reach.newerExists = true
        state.reach.bounded = true
        state.fetch.caughtUpAt = nil
        state.fetch.phase = .idle
        if state.follow.on {
            state.follow.on = false
            state.flash = "Stopped following: the newest rows were let go to stay within memory; G goes back to them."
        }
        state.reach.dropped += count - cut
    }
}

/// v2: how long the loaded rows take for a page of 200, the first guess for a window of older rows.
private func pageSpan(_ state: AppState) -> Int64? {
    guard !state.apiVersion.isSequenceMode, state.entries.count >= 2 else { return nil }
    let span = state.entries.timestamp(at: state.entries.count - 1).ticks - state.entries.timestamp(at: 0).ticks
    guard span > 0 else { return nil }
    return Int64(min(Double(Int64.max / 8), Double(span) * 200 / Double(state.entries.count)))
}

/// v1: the list's first row is newer than what `/latest`'s time settles, so a row that
/// commits late could still appear before it: older rows are read until the start is settled.
private func firstRowUnsettled(_ state: AppState) -> Bool {
    guard state.apiVersion.isSequenceMode, !state.entries.isEmpty, let settled = state.cursor.settled else { return false }
    return state.entries.timestamp(at: 0) > settled
}

/// `'` (or `:saved`): where the last run on this service stopped, as saved when it quit.
func goToSaved(_ state: inout AppState) -> [Effect] {
    guard let saved = state.reach.saved else {
        state.flash = state.isDemo ? "No saved position: --demo saves none."
            : "No saved position for this service yet: dicomtui saves where reading stopped when it quits."
        return []
    }
    state.reach.select = nil
    let effects = seek(saved.target, &state)
    state.flash = "Where the run of \(Format.dateTime(saved.savedAt, in: state.timeZone)) stopped."
    return effects
}

// MARK: - The `:` prompt

/// What the `:` prompt's keys do (bound in `KeyTable.seekPrompt`).
public enum SeekPromptAction: Hashable, Sendable {
    case go, cancel, deleteBack, clearText
    /// A character the prompt does not bind: it is typed.
    case type(Character)
}

func handleSeekPrompt(_ action: SeekPromptAction, _ state: inout AppState) -> [Effect] {
    guard var text = state.seekPrompt else { return [] }
    switch action {
    case .go:
        state.seekPrompt = nil
        if text.trimmingCharacters(in: .whitespaces).lowercased() == "saved" { return goToSaved(&state) }
        switch SeekTarget.parse(text, now: state.now, zone: state.timeZone) {
        case .success(let target):
            state.reach.select = nil
            return seek(target, &state)
        case .failure(let error):
            state.flash = error.message
            return []
        }
    case .cancel:
        state.seekPrompt = nil
        return []
    case .deleteBack:
        if text.isEmpty {
            state.seekPrompt = nil
            return []
        }
        text.removeLast()
    case .clearText:
        text = ""
    case .type(let c):
        text.append(c)
    }
    state.seekPrompt = text
    return []
}
