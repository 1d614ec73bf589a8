/// What the profile picker's keys do (bound in `KeyTable.profilePicker`).
public enum ProfilePickerAction: Hashable, Sendable {
    case move(Motion), close, choose
}

/// The profile picker's keys (`KeyTable.profilePicker`).
func handleProfilePicker(_ action: ProfilePickerAction, _ state: inout AppState) -> [Effect] {
    guard let at = state.profilePicker else { return [] }
    let count = state.profiles.count
    switch action {
    case .move(let motion):
        state.profilePicker = motion.target(from: at, page: count, count: count)
    case .close:
        state.profilePicker = nil
    case .choose:
        state.profilePicker = nil
        let name = state.profiles[at]
        if name == state.profileName {
            state.flash = "Already showing profile \(name)."
            return []
        }
        return [.switchProfile(name)]
    }
    return []
}

/// The profile picked could not be used.
func profileSwitchFailed(_ problem: Problem, _ state: inout AppState) -> [Effect] {
    state.flash = problem.message + (problem.hint.map { " " + $0 } ?? "")
    return []
}
