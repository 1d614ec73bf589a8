import Foundation
import FeedModel
import TerminalKit

/// The app's only way to change state: apply one event, return the work to do.
/// Pure: no I/O, no clock, no curses. Every key and every background result goes through here.
public func update(_ state: inout AppState, _ event: AppEvent) -> [Effect] {
    switch event {
    case .started:
        return requestToken(&state)

    case .tick(let now):
        state.now = now
        if let since = state.flashSince, now.timeIntervalSince(since) >= Layout.flashSeconds { state.flash = nil }
        var effects: [Effect] = []
        // Not while a sign-in runs: its end asks for a token anyway.
        if state.token.needsAutomaticRefresh(at: now), state.signIn?.isRunning != true {
            effects += requestToken(&state)
        }
        if let due = state.follow.nextPoll(after: state.fetch.caughtUpAt, phase: state.fetch.phase), now >= due,
           state.token.info != nil {
            effects += startRun(&state, from: state.resumePoint)
        }
        return effects

    case .input(let input):
        return handle(input, &state)

    case .filterStep:
        state.filterNewRows()
        if let f = state.filter, f.editing, let anchor = f.anchor {
            // Until the user moves, the selection stays on (or next to) the entry it was on.
            state.selected = state.visiblePosition(nearStoreIndex: anchor)
            keepSelectionVisible(&state, centre: true)
        } else {
            keepSelectionVisible(&state)
        }
        return []

    case .profileSwitchFailed(let problem):
        state.flash = problem.message + (problem.hint.map { " " + $0 } ?? "")
        return []

    case .tokenAcquiring:
        state.token.acquiring = true
        return []

    case .tokenAcquired(let info, let refreshAt, let notice):
        let account = state.token.info?.account
        state.token.info = info
        if state.token.info?.account == nil { state.token.info?.account = account }
        state.token.acquiring = false
        state.token.problem = nil
        state.token.nextRefresh = refreshAt ?? info.expiresOn.addingTimeInterval(-state.token.refreshBefore)
        state.token.notice = notice
        if let notice { state.flash = notice }
        var effects: [Effect] = []
        if state.fetch.phase == .waiting || (state.fetch.phase == .stopped && state.fetch.stoppedForToken) {
            state.fetch.stoppedForToken = false
            effects += startRun(&state, from: state.resumePoint)
        }
        if case .failed(let p)? = state.detail?.load, p.needsToken, let seq = state.detail?.sequence {
            state.detail?.load = .loading
            effects.append(.loadEntry(sequence: seq))
        }
        return effects

    case .tokenFailed(let problem, let retryAt):
        state.token.acquiring = false
        state.token.problem = problem
        state.token.notice = nil
        state.token.nextRefresh = retryAt ?? state.now.addingTimeInterval(TokenState.retryAfterFailure)
        return []

    case .accountLoaded(let account):
        state.token.info?.account = account
        return []

    case .signInPrompt(let url, let code, let message):
        if state.signIn?.isRunning == true {
            state.signIn?.phase = .waiting(url: url, code: code, message: message)
        }
        return []

    case .signInSucceeded:
        state.signIn = nil
        state.flash = "Signed in. Getting a token…"
        return requestToken(&state)

    case .signInFailed(let problem):
        if state.signIn != nil { state.signIn?.phase = .failed(problem) }
        return []

    case .handOverFinished(let status):
        state.flash = status == 0 ? "az login finished. Getting a token…" : "az login exited with status \(status)."
        return requestToken(&state)

    case .handOverFailed(let problem):
        state.signIn = SignInState(phase: .failed(problem), startedAt: state.now)
        return []

    case .copied(let what):
        state.flash = "Copied \(what) to the clipboard."
        return []

    case .copyFailed(let why):
        state.flash = "Could not copy: \(why)"
        return []

    case .fetchStarted:
        state.fetch.phase = .fetching
        state.fetch.problem = nil
        return []

    case .pageLoaded(let entries, let unreadable):
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

    case .latest(let sequence, let timestamp):
        if let sequence { state.fetch.latestSequence = max(sequence, state.fetch.latestSequence ?? 0) }
        state.runStarted(latestSequence: sequence, latestTime: timestamp)
        return []

    case .readThrough(let sequence):
        state.readThrough(sequence: sequence)
        return []

    case .progress(let rate):
        state.fetch.rate = rate
        return []

    case .caughtUp:
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

    case .fetchRetrying(let problem, let attempt):
        state.fetch.problem = problem
        state.fetch.retryAttempt = attempt
        return []

    case .fetchStopped(let problem, let needsToken):
        state.fetch.phase = .stopped
        state.fetch.problem = problem
        state.fetch.retryAttempt = nil
        state.fetch.stoppedForToken = needsToken
        state.fetch.rereading = false
        return []

    case .entryLoaded(let sequence, let entry):
        if let entry {
            state.metadataCache.insert(entry)
            state.refreshRow(entry, summary: entry.metadata.map(RowSummary.init(metadata:)) ?? RowSummary())
        }
        if state.detail?.sequence == sequence, state.detail?.load == .loading {
            state.detail?.load = entry.map { .loaded($0) } ?? .notFound
            detailLoaded(&state)
        }
        return []

    case .entryFailed(let sequence, let problem):
        if state.detail?.sequence == sequence { state.detail?.load = .failed(problem) }
        return []
    }
}

/// Starts a fetcher run from `point` (the effect), noting where the run starts.
func startRun(_ state: inout AppState, from point: FeedCursor.Start) -> [Effect] {
    state.fetch.phase = .fetching
    state.fetch.problem = nil
    state.fetch.runStart = point
    return [.startFetching(point)]
}

/// Asks for a token unless a request is already running.
private func requestToken(_ state: inout AppState) -> [Effect] {
    if state.token.acquiring { return [] }
    state.token.acquiring = true
    state.token.nextRefresh = nil
    return [.acquireToken]
}

private func handle(_ input: InputEvent, _ state: inout AppState) -> [Effect] {
    switch input {
    case .resize(let rows, let cols):
        state.screenRows = rows
        state.screenCols = cols
        keepSelectionVisible(&state)
        keepDetailCursorVisible(&state)
        return []
    case .mouse(let m):
        if state.signIn != nil || state.helpOpen || state.profilePicker != nil { return [] }
        if state.detail != nil { return handleDetailMouse(m, &state) }
        switch m.kind {
        case .wheelDown: move(&state, by: 3)
        case .wheelUp: move(&state, by: -3)
        case .click, .press, .doubleClick:
            let row = m.row - Layout.headerRows
            if row >= 0, row < Layout.listRows(screenRows: state.screenRows), state.top + row < state.visibleCount {
                let target = state.top + row
                if target < state.selected { stopFollowingOnScrollUp(&state) }
                select(&state, target)
                if case .doubleClick = m.kind { return openDetail(&state) }
            }
        default: break
        }
        return []
    case .key(let key):
        state.flash = nil
        if state.signIn != nil { return handleSignIn(key, &state) }
        if state.helpOpen { return handleHelp(key, &state) }
        if state.profilePicker != nil { return handleProfilePicker(key, &state) }
        if state.filter?.editing == true { return handleFilterPrompt(key, &state) }
        if state.detail != nil {
            if let effects = handleDetail(key, &state) { return effects }
            return handleGlobal(key, &state)
        }
        return handleList(key, &state)
    }
}

/// Keys that mean the same everywhere (after the view had its say).
private func handleGlobal(_ key: Key, _ state: inout AppState) -> [Effect] {
    switch key {
    case .char("q"):
        state.shouldQuit = true
        return [.quit]
    case .char("?"):
        state.helpOpen = true
        state.helpTop = 0
    case .char("r"):
        if state.token.acquiring {
            state.flash = "A token request is already running."
            return []
        }
        state.flash = "Requesting a new token…"
        return requestToken(&state)
    case .char("l"):
        state.signIn = SignInState(startedAt: state.now)
        return [.startSignIn]
    case .char("L"):
        return [.handOverSignIn]
    case .char("t"):
        let showingUTC = ["UTC", "GMT"].contains(state.timeZone.identifier)
        state.timeZone = showingUTC ? state.localZone : TimeZone(identifier: "UTC")!
        state.flash = showingUTC ? "Times in local time (\(state.localZone.identifier))." : "Times in UTC."
    case .char("f"):
        return toggleFollow(&state)
    case .char("R"):
        return reload(&state)
    case .char("M"):
        return loadNames(&state)
    case .char("p"):
        if state.isDemo {
            state.flash = "Profiles switch between real services; --demo shows the built-in emulator only."
        } else if state.profiles.isEmpty {
            state.flash = "No profiles: add some to the configuration file (~/.config/dicomtui/config.yaml, see the README)."
        } else {
            state.profilePicker = state.profiles.firstIndex(of: state.profileName ?? "") ?? 0
        }
    default:
        break
    }
    return []
}

private func handleList(_ key: Key, _ state: inout AppState) -> [Effect] {
    let page = Layout.listRows(screenRows: state.screenRows)
    switch key {
    case .char("j"), .down: move(&state, by: 1)
    case .char("k"), .up: move(&state, by: -1)
    case .pageDown, .char(" "): move(&state, by: page)
    case .pageUp: move(&state, by: -page)
    case .ctrl("d"): move(&state, by: max(1, page / 2))
    case .ctrl("u"): move(&state, by: -max(1, page / 2))
    case .char("g"), .home:
        stopFollowingOnScrollUp(&state)
        select(&state, 0)
    case .char("G"), .end: select(&state, state.visibleCount - 1)
    case .enter, .right: return openDetail(&state)
    case .char("/"):
        var f = state.filter ?? FilterState(anchor: state.selectedStoreIndex)
        f.editing = true
        if f.anchor == nil { f.anchor = state.selectedStoreIndex }
        state.filter = f
    case .escape:
        if state.filter != nil { clearFilter(&state) }
    case .char("y"):
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
    default:
        return handleGlobal(key, &state)
    }
    return []
}

/// `M`: read the feed again with every entry's metadata, so that the filter can match patient
/// names, IDs and modality (otherwise known only for the entries opened), and keep loading it.
private func loadNames(_ state: inout AppState) -> [Effect] {
    if state.metadataWithPages && !state.fetch.loadingNames {
        state.flash = "Names and metadata already load with every page."
        return []
    }
    guard state.token.info != nil else {
        state.flash = "Waiting for a token first (r gets one, l signs in)."
        return []
    }
    state.metadataWithPages = true
    state.fetch.loadingNames = true
    state.fetch.rereading = true
    state.fetch.rewritten = 0
    state.fetch.rereadFrom = state.entries.count
    state.flash = "Loading the metadata of \(Format.count(state.entries.count)) entries (patient names, IDs, modality)…"
    return startRun(&state, from: state.origin)
}

/// `R`: after an error, load again from where loading stopped; at the end of the feed, read
/// the loaded range again so that rows whose instance was since replaced or deleted show it
/// (and new entries are added).
private func reload(_ state: inout AppState) -> [Effect] {
    switch state.fetch.phase {
    case .stopped:
        state.fetch.stoppedForToken = false
        let point = state.resumePoint
        state.flash = "Loading again " + (point.startTime.map { "from \(Format.dateTime($0, in: state.timeZone))" }
            ?? "after sequence \(Format.count(point.afterSequence))") + "…"
        return startRun(&state, from: point)
    case .idle:
        state.fetch.rereading = true
        state.fetch.rewritten = 0
        state.fetch.rereadFrom = state.entries.count
        state.flash = "Re-reading \(Format.count(state.entries.count)) entries to update their states…"
        return startRun(&state, from: state.origin)
    case .fetching:
        state.flash = "Already loading."
    case .waiting:
        state.flash = "Waiting for a token first (r gets one, l signs in)."
    }
    return []
}

private func toggleFollow(_ state: inout AppState) -> [Effect] {
    if state.follow.on {
        state.follow.on = false
        state.flash = "Stopped following."
        return []
    }
    if state.endTime != nil {
        state.flash = "Cannot follow: the time window has an end (--end-time)."
        return []
    }
    state.follow.on = true
    state.flash = "Following: new entries every \(Format.seconds(state.follow.interval)); scrolling up stops it."
    if state.detail == nil { select(&state, state.visibleCount - 1) }
    if state.fetch.phase == .idle, state.token.info != nil {
        return startRun(&state, from: state.resumePoint)
    }
    return []
}

private func stopFollowingOnScrollUp(_ state: inout AppState) {
    guard state.follow.on else { return }
    state.follow.on = false
    state.flash = "Stopped following (you scrolled up); f follows again."
}

// MARK: - Filter

private func handleFilterPrompt(_ key: Key, _ state: inout AppState) -> [Effect] {
    guard var f = state.filter else { return [] }
    switch key {
    case .enter:
        if f.text.trimmingCharacters(in: .whitespaces).isEmpty || f.query == nil && f.error == nil {
            state.filter = nil
            return []
        }
        f.editing = false
        state.filter = f
        if f.error != nil { state.flash = "The filter does not apply: \(f.error!)" }
        return []
    case .escape:
        clearFilter(&state)
        return []
    case .backspace, .delete:
        if f.text.isEmpty {
            clearFilter(&state)
            return []
        }
        f.text.removeLast()
    case .ctrl("u"):
        f.text = ""
    case .down, .up, .pageDown, .pageUp:
        let page = Layout.listRows(screenRows: state.screenRows)
        let delta = key == .down ? 1 : key == .up ? -1 : key == .pageDown ? page : -page
        state.filter?.anchor = nil
        move(&state, by: delta)
        return []
    case .char(let c):
        f.text.append(c)
    default:
        return []
    }
    applyFilterText(f, &state)
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

private func clearFilter(_ state: inout AppState) {
    let row = state.selectedStoreIndex ?? state.filter?.anchor
    state.filter = nil
    if let row { state.selected = row }
    keepSelectionVisible(&state, centre: true)
}

// MARK: - Profile picker

private func handleProfilePicker(_ key: Key, _ state: inout AppState) -> [Effect] {
    guard let at = state.profilePicker else { return [] }
    let count = state.profiles.count
    switch key {
    case .char("j"), .down: state.profilePicker = min(count - 1, at + 1)
    case .char("k"), .up: state.profilePicker = max(0, at - 1)
    case .char("g"), .home: state.profilePicker = 0
    case .char("G"), .end: state.profilePicker = count - 1
    case .escape, .char("q"), .char("p"):
        state.profilePicker = nil
    case .enter:
        state.profilePicker = nil
        let name = state.profiles[at]
        if name == state.profileName {
            state.flash = "Already showing profile \(name)."
            return []
        }
        return [.switchProfile(name)]
    default:
        break
    }
    return []
}

// MARK: - Help

private func handleHelp(_ key: Key, _ state: inout AppState) -> [Effect] {
    switch key {
    case .escape, .char("?"), .char("q"), .enter:
        state.helpOpen = false
    case .char("j"), .down: state.helpTop += 1
    case .char("k"), .up: state.helpTop = max(0, state.helpTop - 1)
    case .pageDown, .char(" "): state.helpTop += max(1, state.screenRows - 6)
    case .pageUp: state.helpTop = max(0, state.helpTop - max(1, state.screenRows - 6))
    case .char("g"), .home: state.helpTop = 0
    default: break
    }
    return []
}

// MARK: - Sign-in dialog

/// Keys while the sign-in dialog is open: Esc cancels (or closes after a failure), y copies the code.
private func handleSignIn(_ key: Key, _ state: inout AppState) -> [Effect] {
    guard let signIn = state.signIn else { return [] }
    switch (key, signIn.phase) {
    case (.char("y"), .waiting(_, let code, _)):
        return [.copy(code, label: "the sign-in code")]
    case (.escape, _) where signIn.isRunning, (.char("q"), _) where signIn.isRunning:
        state.signIn = nil
        state.flash = "Sign-in cancelled."
        return [.cancelSignIn]
    case (.escape, .failed), (.enter, .failed), (.char("q"), .failed):
        state.signIn = nil
        return []
    case (.char("l"), .failed):
        state.signIn = SignInState(startedAt: state.now)
        return [.startSignIn]
    default:
        return []
    }
}

// MARK: - Moving in the list

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
