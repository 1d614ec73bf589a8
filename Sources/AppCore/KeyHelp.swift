/// One key and what it does, for the hint bar and the help overlay (`?`).
public struct KeyHint: Sendable, Equatable {
    public var keys: String
    public var action: String
    public init(_ keys: String, _ action: String) { self.keys = keys; self.action = action }
}

/// The keys of each view, in one place: the hint bar shows the first that fit (after `? help`,
/// which always stays), and the help overlay lists the current view's keys first, then the rest.
public enum KeyHelp {
    public struct Section: Sendable, Equatable {
        public var title: String
        public var hints: [KeyHint]
    }

    public static let list: [KeyHint] = [
        KeyHint("Enter", "open entry"),
        KeyHint("/", "filter"),
        KeyHint("y", "copy SOP instance UID"),
        KeyHint("j/k ↓/↑", "move"),
        KeyHint("PgDn/PgUp Space", "page"),
        KeyHint("Ctrl-d/Ctrl-u", "half page"),
        KeyHint("g/G Home/End", "first/last"),
        KeyHint("R", "reload / re-read states"),
        KeyHint("M", "load names (metadata) for the filter"),
        KeyHint("Esc", "clear filter"),
        KeyHint("mouse", "wheel scrolls, click selects, double click opens"),
    ]

    public static let filterPrompt: [KeyHint] = [
        KeyHint("Enter", "keep filter"),
        KeyHint("Esc", "clear filter"),
        KeyHint("↓/↑", "move"),
        KeyHint("Ctrl-u", "clear text"),
        KeyHint(FeedFilter.help, "syntax"),
    ]

    public static let detail: [KeyHint] = [
        KeyHint("Esc/←", "back"),
        KeyHint("[ ]", "previous/next entry"),
        KeyHint("Enter/Tab/→", "expand/collapse"),
        KeyHint("/", "search"),
        KeyHint("n/N", "next/previous match"),
        KeyHint("y", "copy value"),
        KeyHint("j/k ↓/↑", "move"),
        KeyHint("PgDn/PgUp Space", "page"),
        KeyHint("g/G", "top/end"),
        KeyHint("+/-", "expand/collapse all"),
    ]

    public static let searchPrompt: [KeyHint] = [
        KeyHint("Enter", "keep search"),
        KeyHint("Esc", "cancel search"),
    ]

    public static let global: [KeyHint] = [
        KeyHint("?", "help"),
        KeyHint("q", "quit"),
        KeyHint("r", "new token"),
        KeyHint("l", "sign in (device code)"),
        KeyHint("L", "az login in this terminal"),
        KeyHint("t", "local time / UTC"),
        KeyHint("p", "switch profile (service)"),
        KeyHint("f", "follow new entries"),
        // The terminal turns Ctrl-Z into SIGTSTP; ncurses restores the screen and redraws on `fg`.
        KeyHint("Ctrl-z", "suspend (fg resumes)"),
    ]

    /// The sections of the help overlay for the current view.
    public static func sections(for state: AppState) -> [Section] {
        if state.detail != nil {
            return [Section(title: "Entry details", hints: detail), Section(title: "Everywhere", hints: global)]
        }
        if state.filter?.editing == true {
            return [Section(title: "Filter", hints: filterPrompt), Section(title: "List", hints: list),
                    Section(title: "Everywhere", hints: global)]
        }
        return [Section(title: "List", hints: list), Section(title: "Everywhere", hints: global)]
    }

    /// The hint bar, most useful first (`? help` is drawn first by the view and never dropped).
    public static func bar(for state: AppState) -> [KeyHint] {
        if state.signIn != nil { return [KeyHint("Esc", "cancel"), KeyHint("y", "copy code")] }
        if state.helpOpen { return [KeyHint("Esc", "close"), KeyHint("j/k", "scroll")] }
        if state.profilePicker != nil { return [KeyHint("Enter", "switch"), KeyHint("Esc", "cancel"), KeyHint("j/k", "move")] }
        if let d = state.detail {
            if d.search?.editing == true { return searchPrompt }
            var bar = [KeyHint("Esc", "back"), KeyHint("Enter", "expand/collapse"), KeyHint("/", "search")]
            if d.search?.query.isEmpty == false { bar.append(KeyHint("n/N", "next/prev")) }
            bar += [KeyHint("y", "copy value"), KeyHint("[ ]", "prev/next entry"), KeyHint("q", "quit")]
            return bar
        }
        if state.filter?.editing == true { return Array(filterPrompt.prefix(4)) }
        var bar = [KeyHint("q", "quit"), KeyHint("Enter", "open"), KeyHint("/", "filter"),
                   KeyHint("f", state.follow.on ? "stop following" : "follow"), KeyHint("y", "copy UID"),
                   KeyHint("r", "new token"), KeyHint("l", "sign in"), KeyHint("R", "reload")]
        if !state.profiles.isEmpty && !state.isDemo { bar.insert(KeyHint("p", "profile"), at: 5) }
        if state.filter != nil { bar.insert(KeyHint("Esc", "clear filter"), at: 1) }
        // Put first what gets the user out of a failure.
        var first: [KeyHint] = []
        if state.token.info == nil, let problem = state.token.problem {
            first = problem.signInHelps ? [KeyHint("l", "sign in"), KeyHint("L", "az login"), KeyHint("r", "retry")]
                                        : [KeyHint("r", "retry")]
        } else if state.fetch.phase == .stopped, !state.fetch.stoppedForToken {
            first = [KeyHint("R", "load again")]
        }
        if !first.isEmpty {
            let keys = Set(first.map(\.keys))
            bar = [KeyHint("q", "quit")] + first + bar.filter { $0.keys != "q" && !keys.contains($0.keys) }
        }
        return bar
    }
}
