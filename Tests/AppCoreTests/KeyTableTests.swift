import AppCore
import TerminalKit
import Testing

/// The key table is consistent: what the help overlay shows is what the keys do.
@Suite struct KeyTableTests {
    /// `j/k ↓/↑` → j, k, ↓, ↑; `[ ]` → [, ]; `/` → /.
    static func keyNames(inLabel label: String) -> [String] {
        label.split(separator: " ").flatMap { word in
            word == "/" ? ["/"] : word.split(separator: "/").map(String.init)
        }
    }

    @Test(arguments: KeyView.allCases)
    func everyKeyTheOverlayNamesIsBoundInItsView(view: KeyView) {
        let bindings = KeyTable.bindings(view)
        let bound = Set(bindings.flatMap(\.keys).map(KeyBinding.name))
        for b in bindings where !b.keys.isEmpty {
            guard let label = b.label else { continue }
            for name in Self.keyNames(inLabel: label) {
                #expect(bound.contains(name), "\(view.title): '\(label)' names \(name), which the view does not bind")
            }
            let own = b.keys.map(KeyBinding.name)
            #expect(own.contains { Self.keyNames(inLabel: label).contains($0) }, "'\(label)' names none of its own keys \(own)")
        }
    }

    @Test func noKeyIsBoundTwiceInAView() {
        var seen: [KeyView: Set<Key>] = [:]
        for b in KeyTable.all.flatMap(\.bindings) {
            guard let view = b.action?.view else { continue }
            for key in b.keys {
                #expect(seen[view, default: []].insert(key).inserted, "\(KeyBinding.name(key)) is bound twice in \(view.title)")
            }
        }
    }

    @Test func everyKeyDoesWhatItsBindingSays() {
        for b in KeyTable.all.flatMap(\.bindings) {
            guard let action = b.action else { continue }
            for key in b.keys {
                #expect(KeyTable.action(for: key, in: action.view) == action, "\(KeyBinding.name(key)): \(b.does)")
            }
        }
        // The list and the detail view hand what they do not bind to the keys that work everywhere;
        // the prompts type it.
        #expect(KeyTable.action(for: .char("q"), in: .detail) == .everywhere(.quit))
        #expect(KeyTable.action(for: .char("R"), in: .list) == .everywhere(.reload))
        #expect(KeyTable.action(for: .char("q"), in: .filterPrompt) == .filterPrompt(.type("q")))
        #expect(KeyTable.action(for: .char("q"), in: .detailSearch) == .detailSearch(.type("q")))
        #expect(KeyTable.action(for: .char("x"), in: .help) == nil)
    }

    @Test func everyActionIsDeclaredOnce() {
        let actions = KeyTable.all.flatMap(\.bindings).compactMap(\.action)
        #expect(actions.count == Set(actions).count)
    }

    @Test func helpsKeySummaryNamesTheListsKeysAndThoseThatWorkEverywhere() {
        for keys in ["j/k ↓/↑", "PgDn/PgUp", "Ctrl-d/Ctrl-u", "g/G Home/End", "Enter:", "/:", "f:", "y:", "r:", "l:", "p:", "?:", "q:"] {
            #expect(KeyHelp.summary.contains(keys), "\(keys)")
        }
    }

    @Test func everyBarHintHasKeysAndText() {
        var s = AppState(serviceURL: "https://x", apiVersion: .v2, now: t0)
        s.profiles = ["a", "b"]
        s.follow.on = true
        for b in KeyTable.all.flatMap(\.bindings) {
            guard let hint = b.hint(s) ?? b.hint(s, wayOut: true) else { continue }
            #expect(!hint.keys.isEmpty && !hint.action.isEmpty, "\(b.does)")
        }
    }
}
