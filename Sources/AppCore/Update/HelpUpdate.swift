/// What the help overlay's keys do (bound in `KeyTable.help`).
public enum HelpAction: Hashable, Sendable {
    case close, move(Motion)
}

/// The help overlay's keys (`KeyTable.help`).
func handleHelp(_ action: HelpAction, _ state: inout AppState) -> [Effect] {
    switch action {
    case .close:
        state.helpOpen = false
    case .move(let motion):
        // Only the overlay knows how many lines it has (it stops scrolling at the last).
        state.helpTop = motion.target(from: state.helpTop, page: max(1, state.screenRows - 6), count: .max)
    }
    return []
}
