import AppCore
import FeedModel
import Foundation
import TerminalKit
import Testing

@Suite struct AutomaticRefreshTests {
    func validState(expiresIn: TimeInterval) -> AppState {
        var s = makeState(entries: 10)
        _ = update(&s, .started)
        _ = update(&s, .tokenAcquired(tokenInfo(expiresIn: expiresIn)))
        return s
    }

    @Test func refreshesWhenTheLifetimeFallsUnderTheThreshold() {
        var s = validState(expiresIn: 600)
        #expect(update(&s, .tick(t0.addingTimeInterval(299))) == [], "10 minutes left: nothing to do")
        #expect(update(&s, .tick(t0.addingTimeInterval(301))) == [.acquireToken])
        #expect(s.token.acquiring)
        #expect(update(&s, .tick(t0.addingTimeInterval(302))) == [], "one request at a time")
    }

    @Test func theThresholdIsConfigurable() {
        var s = makeState(entries: 10)
        s.token.refreshBefore = 60
        _ = update(&s, .started)
        _ = update(&s, .tokenAcquired(tokenInfo(expiresIn: 600)))
        #expect(update(&s, .tick(t0.addingTimeInterval(500))) == [])
        #expect(update(&s, .tick(t0.addingTimeInterval(541))) == [.acquireToken])
    }

    /// The token keeper schedules the next refresh (it backs off when az answers with
    /// short-lived or stale tokens, issue 11); the core keeps to that schedule.
    @Test func aShortLivedTokenIsRefreshedOnTheKeepersScheduleNotInALoop() {
        var s = makeState(entries: 10)
        _ = update(&s, .started)
        _ = update(&s, .tokenAcquired(tokenInfo(expiresIn: 100), refreshAt: t0.addingTimeInterval(30),
                                      notice: "az returned a token that expires in 100 s"))
        #expect(s.flash == "az returned a token that expires in 100 s")
        #expect(s.token.notice != nil)
        for second in [1.0, 6, 12, 29] {
            #expect(update(&s, .tick(t0.addingTimeInterval(second))) == [], "not before the scheduled time (\(second) s)")
        }
        #expect(update(&s, .tick(t0.addingTimeInterval(30))) == [.acquireToken])
        #expect(update(&s, .tick(t0.addingTimeInterval(31))) == [], "one request at a time")
        _ = update(&s, .tokenFailed(Problem("The Azure CLI returned a token that expired 2 min ago"), retryAt: t0.addingTimeInterval(90)))
        #expect(s.token.notice == nil)
        #expect(update(&s, .tick(t0.addingTimeInterval(60))) == [])
        #expect(update(&s, .tick(t0.addingTimeInterval(90))) == [.acquireToken])
    }

    /// Never had a token (az not signed in, or a stale one): asked again after the keeper's
    /// pause, so that a sign-in in another terminal is picked up; not while a sign-in runs here.
    @Test func withoutATokenAFailureIsTriedAgainAfterThePause() {
        var s = makeState(entries: 0)
        _ = update(&s, .started)
        _ = update(&s, .tokenFailed(Problem("The Azure CLI is not signed in"), retryAt: t0.addingTimeInterval(30)))
        #expect(update(&s, .tick(t0.addingTimeInterval(29))) == [])
        #expect(update(&s, .tick(t0.addingTimeInterval(30))) == [.acquireToken])
        _ = update(&s, .tokenFailed(Problem("The Azure CLI is not signed in"), retryAt: t0.addingTimeInterval(90)))
        _ = update(&s, key(.char("l")))
        #expect(s.signIn?.isRunning == true)
        #expect(update(&s, .tick(t0.addingTimeInterval(95))) == [], "the sign-in asks for a token when it ends")
    }

    @Test func aFailureWithoutASchedulePausesThirtySeconds() {
        var s = validState(expiresIn: 3600)
        s.now = t0.addingTimeInterval(10)
        _ = update(&s, .tokenFailed(Problem("ERROR: network")))
        #expect(update(&s, .tick(t0.addingTimeInterval(39))) == [])
        #expect(update(&s, .tick(t0.addingTimeInterval(40))) == [.acquireToken])
    }

    @Test func aRefreshedTokenKeepsTheStateValidAndTheAccount() {
        var s = validState(expiresIn: 100)
        _ = update(&s, .accountLoaded("Test Subscription (someone@contoso.example)"))
        _ = update(&s, .tick(t0.addingTimeInterval(6)))
        #expect(s.token.status(at: s.now) == .expiringSoon, "the old token still shows while the refresh runs")
        _ = update(&s, .tokenAcquired(tokenInfo(expiresIn: 3600, now: t0.addingTimeInterval(2))))
        #expect(s.token.status(at: t0.addingTimeInterval(3)) == .valid)
        #expect(s.token.info?.account == "Test Subscription (someone@contoso.example)")
    }

    @Test func aFetcherStoppedForTheTokenResumesWhereItStopped() {
        var s = validState(expiresIn: 3600)
        _ = update(&s, .pageLoaded(entries: makeEntries(11...20), unreadable: []))
        _ = update(&s, .fetchStopped(Problem("401 Unauthorized"), needsToken: true))
        #expect(s.fetch.phase == .stopped)
        let effects = update(&s, .tokenAcquired(tokenInfo(expiresIn: 3600)))
        #expect(effects == [.startFetching(FeedCursor.Start(startTime: time(20).adding(seconds: -FeedCursor.defaultLateWindow)))],
                "v2 goes on a late window before the last row read (rows read again are recognised by sequence)")
        #expect(s.fetch.phase == .fetching && s.fetch.problem == nil)
    }

    @Test func aFetcherStoppedForAnotherReasonStaysStopped() {
        var s = validState(expiresIn: 3600)
        _ = update(&s, .fetchStopped(Problem("403 Forbidden"), needsToken: false))
        #expect(update(&s, .tokenAcquired(tokenInfo(expiresIn: 3600))) == [])
        #expect(s.fetch.phase == .stopped)
    }
}

@Suite struct SignInDialogTests {
    func key(_ s: inout AppState, _ k: Key) -> [Effect] { update(&s, .input(.key(k))) }

    @Test func lOpensTheDialogAndStartsSignIn() {
        var s = makeState()
        #expect(key(&s, .char("l")) == [.startSignIn])
        #expect(s.signIn?.phase == .starting)
        _ = update(&s, .signInPrompt(url: "https://microsoft.com/devicelogin", code: "FAKE1234", message: "To sign in…"))
        #expect(s.signIn?.phase == .waiting(url: "https://microsoft.com/devicelogin", code: "FAKE1234", message: "To sign in…"))
    }

    @Test func yCopiesTheCodeAndNavigationKeysAreIgnored() {
        var s = makeState(entries: 10)
        _ = key(&s, .char("l"))
        _ = update(&s, .signInPrompt(url: "https://x", code: "ABCD1234", message: ""))
        #expect(key(&s, .char("y")) == [.copy("ABCD1234", label: "the sign-in code")])
        #expect(key(&s, .char("j")) == [])
        #expect(s.selected == 0)
        #expect(key(&s, .char("q")) == [.cancelSignIn], "q inside the dialog cancels it, it does not quit")
        #expect(!s.shouldQuit)
    }

    @Test func escCancels() {
        var s = makeState()
        _ = key(&s, .char("l"))
        #expect(key(&s, .escape) == [.cancelSignIn])
        #expect(s.signIn == nil)
        #expect(s.flash == "Sign-in cancelled.")
    }

    @Test func successClosesTheDialogAndGetsATokenAtOnce() {
        var s = makeState()
        _ = key(&s, .char("l"))
        #expect(update(&s, .signInSucceeded) == [.acquireToken])
        #expect(s.signIn == nil)
    }

    @Test func failureShowsAzsMessageUntilClosedAndLRetries() {
        var s = makeState()
        _ = key(&s, .char("l"))
        _ = update(&s, .signInFailed(Problem("AADSTS70000: The user declined.")))
        #expect(s.signIn?.phase == .failed(Problem("AADSTS70000: The user declined.")))
        #expect(key(&s, .char("l")) == [.startSignIn])
        _ = update(&s, .signInFailed(Problem("expired")))
        #expect(key(&s, .escape) == [])
        #expect(s.signIn == nil)
    }

    @Test func handingTheTerminalToAzThenGettingAToken() {
        var s = makeState()
        #expect(key(&s, .char("L")) == [.handOverSignIn])
        #expect(update(&s, .handOverFinished(status: 0)) == [.acquireToken])
        #expect(s.flash?.contains("az login finished") == true)
        var t = makeState()
        _ = update(&t, .handOverFailed(Problem("The Azure CLI (az) was not found.")))
        #expect(t.signIn?.phase == .failed(Problem("The Azure CLI (az) was not found.")))
    }
}

@Suite struct RestartFetcherTests {
    @Test func capitalRRestartsAStoppedFetcherWhereItStopped() {
        var s = makeState()
        _ = update(&s, .tokenAcquired(tokenInfo(expiresIn: 3600)))
        _ = update(&s, .pageLoaded(entries: makeEntries(1...7), unreadable: []))
        _ = update(&s, .fetchStopped(Problem("404 Not Found"), needsToken: false))
        #expect(update(&s, .input(.key(.char("R"))))
                == [.startFetching(FeedCursor.Start(startTime: time(7).adding(seconds: -FeedCursor.defaultLateWindow)))])
        #expect(s.fetch.phase == .fetching && s.fetch.problem == nil)
        #expect(update(&s, .input(.key(.char("R")))) == [], "not twice")
        _ = update(&s, .caughtUp)
        #expect(update(&s, .input(.key(.char("R")))) == [.startFetching(.beginning)],
                "at the end of the feed R reads the loaded range again (states may have changed)")
        #expect(s.fetch.rereading && s.flash?.contains("Re-reading 7 entries") == true)
    }

    @Test func capitalRWaitsForAToken() {
        var s = makeState()
        #expect(update(&s, .input(.key(.char("R")))) == [])
        #expect(s.flash?.contains("token") == true)
    }
}
