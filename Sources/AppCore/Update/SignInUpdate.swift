/// What the sign-in dialog's keys do (bound in `KeyTable.signIn`).
public enum SignInAction: Hashable, Sendable {
    /// While the code is shown.
    case copyCode
    /// Cancels a running sign-in; after a failure, closes the dialog.
    case cancel
    /// After a failure: close the dialog, or start again.
    case close, retry
}

/// The sign-in dialog's keys (`KeyTable.signIn`): Esc cancels (or closes after a failure), y copies the code.
func handleSignIn(_ action: SignInAction, _ state: inout AppState) -> [Effect] {
    guard let signIn = state.signIn else { return [] }
    switch (action, signIn.phase) {
    case (.copyCode, .waiting(_, let code, _)):
        return [.copy(code, label: "the sign-in code")]
    case (.cancel, _) where signIn.isRunning:
        state.signIn = nil
        state.flash = "Sign-in cancelled."
        return [.cancelSignIn]
    case (.cancel, .failed), (.close, .failed):
        state.signIn = nil
        return []
    case (.retry, .failed):
        state.signIn = SignInState(startedAt: state.now)
        return [.startSignIn]
    default:
        return []
    }
}

/// The device-code sign-in printed its code.
func signInPrompt(url: String, code: String, message: String, _ state: inout AppState) -> [Effect] {
    if state.signIn?.isRunning == true {
        state.signIn?.phase = .waiting(url: url, code: code, message: message)
    }
    return []
}

func signInSucceeded(_ state: inout AppState) -> [Effect] {
    state.signIn = nil
    state.flash = "Signed in. Getting a token…"
    return requestToken(&state)
}

func signInFailed(_ problem: Problem, _ state: inout AppState) -> [Effect] {
    if state.signIn != nil { state.signIn?.phase = .failed(problem) }
    return []
}

/// The terminal came back from `az login` (`L`).
func handOverFinished(status: Int32, _ state: inout AppState) -> [Effect] {
    state.flash = status == 0 ? "az login finished. Getting a token…" : "az login exited with status \(status)."
    return requestToken(&state)
}

/// `L` could not start az: shown in the sign-in dialog.
func handOverFailed(_ problem: Problem, _ state: inout AppState) -> [Effect] {
    state.signIn = SignInState(phase: .failed(problem), startedAt: state.now)
    return []
}
