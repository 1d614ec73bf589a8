import Emulator
import FeedModel
import Foundation
import Testing

/// The states every visible row must read: the independent replay (`expectedStates`) over
/// each instance's visible rows, in sequence order.
func expectedVisibleStates(_ rows: [EmulatedEntry]) -> [Int64: ChangeFeedState] {
    var byInstance: [String: [EmulatedEntry]] = [:]
    for row in rows { byInstance[row.sopInstanceUid, default: []].append(row) }
    var states: [Int64: ChangeFeedState] = [:]
    for (_, history) in byInstance {
        let sorted = history.sorted { $0.sequence < $1.sequence }
        for (row, state) in zip(sorted, expectedStates(actions: sorted.map(\.action))) { states[row.sequence] = state }
    }
    return states
}

@Suite("Rows that commit late")
struct PendingTests {
    static let study = "1.2.826.0.1.3680043.8.498.901"
    static let series = study + ".1"

    @discardableResult
    func create(_ store: ChangeFeedStore, _ n: Int, visible: Bool = true, at time: Date? = nil) throws -> EmulatedEntry {
        try store.appendCreate(studyInstanceUid: Self.study, seriesInstanceUid: Self.series,
                               sopInstanceUid: Self.series + ".\(n)", at: time, visible: visible)
    }

    @Test("an invisible row holds its sequence but is in no page, latest or count until it commits")
    func invisibleCreate() async throws {
        let store = ChangeFeedStore(options: DatasetOptions(entryCount: 200, seed: 3))
        let before = store.allEntries()
        let last = try #require(before.last).sequence
        let hidden = try create(store, 1, visible: false)
        let shown = try create(store, 2)
        #expect(hidden.isPending && !shown.isPending)
        #expect(hidden.sequence == last + 1 && shown.sequence == last + 2)
        #expect(store.pendingSequences == [hidden.sequence])
        #expect(store.count == 201)
        #expect(store.allEntries() == before + [shown])
        #expect(store.allEntries(includingPending: true).map(\.sequence) == before.map(\.sequence) + [hidden.sequence, shown.sequence])
        #expect(store.entry(sequence: hidden.sequence) == nil)
        #expect(store.entry(sequence: hidden.sequence, includingPending: true)?.isPending == true)
        #expect(store.entriesV1(offset: last, limit: 10) == [shown])
        #expect(!store.entriesV2(limit: Int.max).contains { $0.sequence == hidden.sequence })
        #expect(store.latest(.v1) == shown && store.latest(.v2) == shown)

        try await withEmulator(store: store) { h async throws in
            // A follower at the tail sees the higher sequence first, inside what looks like a gap.
            #expect(try await h.get("/v1/changefeed?offset=\(last)&limit=10").sequences() == [shown.sequence])
            #expect(try await h.get("/v2/changefeed/latest").object()["sequence"] as? Int == Int(shown.sequence))
            #expect(store.commit(sequence: hidden.sequence))
            #expect(!store.commit(sequence: hidden.sequence), "only once")
            #expect(!store.commit(sequence: shown.sequence), "a visible row is not pending")
            #expect(try await h.get("/v1/changefeed?offset=\(last)&limit=10").sequences() == [hidden.sequence, shown.sequence])
        }
        #expect(store.pendingSequences.isEmpty)
        #expect(store.count == 202)
        #expect(store.allEntries() == store.allEntries(includingPending: true))
    }

    @Test("the pending latest is skipped: v1 by sequence, v2 by (timestamp, sequence)")
    func latestSkipsPending() throws {
        let store = ChangeFeedStore.empty(seed: 5)
        let t = Date(timeIntervalSince1970: 1_720_000_000)
        let a = try create(store, 1, at: t)
        let b = try create(store, 2, at: t.addingTimeInterval(10))
        let c = try create(store, 3, visible: false, at: t.addingTimeInterval(5))
        #expect(store.latest(.v1) == b && store.latest(.v2) == b)
        try create(store, 4, visible: false, at: t.addingTimeInterval(20))
        #expect(store.latest(.v1) == b && store.latest(.v2) == b)
        store.commit(sequence: c.sequence)
        #expect(store.latest(.v1)?.sequence == c.sequence, "highest visible sequence")
        #expect(store.latest(.v2) == b, "latest timestamp")
        #expect(store.commitAll().count == 1)
        #expect(store.latest(.v2)?.sequence == 4)
        #expect(store.entriesV2(limit: 10).map(\.sequence) == [a.sequence, c.sequence, b.sequence, 4])
    }

    @Test("an invisible delete leaves the instance current (state and metadata) until it commits")
    func invisibleDelete() throws {
        let store = ChangeFeedStore.empty(seed: 6)
        let created = try create(store, 1)
        let deleted = try store.appendDelete(studyInstanceUid: Self.study, seriesInstanceUid: Self.series,
                                             sopInstanceUid: created.sopInstanceUid, visible: false)
        #expect(deleted.isPending && deleted.state == .deleted, "as it will read once committed")
        #expect(store.allEntries().map(\.state) == [.current])
        #expect(store.allEntries(includingPending: true).map(\.state) == [.deleted, .deleted])
        #expect(store.metadataJSON(sopInstanceUid: created.sopInstanceUid) != nil)
        store.commit(sequence: deleted.sequence)
        #expect(store.allEntries().map(\.state) == [.deleted, .deleted])
        #expect(store.metadataJSON(sopInstanceUid: created.sopInstanceUid) == nil)
    }

    @Test("an invisible update keeps the old metadata version and state; an invisible re-create keeps Deleted")
    func invisibleUpdateAndRecreate() throws {
        let store = ChangeFeedStore.empty(seed: 7)
        let a = try create(store, 1)
        let v0 = try #require(store.metadataJSON(sopInstanceUid: a.sopInstanceUid))
        let u = try store.appendUpdate(studyInstanceUid: Self.study, seriesInstanceUid: Self.series,
                                       sopInstanceUid: a.sopInstanceUid, visible: false)
        #expect(store.allEntries().map(\.state) == [.current])
        #expect(store.metadataJSON(sopInstanceUid: a.sopInstanceUid) == v0)
        store.commit(sequence: u.sequence)
        #expect(store.allEntries().map(\.state) == [.replaced, .current])
        #expect(String(decoding: try #require(store.metadataJSON(sopInstanceUid: a.sopInstanceUid)), as: UTF8.self).contains("-U1"))

        try store.appendDelete(studyInstanceUid: Self.study, seriesInstanceUid: Self.series, sopInstanceUid: a.sopInstanceUid)
        let again = try create(store, 1, visible: false)
        #expect(store.allEntries().map(\.state) == [.deleted, .deleted, .deleted])
        #expect(store.metadataJSON(sopInstanceUid: a.sopInstanceUid) == nil)
        store.commit(sequence: again.sequence)
        #expect(store.allEntries().map(\.state) == [.replaced, .replaced, .replaced, .current])
    }

    @Test("v2 offsets count visible rows only: paging a window with pending rows in it reads every visible row once")
    func offsetPagingSkipsPending() async throws {
        let store = ChangeFeedStore(options: DatasetOptions(entryCount: 1500, seed: 14, shape: .realistic))
        let rows = store.allEntries()
        var rng = SplitMix64(seed: 99)
        // Pending rows spread over the whole timeline (stamped in the past), some sharing a timestamp.
        for n in 1...40 {
            let ticks = rows[Int.random(in: 0..<rows.count, using: &rng)].timestampTicks + Int64(n % 3)
            try create(store, n, visible: n % 4 == 0, at: Timestamp(ticks: ticks).date)
        }
        #expect(store.pendingSequences.count == 30)
        let visible = v2Order(store.allEntries())
        #expect(store.entriesV2(limit: Int.max) == visible)
        for limit in [1, 7, 100] {
            var paged: [EmulatedEntry] = []
            var offset: Int64 = 0
            while true {
                let page = store.entriesV2(offset: offset, limit: limit)
                paged += page
                if page.count < limit { break }
                offset += Int64(limit)
            }
            #expect(paged == visible, "limit \(limit)")
        }
        try await withEmulator(store: store) { h async throws in
            let sequences = try await h.allV2Pages().flatMap { try $0.sequences() }
            #expect(sequences == visible.map(\.sequence))
        }
    }

    @Test("model: random creates, deletes, updates, late rows, past timestamps and commits agree with a replay")
    func modelBased() throws {
        for seed: UInt64 in [1, 2, 3] {
            var rng = SplitMix64(seed: seed)
            let store = ChangeFeedStore.empty(seed: seed)
            let base = Date(timeIntervalSince1970: 1_730_000_000)
            var clock = 0.0
            var live = Set<Int>()       // instances created and not deleted (writer's view)
            for step in 0..<400 {
                clock += Double.random(in: 0...2, using: &rng)
                // A third of the changes are stamped in the past, some by more than a minute.
                let time = Double.random(in: 0...1, using: &rng) < 0.33
                    ? base.addingTimeInterval(clock - Double.random(in: 0...90, using: &rng))
                    : base.addingTimeInterval(clock)
                let visible = Double.random(in: 0...1, using: &rng) < 0.7
                let n = Int.random(in: 1...25, using: &rng)
                let sop = Self.series + ".\(n)"
                if live.contains(n) {
                    if Bool.random(using: &rng) {
                        try store.appendDelete(studyInstanceUid: Self.study, seriesInstanceUid: Self.series, sopInstanceUid: sop,
                                               at: time, visible: visible)
                        live.remove(n)
                    } else {
                        try store.appendUpdate(studyInstanceUid: Self.study, seriesInstanceUid: Self.series, sopInstanceUid: sop,
                                               at: time, visible: visible)
                    }
                } else {
                    try create(store, n, visible: visible, at: time)
                    live.insert(n)
                }
                let pending = store.pendingSequences
                if !pending.isEmpty && Double.random(in: 0...1, using: &rng) < 0.4 {
                    store.commit(sequence: pending[Int.random(in: 0..<pending.count, using: &rng)])
                }
                if step % 25 == 0 { try check(store, &rng) }
            }
            try check(store, &rng)
            store.commitAll()
            try check(store, &rng)
            #expect(store.pendingSequences.isEmpty)
        }
    }

    /// Every query against the replay of the visible rows.
    private func check(_ store: ChangeFeedStore, _ rng: inout SplitMix64) throws {
        let everything = store.allEntries(includingPending: true)
        let pending = Set(store.pendingSequences)
        #expect(everything.filter(\.isPending).map(\.sequence) == pending.sorted())
        let visible = store.allEntries()
        #expect(visible.map(\.sequence) == everything.filter { !pending.contains($0.sequence) }.map(\.sequence))
        #expect(zip(visible, everything.filter { !$0.isPending }).allSatisfy {
            $0.timestampTicks == $1.timestampTicks && $0.action == $1.action && $0.sopInstanceUid == $1.sopInstanceUid
        })
        // States: the replay over visible rows; with pending rows included, the replay over all.
        let states = expectedVisibleStates(visible)
        #expect(visible.allSatisfy { states[$0.sequence] == $0.state })
        let allStates = expectedVisibleStates(everything)
        #expect(everything.allSatisfy { allStates[$0.sequence] == $0.state })
        // v1 windows.
        for _ in 0..<5 {
            let offset = Int64.random(in: 0...Int64(everything.count + 5), using: &rng)
            let limit = Int.random(in: 1...30, using: &rng)
            #expect(store.entriesV1(offset: offset, limit: limit)
                    == visible.filter { $0.sequence > offset && $0.sequence <= offset + Int64(limit) })
        }
        // v2 windows with offsets.
        let order = v2Order(visible)
        #expect(store.entriesV2(limit: Int.max) == order)
        if let first = order.first, let last = order.last {
            for _ in 0..<5 {
                let a = Int64.random(in: first.timestampTicks - 10...last.timestampTicks + 10, using: &rng)
                let b = Int64.random(in: first.timestampTicks - 10...last.timestampTicks + 10, using: &rng)
                let (start, end) = (min(a, b), max(a, b) + 1)
                let offset = Int64.random(in: 0...10, using: &rng)
                let limit = Int.random(in: 1...40, using: &rng)
                let window = order.filter { $0.timestampTicks >= start && $0.timestampTicks < end }
                #expect(store.entriesV2(startTicks: start, endTicks: end, offset: offset, limit: limit)
                        == Array(window.dropFirst(Int(offset)).prefix(limit)))
            }
        }
        #expect(store.latest(.v1) == visible.last)
        #expect(store.latest(.v2) == order.last)
        #expect(store.count == visible.count)
    }
}
