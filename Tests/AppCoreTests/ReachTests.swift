import AppCore
import FeedModel
import Foundation
import TerminalKit
import Testing

/// Any feed size (issue 14): the list opens at the newest entries, loads older ones as the view
/// comes near its start, and jumps (`g`, `G`, `:`) read only where they land.
@Suite struct ReachTests {
    /// A tail-first state with a token, as the run loop has it once the token came.
    static func tailFirst(_ version: APIVersion = .v2, rows: Int = 24) -> (AppState, [Effect]) {
        var s = AppState(serviceURL: "https://ws-dicom.dicom.azurehealthcareapis.com", apiVersion: version,
                         screenRows: rows, screenCols: 100, now: t0, timeZone: TimeZone(identifier: "UTC")!)
        s.reach.tailFirst = true
        let effects = update(&s, .tokenAcquired(tokenInfo(expiresIn: 3600)))
        return (s, effects)
    }

    @Test func theFirstReadAsksWhereTheFeedEnds() {
        let (s, effects) = Self.tailFirst()
        #expect(effects.contains(.probeLatest(generation: 1)))
        #expect(!effects.contains { if case .startFetching = $0 { true } else { false } })
        #expect(s.reach.seeking == .newest && s.fetch.phase == .fetching)
    }

    @Test func aLargeV2FeedIsReadFromBeforeTheLateWindowAndOpensAtTheNewest() {
        var (s, _) = Self.tailFirst()
        let effects = update(&s, .latestProbed(sequence: 50_000_000, timestamp: time(100_000), generation: 1))
        let start = time(100_000).adding(seconds: -(FeedCursor.defaultLateWindow + s.reach.tailSpan))
        #expect(effects == [.startFetching(FeedCursor.Start(startTime: start))])
        #expect(s.reach.olderExists && s.origin == FeedCursor.Start(startTime: start))
        // The run's pages: the selection follows the newest row until the run is done.
        _ = update(&s, .latest(sequence: 50_000_000, timestamp: time(100_000)))
        _ = update(&s, .pageLoaded(entries: makeEntries(99_800...99_900), unreadable: []))
        #expect(s.selected == s.visibleCount - 1)
        _ = update(&s, .pageLoaded(entries: makeEntries(99_901...100_000), unreadable: []))
        let more = update(&s, .caughtUp)
        #expect(s.selected == 200 && s.entries.count == 201)
        #expect(s.reach.select == nil)
        // At the bottom of 201 rows: nothing older is read yet.
        #expect(!more.contains { if case .loadOlder = $0 { true } else { false } })
        #expect(s.showsOlderRow && s.listRows == Layout.listRows(screenRows: 24) - 1)
    }

    @Test func aSmallFeedIsReadWholeAndOpensAtItsNewest() {
        var (s, _) = Self.tailFirst(.v1)
        let effects = update(&s, .latestProbed(sequence: 300, timestamp: time(300), generation: 1))
        #expect(effects == [.startFetching(.beginning)])
        #expect(!s.reach.olderExists && !s.showsOlderRow)
        _ = update(&s, .latest(sequence: 300, timestamp: time(300)))
        _ = update(&s, .pageLoaded(entries: makeEntries(1...300), unreadable: []))
        _ = update(&s, .caughtUp)
        #expect(s.selected == 299)
        // g and G move within the list: nothing to read.
        #expect(update(&s, key(.char("g"))) == [] && s.selected == 0)
        #expect(update(&s, key(.char("G"))) == [] && s.selected == 299)
    }

    @Test func anEmptyFeedIsReadFromTheStart() {
        var (s, _) = Self.tailFirst()
        #expect(update(&s, .latestProbed(sequence: nil, timestamp: nil, generation: 1)) == [.startFetching(.beginning)])
    }

    /// v1: the list begins `tailRows` sequences before the newest; scrolling up reads older
    /// rows, which go in front without moving the selection off its entry.
    @Test func scrollingUpReadsOlderRowsInFront() {
        var (s, _) = Self.tailFirst(.v1)
        _ = update(&s, .latestProbed(sequence: 1_000_000, timestamp: time(1_000_000), generation: 1))
        #expect(s.origin == FeedCursor.Start(afterSequence: 1_000_000 - s.reach.tailRows))
        _ = update(&s, .latest(sequence: 1_000_000, timestamp: time(1_000_000)))
        _ = update(&s, .pageLoaded(entries: makeEntries(999_001...1_000_000), unreadable: []))
        _ = update(&s, .caughtUp)
        #expect(s.selected == 999)
        // Page up to the top: near the start, the rows before it are asked for, once.
        var asked: [Effect] = []
        for _ in 0..<100 { asked += update(&s, key(.pageUp)) }
        #expect(asked == [.loadOlder(before: FeedCursor.Start(afterSequence: 999_000), spanHint: nil, generation: 1)])
        #expect(s.reach.loadingOlder)
        let selectedSequence = s.entries.sequence(at: s.selected)
        let more = update(&s, .olderLoaded(entries: makeEntries(998_901...999_000), unreadable: [],
                                           boundary: FeedCursor.Start(afterSequence: 998_900), nextSpan: nil, generation: 1))
        #expect(s.entries.count == 1_100 && s.entries.sequence(at: 0) == 998_901)
        #expect(s.entries.sequence(at: s.selected) == selectedSequence, "the selection stays on its entry")
        #expect(s.origin == FeedCursor.Start(afterSequence: 998_900))
        // A hundred rows above the view now: nothing more until it comes near the start again.
        #expect(more == [])
        var next: [Effect] = []
        for _ in 0..<8 { next += update(&s, key(.pageUp)) }
        #expect(next == [.loadOlder(before: FeedCursor.Start(afterSequence: 998_900), spanHint: nil, generation: 1)])
        // A failure shows on the row above the list; moving up at the top tries again.
        _ = update(&s, .olderFailed(Problem("503 from the service"), generation: 1))
        #expect(s.reach.olderProblem != nil && !s.reach.loadingOlder)
        _ = update(&s, key(.char("g")))  // g: a jump to the first entry, not a retry
        #expect(s.entries.isEmpty && s.origin == .beginning)
    }

    @Test func olderRowsOfAJumpThatWasLeftAreIgnored() {
        var (s, _) = Self.tailFirst(.v1)
        _ = update(&s, .latestProbed(sequence: 1_000_000, timestamp: time(1_000_000), generation: 1))
        _ = update(&s, .pageLoaded(entries: makeEntries(999_001...1_000_000), unreadable: []))
        _ = update(&s, .caughtUp)
        _ = update(&s, key(.char("g")))
        #expect(s.reach.generation == 2)
        _ = update(&s, .olderLoaded(entries: makeEntries(998_901...999_000), unreadable: [], boundary: nil, nextSpan: nil,
                                    generation: 1))
        #expect(s.entries.isEmpty, "rows for the list before the jump are not added")
    }

    @Test func gReadsTheFeedsStartAndNewerRowsComeAsTheViewNearsTheEnd() {
        var (s, _) = Self.tailFirst(.v1)
        _ = update(&s, .latestProbed(sequence: 1_000_000, timestamp: time(1_000_000), generation: 1))
        _ = update(&s, .pageLoaded(entries: makeEntries(999_001...1_000_000), unreadable: []))
        _ = update(&s, .caughtUp)
        let g = update(&s, key(.char("g")))
        #expect(g == [.fetchNeighbourhood(.beginning, rows: s.reach.neighbourhood)])
        #expect(!s.reach.olderExists && !s.showsOlderRow)
        _ = update(&s, .latest(sequence: 1_000_000, timestamp: time(1_000_000)))
        _ = update(&s, .pageLoaded(entries: makeEntries(1...2_000), unreadable: []))
        _ = update(&s, .readThrough(2_000))
        _ = update(&s, .paused)
        #expect(s.selected == 0 && s.reach.newerExists && s.fetch.phase == .idle)
        // Down to near the end of what is loaded: the next neighbourhood, from where the run stopped.
        var asked: [Effect] = []
        for _ in 0..<150 { asked += update(&s, key(.pageDown)) }
        #expect(asked == [.fetchNeighbourhood(FeedCursor.Start(afterSequence: 2_000), rows: s.reach.neighbourhood)])
        // G: the newest entries again, after asking where they are.
        #expect(update(&s, key(.char("G"))) == [.probeLatest(generation: 3)])
    }

    @Test func theGoToPromptJumpsBySequenceAndByTime() {
        var (s, _) = Self.tailFirst(.v1)
        _ = update(&s, .latestProbed(sequence: 1_000_000, timestamp: time(1_000_000), generation: 1))
        _ = update(&s, .pageLoaded(entries: makeEntries(999_001...1_000_000), unreadable: []))
        _ = update(&s, .caughtUp)
        _ = update(&s, key(.char(":")))
        #expect(KeyView.current(s) == .seekPrompt)
        for c in "123456" { _ = update(&s, key(.char(c))) }
        let go = update(&s, key(.enter))
        #expect(go == [.fetchNeighbourhood(FeedCursor.Start(afterSequence: 123_455), rows: s.reach.neighbourhood)])
        #expect(s.seekPrompt == nil && s.reach.olderExists)
        _ = update(&s, .pageLoaded(entries: makeEntries(123_456...125_455), unreadable: []))
        #expect(s.entries.sequence(at: s.selectedStoreIndex!) == 123_456)

        // A sequence already in the list: selected at once, nothing read.
        _ = update(&s, key(.char(":")))
        for c in "124000" { _ = update(&s, key(.char(c))) }
        #expect(update(&s, key(.enter)).allSatisfy { if case .loadOlder = $0 { true } else { false } })
        #expect(s.entries.sequence(at: s.selectedStoreIndex!) == 124_000)

        // v1 by time: where that time is must be asked (one v2 request, in the runtime).
        _ = update(&s, key(.char(":")))
        for c in "2026-11-20 14:00Z" { _ = update(&s, key(.char(c))) }
        let byTime = update(&s, key(.enter))
        let when = Timestamp.parse("2026-11-20T14:00:00Z")!
        #expect(byTime == [.locate(.time(when), generation: 3)])
        let landed = update(&s, .located(FeedCursor.Start(afterSequence: 555), generation: 3))
        #expect(landed == [.fetchNeighbourhood(FeedCursor.Start(afterSequence: 555), rows: s.reach.neighbourhood)])
    }

    @Test func v2JumpsByTimeAtOnceAndAsksWhereASequenceIs() {
        var (s, _) = Self.tailFirst(.v2)
        _ = update(&s, .latestProbed(sequence: 50_000_000, timestamp: time(100_000), generation: 1))
        _ = update(&s, key(.char(":")))
        for c in "-2h" { _ = update(&s, key(.char(c))) }
        let back = update(&s, key(.enter))
        let when = Timestamp(t0).adding(seconds: -7_200)
        #expect(back == [.fetchNeighbourhood(FeedCursor.Start(startTime: when), rows: s.reach.neighbourhood)])
        _ = update(&s, key(.char(":")))
        for c in "42" { _ = update(&s, key(.char(c))) }
        #expect(update(&s, key(.enter)) == [.locate(.sequence(42), generation: 3)])
        // The look-up failed for want of a token: the next token tries again.
        _ = update(&s, .locateFailed(Problem("401", needsToken: true), generation: 3))
        #expect(s.fetch.phase == .stopped)
        #expect(update(&s, .tokenAcquired(tokenInfo(expiresIn: 3600))) == [.locate(.sequence(42), generation: 4)])
    }

    @Test func whatTheGoToPromptReads() {
        let zone = TimeZone(identifier: "Asia/Tokyo")!
        func parse(_ s: String) -> SeekTarget? { try? SeekTarget.parse(s, now: t0, zone: zone).get() }
        #expect(parse("123456") == .sequence(123_456))
        #expect(parse(" 0 ") == .sequence(1))
        #expect(parse("first") == .first && parse("newest") == .newest && parse("END") == .newest)
        #expect(parse("-90m") == .time(Timestamp(t0).adding(seconds: -5_400)))
        #expect(parse("2026-11-20 14:00") == .time(Timestamp.parse("2026-11-20T05:00:00Z")!), "local time (Tokyo)")
        #expect(parse("2026-11-20") == .time(Timestamp.parse("2026-11-19T15:00:00Z")!))
        #expect(parse("2026-11-20T14:00:00+01:00") == .time(Timestamp.parse("2026-11-20T13:00:00Z")!))
        for bad in ["", "yesterday", "-2x", "2026-13-01", "99999999999999999999"] {
            guard case .failure(let e) = SeekTarget.parse(bad, now: t0, zone: zone) else {
                Issue.record("'\(bad)' parsed")
                continue
            }
            #expect(!e.message.isEmpty)
        }
        // Words that are no time say every form the prompt takes.
        if case .failure(let e) = SeekTarget.parse("yesterday", now: t0, zone: zone) {
            #expect(e.message.contains("sequence number (123456)") && e.message.contains("saved"))
        }
    }

    /// Rows prepended to a filtered list: the new matches go in front, the selection stays.
    @Test func olderRowsUnderAFilter() {
        var (s, _) = Self.tailFirst(.v1)
        _ = update(&s, .latestProbed(sequence: 1_000_000, timestamp: time(1_000_000), generation: 1))
        _ = update(&s, .pageLoaded(entries: makeEntries(999_001...1_000_000), unreadable: []))
        _ = update(&s, .caughtUp)
        _ = update(&s, key(.char("/")))
        for c in "action:delete" { _ = update(&s, key(.char(c))) }
        _ = update(&s, key(.enter))
        while s.filterPending { _ = update(&s, .filterStep) }
        let matches = s.visibleCount
        let selectedSequence = s.entries.sequence(at: s.selectedStoreIndex!)
        _ = update(&s, .olderLoaded(entries: makeEntries(998_001...999_000), unreadable: [],
                                    boundary: FeedCursor.Start(afterSequence: 998_000), nextSpan: nil, generation: 1))
        let older = makeEntries(998_001...999_000).filter { $0.action == .delete }.count
        #expect(s.visibleCount == matches + older)
        #expect(s.entries.sequence(at: s.selectedStoreIndex!) == selectedSequence)
        #expect((0..<s.visibleCount).allSatisfy { s.entries[s.storeIndex(atVisible: $0)].action == .delete })
    }
}

extension ReachTests {
    /// Past `maxRows`, the rows farthest from the view go: the oldest while the view is at the
    /// newest (the list then begins after them, and scrolling up reads them again), the newest
    /// while it is far up (the list then ends before them, and newer rows are read again).
    @Test func theListStaysWithinItsBudget() {
        var (s, _) = Self.tailFirst(.v1)
        s.reach.maxRows = 1_000
        _ = update(&s, .latestProbed(sequence: 1_000_000, timestamp: time(1_000_000), generation: 1))
        _ = update(&s, .latest(sequence: 1_000_000, timestamp: time(1_000_000)))
        _ = update(&s, .pageLoaded(entries: makeEntries(999_001...1_000_000), unreadable: []))
        _ = update(&s, .caughtUp)
        #expect(s.entries.count == 1_000)
        // Follow brings 200 more: the oldest 325 go (down to 875), the selection stays on the newest.
        s.follow.on = true
        _ = update(&s, .latest(sequence: 1_000_200, timestamp: time(1_000_200)))
        _ = update(&s, .pageLoaded(entries: makeEntries(1_000_001...1_000_200), unreadable: []))
        #expect(s.entries.count == 875 && s.entries.sequence(at: 0) == 999_326)
        #expect(s.origin == FeedCursor.Start(afterSequence: 999_325) && s.reach.olderExists)
        #expect(s.entries.sequence(at: s.selectedStoreIndex!) == 1_000_200)
        #expect(s.reach.dropped == 325)
        _ = update(&s, .caughtUp)

        // Up to the top: older rows are read again in front of the list.
        var asked: [Effect] = []
        for _ in 0..<80 { asked += update(&s, key(.pageUp)) }
        #expect(asked.contains(.loadOlder(before: FeedCursor.Start(afterSequence: 999_325), spanHint: nil, generation: 1)))
        _ = update(&s, .olderLoaded(entries: makeEntries(999_001...999_325), unreadable: [],
                                    boundary: FeedCursor.Start(afterSequence: 999_000), nextSpan: nil, generation: 1))
        // 1,200 rows, the view at the top: the newest go, and the list ends before them.
        #expect(s.entries.count == 875 && s.entries.sequence(at: 0) == 999_001)
        #expect(s.reach.newerExists && !s.follow.on)
        #expect(s.resumePoint == FeedCursor.Start(afterSequence: 999_875))
        var down: [Effect] = []
        for _ in 0..<80 { down += update(&s, key(.pageDown)) }
        #expect(down.contains(.fetchNeighbourhood(FeedCursor.Start(afterSequence: 999_875), rows: s.reach.neighbourhood)))
    }
}

extension ReachTests {
    /// `R` after a jump reads the range the list holds again, not the rest of the feed.
    @Test func rereadingAJumpsListReadsOnlyItsRange() {
        var (s, _) = Self.tailFirst(.v1)
        _ = update(&s, .latestProbed(sequence: 1_000_000, timestamp: time(1_000_000), generation: 1))
        _ = update(&s, .pageLoaded(entries: makeEntries(999_001...1_000_000), unreadable: []))
        _ = update(&s, .caughtUp)
        _ = update(&s, key(.char("g")))
        _ = update(&s, .pageLoaded(entries: makeEntries(1...2_500), unreadable: []))
        _ = update(&s, .readThrough(2_500))
        _ = update(&s, .paused)
        #expect(update(&s, key(.char("R"))) == [.fetchNeighbourhood(.beginning, rows: 2_500)])
        _ = update(&s, .pageLoaded(entries: makeEntries(1...2_500), unreadable: []))
        _ = update(&s, .paused)
        #expect(s.flash?.hasPrefix("Re-read done") == true && !s.fetch.rereading)
        #expect(s.entries.count == 2_500)
    }
}

extension ReachTests {
    /// A read of older rows larger than the rest of the budget: the newest rows go, never the
    /// rows just read. (The rule before went by which half of the list the selection was in:
    /// the read moved it to the newer half, the oldest rows went, and moving up read them again.)
    @Test func rowsJustReadAreNotLetGoBeforeTheViewReachesThem() {
        var (s, _) = Self.tailFirst(.v1)
        s.reach.maxRows = 100
        s.reach.tailRows = 60
        // Every row settled long ago (the oldest may go).
        _ = update(&s, .latestProbed(sequence: 1_000_000, timestamp: time(2_000_000), generation: 1))
        _ = update(&s, .latest(sequence: 1_000_000, timestamp: time(2_000_000)))
        var asked = update(&s, .pageLoaded(entries: makeEntries(999_941...1_000_000), unreadable: []))
        asked += update(&s, .caughtUp)
        for _ in 0..<10 { asked += update(&s, key(.pageUp)) }
        #expect(asked.contains(.loadOlder(before: FeedCursor.Start(afterSequence: 999_940), spanHint: nil, generation: 1)))
        _ = update(&s, .olderLoaded(entries: makeEntries(999_851...999_940), unreadable: [],
                                    boundary: FeedCursor.Start(afterSequence: 999_850), nextSpan: nil, generation: 1))
        #expect(s.entries.sequence(at: 0) == 999_851, "the rows just read stay")
        #expect(s.entries.count < 150 && s.reach.newerExists, "the newest past what the view needs went")
        // Up to the top of what was read: the list shrinks to its budget from the newest end,
        // and asks for the rows before, not for the same ones again.
        asked = []
        for _ in 0..<10 { asked += update(&s, key(.pageUp)) }
        #expect(s.entries.sequence(at: 0) == 999_851 && s.entries.count <= 100)
        #expect(asked.filter { if case .loadOlder = $0 { true } else { false } }
                == [.loadOlder(before: FeedCursor.Start(afterSequence: 999_850), spanHint: nil, generation: 1)])
    }
}

extension ReachTests {
    /// `'` (or `:saved`) goes to where the last run stopped: v1 the entry after its sequence,
    /// v2 its time, reading only that neighbourhood.
    @Test(arguments: [APIVersion.v1, .v2])
    func theSavedPositionIsAKeyAway(version: APIVersion) {
        var (s, _) = Self.tailFirst(version)
        _ = update(&s, .latestProbed(sequence: 1_000_000, timestamp: time(1_000_000), generation: 1))
        _ = update(&s, .pageLoaded(entries: makeEntries(999_001...1_000_000), unreadable: []))
        _ = update(&s, .caughtUp)
        #expect(update(&s, key(.char("'"))).isEmpty)
        #expect(s.flash?.hasPrefix("No saved position") == true)

        let point = version == .v1 ? FeedCursor.Start(afterSequence: 400_000) : FeedCursor.Start(startTime: time(400_000))
        s.reach.saved = SavedPosition(point: point, savedAt: t0.addingTimeInterval(-86_400))
        let effects = update(&s, key(.char("'")))
        #expect(effects == [.fetchNeighbourhood(point, rows: s.reach.neighbourhood)])
        #expect(s.flash?.hasPrefix("Where the run of ") == true && s.reach.olderExists)
        #expect(s.reach.select == (version == .v1 ? .sequence(400_001) : .time(time(400_000))))

        // The prompt's word for it.
        _ = update(&s, key(.char("G")))
        _ = update(&s, .latestProbed(sequence: 1_000_000, timestamp: time(1_000_000), generation: s.reach.generation))
        var typed = update(&s, key(.char(":")))
        for c in "saved" { typed += update(&s, key(.char(c))) }
        typed += update(&s, key(.enter))
        #expect(typed.contains(.fetchNeighbourhood(point, rows: s.reach.neighbourhood)))
    }
}
