/// What the help overlay (`?`) and the hint bar show, read from `KeyTable`: the hint bar shows
/// the first that fit (after `? help`, which always stays), and the help overlay lists the
/// current view's keys first, then the rest.
public enum KeyHelp {
    public struct Section: Sendable, Equatable {
        public var title: String
        public var hints: [KeyHint]
    }

    /// A view's rows in the help overlay.
    static func section(_ view: KeyView) -> Section {
        Section(title: view.title, hints: KeyTable.bindings(view).compactMap { b in b.label.map { KeyHint($0, b.does) } })
    }

    /// The sections of the help overlay for the current view.
    public static func sections(for state: AppState) -> [Section] {
        if state.timeline.viewOpen { return [section(.activity), section(.list), section(.everywhere)] }
        if state.timeline.cursor != nil { return [section(.timeline), section(.list), section(.everywhere)] }
        if state.search?.open == true { return [section(.search), section(.list), section(.everywhere)] }
        if state.seekPrompt != nil { return [section(.seekPrompt), section(.list), section(.everywhere)] }
        if state.detail != nil { return [section(.detail), section(.everywhere)] }
        if state.filter?.editing == true { return [section(.filterPrompt), section(.list), section(.everywhere)] }
        return [section(.list), section(.everywhere)]
    }

    /// `--help`'s paragraph on keys: the list's and those that work everywhere, as `?` lists them.
    public static var summary: String {
        func rows(_ view: KeyView) -> String {
            KeyTable.bindings(view).compactMap { b in b.keys.isEmpty ? nil : b.label.map { "\($0): \(b.does)" } }
                .joined(separator: ", ")
        }
        return "Keys in the list — \(rows(.list)). Everywhere — \(rows(.everywhere)). "
            + "The detail view, the filter and the dialogs have keys of their own: ? lists those of the view you are in."
    }

    /// The hint bar, most useful first (`? help` is drawn first by the view and never dropped).
    public static func bar(for state: AppState) -> [KeyHint] {
        if state.signIn != nil { return hints([.signIn(.cancel), .signIn(.copyCode)], state) }
        if state.helpOpen { return hints([.help(.close), .help(.move(.down))], state) }
        if state.profilePicker != nil {
            return hints([.profilePicker(.choose), .profilePicker(.close), .profilePicker(.move(.down))], state)
        }
        if state.timeline.viewOpen { return hints([.activity(.close)], state) }
        if state.timeline.cursor != nil { return hints([.timeline(.go), .timeline(.left), .timeline(.leave)], state) }
        if state.search?.open == true { return hints([.search(.go), .search(.stop), .search(.close)], state) }
        if state.seekPrompt != nil { return hints([.seekPrompt(.go), .seekPrompt(.cancel)], state) }
        if let d = state.detail {
            if d.search?.editing == true { return hints([.detailSearch(.keep), .detailSearch(.cancel)], state) }
            return hints([.detail(.dismiss), .detail(.toggle), .detail(.search), .detail(.nextMatch), .detail(.copy),
                          .detail(.previousEntry), .everywhere(.quit)], state)
        }
        if state.filter?.editing == true {
            return hints([.filterPrompt(.keep), .filterPrompt(.clear), .filterPrompt(.move(.down)), .filterPrompt(.clearText)], state)
        }
        let list: [KeyAction] = [.everywhere(.quit), .list(.clearFilter), .list(.open), .list(.filter), .everywhere(.follow),
                                 .list(.copy), .everywhere(.switchProfile), .everywhere(.newToken), .everywhere(.signIn),
                                 .everywhere(.reload), .list(.seek), .search(.open), .timeline(.open), .activity(.open)]
        // Put first what gets the user out of a failure.
        let first = wayOut(state)
        if first.isEmpty { return hints(list, state) }
        return hints([.everywhere(.quit)], state) + first.compactMap { KeyTable.binding($0)?.hint(state, wayOut: true) }
            + hints(list.filter { $0 != .everywhere(.quit) && !first.contains($0) }, state)
    }

    /// The keys that get the user out of the current failure, if any.
    static func wayOut(_ state: AppState) -> [KeyAction] {
        if state.token.info == nil, let problem = state.token.problem {
            return problem.signInHelps ? [.everywhere(.signIn), .everywhere(.azLogin), .everywhere(.newToken)]
                                       : [.everywhere(.newToken)]
        }
        if state.fetch.phase == .stopped, !state.fetch.stoppedForToken { return [.everywhere(.reload)] }
        return []
    }

    private static func hints(_ actions: [KeyAction], _ state: AppState) -> [KeyHint] {
        actions.compactMap { KeyTable.binding($0)?.hint(state) }
    }
}
