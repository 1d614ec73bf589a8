import AppCore
import FeedModel
import Foundation
import TerminalKit
import Testing

/// The list in the feed's own order, whatever order rows arrive in: v1 by sequence, v2 by
/// (timestamp, sequence), where a row can have a lower sequence than the row before it
/// (changefeed-api.md 1.5), and rows that commit late go to their place.
@Suite struct FeedOrderTests {
    /// An entry at `second` seconds (plus `ticks`) after t0.
    func entry(_ seq: Int64, at second: Int, ticks: Int64 = 0, sop: String? = nil, action: ChangeFeedAction = .create,
               state: ChangeFeedState = .current) -> ChangeFeedEntry {
        ChangeFeedEntry(sequence: seq, studyInstanceUid: "1.2", seriesInstanceUid: "1.2.3", sopInstanceUid: sop ?? "1.2.3.\(seq)",
                        action: action, timestamp: time(second).adding(ticks: ticks), state: state)
    }

    func v2State() -> AppState {
        var s = makeState(rows: 24, cols: 100)
        _ = update(&s, .tokenAcquired(tokenInfo(expiresIn: 3600)))
        return s
    }

    /// Defect: the merge took "sequence ≤ the last listed sequence" to mean "already listed",
    /// so a v2 row with a lower sequence than the row before it was dropped (2,984 of 3,000).
    @Test func v2KeepsRowsWhoseSequenceIsLowerThanTheRowBefore() {
        var s = v2State()
        // 103 was stamped before 102: v2 order is 101, 103, 102, 104; 105 and 100 share a tick.
        let page = [entry(100, at: 1), entry(105, at: 1), entry(101, at: 2), entry(103, at: 3), entry(102, at: 4), entry(104, at: 5)]
        _ = update(&s, .pageLoaded(entries: Array(page[..<3]), unreadable: []))
        _ = update(&s, .pageLoaded(entries: Array(page[3...]), unreadable: []))
        #expect(s.entries.map(\.sequence) == [100, 105, 101, 103, 102, 104])
        for e in page { #expect(s.entries.index(ofSequence: e.sequence).map { s.entries[$0].sequence } == e.sequence) }
        // Read again (a re-read, an overlapping poll): nothing twice, states rewritten in place.
        var again = page
        again[2].state = .deleted
        _ = update(&s, .pageLoaded(entries: again, unreadable: []))
        #expect(s.entries.map(\.sequence) == [100, 105, 101, 103, 102, 104])
        #expect(s.entries[2].state == .deleted)
    }

    @Test func aRowThatCommitsLateGoesToItsPlaceInV2() {
        var s = v2State()
        _ = update(&s, .pageLoaded(entries: (1...10).map { entry(Int64($0), at: $0 * 10) }, unreadable: []))
        _ = update(&s, .caughtUp)
        _ = update(&s, key(.char("G")))
        _ = update(&s, key(.char("k")))   // sequence 9
        let selected = s.selectedStoreIndex.map { s.entries[$0].sequence }
        // Sequence 11 committed late with a timestamp between rows 3 and 4; 12 is new at the end.
        _ = update(&s, .pageLoaded(entries: [entry(11, at: 35), entry(12, at: 200)], unreadable: []))
        #expect(s.entries.map(\.sequence) == [1, 2, 3, 11, 4, 5, 6, 7, 8, 9, 10, 12])
        #expect(s.selectedStoreIndex.map { s.entries[$0].sequence } == selected, "the selection stays on its entry")
    }

    @Test func aRowThatCommitsLateFillsItsGapInV1() {
        var s = AppState(serviceURL: "https://x.dicom.azurehealthcareapis.com", apiVersion: .v1, screenRows: 24, screenCols: 100,
                         now: t0, timeZone: TimeZone(identifier: "UTC")!)
        _ = update(&s, .tokenAcquired(tokenInfo(expiresIn: 3600)))
        _ = update(&s, .pageLoaded(entries: [entry(501, at: 1), entry(502, at: 2), entry(505, at: 5)], unreadable: []))
        _ = update(&s, .pageLoaded(entries: [entry(502, at: 2), entry(503, at: 3), entry(504, at: 4), entry(505, at: 5), entry(506, at: 6)],
                                   unreadable: []))
        #expect(s.entries.map(\.sequence) == [501, 502, 503, 504, 505, 506])
    }

    /// A kept filter keeps matching across a late row, and a row inserted above the view does
    /// not make the screen jump.
    @Test func aLateRowKeepsTheFilterAndTheView() {
        var s = v2State()
        let page = (1...40).map { i in entry(Int64(i), at: i * 10, action: i % 2 == 0 ? .delete : .create, state: i % 2 == 0 ? .deleted : .current) }
        _ = update(&s, .pageLoaded(entries: page, unreadable: []))
        _ = update(&s, key(.char("/")))
        for c in "action:delete" { _ = update(&s, key(.char(c))) }
        _ = update(&s, key(.enter))
        #expect(s.visibleCount == 20)
        _ = update(&s, key(.char("G")))
        let bottom = s.selectedStoreIndex.map { s.entries[$0].sequence }
        _ = update(&s, .pageLoaded(entries: [entry(41, at: 15, action: .delete, state: .deleted), entry(42, at: 16)], unreadable: []))
        #expect(s.visibleCount == 21, "the late delete matches the kept filter")
        #expect(s.entries.map(\.sequence).prefix(4) == [1, 41, 42, 2])
        #expect(s.selectedStoreIndex.map { s.entries[$0].sequence } == bottom)
        let matched = (0..<s.visibleCount).map { s.entries[s.storeIndex(atVisible: $0)].sequence }
        #expect(matched == [41] + stride(from: 2, through: 40, by: 2).map { Int64($0) })
    }

    /// The open entry stays open on the same row when a late row goes in above it.
    @Test func theOpenEntryFollowsItsRow() {
        var s = v2State()
        _ = update(&s, .pageLoaded(entries: (1...5).map { entry(Int64($0), at: $0 * 10) }, unreadable: []))
        _ = update(&s, key(.char("G")))
        _ = update(&s, key(.enter))
        #expect(s.detail?.sequence == 5)
        _ = update(&s, .pageLoaded(entries: [entry(6, at: 1)], unreadable: []))
        #expect(s.detail.map { s.entries[$0.row].sequence } == 5)
    }

    /// Live inference rewrites only rows older than the new one: a late create that arrives after
    /// the delete that followed it does not make the delete row Replaced.
    @Test func aLateCreateDoesNotRewriteANewerRow() {
        var s = v2State()
        _ = update(&s, .pageLoaded(entries: [entry(1, at: 1, sop: "x"), entry(3, at: 3, sop: "x", action: .delete, state: .deleted)],
                                   unreadable: []))
        _ = update(&s, .caughtUp)
        _ = update(&s, .pageLoaded(entries: [entry(2, at: 2, sop: "x", action: .update, state: .deleted)], unreadable: []))
        #expect(s.entries.map(\.sequence) == [1, 2, 3])
        #expect(s.entries.map(\.state) == [.replaced, .deleted, .deleted])
    }

    @Test func theStoreFindsSequencesWhateverTheirOrder() {
        var store = EntryStore(order: .time)
        var rng = SystemRandomNumberGenerator()
        var rows: [ChangeFeedEntry] = []
        for seq in (1...2_000).shuffled(using: &rng) {
            let e = entry(Int64(seq), at: Int.random(in: 0..<500, using: &rng), ticks: Int64.random(in: 0..<3, using: &rng))
            store.insert(e, at: store.insertionPoint(of: e))
            rows.append(e)
        }
        let sorted = rows.sorted { ($0.timestamp, $0.sequence) < ($1.timestamp, $1.sequence) }
        #expect(store.map(\.sequence) == sorted.map(\.sequence))
        #expect(store.map(\.timestamp) == sorted.map(\.timestamp))
        for e in rows.prefix(300) {
            let at = try? #require(store.index(ofSequence: e.sequence))
            #expect(at.map { store[$0].sopInstanceUid } == e.sopInstanceUid)
        }
        #expect(store.index(ofSequence: 9_999) == nil)
        #expect(store.highestSequence == 2_000)
    }

    @Test func removingARowKeepsEveryIndexRight() {
        var store = EntryStore(order: .time)
        for e in [entry(1, at: 1), entry(5, at: 2), entry(3, at: 3), entry(4, at: 4)] { store.append(e) }
        store.insert(unreadable: UnreadableEntry(sequence: 2, reason: "bad"), at: 2)
        #expect(store.map(\.sequence) == [1, 5, 2, 3, 4] && store.unreadableCount == 1)
        _ = store.rows(ofInstance: "1.2.3.3", series: "1.2.3")
        store.remove(at: 2)
        #expect(store.map(\.sequence) == [1, 5, 3, 4] && store.unreadableCount == 0)
        #expect(store.index(ofSequence: 3) == 2 && store.index(ofSequence: 4) == 3 && store.position(ofSequence: 2) == nil)
        #expect(store.rows(ofInstance: "1.2.3.4", series: "1.2.3") == [3])
    }
}
