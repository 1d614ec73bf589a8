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

    @Test func everyActionIsDeclaredOnce() {
        let actions = KeyTable.all.flatMap(\.bindings).compactMap(\.action)
        #expect(actions.count == Set(actions).count)
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
