import AppCore
import FeedModel
import Foundation
import TerminalKit
import Testing

@Suite struct StartupAndTokenTests {
    @Test func startingAsksForAToken() {
        var s = makeState()
        #expect(update(&s, .started) == [.acquireToken])
        #expect(s.token.status(at: s.now) == .acquiring)
    }

    @Test func firstTokenStartsTheFetcherOnce() {
        var s = makeState()
        _ = update(&s, .started)
        // The activity timeline's probes start with the first token too.
        #expect(update(&s, .tokenAcquired(tokenInfo(expiresIn: 3600))) == [.startFetching(.beginning), .probeActivity])
        #expect(s.fetch.phase == .fetching)
        #expect(update(&s, .tokenAcquired(tokenInfo(expiresIn: 3600))) == [])
    }

    @Test func tokenStatusFollowsTheClock() {
        var s = makeState()
        _ = update(&s, .tokenAcquired(tokenInfo(expiresIn: 600)))
        #expect(s.token.status(at: t0) == .valid)
        #expect(s.token.status(at: t0.addingTimeInterval(301)) == .expiringSoon)
        #expect(s.token.status(at: t0.addingTimeInterval(600)) == .expired)
        s.token.refreshBefore = 60
        #expect(s.token.status(at: t0.addingTimeInterval(500)) == .valid)
    }

    @Test func tokenFailureIsKeptUntilTheNextSuccess() {
        var s = makeState()
        _ = update(&s, .started)
        _ = update(&s, .tokenFailed(Problem("ERROR: Please run 'az login' to setup account.", hint: "Run az login")))
        #expect(s.token.status(at: s.now) == .error)
        #expect(s.token.problem?.message.contains("az login") == true)
        #expect(s.fetch.phase == .waiting)
        _ = update(&s, .tokenAcquired(tokenInfo(expiresIn: 3600)))
        #expect(s.token.problem == nil)
        #expect(s.token.status(at: s.now) == .valid)
    }

    @Test func rAsksForANewTokenUnlessOneIsComing() {
        var s = makeState()
        _ = update(&s, .tokenAcquired(tokenInfo(expiresIn: 3600)))
        #expect(update(&s, .input(.key(.char("r")))) == [.acquireToken])
        #expect(s.token.acquiring)
        #expect(update(&s, .input(.key(.char("r")))) == [])
        #expect(s.flash?.contains("already") == true)
    }

    @Test func qQuits() {
        var s = makeState()
        #expect(update(&s, .input(.key(.char("q")))) == [.quit])
        #expect(s.shouldQuit)
    }
}

@Suite struct NavigationTests {
    // 24 rows leave 24 - 3 - 2 = 19 list rows.
    let listRows = Layout.listRows(screenRows: 24)

    func press(_ s: inout AppState, _ keys: Key...) {
        for k in keys { _ = update(&s, .input(.key(k))) }
    }

    @Test func jAndKMoveAndStopAtTheEnds() {
        var s = makeState(entries: 5)
        press(&s, .char("k"))
        #expect(s.selected == 0)
        press(&s, .char("j"), .down, .char("j"))
        #expect(s.selected == 3)
        press(&s, .down, .down, .down)
        #expect(s.selected == 4)
        press(&s, .up)
        #expect(s.selected == 3)
    }

    @Test func pagingScrollsSoTheSelectionStaysVisible() {
        var s = makeState(entries: 100)
        press(&s, .pageDown)
        #expect(s.selected == listRows)
        #expect(s.top == 1)
        press(&s, .pageDown, .pageDown)
        #expect(s.selected == 3 * listRows)
        #expect(s.selected >= s.top && s.selected < s.top + listRows)
        press(&s, .pageUp)
        #expect(s.selected == 2 * listRows)
        #expect(s.selected >= s.top && s.selected < s.top + listRows)
    }

    @Test func jumpsToTopAndEnd() {
        var s = makeState(entries: 100)
        press(&s, .char("G"))
        #expect(s.selected == 99)
        #expect(s.top == 100 - listRows)
        press(&s, .char("g"))
        #expect(s.selected == 0 && s.top == 0)
        press(&s, .end)
        #expect(s.selected == 99)
        press(&s, .home)
        #expect(s.selected == 0)
    }

    @Test func ctrlDAndCtrlUMoveHalfAPage() {
        var s = makeState(entries: 100)
        press(&s, .ctrl("d"))
        #expect(s.selected == listRows / 2)
        press(&s, .ctrl("u"))
        #expect(s.selected == 0)
    }

    @Test func movingInAnEmptyListKeepsZero() {
        var s = makeState()
        press(&s, .char("j"), .pageDown, .char("G"))
        #expect(s.selected == 0 && s.top == 0)
    }

    @Test func resizeKeepsTheSelectionOnScreen() {
        var s = makeState(entries: 100)
        press(&s, .char("G"))
        _ = update(&s, .input(.resize(rows: 10, cols: 40)))
        let rows = Layout.listRows(screenRows: 10)
        #expect(s.screenRows == 10 && s.screenCols == 40)
        #expect(s.selected == 99)
        #expect(s.top == 100 - rows)
        _ = update(&s, .input(.resize(rows: 60, cols: 120)))
        #expect(s.top == 100 - Layout.listRows(screenRows: 60))
    }

    @Test func wheelScrollsAndClickSelects() {
        var s = makeState(entries: 100)
        _ = update(&s, .input(.mouse(MouseEvent(row: 0, col: 0, kind: .wheelDown))))
        #expect(s.selected == 3)
        _ = update(&s, .input(.mouse(MouseEvent(row: Layout.headerRows + 5, col: 10, kind: .click(button: 1)))))
        #expect(s.selected == 5)
        _ = update(&s, .input(.mouse(MouseEvent(row: 0, col: 10, kind: .click(button: 1)))))
        #expect(s.selected == 5, "a click on the header selects nothing")
    }
}

@Suite struct FetchProgressTests {
    @Test func pagesAppendInOrderAndCount() {
        var s = makeState()
        _ = update(&s, .fetchStarted)
        _ = update(&s, .pageLoaded(entries: makeEntries(1...3), unreadable: [UnreadableEntry(reason: "bad", afterEntries: 3)]))
        _ = update(&s, .pageLoaded(entries: makeEntries(4...5), unreadable: []))
        #expect(s.entries.map(\.sequence) == [1, 2, 3, 3, 4, 5], "the unreadable element keeps its place, with the sequence before it")
        #expect(s.entries[3].unreadable == "bad" && !s.entries[3].sequenceKnown)
        #expect(s.fetch.pagesLoaded == 2)
        #expect(s.entries.unreadableCount == 1)
        #expect(s.fetch.latestSequence == 5)
        _ = update(&s, .latest(sequence: 90, timestamp: nil))
        _ = update(&s, .pageLoaded(entries: makeEntries(6...6), unreadable: []))
        #expect(s.fetch.latestSequence == 90, "a page never lowers the known latest sequence")
    }

    @Test func retryingThenSuccessClearsTheProblem() {
        var s = makeState()
        _ = update(&s, .fetchStarted)
        _ = update(&s, .fetchRetrying(Problem("503 from the service"), attempt: 2))
        #expect(s.fetch.retryAttempt == 2)
        #expect(s.fetch.problem != nil)
        _ = update(&s, .pageLoaded(entries: makeEntries(1...1), unreadable: []))
        #expect(s.fetch.retryAttempt == nil && s.fetch.problem == nil)
    }

    @Test func stoppedAndCaughtUp() {
        var s = makeState()
        _ = update(&s, .fetchStopped(Problem("403 Forbidden: Authorization failed.", hint: "role"), needsToken: false))
        #expect(s.fetch.phase == .stopped)
        #expect(s.fetch.problem?.hint == "role")
        var t = makeState()
        _ = update(&t, .fetchStarted)
        _ = update(&t, .caughtUp)
        #expect(t.fetch.phase == .idle)
    }

    @Test func loadingMoreKeepsTheSelection() {
        var s = makeState(entries: 10)
        _ = update(&s, .input(.key(.char("j"))))
        _ = update(&s, .pageLoaded(entries: makeEntries(11...20), unreadable: []))
        #expect(s.selected == 1)
    }
}
