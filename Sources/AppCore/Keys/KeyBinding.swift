import TerminalKit

/// The views that read keys, each with its own bindings (see `KeyTable`), and `everywhere`:
/// the keys the list and the detail view share.
public enum KeyView: CaseIterable, Sendable {
    case list, filterPrompt, seekPrompt, detail, detailSearch, help, signIn, profilePicker, timeline, activity, search, everywhere

    /// The heading of the view's section in the help overlay (`?`).
    public var title: String {
        switch self {
        case .list: "List"
        case .filterPrompt: "Filter"
        case .seekPrompt: "Go to"
        case .detail: "Entry details"
        case .detailSearch: "Search"
        case .help: "Help"
        case .signIn: "Sign in"
        case .profilePicker: "Profiles"
        case .timeline: "Timeline cursor"
        case .activity: "Activity"
        case .search: "Search the whole feed"
        case .everywhere: "Everywhere"
        }
    }

    /// How the README's key tables name the view (a test checks that they list every binding).
    public var name: String {
        switch self {
        case .list: "list"
        case .filterPrompt: "filter prompt"
        case .seekPrompt: "go-to prompt"
        case .detail: "detail view"
        case .detailSearch: "search prompt"
        case .help: "help"
        case .signIn: "sign-in dialog"
        case .profilePicker: "profile picker"
        case .timeline: "timeline cursor"
        case .activity: "activity view"
        case .search: "whole-feed search"
        case .everywhere: "everywhere"
        }
    }

    /// The view that reads the next key. A dialog or an overlay takes keys before the view under it.
    public static func current(_ state: AppState) -> KeyView {
        if state.signIn != nil { return .signIn }
        if state.helpOpen { return .help }
        if state.profilePicker != nil { return .profilePicker }
        if state.timeline.viewOpen { return .activity }
        if state.search?.open == true { return .search }
        if state.timeline.cursor != nil { return .timeline }
        if state.seekPrompt != nil { return .seekPrompt }
        if state.filter?.editing == true { return .filterPrompt }
        if let d = state.detail { return d.search?.editing == true ? .detailSearch : .detail }
        return .list
    }

    /// A key this view does not bind does what it does `everywhere`.
    var fallsBackToEverywhere: Bool { self == .list || self == .detail }
}

/// How a cursor moves, in every view that has one.
public enum Motion: Hashable, Sendable {
    case down, up, pageDown, pageUp, halfPageDown, halfPageUp, first, last

    /// Where the cursor lands from `position` among `count` rows, `page` rows to a page.
    func target(from position: Int, page: Int, count: Int) -> Int {
        let half = max(1, page / 2)
        let to = switch self {
        case .down: position + 1
        case .up: position - 1
        case .pageDown: position + page
        case .pageUp: position - page
        case .halfPageDown: position + half
        case .halfPageUp: position - half
        case .first: 0
        case .last: count - 1
        }
        return max(0, min(to, count - 1))
    }

    /// Towards the start (in the list, this stops follow mode).
    var goesUp: Bool { self == .up || self == .pageUp || self == .halfPageUp || self == .first }
}

/// What a key does: the view that handles it and the action there (each view's actions are
/// declared with its handler, in `Update/`).
public enum KeyAction: Hashable, Sendable {
    case list(ListAction)
    case filterPrompt(FilterPromptAction)
    case seekPrompt(SeekPromptAction)
    case detail(DetailAction)
    case detailSearch(DetailSearchAction)
    case help(HelpAction)
    case signIn(SignInAction)
    case profilePicker(ProfilePickerAction)
    case timeline(TimelineAction)
    case activity(ActivityAction)
    case search(SearchAction)
    case everywhere(GlobalAction)

    /// The view whose handler runs the action (the keys that open the timeline's cursor and the
    /// activity view are the list's).
    public var view: KeyView {
        switch self {
        case .list: .list
        case .filterPrompt: .filterPrompt
        case .seekPrompt: .seekPrompt
        case .detail: .detail
        case .detailSearch: .detailSearch
        case .help: .help
        case .signIn: .signIn
        case .profilePicker: .profilePicker
        case .timeline(let a): a == .open ? .list : .timeline
        case .activity(let a): a == .open ? .list : .activity
        case .search(let a): a == .open ? .list : .search
        case .everywhere: .everywhere
        }
    }
}

/// One key and what it does, as the hint bar and the help overlay (`?`) show it.
public struct KeyHint: Sendable, Equatable {
    public var keys: String
    public var action: String
    public init(_ keys: String, _ action: String) { self.keys = keys; self.action = action }
}

/// One binding of the key table: the keys, the action they trigger, and how the help overlay
/// and the hint bar describe it.
public struct KeyBinding: Sendable {
    /// The keys that trigger it (none: a row of the help that is not a key, like the mouse).
    public let keys: [Key]
    /// What `update` does (nil: nothing; the row only documents, like Ctrl-z, which the terminal handles).
    public let action: KeyAction?
    /// How the help overlay shows the keys; nil: the overlay has no row for the binding (its keys
    /// are named in the row before, like `k` in `j/k ↓/↑`, or they are left out to keep it short).
    public let label: String?
    /// What the binding does.
    public let does: String
    /// Its place in the hint bar, if it has one.
    public let bar: Bar?

    /// A binding's entry in the hint bar: the keys (by default the overlay's label) and a short
    /// text that may depend on the state (nil: not shown now).
    public struct Bar: Sendable {
        public let keys: String?
        public let text: @Sendable (AppState) -> String?
        /// The text when the key is offered first, as the way out of a failure.
        public let wayOut: String?

        public init(keys: String? = nil, wayOut: String? = nil, text: @escaping @Sendable (AppState) -> String?) {
            self.keys = keys; self.text = text; self.wayOut = wayOut
        }

        /// A fixed text, after the overlay's label.
        public static func text(_ text: String, wayOut: String? = nil) -> Bar {
            Bar(wayOut: wayOut) { _ in text }
        }

        /// A fixed text after shorter keys than the overlay shows (`Esc` for `Esc/←`).
        public static func text(_ keys: String, _ text: String) -> Bar {
            Bar(keys: keys) { _ in text }
        }

        /// Only offered as the way out of a failure.
        public static func wayOut(_ text: String) -> Bar { Bar(wayOut: text) { _ in nil } }
    }

    public init(_ keys: [Key], _ action: KeyAction?, label: String? = nil, _ does: String, bar: Bar? = nil) {
        self.keys = keys; self.action = action; self.label = label; self.does = does; self.bar = bar
    }

    /// The hint bar's entry now (nil: none), with the way-out text when `wayOut` is set.
    public func hint(_ state: AppState, wayOut: Bool = false) -> KeyHint? {
        guard let bar, let text = wayOut ? bar.wayOut : bar.text(state) else { return nil }
        return KeyHint(bar.keys ?? label ?? keys.first.map(Self.name) ?? "", text)
    }

    /// How the documentation names a key: `j`, `Space`, `Ctrl-d`, `↓`, `PgDn`, `Esc`.
    public static func name(_ key: Key) -> String {
        switch key {
        case .char(" "): "Space"
        case .char(let c): String(c)
        case .ctrl(let c): "Ctrl-\(c)"
        case .up: "↑"
        case .down: "↓"
        case .left: "←"
        case .right: "→"
        case .pageUp: "PgUp"
        case .pageDown: "PgDn"
        case .home: "Home"
        case .end: "End"
        case .enter: "Enter"
        case .escape: "Esc"
        case .backspace: "Backspace"
        case .tab: "Tab"
        case .backTab: "Shift-Tab"
        case .delete: "Delete"
        case .insert: "Insert"
        case .function(let n): "F\(n)"
        }
    }
}
