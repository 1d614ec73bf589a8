import Emulator
import FeedModel
import Foundation
import TestSupport
import Testing

/// Issue 11, defect 4: `/山田` without metadata showed `filtered 0` and said nothing. The
/// filter now says how many rows have names known and that `M` loads them; `M` does.
@Suite(.serialized, .enabled(if: Build.tmuxAvailable, "needs tmux"))
struct FilterNamesEndToEndTests {
    @Test func aNameFilterSaysNamesAreUnknownAndMLoadsThem() async throws {
        let n = 400
        // The truth: the demo's entries whose metadata (sent for rows not deleted) names 山田.
        let store = ChangeFeedStore(options: EmulatorOptions.demo(entries: n).dataset)
        let entries = store.entriesV2(limit: n + 10)
        let named = entries.filter { e in
            e.state != .deleted && Self.strings(in: store.metadataJSON(sopInstanceUid: e.sopInstanceUid).map { String(decoding: $0, as: UTF8.self) }).contains { $0.contains("山田") }
        }.count
        #expect(named > 0)

        let tmux = try Tmux(cols: 160, rows: 30)
        try tmux.run("\(Build.dicomtui) --demo --demo-entries \(n) --demo-live 0 --no-mouse; echo EXIT=$?")
        try await tmux.waitFor(text: "idle, at the end of the feed")
        try tmux.keys("/")
        try tmux.literal("山田")
        try await tmux.waitFor(text: "names known for 0 of \(formatted(entries.count)) rows · Enter, then M loads them")
        try tmux.keys("Enter")
        try await tmux.waitFor(text: "names known for 0 of \(formatted(entries.count)) rows · M loads them")
        try tmux.keys("M")
        try await tmux.waitFor("the filter finds the entries of 山田") { lines in
            lines[0].contains("filtered \(formatted(named)) / \(formatted(entries.count))")
        }
        try tmux.keys("q")
        try await tmux.waitFor(text: "EXIT=0")
    }

    /// Every string in a JSON text.
    static func strings(in json: String?) -> [String] {
        guard let json, let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) else { return [] }
        var out: [String] = []
        func walk(_ v: Any) {
            if let s = v as? String { out.append(s) }
            if let a = v as? [Any] { a.forEach(walk) }
            if let d = v as? [String: Any] { d.values.forEach(walk) }
        }
        walk(object)
        return out
    }
}
