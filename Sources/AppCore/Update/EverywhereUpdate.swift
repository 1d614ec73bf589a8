import Foundation

/// What the keys that work in the list and the detail view alike do (bound in `KeyTable.everywhere`, and `R` and `M` in `KeyTable.list`).
public enum GlobalAction: Hashable, Sendable {
    case quit, help, newToken, signIn, azLogin, switchTime, follow, reload, loadNames, switchProfile
}

/// The keys that work in the list and the detail view alike (`KeyTable.everywhere`, and `R`, `M`).
func handleEverywhere(_ action: GlobalAction, _ state: inout AppState) -> [Effect] {
    switch action {
    case .quit:
        state.shouldQuit = true
        return [.quit]
    case .help:
        state.helpOpen = true
        state.helpTop = 0
    case .newToken:
        if state.token.acquiring {
            state.flash = "A token request is already running."
            return []
        }
        state.flash = "Requesting a new token…"
        return requestToken(&state)
    case .signIn:
        state.signIn = SignInState(startedAt: state.now)
        return [.startSignIn]
    case .azLogin:
        return [.handOverSignIn]
    case .switchTime:
        let showingUTC = ["UTC", "GMT"].contains(state.timeZone.identifier)
        state.timeZone = showingUTC ? state.localZone : TimeZone(identifier: "UTC")!
        state.flash = showingUTC ? "Times in local time (\(state.localZone.identifier))." : "Times in UTC."
    case .follow:
        return toggleFollow(&state)
    case .reload:
        return reload(&state)
    case .loadNames:
        return loadNames(&state)
    case .switchProfile:
        if state.isDemo {
            state.flash = "Profiles switch between real services; --demo shows the built-in emulator only."
        } else if state.profiles.isEmpty {
            state.flash = "No profiles: add some to the configuration file (~/.config/dicomtui/config.yaml, see the README)."
        } else {
            state.profilePicker = state.profiles.firstIndex(of: state.profileName ?? "") ?? 0
        }
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
    return rereadLoaded(&state)
}

/// `R`: after an error, load again from where loading stopped; at the end of the feed, read
/// the loaded range again so that rows whose instance was since replaced or deleted show it
/// (and new entries are added).
private func reload(_ state: inout AppState) -> [Effect] {
    switch state.fetch.phase {
    case .stopped:
        let point = state.resumePoint
        state.flash = state.reach.retrySeek != nil ? "Trying again…" : "Loading again "
            + (point.startTime.map { "from \(Format.dateTime($0, in: state.timeZone))" }
               ?? "after sequence \(Format.count(point.afterSequence))") + "…"
        return resumeRun(&state)
    case .idle:
        state.fetch.rereading = true
        state.fetch.rewritten = 0
        state.fetch.rereadFrom = state.entries.count
        state.flash = "Re-reading \(Format.count(state.entries.count)) entries to update their states…"
        return rereadLoaded(&state)
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
