import TerminalKit

/// Every key binding of every view, declared once: its keys, its action and its description.
/// `update` dispatches through it, the hint bar and the help overlay (`?`) show it, `--help`
/// summarises it, and a test checks that the README lists it. Each view's bindings are in the
/// order the help overlay lists them.
public enum KeyTable {
    private typealias B = KeyBinding

    public static let list: [KeyBinding] = [
        B([.enter, .right], .list(.open), label: "Enter", "open entry", bar: .text("open")),
        B([.char("/")], .list(.filter), label: "/", "filter", bar: .text("filter")),
        B([.char("y")], .list(.copy), label: "y", "copy SOP instance UID", bar: .text("copy UID")),
        B([.char("j"), .down], .list(.move(.down)), label: "j/k ↓/↑", "move"),
        B([.char("k"), .up], .list(.move(.up)), "move up"),
        B([.pageDown, .char(" ")], .list(.move(.pageDown)), label: "PgDn/PgUp Space", "page"),
        B([.pageUp], .list(.move(.pageUp)), "page up"),
        B([.ctrl("d")], .list(.move(.halfPageDown)), label: "Ctrl-d/Ctrl-u", "half page"),
        B([.ctrl("u")], .list(.move(.halfPageUp)), "half a page up"),
        B([.char("g"), .home], .list(.move(.first)), label: "g/G Home/End", "first/newest entry of the feed"),
        B([.char("G"), .end], .list(.move(.last)), "newest entry"),
        B([.char(":")], .list(.seek), label: ":", "go to a sequence or a time (:123456, :2026-11-20 14:00, :-2h)",
          bar: .text("go to")),
        B([.char("'")], .list(.goSaved), label: "'", "go to where the last run stopped (its saved position)"),
        // R and M work in the detail view too, but they are about the list.
        B([.char("R")], .everywhere(.reload), label: "R", "reload / re-read states",
          bar: .text("reload", wayOut: "load again")),
        B([.char("M")], .everywhere(.loadNames), label: "M", "load names (metadata) for the filter"),
        B([.char("T")], .timeline(.open), label: "T", "cursor on the activity timeline (Enter goes there)", bar: .text("timeline")),
        B([.char("a")], .activity(.open), label: "a", "activity: histogram, actions, busiest hours", bar: .text("activity")),
        B([.char("F")], .search(.open), label: "F", "search the whole feed for the filter (in the background)",
          bar: Bar { $0.filter?.query != nil && $0.filter?.editing == false ? "search feed" : nil }),
        B([.escape], .list(.clearFilter), label: "Esc", "clear filter",
          bar: Bar { $0.filter != nil ? "clear filter" : nil }),
        B([], nil, label: "mouse", "wheel scrolls, click selects, double click opens"),
    ]

    public static let filterPrompt: [KeyBinding] = [
        B([.enter], .filterPrompt(.keep), label: "Enter", "keep filter", bar: .text("keep filter")),
        B([.escape], .filterPrompt(.clear), label: "Esc", "clear filter", bar: .text("clear filter")),
        B([.down], .filterPrompt(.move(.down)), label: "↓/↑", "move", bar: .text("move")),
        B([.up], .filterPrompt(.move(.up)), "move up"),
        B([.pageDown], .filterPrompt(.move(.pageDown)), "page down"),
        B([.pageUp], .filterPrompt(.move(.pageUp)), "page up"),
        B([.ctrl("u")], .filterPrompt(.clearText), label: "Ctrl-u", "clear text", bar: .text("clear text")),
        B([.backspace, .delete], .filterPrompt(.deleteBack), "delete the last character (with none left, clear filter)"),
        B([], nil, label: FeedFilter.help, "syntax"),
    ]

    public static let seekPrompt: [KeyBinding] = [
        B([.enter], .seekPrompt(.go), label: "Enter", "go there", bar: .text("go")),
        B([.escape], .seekPrompt(.cancel), label: "Esc", "cancel", bar: .text("cancel")),
        B([.ctrl("u")], .seekPrompt(.clearText), label: "Ctrl-u", "clear text"),
        B([.backspace, .delete], .seekPrompt(.deleteBack), "delete the last character (with none left, cancel)"),
        B([], nil, label: "123456 · 2026-11-20 14:00 · 2026-11-20 · -2h · first · newest · saved", "what to type"),
    ]

    public static let detail: [KeyBinding] = [
        B([.escape], .detail(.dismiss), label: "Esc/←", "back", bar: .text("Esc", "back")),
        B([.left, .char("h"), .backspace], .detail(.back), "back to the list"),
        B([.char("[")], .detail(.previousEntry), label: "[ ]", "previous/next entry", bar: .text("[ ]", "prev/next entry")),
        B([.char("]")], .detail(.nextEntry), "next entry"),
        B([.enter, .tab, .right], .detail(.toggle), label: "Enter/Tab/→", "expand/collapse",
          bar: .text("Enter", "expand/collapse")),
        B([.char("/")], .detail(.search), label: "/", "search", bar: .text("search")),
        B([.char("n")], .detail(.nextMatch), label: "n/N", "next/previous match",
          bar: Bar { $0.detail?.search?.query.isEmpty == false ? "next/prev" : nil }),
        B([.char("N")], .detail(.previousMatch), "previous match"),
        B([.char("y")], .detail(.copy), label: "y", "copy value", bar: .text("copy value")),
        B([.char("j"), .down], .detail(.move(.down)), label: "j/k ↓/↑", "move"),
        B([.char("k"), .up], .detail(.move(.up)), "move up"),
        B([.pageDown, .char(" ")], .detail(.move(.pageDown)), label: "PgDn/PgUp Space", "page"),
        B([.pageUp], .detail(.move(.pageUp)), "page up"),
        B([.char("g"), .home], .detail(.move(.first)), label: "g/G", "top/end"),
        B([.char("G"), .end], .detail(.move(.last)), "end"),
        B([.char("+"), .char("=")], .detail(.expandAll), label: "+/-", "expand/collapse all"),
        B([.char("-")], .detail(.collapseAll), "collapse all"),
        B([.ctrl("d")], .detail(.move(.halfPageDown)), "half a page down"),
        B([.ctrl("u")], .detail(.move(.halfPageUp)), "half a page up"),
    ]

    public static let detailSearch: [KeyBinding] = [
        B([.enter], .detailSearch(.keep), label: "Enter", "keep search", bar: .text("keep search")),
        B([.escape], .detailSearch(.cancel), label: "Esc", "cancel search", bar: .text("cancel search")),
        B([.backspace, .delete], .detailSearch(.deleteBack), "delete the last character (with none left, end the search)"),
        B([.ctrl("u")], .detailSearch(.clearText), "clear text"),
    ]

    public static let help: [KeyBinding] = [
        B([.escape, .char("?"), .char("q"), .enter], .help(.close), "close", bar: .text("Esc", "close")),
        B([.char("j"), .down], .help(.move(.down)), "scroll down", bar: .text("j/k", "scroll")),
        B([.char("k"), .up], .help(.move(.up)), "scroll up"),
        B([.pageDown, .char(" ")], .help(.move(.pageDown)), "page down"),
        B([.pageUp], .help(.move(.pageUp)), "page up"),
        B([.char("g"), .home], .help(.move(.first)), "top"),
    ]

    public static let signIn: [KeyBinding] = [
        B([.escape, .char("q")], .signIn(.cancel), "cancel (after a failure: close)", bar: .text("Esc", "cancel")),
        B([.char("y")], .signIn(.copyCode), "copy the code", bar: .text("y", "copy code")),
        B([.enter], .signIn(.close), "close after a failure"),
        B([.char("l")], .signIn(.retry), "try again after a failure"),
    ]

    public static let profilePicker: [KeyBinding] = [
        B([.enter], .profilePicker(.choose), "switch to the profile", bar: .text("Enter", "switch")),
        B([.escape, .char("q"), .char("p")], .profilePicker(.close), "cancel", bar: .text("Esc", "cancel")),
        B([.char("j"), .down], .profilePicker(.move(.down)), "move down", bar: .text("j/k", "move")),
        B([.char("k"), .up], .profilePicker(.move(.up)), "move up"),
        B([.char("g"), .home], .profilePicker(.move(.first)), "first profile"),
        B([.char("G"), .end], .profilePicker(.move(.last)), "last profile"),
    ]

    public static let timeline: [KeyBinding] = [
        B([.left, .char("h")], .timeline(.left), label: "←/→ h/l", "move along the strip", bar: .text("←/→", "move")),
        B([.right, .char("l")], .timeline(.right), "move right"),
        B([.pageUp, .char("H")], .timeline(.pageLeft), label: "PgUp/PgDn H/L", "move a tenth of the strip"),
        B([.pageDown, .char("L")], .timeline(.pageRight), "a tenth right"),
        B([.home, .char("g")], .timeline(.start), label: "g/G Home/End", "first/last time"),
        B([.end, .char("G")], .timeline(.end), "last time"),
        B([.enter], .timeline(.go), label: "Enter", "go to that time", bar: .text("go")),
        B([.escape, .char("T"), .char("q")], .timeline(.leave), label: "Esc", "leave the strip", bar: .text("Esc", "leave")),
    ]

    public static let search: [KeyBinding] = [
        B([.enter], .search(.go), label: "Enter", "go to the entry in the feed", bar: .text("go")),
        B([.char("s")], .search(.stop), label: "s", "stop the search", bar: .text("stop")),
        B([.escape, .char("q"), .char("F")], .search(.close), label: "Esc", "close (the search goes on; F shows it again)",
          bar: .text("Esc", "close")),
        B([.char("j"), .down], .search(.move(.down)), label: "j/k ↓/↑", "move"),
        B([.char("k"), .up], .search(.move(.up)), "move up"),
        B([.pageDown, .char(" ")], .search(.move(.pageDown)), label: "PgDn/PgUp", "page"),
        B([.pageUp], .search(.move(.pageUp)), "page up"),
        B([.char("g"), .home], .search(.move(.first)), label: "g/G", "oldest/newest match"),
        B([.char("G"), .end], .search(.move(.last)), "newest match"),
    ]

    public static let activity: [KeyBinding] = [
        B([.escape, .char("a"), .char("q"), .enter], .activity(.close), label: "Esc", "close", bar: .text("Esc", "close")),
    ]

    public static let everywhere: [KeyBinding] = [
        B([.char("?")], .everywhere(.help), label: "?", "help"),
        B([.char("q")], .everywhere(.quit), label: "q", "quit", bar: .text("quit")),
        B([.char("r")], .everywhere(.newToken), label: "r", "new token", bar: .text("new token", wayOut: "retry")),
        B([.char("l")], .everywhere(.signIn), label: "l", "sign in (device code)", bar: .text("sign in", wayOut: "sign in")),
        B([.char("L")], .everywhere(.azLogin), label: "L", "az login in this terminal", bar: .wayOut("az login")),
        B([.char("t")], .everywhere(.switchTime), label: "t", "local time / UTC"),
        B([.char("p")], .everywhere(.switchProfile), label: "p", "switch profile (service)",
          bar: Bar { $0.profiles.isEmpty || $0.isDemo ? nil : "profile" }),
        B([.char("f")], .everywhere(.follow), label: "f", "follow new entries",
          bar: Bar { $0.follow.on ? "stop following" : "follow" }),
        // The terminal turns Ctrl-Z into SIGTSTP; ncurses restores the screen and redraws on `fg`.
        B([.ctrl("z")], nil, label: "Ctrl-z", "suspend (fg resumes)"),
    ]

    private typealias Bar = KeyBinding.Bar

    /// The bindings of a view, in the help overlay's order.
    public static func bindings(_ view: KeyView) -> [KeyBinding] {
        switch view {
        case .list: list
        case .filterPrompt: filterPrompt
        case .seekPrompt: seekPrompt
        case .detail: detail
        case .detailSearch: detailSearch
        case .help: help
        case .signIn: signIn
        case .profilePicker: profilePicker
        case .timeline: timeline
        case .activity: activity
        case .search: search
        case .everywhere: everywhere
        }
    }

    /// Every binding, view by view.
    public static var all: [(view: KeyView, bindings: [KeyBinding])] {
        KeyView.allCases.map { ($0, bindings($0)) }
    }

    /// What `key` does in `view`: the view's binding, else (in the list and the detail view) the
    /// one that works everywhere; a prompt types a character it does not bind.
    public static func action(for key: Key, in view: KeyView) -> KeyAction? {
        if let action = dispatch[view]?[key] { return action }
        if view.fallsBackToEverywhere, let action = dispatch[.everywhere]?[key] { return action }
        guard case .char(let c) = key else { return nil }
        switch view {
        case .filterPrompt: return .filterPrompt(.type(c))
        case .seekPrompt: return .seekPrompt(.type(c))
        case .detailSearch: return .detailSearch(.type(c))
        default: return nil
        }
    }

    /// Each handling view's keys and their actions (`R`, listed with the list, is handled everywhere).
    private static let dispatch: [KeyView: [Key: KeyAction]] = {
        var index: [KeyView: [Key: KeyAction]] = [:]
        for b in all.flatMap(\.bindings) {
            guard let action = b.action else { continue }
            for key in b.keys where index[action.view]?[key] == nil { index[action.view, default: [:]][key] = action }
        }
        return index
    }()

    /// The binding of an action.
    public static func binding(_ action: KeyAction) -> KeyBinding? { byAction[action] }

    private static let byAction: [KeyAction: KeyBinding] = Dictionary(
        all.flatMap(\.bindings).compactMap { b in b.action.map { ($0, b) } }, uniquingKeysWith: { first, _ in first })
}
