import Foundation

/// Asks for a token unless a request is already running.
func requestToken(_ state: inout AppState) -> [Effect] {
    if state.token.acquiring { return [] }
    state.token.beginAcquiring()
    return [.acquireToken]
}

/// A token to use: loading that waited for one starts, and so does a detail view's request.
func tokenAcquired(_ info: TokenSummary, refreshAt: Date?, notice: String?, _ state: inout AppState) -> [Effect] {
    state.token.acquired(info, refreshAt: refreshAt, notice: notice)
    if let notice { state.flash = notice }
    var effects: [Effect] = []
    if state.fetch.phase == .waiting {
        effects += firstRead(&state)
    } else if state.fetch.phase == .stopped && state.fetch.stoppedForToken {
        effects += resumeRun(&state)
    }
    if case .failed(let p)? = state.detail?.load, p.needsToken, let seq = state.detail?.sequence {
        state.detail?.load = .loading
        effects.append(.loadEntry(sequence: seq))
    }
    return effects
}

/// No token: say why, and when the next try is.
func tokenFailed(_ problem: Problem, retryAt: Date?, _ state: inout AppState) -> [Effect] {
    state.token.failed(problem, retryAt: retryAt, now: state.now)
    return []
}
