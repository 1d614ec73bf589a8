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
        if state.token.needsAutomaticRefresh(at: now) {
            return requestToken(&state)
        }
        return []

    case .input(let input):
        return handle(input, &state)

    case .tokenAcquiring:
        state.token.acquiring = true
        return []

    case .tokenAcquired(let info):
        let account = state.token.info?.account
        state.token.info = info
        if state.token.info?.account == nil { state.token.info?.account = account }
        state.token.acquiring = false
        state.token.problem = nil
        if state.fetch.phase == .waiting || (state.fetch.phase == .stopped && state.fetch.stoppedForToken) {
            state.fetch.phase = .fetching
            state.fetch.stoppedForToken = false
            state.fetch.problem = nil
            return [.startFetching(state.resumePoint)]
        }
        return []

    case .tokenFailed(let problem):
        state.token.acquiring = false
        state.token.problem = problem
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

    case .pageLoaded(let entries, let undecodable):
        state.append(entries)
        state.fetch.pagesLoaded += 1
        state.fetch.undecodable += undecodable
        state.fetch.retryAttempt = nil
        state.fetch.problem = nil
        if let last = entries.last?.sequence, last > (state.fetch.latestSequence ?? 0) {
            state.fetch.latestSequence = last
        }
        return []

    case .latestSequence(let seq):
        state.fetch.latestSequence = seq
        return []

    case .progress(let rate):
        state.fetch.rate = rate
        return []

    case .caughtUp:
        state.fetch.phase = .idle
        state.fetch.retryAttempt = nil
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
        return []
    }
}

/// Asks for a token unless a request is already running.
private func requestToken(_ state: inout AppState) -> [Effect] {
    if state.token.acquiring { return [] }
    state.token.acquiring = true
    state.token.lastAttempt = state.now
    return [.acquireToken]
}

private func handle(_ input: InputEvent, _ state: inout AppState) -> [Effect] {
    switch input {
    case .resize(let rows, let cols):
        state.screenRows = rows
        state.screenCols = cols
        keepSelectionVisible(&state)
        return []
    case .mouse(let m):
        if state.signIn != nil { return [] }
        switch m.kind {
        case .wheelDown: move(&state, by: 3)
        case .wheelUp: move(&state, by: -3)
        case .click, .press:
            let row = m.row - Layout.headerRows
            if row >= 0, row < Layout.listRows(screenRows: state.screenRows) {
                select(&state, state.top + row)
            }
        default: break
        }
        return []
    case .key(let key):
        state.flash = nil
        if state.signIn != nil { return handleSignIn(key, &state) }
        return handle(key, &state)
    }
}

private func handle(_ key: Key, _ state: inout AppState) -> [Effect] {
    let page = Layout.listRows(screenRows: state.screenRows)
    switch key {
    case .char("q"):
        state.shouldQuit = true
        return [.quit]
    case .char("j"), .down: move(&state, by: 1)
    case .char("k"), .up: move(&state, by: -1)
    case .pageDown, .char(" "): move(&state, by: page)
    case .pageUp: move(&state, by: -page)
    case .ctrl("d"): move(&state, by: max(1, page / 2))
    case .ctrl("u"): move(&state, by: -max(1, page / 2))
    case .char("g"), .home: select(&state, 0)
    case .char("G"), .end: select(&state, state.entries.count - 1)
    case .char("r"):
        if state.token.acquiring {
            state.flash = "A token request is already running."
            return []
        }
        state.flash = "Requesting a new token…"
        return requestToken(&state)
    case .char("R"):
        switch state.fetch.phase {
        case .stopped, .idle:
            state.fetch.phase = .fetching
            state.fetch.problem = nil
            state.fetch.stoppedForToken = false
            state.flash = "Loading again from entry \(Format.count(state.entries.count + 1))…"
            return [.startFetching(state.resumePoint)]
        case .fetching:
            state.flash = "Already loading."
        case .waiting:
            state.flash = "Waiting for a token first (r gets one, l signs in)."
        }
        return []
    case .char("l"):
        state.signIn = SignInState(startedAt: state.now)
        return [.startSignIn]
    case .char("L"):
        return [.handOverSignIn]
    default:
        break
    }
    return []
}

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

private func move(_ state: inout AppState, by delta: Int) {
    select(&state, state.selected + delta)
}

private func select(_ state: inout AppState, _ index: Int) {
    state.selected = max(0, min(index, state.entries.count - 1))
    keepSelectionVisible(&state)
}

/// Scrolls so the selected row is on screen and the list never shows empty rows past its end
/// while there are entries above.
func keepSelectionVisible(_ state: inout AppState) {
    let rows = Layout.listRows(screenRows: state.screenRows)
    let count = state.entries.count
    state.selected = max(0, min(state.selected, count - 1))
    if state.selected < state.top { state.top = state.selected }
    if state.selected >= state.top + rows { state.top = state.selected - rows + 1 }
    state.top = max(0, min(state.top, max(0, count - rows)))
}
