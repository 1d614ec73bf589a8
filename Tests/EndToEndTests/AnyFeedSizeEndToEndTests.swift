import Foundation
import TestSupport
import Testing

/// A feed of 10^8 entries in the real binary (`--demo`, computed on demand): it opens at the
/// newest entries, scrolling up reads older ones, and `:`, `g` and `G` go anywhere, reading only
/// what they show.
@Suite(.serialized, .enabled(if: Build.tmuxAvailable, "needs tmux"))
struct AnyFeedSizeEndToEndTests {
    /// The status line's `seq N (P %)`: the selected entry's sequence.
    static func selectedSequence(_ lines: [String]) -> Int64? {
        for line in lines.reversed() {
            if let m = line.firstMatch(of: /seq ([0-9,]+) \([0-9]+ %\)/) { return Int64(m.1.replacingOccurrences(of: ",", with: "")) }
        }
        return nil
    }

    @Test func aHundredMillionEntriesOpenAtTheNewestAndEveryPlaceIsAJumpAway() async throws {
        let tmux = try Tmux(cols: 120, rows: 30)
        try tmux.run("\(Build.dicomtui) --demo --demo-live 0 --no-mouse --utc; echo EXIT=$?")
        // The row above the list says older entries exist (once a read of older rows that the
        // first screen may start is done: until then it says they are loading).
        let first = try await tmux.waitFor("the newest entries, older ones above") { lines in
            lines.contains { $0.contains("idle, at the end of the feed") } && lines.contains { $0.contains("(100 %)") }
                && lines.contains { $0.contains("↑ older entries before") }
        }
        let newest = try #require(Self.selectedSequence(first))
        #expect(newest > 99_000_000)
        let loaded = try #require(position(in: first)?.total)
        #expect(loaded < 5_000, "only the newest entries are read: \(loaded)")

        // Up past the top: older entries come in front, the selection stays on its entry.
        for _ in 0..<40 { try tmux.keys("PPage") }
        try await tmux.waitFor("older entries loaded") { (position(in: $0)?.total ?? 0) > loaded }

        // A sequence in the middle of the feed.
        try tmux.keys(":")
        try tmux.literal("50000000")
        try tmux.keys("Enter")
        let middle = try await tmux.waitFor("sequence 50,000,000") { lines in
            (Self.selectedSequence(lines) ?? 0) >= 50_000_000 && (Self.selectedSequence(lines) ?? 0) < 50_010_000
                && lines.contains { $0.contains("newer entries load as you scroll down") }
        }
        #expect((position(in: middle)?.total ?? .max) < 10_000)

        // The feed's first entry, and back to the newest.
        try tmux.keys("g")
        try await tmux.waitFor("the first entry") { Self.selectedSequence($0) == 1 }
        try tmux.keys("G")
        try await tmux.waitFor("the newest entry again") { lines in
            (Self.selectedSequence(lines) ?? 0) >= newest && lines.contains { $0.contains("idle, at the end of the feed") }
        }

        // A time that does not parse says what to type; the app goes on.
        try tmux.keys(":")
        try tmux.literal("yesterday")
        try tmux.keys("Enter")
        try await tmux.waitFor(text: "Go to 'yesterday': type a sequence number (123456)")
        try tmux.keys(":")
        try tmux.literal("2026-11-2O")
        try tmux.keys("Enter")
        try await tmux.waitFor(text: "is not a date and time")
        try tmux.keys("q")
        try await tmux.waitFor(text: "EXIT=0")
    }
}
