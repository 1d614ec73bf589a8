import Emulator
import FeedModel
import Foundation
import Testing

/// One live change as a follower would have lived it.
struct LiveRow {
    var entry: EmulatedEntry
    /// The change (0, 1, …) that appended it, and the one after which it was visible.
    var appendedAt: Int
    var visibleAt: Int?
    /// The clock of the change that appended it, and the newest timestamp when it became visible.
    var clockTicks: Int64
    var newestWhenVisible: Int64?
}

/// Drives the live generator with a clock that moves `step` seconds per change, and records
/// when each row became visible.
func runLive(seed: UInt64, changes: Int, step: Double, live: LiveChangeOptions) -> (ChangeFeedStore, [LiveRow]) {
    let store = ChangeFeedStore(options: DatasetOptions(entryCount: 300, seed: seed))
    var newest = store.allEntries().map(\.timestampTicks).max() ?? 0
    var rows: [LiveRow] = []
    var waiting: [Int] = []
    let base = Date(timeIntervalSince1970: 1_750_000_000)
    for k in 0..<changes {
        let clock = base.addingTimeInterval(Double(k) * step)
        for e in store.appendGeneratedChanges(count: 1, at: clock, live: live) {
            newest = max(newest, e.timestampTicks)
            rows.append(LiveRow(entry: e, appendedAt: k, clockTicks: Timestamp(clock).ticks))
            waiting.append(rows.count - 1)
        }
        let pending = Set(store.pendingSequences)
        waiting.removeAll { i in
            guard !pending.contains(rows[i].entry.sequence) else { return false }
            rows[i].visibleAt = k
            rows[i].newestWhenVisible = newest
            return true
        }
    }
    return (store, rows)
}

@Suite("Live changes like a real feed")
struct LiveChangeTests {
    @Test("some changes commit a few changes late; each is visible less than a minute behind the newest timestamp",
          arguments: [1.0, 3.0, 10.0])
    func lateCommits(step: Double) {
        let live = LiveChangeOptions.realistic
        let (store, rows) = runLive(seed: 4, changes: 600, step: step, live: live)
        let held = rows.filter { $0.visibleAt != $0.appendedAt }
        let share = Double(held.count) / Double(rows.count)
        #expect(share > 0.08 && share < 0.25, "held share \(share)")
        for row in rows where row.visibleAt != nil {
            #expect(row.visibleAt! - row.appendedAt <= live.lateHold.upperBound, "row \(row.entry.sequence)")
            #expect(row.newestWhenVisible! - row.entry.timestampTicks < 60 * Timestamp.ticksPerSecond,
                    "row \(row.entry.sequence) became visible \(Double(row.newestWhenVisible! - row.entry.timestampTicks) / 1e7) s behind")
        }
        // At most the last few changes are still pending, and they commit.
        #expect(rows.filter { $0.visibleAt == nil }.allSatisfy { $0.appendedAt >= 600 - live.lateHold.upperBound })
        #expect(store.commitAll().count == rows.filter { $0.visibleAt == nil }.count)
        // A follower at the tail of v1 sees a higher sequence before a lower one.
        #expect(held.contains { h in
            rows.contains { $0.entry.sequence > h.entry.sequence && ($0.visibleAt ?? .max) < (h.visibleAt ?? .max) }
        })
    }

    @Test("some changes are stamped in the past, less than 60 s behind; v2 order then differs from sequence order")
    func pastStamps() {
        let (store, rows) = runLive(seed: 5, changes: 600, step: 2, live: .realistic)
        let past = rows.filter { $0.entry.timestampTicks < $0.clockTicks }
        let share = Double(past.count) / Double(rows.count)
        #expect(share > 0.05 && share < 0.16, "past share \(share)")
        #expect(past.allSatisfy { $0.clockTicks - $0.entry.timestampTicks < 60 * Timestamp.ticksPerSecond })
        #expect(past.contains { $0.clockTicks - $0.entry.timestampTicks > 10 * Timestamp.ticksPerSecond }, "some seconds, not ticks")
        store.commitAll()
        let visible = store.allEntries()
        #expect(v2Order(visible).map(\.sequence) != visible.map(\.sequence))
        #expect(store.entriesV2(limit: Int.max) == v2Order(visible))
    }

    @Test("live changes mix creates, deletes and updates, and states follow the visible rows")
    func actionsAndStates() {
        let (store, rows) = runLive(seed: 6, changes: 800, step: 1, live: .realistic)
        let actions = Set(rows.map(\.entry.action))
        #expect(actions == [.create, .delete, .update])
        let visible = store.allEntries()
        let states = expectedVisibleStates(visible)
        #expect(visible.allSatisfy { states[$0.sequence] == $0.state })
    }

    @Test("the same seed and clock give the same live changes")
    func deterministic() {
        let (a, _) = runLive(seed: 7, changes: 200, step: 1, live: .realistic)
        let (b, _) = runLive(seed: 7, changes: 200, step: 1, live: .realistic)
        #expect(a.allEntries(includingPending: true) == b.allEntries(includingPending: true))
        #expect(a.pendingSequences == b.pendingSequences)
        #expect(a.allEntries() == b.allEntries())
    }

    @Test("plain live changes are visible at once and stamped with the clock")
    func plain() {
        let (store, rows) = runLive(seed: 8, changes: 200, step: 1, live: .plain)
        #expect(rows.allSatisfy { $0.visibleAt == $0.appendedAt })
        #expect(rows.allSatisfy { $0.entry.timestampTicks >= $0.clockTicks })
        #expect(store.pendingSequences.isEmpty)
    }

    @Test("shares are options: none held with lateShare 0, none in the past with pastShare 0")
    func sharesAreOptions() {
        let (_, rows) = runLive(seed: 9, changes: 300, step: 1, live: LiveChangeOptions(lateShare: 0, pastShare: 0.5))
        #expect(rows.allSatisfy { $0.visibleAt == $0.appendedAt })
        #expect(rows.filter { $0.entry.timestampTicks < $0.clockTicks }.count > 100)
        let (_, late) = runLive(seed: 9, changes: 300, step: 1, live: LiveChangeOptions(lateShare: 0.5, pastShare: 0))
        #expect(late.allSatisfy { $0.entry.timestampTicks >= $0.clockTicks })
        #expect(late.filter { $0.visibleAt != $0.appendedAt }.count > 100)
    }

    @Test("the server's live generator uses EmulatorOptions.liveChanges")
    func serverUsesOptions() async throws {
        var options = EmulatorOptions(entries: 100, seed: 3)
        options.liveChangeInterval = .milliseconds(10)
        options.liveChanges = .realistic
        try await withEmulator(options) { h async throws in
            var sawPending = false
            let deadline = ContinuousClock.now + .seconds(30)
            while ContinuousClock.now < deadline && (!sawPending || h.store.count < 180) {
                if !h.store.pendingSequences.isEmpty { sawPending = true }
                try await Task.sleep(for: .milliseconds(2))
            }
            #expect(sawPending)
            let rows = h.store.allEntries(includingPending: true).filter { $0.sequence > 100 }
            // Stamped in the past: earlier than a row with a lower sequence.
            var newest = Int64.min
            var past = 0
            for row in rows {
                if row.timestampTicks < newest { past += 1 }
                newest = max(newest, row.timestampTicks)
            }
            #expect(past > 0)
        }
    }
}
