import Foundation
import TestSupport
import Testing

/// The activity timeline in the real binary: `--demo` in tmux.
@Suite(.serialized, .enabled(if: Build.tmuxAvailable, "needs tmux"))
struct TimelineEndToEndTests {
    static let blocks = Set("▁▂▃▄▅▆▇█")

    /// The strip appears under the header with the feed's time range; `a` opens the activity
    /// view; `T`, `g`, Enter goes to the start of the feed.
    @Test func theStripAppearsInTheDemoAndItsCursorGoes() async throws {
        let tmux = try Tmux(cols: 100, rows: 30)
        try tmux.run("\(Build.dicomtui) --demo --demo-entries 3000 --demo-live 0 --no-mouse --utc; echo EXIT=$?")
        let screen = try await tmux.waitFor("the feed loaded and the strip drawn") { lines in
            lines.contains { $0.contains("idle, at the end of the feed") }
                && lines.count > 3 && lines[3].contains { Self.blocks.contains($0) }
        }
        let strip = screen[3]
        // `03-04 08:12 ▂▅█…▁ 03-09 17:40`: the range's ends around the bars.
        let label = try Regex("^\\d\\d-\\d\\d \\d\\d:\\d\\d$")
        let ends = strip.split(separator: " ", omittingEmptySubsequences: true)
        #expect(ends.count >= 5, "\(strip)")
        #expect((ends.first! + " " + ends[1]).wholeMatch(of: label) != nil, "\(strip)")
        #expect((ends[ends.count - 2] + " " + ends.last!).wholeMatch(of: label) != nil, "\(strip)")
        let total = try #require(position(in: screen)?.total)

        try tmux.keys("a")
        try await tmux.waitFor(text: "Busiest hours")
        let view = try tmux.screen().joined(separator: "\n")
        #expect(view.contains("Changes over time"))
        #expect(view.contains(" requests"))
        try tmux.keys("Escape")
        try await tmux.waitFor("the activity view closed") { !$0.joined().contains("Busiest hours") }

        try tmux.keys("T")
        try await tmux.waitFor(text: "timeline ▸ ")
        try tmux.keys("g", "Enter")
        let gone = try await tmux.waitFor("the selection at the start of the feed") { lines in
            lines.contains { $0.contains("Timeline: ") } && position(in: lines)?.selected == 1
        }
        #expect(position(in: gone)?.total == total)
        try tmux.keys("q")
        try await tmux.waitFor(text: "EXIT=0")
    }
}
