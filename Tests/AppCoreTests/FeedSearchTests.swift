import AppCore
import FeedModel
import Foundation
import TerminalKit
import Testing

/// The filter across the whole feed (`F`): the list's matches at once, then older windows read
/// in the background, only their matches kept, bounded; Enter goes to a match.
@Suite struct FeedSearchTests {
    /// A v1 list of the newest 1,000 of a million entries, with a filter kept.
    static func listWithFilter(_ text: String) -> AppState {
        var (s, _) = ReachTests.tailFirst(.v1)
        _ = update(&s, .latestProbed(sequence: 1_000_000, timestamp: time(1_000_000), generation: 1))
        _ = update(&s, .pageLoaded(entries: makeEntries(999_001...1_000_000), unreadable: []))
        _ = update(&s, .caughtUp)
        _ = update(&s, key(.char("/")))
        for c in text { _ = update(&s, key(.char(c))) }
        _ = update(&s, key(.enter))
        while s.filterPending { _ = update(&s, .filterStep) }
        return s
    }

    @Test func theListsMatchesAtOnceThenOlderWindowsInTheBackground() {
        var s = Self.listWithFilter("action:delete")
        let loaded = s.visibleCount
        let f = update(&s, key(.char("F")))
        #expect(f == [.searchOlder(before: FeedCursor.Start(afterSequence: 999_000), spanHint: nil, generation: 1)])
        #expect(KeyView.current(s) == .search)
        var search = try! #require(s.search)
        #expect(search.found.count == loaded && search.examined == 1_000 && search.reading)
        #expect(search.selected == loaded - 1, "the newest match")
        // A window of older rows: its deletes go in front, the next window is asked for.
        let next = update(&s, .searchRead(entries: makeEntries(998_001...999_000), unreadable: [],
                                          boundary: FeedCursor.Start(afterSequence: 998_000), nextSpan: nil, generation: 1))
        #expect(next == [.searchOlder(before: FeedCursor.Start(afterSequence: 998_000), spanHint: nil, generation: 1)])
        search = try! #require(s.search)
        let older = makeEntries(998_001...999_000).filter { $0.action == .delete }.map(\.sequence)
        #expect(search.found.count == loaded + older.count && search.examined == 2_000)
        #expect((0..<older.count).map { search.found.sequence(at: $0) } == older)
        #expect(search.found.sequence(at: search.selected) == 999_999, "the selection stays on its match (the newest delete)")
        // The list itself did not change: the search keeps its matches apart.
        #expect(s.entries.count == 1_000)
        // Esc closes while it goes on; the status line says so; F shows it again.
        _ = update(&s, key(.escape))
        #expect(KeyView.current(s) == .list && s.search?.goesOn == true)
        _ = update(&s, key(.char("F")))
        #expect(s.search?.open == true)
        // s stops it; a read that was under way still lands, and nothing more is asked for.
        _ = update(&s, key(.char("s")))
        #expect(update(&s, .searchRead(entries: makeEntries(997_001...998_000), unreadable: [],
                                       boundary: FeedCursor.Start(afterSequence: 997_000), nextSpan: nil, generation: 1)) == [])
        #expect(s.search?.progress(in: TimeZone(identifier: "UTC")!).contains("stopped") == true)
        // Enter goes to the selected match in the feed: a jump, since the list does not hold it.
        _ = update(&s, key(.char("g")))
        let go = update(&s, key(.enter))
        let oldest = try! #require(s.search?.found.sequence(at: 0))
        #expect(go == [.fetchNeighbourhood(FeedCursor.Start(afterSequence: oldest - 1), rows: s.reach.neighbourhood)])
        #expect(s.search?.open == false)
    }

    @Test func theMatchesAreBoundedAndTheScanStopsWhenCut() {
        var s = Self.listWithFilter("action:create")
        _ = update(&s, key(.char("F")))
        s.search?.limit = 1_500
        let more = update(&s, .searchRead(entries: makeEntries(998_001...999_000), unreadable: [],
                                          boundary: FeedCursor.Start(afterSequence: 998_000), nextSpan: nil, generation: 1))
        let search = try! #require(s.search)
        #expect(more == [] && search.cut && search.found.count == 1_500)
        #expect(search.found.sequence(at: search.found.count - 1) == 1_000_000, "the newest kept")
        #expect(search.progress(in: TimeZone(identifier: "UTC")!).contains("cut at the newest 1,500"))
    }

    @Test func withoutAFilterFSaysWhatToDoAndAListThatHoldsTheFeedNeedsNoRead() {
        var s = makeState(entries: 50)
        #expect(update(&s, key(.char("F"))) == [] && s.search == nil)
        #expect(s.flash?.contains("type one with /") == true)
        _ = update(&s, key(.char("/")))
        for c in "action:delete" { _ = update(&s, key(.char(c))) }
        _ = update(&s, key(.enter))
        while s.filterPending { _ = update(&s, .filterStep) }
        #expect(update(&s, key(.char("F"))) == [])
        #expect(s.search?.found.count == 7 && s.search?.goesOn == false)
        #expect(s.search?.progress(in: TimeZone(identifier: "UTC")!).hasPrefix("7 matches in 50 entries · the whole feed") == true)
    }
}
