import AppCore
import FeedModel
import Foundation
import TerminalKit
import Testing

/// DICOM JSON for an instance, as the service sends it with includeMetadata=true.
func metadata(patient: String, id: String, modality: String, ideographic: String? = nil) -> RawJSON {
    var pn: [String: JSONValue] = ["Alphabetic": .string(patient)]
    if let ideographic { pn["Ideographic"] = .string(ideographic) }
    return RawJSON(.object([
        "00100010": .object(["vr": .string("PN"), "Value": .array([.object(pn)])]),
        "00100020": .object(["vr": .string("LO"), "Value": .array([.string(id)])]),
        "00080060": .object(["vr": .string("CS"), "Value": .array([.string(modality)])]),
        "00081032": .object(["vr": .string("SQ"), "Value": .array([.object([
            "00080100": .object(["vr": .string("SH"), "Value": .array([.string("24627-2")])]),
            "00080104": .object(["vr": .string("LO"), "Value": .array([.string("CT Abdomen")])]),
        ])])]),
    ]))
}

func key(_ k: Key) -> AppEvent { .input(.key(k)) }
private func type(_ text: String, _ s: inout AppState) { for c in text { _ = update(&s, key(.char(c))) } }

@Suite struct FilterParsingTests {
    @Test func plainWordsAndFieldsParse() throws {
        let f = try #require(try FeedFilter.parse("  Yamada action:del state:cur|rep modality:ct !is:unr "))
        #expect(f.terms.count == 5)
        #expect(f.terms[0].anyOf == [.word("yamada")])
        #expect(f.terms[1].anyOf == [.actions([.delete])])
        #expect(f.terms[2].anyOf == [.states([.current]), .states([.replaced])])
        #expect(f.terms[3].anyOf == [.modality("CT")])
        #expect(f.terms[4].negated && f.terms[4].anyOf == [.unreadable])
    }

    @Test func nothingTypedIsNoFilter() throws {
        #expect(try FeedFilter.parse("") == nil)
        #expect(try FeedFilter.parse("   ") == nil)
        #expect(try FeedFilter.parse("!") == nil, "a lone ! while typing is not an error yet")
    }

    @Test(arguments: [
        ("action:", "needs a value"),
        ("action:move", "no action 'move'"),
        ("state:gone", "no state 'gone'"),
        ("colour:red", "unknown filter 'colour:'"),
    ])
    func badTermsSayWhatIsWrong(text: String, message: String) {
        #expect(throws: FilterError.self) { try FeedFilter.parse(text) }
        do { _ = try FeedFilter.parse(text) } catch { #expect(error.message.contains(message), "\(error.message)") }
    }

    /// A filter writes itself in its own grammar (the `filter` fuzz target checks this on every
    /// input; Fuzz/Corpus/filter/crash-b75669ec… was `|!x`, a word "!x" in a term that is not inverted, and
    /// crash-5a1339f9… a term that starts with a combining mark, which fused with a space before it).
    @Test(arguments: ["Yamada action:del state:cur|rep modality:ct !is:unr", "|!x", "!!x", "a|!b |!x :colon\tTAB",
                      "山田|is:u|action:up !modality:mr|ct", "a\t\u{0651}\tb", "a\u{0600}\tb"])
    func aFilterWritesItselfInItsOwnGrammar(text: String) throws {
        let f = try #require(try FeedFilter.parse(text))
        #expect(try FeedFilter.parse(f.description) == f, "\(f.description)")
    }

    @Test func theWrittenFormIsCanonical() throws {
        #expect(try FeedFilter.parse("  Yamada action:del state:cur|rep  !is:unr ")?.description
                == "yamada action:delete state:current|state:replaced !is:unreadable")
        #expect(try FeedFilter.parse("|!x")?.description == "|!x")
    }
}

@Suite struct FilterTests {
    /// 40 entries; every 4th is a delete; entries 1...20 carry metadata of two patients.
    func loaded() -> AppState {
        var s = makeState(rows: 24, cols: 100)
        s.metadataWithPages = true
        var page = makeEntries(1...40)
        for i in 0..<20 {
            page[i].metadata = i % 2 == 0 ? metadata(patient: "Yamada^Tarou", id: "PID-7", modality: "CT", ideographic: "山田^太郎")
                                          : metadata(patient: "Doe^Jane", id: "PID-9", modality: "MR")
        }
        _ = update(&s, .pageLoaded(entries: page, unreadable: [UnreadableEntry(reason: "missing field 'state'", afterEntries: 40)]))
        return s
    }

    func shownSequences(_ s: AppState) -> [Int64] {
        (0..<s.visibleCount).map { s.entries[s.storeIndex(atVisible: $0)].sequence }
    }

    @Test func slashFiltersAsYouTypeAndEnterKeepsIt() {
        var s = loaded()
        _ = update(&s, key(.char("/")))
        #expect(s.filter?.editing == true)
        type("yama", &s)
        #expect(shownSequences(s) == [1, 3, 5, 7, 9, 11, 13, 15, 17, 19])
        type(" modality:ct", &s)
        #expect(s.visibleCount == 10)
        _ = update(&s, key(.enter))
        #expect(s.filter?.editing == false && s.filter?.text == "yama modality:ct")
        // Keys now move in the filtered list.
        _ = update(&s, key(.char("G")))
        #expect(s.entries[s.selectedStoreIndex!].sequence == 19)
    }

    @Test func fieldsNegationAndAlternatives() {
        var s = loaded()
        _ = update(&s, key(.char("/")))
        type("action:delete", &s)
        #expect(shownSequences(s) == [7, 14, 21, 28, 35])
        _ = update(&s, key(.ctrl("u")))
        type("!state:deleted pid-9|pid-7", &s)
        #expect(shownSequences(s) == (1...20).filter { $0 % 7 != 0 }.map(Int64.init))
        _ = update(&s, key(.ctrl("u")))
        type("is:unreadable", &s)
        #expect(s.visibleCount == 1 && s.entries[s.storeIndex(atVisible: 0)].unreadable != nil)
        _ = update(&s, key(.ctrl("u")))
        type(".498.1.3.17", &s)   // the end of a SOP instance UID
        #expect(shownSequences(s) == [17])
    }

    @Test func aBadTermKeepsTheLastGoodResultAndSaysWhy() {
        var s = loaded()
        _ = update(&s, key(.char("/")))
        type("modality:mr state:c", &s)
        let good = s.visibleCount
        #expect(good == (2...20).filter { $0 % 2 == 0 && $0 % 7 != 0 }.count)
        _ = update(&s, key(.backspace))
        type("x", &s)
        #expect(s.filter?.error?.contains("no state 'x'") == true)
        #expect(s.visibleCount == good, "the list does not jump while a term is half typed")
    }

    @Test func escClearsAndKeepsTheEntryThatWasSelected() {
        var s = loaded()
        _ = update(&s, key(.char("/")))
        type("doe", &s)
        _ = update(&s, key(.down))
        _ = update(&s, key(.down))
        let chosen = s.entries[s.selectedStoreIndex!].sequence
        #expect(chosen == 6)
        _ = update(&s, key(.escape))
        #expect(s.filter == nil)
        #expect(s.visibleCount == 41)
        #expect(s.entries[s.selectedStoreIndex!].sequence == chosen)
    }

    @Test func escAfterEnterClearsAKeptFilter() {
        var s = loaded()
        _ = update(&s, key(.char("/")))
        type("doe", &s)
        _ = update(&s, key(.enter))
        #expect(s.filter != nil)
        _ = update(&s, key(.escape))
        #expect(s.filter == nil && s.visibleCount == 41)
    }

    @Test func backspaceOnEmptyTextClosesThePrompt() {
        var s = loaded()
        _ = update(&s, key(.char("/")))
        type("d", &s)
        _ = update(&s, key(.backspace))
        #expect(s.filter?.text == "")
        _ = update(&s, key(.backspace))
        #expect(s.filter == nil)
    }

    @Test func rowsArrivingLaterAreFilteredToo() {
        var s = loaded()
        _ = update(&s, key(.char("/")))
        type("action:delete", &s)
        _ = update(&s, key(.enter))
        #expect(s.visibleCount == 5)
        _ = update(&s, .pageLoaded(entries: makeEntries(41...50), unreadable: []))
        #expect(shownSequences(s) == [7, 14, 21, 28, 35, 42, 49])
    }

    @Test func qIsTextWhileTyping() {
        var s = loaded()
        _ = update(&s, key(.char("/")))
        #expect(update(&s, key(.char("q"))) == [])
        #expect(!s.shouldQuit && s.filter?.text == "q")
    }
}

@Suite struct FollowTests {
    func idleWithToken(_ n: Int = 30) -> AppState {
        var s = makeState(rows: 24, cols: 100)
        _ = update(&s, .tokenAcquired(tokenInfo(expiresIn: 3600)))
        _ = update(&s, .latest(sequence: Int64(n), timestamp: time(n)))
        _ = update(&s, .pageLoaded(entries: makeEntries(1...n), unreadable: []))
        _ = update(&s, .caughtUp)
        return s
    }

    @Test func fGoesToTheBottomAndPollsAtOnceWhenIdle() {
        var s = idleWithToken()
        #expect(update(&s, key(.char("f"))) == [.startFetching(FeedCursor.Start(startTime: time(30).adding(seconds: -120)))],
                "a poll reads the late window again: the last 2 minutes before what /latest said")
        #expect(s.follow.on && s.selected == 29)
        #expect(s.flash?.contains("Following") == true)
    }

    @Test func newEntriesKeepTheViewAtTheBottom() {
        var s = idleWithToken()
        _ = update(&s, key(.char("f")))
        _ = update(&s, .pageLoaded(entries: makeEntries(31...35), unreadable: []))
        #expect(s.selected == 34)
        #expect(s.top == 34 - Layout.listRows(screenRows: 24) + 1)
    }

    @Test func pollsAfterTheIntervalOnlyWhileIdle() {
        var s = idleWithToken()
        s.follow.interval = 5
        _ = update(&s, key(.char("f")))
        _ = update(&s, .caughtUp)
        #expect(update(&s, .tick(t0.addingTimeInterval(4))) == [])
        #expect(update(&s, .tick(t0.addingTimeInterval(5))) == [.startFetching(FeedCursor.Start(startTime: time(30).adding(seconds: -120)))])
        #expect(s.fetch.phase == .fetching)
        #expect(update(&s, .tick(t0.addingTimeInterval(11))) == [], "no second run while one is under way")
    }

    @Test(arguments: [Key.char("k"), .up, .pageUp, .char("g"), .home, .ctrl("u")])
    func scrollingUpStopsFollowingAndSaysSo(k: Key) {
        var s = idleWithToken()
        _ = update(&s, key(.char("f")))
        _ = update(&s, key(k))
        #expect(!s.follow.on)
        #expect(s.flash?.contains("Stopped following") == true)
        _ = update(&s, .pageLoaded(entries: makeEntries(31...35), unreadable: []))
        #expect(s.selected < 34, "no longer pulled to the bottom")
    }

    @Test func wheelUpStopsFollowingToo() {
        var s = idleWithToken()
        _ = update(&s, key(.char("f")))
        _ = update(&s, .input(.mouse(MouseEvent(row: 10, col: 5, kind: .wheelUp))))
        #expect(!s.follow.on)
    }

    @Test func fAgainStops() {
        var s = idleWithToken()
        _ = update(&s, key(.char("f")))
        #expect(update(&s, key(.char("f"))) == [])
        #expect(!s.follow.on && s.flash == "Stopped following.")
    }

    @Test func liveChangesRewriteTheStateOfOlderRowsByTheServiceRules() {
        var s = idleWithToken(10)
        _ = update(&s, key(.char("f")))
        let sop = s.entries[2].sopInstanceUid
        func change(_ seq: Int64, _ action: ChangeFeedAction, _ st: ChangeFeedState) -> ChangeFeedEntry {
            ChangeFeedEntry(sequence: seq, studyInstanceUid: s.entries[2].studyInstanceUid, seriesInstanceUid: s.entries[2].seriesInstanceUid,
                            sopInstanceUid: sop, action: action, timestamp: Timestamp(t0.addingTimeInterval(100)), state: st)
        }
        // create (row 3) -> delete -> re-create reads Replaced, Replaced, Current (changefeed-api.md 1.5).
        _ = update(&s, .pageLoaded(entries: [change(11, .delete, .deleted)], unreadable: []))
        #expect(s.entries[2].state == .deleted)
        _ = update(&s, .pageLoaded(entries: [change(12, .create, .current)], unreadable: []))
        #expect([s.entries[2].state, s.entries[10].state, s.entries[11].state] == [.replaced, .replaced, .current])
        #expect(s.entries[1].state == .current && s.entries[3].state == .current, "other instances keep theirs")
    }

    @Test func theFirstLoadTakesStatesAsTheServiceSendsThem() {
        var s = makeState()
        var page = makeEntries(1...3)
        page.append(ChangeFeedEntry(sequence: 4, studyInstanceUid: page[0].studyInstanceUid, seriesInstanceUid: page[0].seriesInstanceUid,
                                    sopInstanceUid: page[0].sopInstanceUid, action: .update, timestamp: time(4), state: .current))
        _ = update(&s, .pageLoaded(entries: page, unreadable: []))
        #expect(s.entries[0].state == .current, "no inference while loading: a page is as the service has it")
    }

    @Test func aClosedWindowCannotBeFollowed() {
        var s = idleWithToken()
        s.endTime = Timestamp(t0)
        #expect(update(&s, key(.char("f"))) == [])
        #expect(!s.follow.on && s.flash?.contains("--end-time") == true)
    }
}

@Suite struct RereadTests {
    @Test func aRereadUpdatesStatesInPlaceWithoutDuplicates() {
        var s = makeState(rows: 24, cols: 100)
        _ = update(&s, .tokenAcquired(tokenInfo(expiresIn: 3600)))
        let bad = UnreadableEntry(sopInstanceUid: "1.2.9", reason: "old bad row", afterEntries: 3)
        _ = update(&s, .pageLoaded(entries: makeEntries(1...10), unreadable: [bad]))
        _ = update(&s, .caughtUp)
        #expect(s.entries.count == 11 && s.entries[3].unreadable == "old bad row")
        #expect(update(&s, key(.char("R"))) == [.startFetching(.beginning)])
        var again = makeEntries(1...12)
        again[2].state = .deleted
        again[4].state = .replaced
        _ = update(&s, .pageLoaded(entries: again, unreadable: [bad]))
        #expect(s.entries.map(\.sequence) == [1, 2, 3, 3] + Array(4...12),
                "nothing listed twice: the unreadable element without a sequence is met again in its place")
        #expect(s.entries.unreadableCount == 1, "nor counted twice")
        #expect(s.entries[2].state == .deleted && s.entries[5].state == .replaced)
        #expect(s.fetch.rewritten == 2)
        _ = update(&s, .caughtUp)
        #expect(s.flash == "Re-read done: 2 states updated, 2 new entries.")
    }

    @Test func anUnreadableElementWithASequenceIsPlacedOnceAndAGoodReadReplacesIt() {
        var s = makeState()
        let bad = UnreadableEntry(sequence: 3, reason: "bad timestamp", afterEntries: 2)
        _ = update(&s, .pageLoaded(entries: makeEntries(1...2) + makeEntries(4...4), unreadable: [bad]))
        #expect(s.entries.map(\.sequence) == [1, 2, 3, 4])
        #expect(s.entries[2].unreadable == "bad timestamp" && s.entries[2].sequenceKnown && !s.entries[2].timeKnown)
        _ = update(&s, .pageLoaded(entries: makeEntries(1...2) + makeEntries(4...4), unreadable: [bad]))
        #expect(s.entries.count == 4 && s.entries.unreadableCount == 1, "met again: listed once")
        #expect(s.entries.index(ofSequence: 3) == nil, "an unreadable row is not an entry to update")
        _ = update(&s, .pageLoaded(entries: makeEntries(1...4), unreadable: []))
        #expect(s.entries.map(\.sequence) == [1, 2, 3, 4])
        #expect(s.entries.index(ofSequence: 3) == 2 && s.entries[2].unreadable == nil && s.entries.unreadableCount == 0,
                "a later good read of the element takes its place")
    }
}

@Suite struct DetailTests {
    func withRows() -> AppState {
        var s = makeState(rows: 24, cols: 100)
        _ = update(&s, .tokenAcquired(tokenInfo(expiresIn: 3600)))
        _ = update(&s, .pageLoaded(entries: makeEntries(1...20), unreadable: []))
        return s
    }

    func loadedEntry(_ seq: Int, state: ChangeFeedState = .current) -> ChangeFeedEntry {
        var e = makeEntries(seq...seq)[0]
        e.state = state
        e.metadata = metadata(patient: "Yamada^Tarou", id: "PID-7", modality: "CT", ideographic: "山田^太郎")
        return e
    }

    @Test func enterAsksForTheEntryAndEscGoesBack() {
        var s = withRows()
        _ = update(&s, key(.down))
        #expect(update(&s, key(.enter)) == [.loadEntry(sequence: 2)])
        #expect(s.detail?.load == .loading)
        #expect(s.detailLines.contains { $0.label == "Loading the metadata…" })
        _ = update(&s, .entryLoaded(sequence: 2, loadedEntry(2, state: .replaced)))
        #expect(s.detail?.tree != nil)
        #expect(s.entries[1].state == .replaced, "the row shows the state the service has now")
        #expect(s.entries[1].patientName == "Yamada^Tarou=山田^太郎" && s.entries[1].modality == "CT")
        #expect(s.detailLines.contains { $0.label == "Patient's Name" })
        _ = update(&s, key(.escape))
        #expect(s.detail == nil && s.selected == 1)
    }

    @Test func aSecondOpenComesFromTheCache() {
        var s = withRows()
        _ = update(&s, key(.enter))
        _ = update(&s, .entryLoaded(sequence: 1, loadedEntry(1)))
        _ = update(&s, key(.escape))
        #expect(update(&s, key(.enter)) == [], "no request: the metadata is cached")
        #expect(s.detail?.tree != nil)
    }

    @Test func theCacheIsBounded() {
        var cache = MetadataCache(capacity: 3)
        for i in 1...5 { cache.insert(loadedEntry(i)) }
        #expect(cache.count == 3)
        #expect(cache[1] == nil && cache[2] == nil && cache[5] != nil)
        cache.insert(loadedEntry(3))   // touched: now the newest
        cache.insert(loadedEntry(6))
        #expect(cache[3] != nil && cache[4] == nil)
        // A long load with --metadata passes every entry through: it stays bounded.
        var big = MetadataCache(capacity: 3)
        let e = loadedEntry(1)
        for i in 1...10_000 {
            var x = e
            x.sequence = Int64(i)
            big.insert(x)
        }
        #expect(big.count == 3 && big[10_000] != nil && big[9_998] != nil && big[9_997] == nil)
    }

    @Test func aLateAnswerForAnotherEntryDoesNotReplaceTheView() {
        var s = withRows()
        _ = update(&s, key(.enter))
        _ = update(&s, key(.escape))
        _ = update(&s, key(.down))
        _ = update(&s, key(.enter))
        _ = update(&s, .entryLoaded(sequence: 1, loadedEntry(1)))
        #expect(s.detail?.sequence == 2 && s.detail?.load == .loading)
    }

    @Test func failuresAndMissingEntriesAreSaid() {
        var s = withRows()
        _ = update(&s, key(.enter))
        _ = update(&s, .entryFailed(sequence: 1, Problem("403 Forbidden", hint: "needs the DICOM Data Reader role")))
        #expect(s.detailLines.contains { $0.kind == .problem && $0.value == "403 Forbidden" })
        #expect(s.detailLines.contains { $0.label.contains("DICOM Data Reader") })
        _ = update(&s, key(.escape))
        _ = update(&s, key(.down))
        _ = update(&s, key(.enter))
        _ = update(&s, .entryLoaded(sequence: 2, nil))
        #expect(s.detailLines.contains { $0.label == "The service has no entry 2 any more." })
    }

    @Test func aFailureForWantOfATokenRetriesWithTheNextToken() {
        var s = withRows()
        _ = update(&s, key(.enter))
        _ = update(&s, .entryFailed(sequence: 1, Problem("401", needsToken: true)))
        #expect(update(&s, .tokenAcquired(tokenInfo(expiresIn: 3600))) == [.loadEntry(sequence: 1)])
    }

    @Test func sequencesCollapseAndExpand() throws {
        var s = withRows()
        _ = update(&s, key(.enter))
        _ = update(&s, .entryLoaded(sequence: 1, loadedEntry(1)))
        let lines = s.detailLines
        let sq = try #require(lines.firstIndex { $0.label == "Procedure Code Sequence" })
        _ = update(&s, key(.char("G")))
        #expect(s.detail?.cursor == lines.count - 1)
        while s.detail!.cursor > sq { _ = update(&s, key(.char("k"))) }
        _ = update(&s, key(.enter))
        #expect(s.detailLines.count < lines.count, "the items are hidden")
        #expect(!s.detailLines.contains { $0.label == "Code Value" })
        _ = update(&s, key(.char(" ")))
        _ = update(&s, key(.char("+")))
        #expect(s.detailLines.count == lines.count)
        _ = update(&s, key(.char("-")))
        #expect(!s.detailLines.contains { $0.label == "Code Value" })
    }

    @Test func searchFindsRevealsAndSteps() throws {
        var s = withRows()
        _ = update(&s, key(.enter))
        _ = update(&s, .entryLoaded(sequence: 1, loadedEntry(1)))
        _ = update(&s, key(.char("-")))
        _ = update(&s, key(.char("/")))
        type("code", &s)
        let search = try #require(s.detail?.search)
        #expect(search.matches.count >= 2)
        let lines = s.detailLines
        #expect(lines.contains { $0.label == "Code Value" }, "a match inside a collapsed sequence is revealed")
        #expect(s.detail?.cursor == search.matches[0])
        _ = update(&s, key(.enter))
        _ = update(&s, key(.char("n")))
        #expect(s.detail?.cursor == search.matches[1])
        _ = update(&s, key(.char("N")))
        #expect(s.detail?.cursor == search.matches[0])
        _ = update(&s, key(.char("N")))
        #expect(s.detail?.cursor == search.matches.last)
        #expect(s.flash?.contains("wrapped") == true)
        _ = update(&s, key(.escape))
        #expect(s.detail?.search == nil && s.detail != nil, "Esc ends the search first, then goes back")
    }

    @Test func searchThatFindsNothingSaysSo() {
        var s = withRows()
        _ = update(&s, key(.enter))
        _ = update(&s, .entryLoaded(sequence: 1, loadedEntry(1)))
        _ = update(&s, key(.char("/")))
        type("zzzz", &s)
        _ = update(&s, key(.enter))
        #expect(s.flash == "No match for 'zzzz'.")
        _ = update(&s, key(.char("n")))
        #expect(s.flash == "No match for 'zzzz'.")
    }

    @Test func yCopiesTheValueUnderTheCursor() throws {
        var s = withRows()
        _ = update(&s, key(.enter))
        _ = update(&s, .entryLoaded(sequence: 1, loadedEntry(1)))
        let lines = s.detailLines
        let pn = try #require(lines.firstIndex { $0.label == "Patient's Name" })
        while s.detail!.cursor < pn { _ = update(&s, key(.char("j"))) }
        let effects = update(&s, key(.char("y")))
        guard case .copy(let text, let label)? = effects.first else {
            Issue.record("no copy effect: \(effects)")
            return
        }
        #expect(text.contains("Yamada^Tarou"))
        #expect(label.contains("(0010,0010) PatientName"))
    }

    @Test func anUnreadableRowOpensWithItsReasonAndNoRequest() {
        var s = makeState()
        _ = update(&s, .pageLoaded(entries: [], unreadable: [UnreadableEntry(sequence: 9, reason: "unknown action 'Move'")]))
        #expect(update(&s, key(.enter)) == [])
        #expect(s.detailLines.contains { $0.kind == .problem && $0.value == "unknown action 'Move'" })
    }

    @Test func bracketsGoToTheNextAndPreviousEntryKeepingTheSearch() {
        var s = withRows()
        _ = update(&s, key(.enter))
        _ = update(&s, .entryLoaded(sequence: 1, loadedEntry(1)))
        #expect(update(&s, key(.char("["))) == [])
        #expect(s.flash == "This is the first entry of the list." && s.detail?.sequence == 1)
        _ = update(&s, key(.char("/")))
        type("code", &s)
        _ = update(&s, key(.enter))
        #expect(update(&s, key(.char("]"))) == [.loadEntry(sequence: 2)])
        #expect(s.selected == 1 && s.detail?.sequence == 2 && s.detail?.search?.query == "code")
        _ = update(&s, .entryLoaded(sequence: 2, loadedEntry(2)))
        #expect(s.detail?.search?.matches.isEmpty == false, "the search runs again on the new entry")
        _ = update(&s, key(.char("[")))
        #expect(s.detail?.sequence == 1 && s.detail?.tree != nil, "entry 1 comes from the cache")
    }

    @Test func qStillQuitsFromTheDetailView() {
        var s = withRows()
        _ = update(&s, key(.enter))
        #expect(update(&s, key(.char("q"))) == [.quit])
    }
}

@Suite struct OtherKeyTests {
    @Test func yCopiesTheSelectedSOPInstanceUID() {
        var s = makeState(entries: 5)
        _ = update(&s, key(.down))
        #expect(update(&s, key(.char("y"))) == [.copy(s.entries[1].sopInstanceUid, label: "SOP instance UID \(s.entries[1].sopInstanceUid)")])
        var empty = makeState()
        #expect(update(&empty, key(.char("y"))) == [])
        #expect(empty.flash?.contains("empty") == true)
    }

    @Test func questionMarkOpensHelpWithTheCurrentViewFirst() {
        var s = makeState(entries: 5)
        _ = update(&s, key(.char("?")))
        #expect(s.helpOpen)
        #expect(KeyHelp.sections(for: s).first?.title == "List")
        _ = update(&s, key(.char("j")))
        #expect(s.helpTop == 1 && s.selected == 0, "keys scroll the help, not the list")
        _ = update(&s, key(.escape))
        #expect(!s.helpOpen)
        _ = update(&s, key(.enter))
        _ = update(&s, key(.char("?")))
        #expect(KeyHelp.sections(for: s).first?.title == "Entry details")
    }

    @Test func tSwitchesBetweenLocalTimeAndUTC() {
        var s = makeState()
        s.localZone = TimeZone(identifier: "Asia/Tokyo")!
        s.timeZone = s.localZone
        _ = update(&s, key(.char("t")))
        #expect(s.timeZone.secondsFromGMT() == 0 && s.flash == "Times in UTC.")
        _ = update(&s, key(.char("t")))
        #expect(s.timeZone.identifier == "Asia/Tokyo")
    }

    @Test func doubleClickOpensTheClickedRow() {
        var s = makeState(entries: 10)
        let effects = update(&s, .input(.mouse(MouseEvent(row: Layout.headerRows + 3, col: 4, kind: .doubleClick(button: 1)))))
        #expect(effects == [.loadEntry(sequence: 4)])
        #expect(s.selected == 3)
    }

    /// A double click while the filter is being typed keeps the filter (as Enter would) and opens
    /// the row: the keys then belong to the detail view, which the hint bar and `?` show.
    @Test func doubleClickWhileTypingAFilterKeepsItAndOpens() {
        var s = makeState(entries: 10)
        _ = update(&s, key(.char("/")))
        type("action:create", &s)
        #expect(s.filter?.editing == true)
        let effects = update(&s, .input(.mouse(MouseEvent(row: Layout.headerRows, col: 4, kind: .doubleClick(button: 1)))))
        #expect(effects.contains { if case .loadEntry = $0 { true } else { false } })
        #expect(s.detail != nil)
        #expect(s.filter?.editing == false, "the filter is kept, not left in the prompt")
        #expect(s.filter?.text == "action:create")
        _ = update(&s, key(.char("j")))
        #expect(s.filter?.text == "action:create", "j moves in the detail view; it is not typed into the filter")
    }

    @Test func afterAFailureTheHintBarOffersTheWayOutFirst() {
        var s = makeState()
        _ = update(&s, .tokenFailed(Problem("not signed in", signInHelps: true)))
        #expect(KeyHelp.bar(for: s).prefix(4).map(\.keys) == ["q", "l", "L", "r"])
        var noAz = makeState()
        _ = update(&noAz, .tokenFailed(Problem("The Azure CLI (az) was not found")))
        #expect(KeyHelp.bar(for: noAz).prefix(2).map(\.keys) == ["q", "r"], "signing in cannot help without az")
        var stopped = makeState(entries: 3)
        _ = update(&stopped, .tokenAcquired(tokenInfo(expiresIn: 3600)))
        _ = update(&stopped, .fetchStopped(Problem("403 Forbidden"), needsToken: false))
        #expect(KeyHelp.bar(for: stopped).prefix(2) == [KeyHint("q", "quit"), KeyHint("R", "load again")])
        #expect(KeyHelp.bar(for: stopped).filter { $0.keys == "R" }.count == 1)
    }

    @Test func theHintBarAlwaysHasSomethingForEveryView() {
        var s = makeState(entries: 3)
        #expect(KeyHelp.bar(for: s).first == KeyHint("q", "quit"))
        _ = update(&s, key(.char("/")))
        #expect(KeyHelp.bar(for: s).first == KeyHint("Enter", "keep filter"))
        _ = update(&s, key(.escape))
        _ = update(&s, key(.enter))
        #expect(KeyHelp.bar(for: s).first == KeyHint("Esc", "back"))
    }
}

@Suite struct StoreSearchTests {
    @Test func indexOfSequenceFindsReadableRowsOnly() {
        var store = EntryStore()
        store.append(contentsOf: makeEntries(1...3))
        store.append(unreadable: UnreadableEntry(sequence: 5, reason: "x"))
        store.append(contentsOf: makeEntries(7...9))
        #expect(store.index(ofSequence: 2) == 1)
        #expect(store.index(ofSequence: 8) == 5)
        #expect(store.index(ofSequence: 5) == nil)
        #expect(store.index(ofSequence: 4) == nil)
        #expect(store.index(ofSequence: 100) == nil)
        #expect(store.unreadableCount == 1)
    }

    @Test func anInstancesRowsAreFoundThroughTheSeriesIndexAlsoAfterAppends() {
        var store = EntryStore()
        let first = makeEntries(1...30)
        store.append(contentsOf: first)
        let e = first[12]
        #expect(store.rows(ofInstance: e.sopInstanceUid, series: e.seriesInstanceUid) == [12])
        #expect(store.rows(ofInstance: e.sopInstanceUid, series: "9.9.9") == [], "an unknown series has no rows")
        var again = e
        again.sequence = 31
        store.append(again)
        store.append(unreadable: UnreadableEntry(sequence: 32, sopInstanceUid: e.sopInstanceUid, reason: "bad"))
        #expect(store.rows(ofInstance: e.sopInstanceUid, series: e.seriesInstanceUid) == [30, 12],
                "rows appended after the index was built are in it; unreadable rows are not")
    }

    @Test func summaryAndStateRewriteKeepTheRestOfTheRow() {
        var store = EntryStore()
        store.append(contentsOf: makeEntries(1...2))
        store.setSummary(RowSummary(patientName: "山田^太郎", patientID: "7", modality: "MR"), at: 1)
        store.setState(.replaced, at: 1)
        #expect(store[1].patientName == "山田^太郎" && store[1].modality == "MR" && store[1].state == .replaced)
        #expect(store.state(at: 1) == .replaced && store.state(at: 0) == store[0].state)
        #expect(store[1].action == makeEntries(2...2)[0].action)
        #expect(store[0].patientName == nil && !store.hasSummary(at: 0))
    }
}

@Suite struct FilterNarrowingTests {
    func narrows(_ new: String, _ old: String) throws -> Bool {
        let n = try #require(try FeedFilter.parse(new)), o = try #require(try FeedFilter.parse(old))
        return n.narrows(o)
    }

    @Test func typingOnNarrows() throws {
        #expect(try narrows("yama", "yam"))
        #expect(try narrows("yam ct", "yam"))
        #expect(try narrows("state:cu", "state:c") == true)
        #expect(try narrows("action:del", "action:d"))
    }

    @Test func whatCanWidenIsNotTakenForNarrowing() throws {
        #expect(try !narrows("modality:ct", "modality:c"), "modality is an exact match")
        #expect(try !narrows("!yama", "!yam"), "a longer negated word matches more")
        #expect(try !narrows("yam|doe", "yam"))
        #expect(try narrows("modality", "modalit"), "a longer word")
        #expect(try !narrows("modality:ct", "modality"), "a word that became a field")
        #expect(try !narrows("yam", "yama"), "deleting widens")
    }

    @Test func narrowedResultsEqualAFullScan() {
        var s = FilterTests().loaded()
        _ = update(&s, .input(.key(.char("/"))))
        for ch in "1.2.826 state:c" { _ = update(&s, .input(.key(.char(ch)))) }
        let incremental = s.filter!.matches
        var fresh = FilterTests().loaded()
        _ = update(&fresh, .input(.key(.char("/"))))
        for ch in "state:cu 1.2.826" { _ = update(&fresh, .input(.key(.char(ch)))) }
        #expect(incremental == fresh.filter!.matches)
        #expect(!incremental.isEmpty)
    }
}

@Suite struct DetailMovementTests {
    func opened() -> AppState {
        var s = DetailTests().withRows()
        s.screenRows = 13   // 6 rows of lines: paging is visible
        _ = update(&s, .input(.key(.enter)))
        _ = update(&s, .entryLoaded(sequence: 1, DetailTests().loadedEntry(1)))
        return s
    }

    @Test(arguments: [
        (Key.char("j"), 1), (.down, 1), (.pageDown, 6), (.char(" "), 6), (.ctrl("d"), 3),
    ])
    func keysMoveTheCursorDown(key: Key, by: Int) {
        var s = opened()
        _ = update(&s, .input(.key(key)))
        #expect(s.detail?.cursor == by)
        #expect(s.detail!.cursor >= s.detail!.top && s.detail!.cursor < s.detail!.top + 6, "the cursor stays on screen")
    }

    @Test(arguments: [(Key.char("k"), 1), (.up, 1), (.pageUp, 6), (.ctrl("u"), 3)])
    func keysMoveTheCursorUp(key: Key, by: Int) {
        var s = opened()
        _ = update(&s, .input(.key(.char("G"))))
        let end = s.detail!.cursor
        #expect(end == s.detailLines.count - 1)
        _ = update(&s, .input(.key(key)))
        #expect(s.detail?.cursor == end - by)
        _ = update(&s, .input(.key(.home)))
        #expect(s.detail?.cursor == 0 && s.detail?.top == 0)
    }

    @Test func theMouseScrollsSelectsAndTogglesInTheDetailView() throws {
        var s = opened()
        _ = update(&s, .input(.mouse(MouseEvent(row: 10, col: 3, kind: .wheelDown))))
        #expect(s.detail?.cursor == 3)
        _ = update(&s, .input(.mouse(MouseEvent(row: Layout.headerRows + 1, col: 3, kind: .click(button: 1)))))
        #expect(s.detail?.cursor == s.detail!.top + 1)
        let sq = try #require(s.detailLines.firstIndex { $0.label == "Procedure Code Sequence" })
        _ = update(&s, .input(.key(.char("G"))))
        while s.detail!.cursor > sq { _ = update(&s, .input(.key(.up))) }
        let before = s.detailLines.count
        let row = Layout.headerRows + (sq - s.detail!.top)
        _ = update(&s, .input(.mouse(MouseEvent(row: row, col: 3, kind: .doubleClick(button: 1)))))
        #expect(s.detailLines.count < before, "double click collapses the sequence")
    }

    @Test func resizingKeepsTheCursorOnScreen() {
        var s = opened()
        _ = update(&s, .input(.key(.char("G"))))
        _ = update(&s, .input(.resize(rows: 40, cols: 120)))
        #expect(s.detail!.top == max(0, s.detailLines.count - Layout.listRows(screenRows: 40)))
        _ = update(&s, .input(.resize(rows: 9, cols: 40)))
        #expect(s.detail!.cursor < s.detail!.top + Layout.listRows(screenRows: 9))
    }
}

@Suite struct ProfileSwitchTests {
    func withProfiles() -> AppState {
        var s = makeState(entries: 3)
        s.profiles = ["staging", "prod", "dev"]
        s.profileName = "staging"
        return s
    }

    @Test func pOpensThePickerOnTheCurrentProfileAndEnterSwitches() {
        var s = withProfiles()
        _ = update(&s, key(.char("p")))
        #expect(s.profilePicker == 0)
        _ = update(&s, key(.char("j")))
        #expect(s.selected == 0 && s.profilePicker == 1, "keys move in the picker, not the list")
        #expect(update(&s, key(.enter)) == [.switchProfile("prod")])
        #expect(s.profilePicker == nil)
    }

    @Test func pickingTheCurrentProfileDoesNothing() {
        var s = withProfiles()
        _ = update(&s, key(.char("p")))
        #expect(update(&s, key(.enter)) == [])
        #expect(s.flash == "Already showing profile staging.")
    }

    @Test func escClosesAndTheMovesStayInside() {
        var s = withProfiles()
        _ = update(&s, key(.char("p")))
        _ = update(&s, key(.char("k")))
        #expect(s.profilePicker == 0)
        _ = update(&s, key(.char("G")))
        _ = update(&s, key(.char("j")))
        #expect(s.profilePicker == 2)
        _ = update(&s, key(.escape))
        #expect(s.profilePicker == nil)
        #expect(update(&s, key(.char("q"))) == [.quit], "q quits again once the picker is closed")
    }

    @Test func withoutProfilesOrInTheDemoPSaysWhy() {
        var s = makeState()
        _ = update(&s, key(.char("p")))
        #expect(s.profilePicker == nil && s.flash?.contains("No profiles") == true)
        var d = withProfiles()
        d.isDemo = true
        _ = update(&d, key(.char("p")))
        #expect(d.profilePicker == nil && d.flash?.contains("--demo") == true)
    }

    @Test func aServiceSwitchedBackToKeepsItsListAndLoadsOn() {
        var s = withProfiles()
        _ = update(&s, .tokenAcquired(tokenInfo(expiresIn: 3600)))
        _ = update(&s, .pageLoaded(entries: makeEntries(4...9), unreadable: []))
        _ = update(&s, key(.enter))
        _ = update(&s, key(.escape))
        _ = update(&s, key(.char("/")))
        let back = s.resumed(rows: 30, cols: 90, now: t0.addingTimeInterval(60))
        #expect(back.entries.count == 9 && back.screenRows == 30 && back.screenCols == 90)
        #expect(back.token.info == nil && back.fetch.phase == .waiting && back.detail == nil)
        #expect(back.filter?.editing == false, "a half-typed filter is kept but its prompt is closed")
        var b = back
        // No `/latest` time came with the read: it goes on a late window before its last row.
        #expect(update(&b, .tokenAcquired(tokenInfo(expiresIn: 3600)))
                == [.startFetching(FeedCursor.Start(startTime: time(9).adding(seconds: -FeedCursor.defaultLateWindow)))])
    }

    @Test func aFailedSwitchIsSaid() {
        var s = withProfiles()
        _ = update(&s, .profileSwitchFailed(Problem("Profile 'prod' cannot be used: bad URL", hint: "Fix it.")))
        #expect(s.flash == "Profile 'prod' cannot be used: bad URL Fix it.")
    }
}

@Suite struct ChunkedFilterTests {
    /// Types `text` with a tiny step, letting the run loop's steps run between keys.
    func filtered(_ text: String, chunk: Int, stepsBetweenKeys: Int) -> AppState {
        var s = FilterTests().loaded()
        s.filterChunk = chunk
        _ = update(&s, .input(.key(.char("/"))))
        for ch in text {
            _ = update(&s, .input(.key(.char(ch))))
            for _ in 0..<stepsBetweenKeys where s.filterPending { _ = update(&s, .filterStep) }
        }
        while s.filterPending { _ = update(&s, .filterStep) }
        return s
    }

    @Test(arguments: ["yama", "action:delete", "1.2.826 state:c", "!state:del doe|yam", "modality:mr"])
    func stepsGiveTheSameRowsAsOneScan(text: String) {
        let whole = filtered(text, chunk: 1_000_000, stepsBetweenKeys: 0)
        for (chunk, steps) in [(7, 0), (7, 1), (3, 2), (1, 5)] {
            let stepped = filtered(text, chunk: chunk, stepsBetweenKeys: steps)
            #expect(stepped.filter?.matches == whole.filter?.matches, "chunk \(chunk), \(steps) steps between keys")
        }
    }

    @Test func aLongScanIsPendingAndSaysHowFar() {
        var s = FilterTests().loaded()
        s.filterChunk = 10
        _ = update(&s, .input(.key(.char("/"))))
        _ = update(&s, .input(.key(.char("1"))))
        #expect(s.filterPending)
        #expect(s.filterProgress > 0 && s.filterProgress < 1)
        var steps = 0
        while s.filterPending { _ = update(&s, .filterStep); steps += 1 }
        #expect(steps == 4, "41 rows, 10 per step: the key took the first 10")
        #expect(s.filterProgress == 1)
    }

    @Test func theSelectionStaysOnItsEntryWhileTheScanCatchesUp() {
        var s = FilterTests().loaded()
        for _ in 0..<30 { _ = update(&s, .input(.key(.down))) }
        let anchor = s.entries[s.selectedStoreIndex!].sequence
        s.filterChunk = 5
        _ = update(&s, .input(.key(.char("/"))))
        _ = update(&s, .input(.key(.char("1"))))
        while s.filterPending { _ = update(&s, .filterStep) }
        #expect(s.entries[s.selectedStoreIndex!].sequence == anchor, "every UID has a 1: the entry stays selected")
    }
}

/// Issue 11, defect 4: without metadata loaded, a name filter found nothing and said nothing
/// (`filtered 0 / 2,992` while 159 entries carried the name).
@Suite struct FilterNamesTests {
    func page() -> [ChangeFeedEntry] {
        var page = makeEntries(1...40)
        for i in 0..<20 {
            page[i].metadata = i % 2 == 0 ? metadata(patient: "Yamada^Tarou", id: "PID-7", modality: "CT", ideographic: "山田^太郎")
                                          : metadata(patient: "Doe^Jane", id: "PID-9", modality: "MR")
        }
        return page
    }

    /// Loaded without metadata (as by default): the service sent none with the pages.
    func loadedWithoutNames() -> AppState {
        var s = makeState(rows: 24, cols: 100)
        _ = update(&s, .started)
        _ = update(&s, .tokenAcquired(tokenInfo(expiresIn: 3600)))
        _ = update(&s, .pageLoaded(entries: makeEntries(1...40), unreadable: []))
        _ = update(&s, .caughtUp)
        return s
    }

    @Test func aNameFilterSaysHowManyNamesAreKnownAndHowToLoadThem() {
        var s = loadedWithoutNames()
        _ = update(&s, key(.char("/")))
        type("山田", &s)
        #expect(s.visibleCount == 0)
        #expect(s.filterNamesNote == "names known for 0 of 40 rows · Enter, then M loads them")
        _ = update(&s, key(.enter))
        #expect(s.filterNamesNote == "names known for 0 of 40 rows · M loads them")

        // Field tests that need no metadata say nothing.
        _ = update(&s, key(.escape))
        _ = update(&s, key(.char("/")))
        type("action:delete", &s)
        #expect(s.filterNamesNote == nil)
    }

    @Test func mReadsTheFeedAgainWithMetadataAndTheFilterLooksAgain() {
        var s = loadedWithoutNames()
        _ = update(&s, key(.char("/")))
        type("山田", &s)
        _ = update(&s, key(.enter))
        let effects = update(&s, key(.char("M")))
        #expect(effects == [.startFetching(s.origin)], "the whole feed again, from where this list started")
        #expect(s.metadataWithPages)
        #expect(s.filterNamesNote == "loading names: the filter looks again when done")
        _ = update(&s, .fetchStarted)
        _ = update(&s, .pageLoaded(entries: page(), unreadable: []))
        _ = update(&s, .caughtUp)
        #expect(s.visibleCount == 10, "the ten entries of 山田")
        #expect(s.entries.summaryCount == 20)
        #expect(s.filterNamesNote == nil)
        #expect(s.flash == "Names loaded for 20 of 40 entries; the filter matches 10.")
        #expect(update(&s, key(.char("M"))) == [], "already loading names with every page")
    }
}
