import Foundation
import FeedModel
import TerminalKit

/// The app's only way to change state: apply one event, return the work to do.
/// Pure: no I/O, no clock, no curses. Every key and every background result goes through here,
/// to the handler of the view or the work it concerns (a file each in this folder).
public func update(_ state: inout AppState, _ event: AppEvent) -> [Effect] {
    let effects = apply(event, &state)
    keepWithinBudget(&state)
    return effects + readWhereNeeded(&state)
}

private func apply(_ event: AppEvent, _ state: inout AppState) -> [Effect] {
    switch event {
    case .started: return requestToken(&state)
    case .tick(let now): return tick(now, &state)

    case .input(.key(let key)):
        state.flash = nil
        return press(key, &state)
    case .input(.mouse(let m)):
        if state.signIn != nil || state.helpOpen || state.profilePicker != nil || state.timeline.viewOpen { return [] }
        return state.detail != nil ? handleDetailMouse(m, &state) : handleListMouse(m, &state)
    case .input(.resize(let rows, let cols)):
        state.screenRows = rows
        state.screenCols = cols
        keepSelectionVisible(&state)
        keepDetailCursorVisible(&state)
        return []
    case .filterStep: return filterStep(&state)

    case .tokenAcquiring: state.token.beginAcquiring(); return []
    case .tokenAcquired(let info, let refreshAt, let notice):
        return tokenAcquired(info, refreshAt: refreshAt, notice: notice, &state) + timelineAfterToken(&state)
    case .tokenFailed(let problem, let retryAt): return tokenFailed(problem, retryAt: retryAt, &state)
    case .accountLoaded(let account): state.token.info?.account = account; return []

    case .signInPrompt(let url, let code, let message): return signInPrompt(url: url, code: code, message: message, &state)
    case .signInSucceeded: return signInSucceeded(&state)
    case .signInFailed(let problem): return signInFailed(problem, &state)
    case .handOverFinished(let status): return handOverFinished(status: status, &state)
    case .handOverFailed(let problem): return handOverFailed(problem, &state)
    case .profileSwitchFailed(let problem): return profileSwitchFailed(problem, &state)

    case .copied(let what): state.flash = "Copied \(what) to the clipboard."; return []
    case .copyFailed(let why): state.flash = "Could not copy: \(why)"; return []

    case .fetchStarted: return fetchStarted(&state)
    case .pageLoaded(let entries, let unreadable): return pageLoaded(entries, unreadable: unreadable, &state)
    case .latest(let sequence, let timestamp):
        timelineHeardLatest(sequence: sequence, timestamp: timestamp, &state)
        return latest(sequence: sequence, timestamp: timestamp, &state)
    case .readThrough(let sequence): state.readThrough(sequence: sequence); return []
    case .progress(let rate): state.fetch.rate = rate; return []
    case .caughtUp: return caughtUp(&state)
    case .paused: return paused(&state)
    case .latestProbed(let sequence, let timestamp, let generation):
        return latestProbed(sequence: sequence, timestamp: timestamp, generation: generation, &state)
    case .located(let point, let generation): return located(point, generation: generation, &state)
    case .locateFailed(let problem, let generation): return locateFailed(problem, generation: generation, &state)
    case .olderLoaded(let entries, let unreadable, let boundary, let nextSpan, let generation):
        return olderLoaded(entries, unreadable: unreadable, boundary: boundary, nextSpan: nextSpan, generation: generation, &state)
    case .olderFailed(let problem, let generation): return olderFailed(problem, generation: generation, &state)
    case .searchRead(let entries, let unreadable, let boundary, let nextSpan, let generation):
        return searchRead(entries, unreadable: unreadable, boundary: boundary, nextSpan: nextSpan, generation: generation, &state)
    case .searchFailed(let problem, let generation): return searchFailed(problem, generation: generation, &state)
    case .fetchRetrying(let problem, let attempt): return fetchRetrying(problem, attempt: attempt, &state)
    case .fetchStopped(let problem, let needsToken): return fetchStopped(problem, needsToken: needsToken, &state)
    case .entryLoaded(let sequence, let entry): return entryLoaded(sequence: sequence, entry, &state)
    case .entryFailed(let sequence, let problem): return entryFailed(sequence: sequence, problem, &state)
    case .activityProbed(let outcome): return activityProbed(outcome, &state)
    }
}

/// A key: the current view's binding in `KeyTable` says what it does, and that view's handler does it.
func press(_ key: Key, _ state: inout AppState) -> [Effect] {
    guard let action = KeyTable.action(for: key, in: KeyView.current(state)) else { return [] }
    switch action {
    case .list(let a): return handleList(a, &state)
    case .filterPrompt(let a): return handleFilterPrompt(a, &state)
    case .seekPrompt(let a): return handleSeekPrompt(a, &state)
    case .detail(let a): return handleDetail(a, &state)
    case .detailSearch(let a): return handleDetailSearch(a, &state)
    case .help(let a): return handleHelp(a, &state)
    case .signIn(let a): return handleSignIn(a, &state)
    case .profilePicker(let a): return handleProfilePicker(a, &state)
    case .timeline(let a): return handleTimeline(a, &state)
    case .activity(let a): return handleActivity(a, &state)
    case .search(let a): return handleSearch(a, &state)
    // `R` probes the timeline again too.
    case .everywhere(let a): return handleEverywhere(a, &state) + (a == .reload ? probeActivity(&state) : [])
    }
}

/// The clock moved: the flash fades, the token is renewed when due, follow mode polls.
private func tick(_ now: Date, _ state: inout AppState) -> [Effect] {
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
    effects += timelineTick(&state)
    return effects
}
