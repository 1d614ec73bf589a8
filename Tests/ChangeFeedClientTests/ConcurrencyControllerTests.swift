@testable import ChangeFeedClient
import Emulator
import Testing

/// The controller's rule on its own: no HTTP, no clock, only sequences of answers.
@Suite struct ConcurrencyControllerTests {
    /// `n` clean answers, each arriving while every slot was busy on the network.
    static func clean(_ c: inout ConcurrencyController, _ n: Int, latencyBound: Bool = true) {
        for _ in 0..<n { c.clean(latencyBound: latencyBound) }
    }

    /// Clean answers, latency-bound, until the width reaches `target` (at most `limit` answers).
    static func grow(_ c: inout ConcurrencyController, to target: Int, limit: Int = 10_000) -> Int {
        var n = 0
        while c.width < target && n < limit {
            c.clean(latencyBound: true)
            n += 1
        }
        return n
    }

    /// A controller past its start: grown to 8, refused there (cut to 4, ceiling 8), and the
    /// seven other answers of that window in.
    static func pastTheStart() -> ConcurrencyController {
        var c = ConcurrencyController()
        _ = grow(&c, to: 8)
        c.congested(inFlight: 8)
        clean(&c, 7)
        return c
    }

    @Test func startsAtFourAdaptive() {
        let c = ConcurrencyController()
        #expect(c.width == 4 && c.isAdaptive && c.ceiling == nil && c.cuts == 0 && c.startingUp)
    }

    @Test func untilTheFirstRefusalEachCleanAnswerAddsOne() {
        var c = ConcurrencyController()
        Self.clean(&c, 1)
        #expect(c.width == 5)
        #expect(Self.grow(&c, to: 32) == 27, "about doubling each round trip")
        Self.clean(&c, 10)
        #expect(c.width == 32)
        c.congested(inFlight: 32)
        #expect(!c.startingUp && c.width == 16)
    }

    @Test func afterTheFirstCutCleanAnswersGrowItByOneAWindowAtATime() {
        var c = Self.pastTheStart()
        #expect(c.width == 4 && !c.startingUp)
        Self.clean(&c, 3)
        #expect(c.width == 4, "three answers are less than a window of four")
        Self.clean(&c, 1)
        #expect(c.width == 5, "a window of four clean answers adds one")
        Self.clean(&c, 5)
        #expect(c.width == 6, "the next step takes a window at the new width")
        #expect(Self.grow(&c, to: 7) == 6)
    }

    @Test func answersThatAreNotLatencyBoundNeitherCountNorReset() {
        var s = ConcurrencyController()
        Self.clean(&s, 100, latencyBound: false)
        #expect(s.width == 4, "the reorder buffer or the end of the run was the bottleneck: no growth")
        var c = Self.pastTheStart()
        Self.clean(&c, 3)
        Self.clean(&c, 10, latencyBound: false)
        Self.clean(&c, 1)
        #expect(c.width == 5, "the three before and the one after add up to a window")
    }

    @Test func anAnswerThatQueuedIsNotLatencyBound() {
        var c = ConcurrencyController()
        c.clean(latencyBound: true, roundTrip: .milliseconds(50))
        #expect(c.width == 5 && c.fastest == .milliseconds(50))
        c.clean(latencyBound: true, roundTrip: .milliseconds(101))
        #expect(c.width == 5, "more than twice the fastest: it waited for the CPU or the service, not the wire")
        c.clean(latencyBound: true, roundTrip: .milliseconds(100))
        #expect(c.width == 6, "twice the fastest still counts")
        c.clean(latencyBound: true, roundTrip: .milliseconds(40))
        #expect(c.width == 7 && c.fastest == .milliseconds(40))
        c.clean(latencyBound: true, roundTrip: .milliseconds(81))
        #expect(c.width == 7, "measured against the fastest so far")
        c.clean(latencyBound: true)
        #expect(c.width == 8, "a time not known (the page was retried) does not hold it back")
    }

    @Test func neverExceedsTheCap() {
        var c = ConcurrencyController()
        Self.clean(&c, 100_000)
        #expect(c.width == ConcurrencyController.maximum && c.width == 32)
    }

    @Test func aRefusalHalvesIt() {
        var c = ConcurrencyController()
        _ = Self.grow(&c, to: 12)
        let taken1 = c.congested(inFlight: 12)
        #expect(taken1)
        #expect(c.width == 6 && c.cuts == 1 && c.ceiling == 12)
        var d = ConcurrencyController()
        let taken2 = d.congested(inFlight: 4)
        #expect(taken2)
        #expect(d.width == 2, "4 halves to 2")
        Self.clean(&d, 3)   // the other three in flight at the cut
        let taken3 = d.congested(inFlight: 2)
        #expect(taken3)
        #expect(d.width == 1)
        let taken4 = d.congested(inFlight: 2)
        #expect(taken4, "the other one in flight at that cut: the same event")
        let taken5 = d.congested(inFlight: 3)
        #expect(taken5, "several in flight (sent before the cuts): absorbed")
        #expect(d.width == 1, "never below 1")
        Self.clean(&d, 2)
        let taken6 = d.congested(inFlight: 1)
        #expect(!taken6, "a request alone in flight: nothing to absorb, the user's news")
        #expect(d.width == 1)
        // Odd widths round down.
        var e = ConcurrencyController()
        _ = Self.grow(&e, to: 7)
        e.congested(inFlight: 7)
        #expect(e.width == 3)
    }

    @Test func aRefusalOfARequestAloneInFlightMovesNothing() {
        // The first page (requested alone), or the last: the service's refusal is not about
        // how many requests this fetcher sends at once.
        var c = ConcurrencyController()
        let taken = c.congested(inFlight: 1)
        #expect(!taken, "reported, not absorbed")
        #expect(c.width == 4 && c.cuts == 0 && c.ceiling == nil && !c.holding)
    }

    @Test func theAnswersOfOneWindowCutOnce() {
        var c = ConcurrencyController()
        _ = Self.grow(&c, to: 8)
        // Eight in flight; the service refuses five of them.
        let taken6 = c.congested(inFlight: 8)
        #expect(taken6)
        for _ in 0..<4 {
            let taken = c.congested(inFlight: 7)
            #expect(taken, "part of the same event: absorbed, no second cut")
        }
        #expect(c.width == 4 && c.cuts == 1)
        #expect(c.holding)
        Self.clean(&c, 3)
        #expect(!c.holding, "the seven outstanding at the cut have answered (four refused, three clean)")
        let taken7 = c.congested(inFlight: 4)
        #expect(taken7, "a refusal after the window is a new event")
        #expect(c.width == 2 && c.cuts == 2)
    }

    @Test func noGrowthRightAfterACut() {
        var c = ConcurrencyController()
        _ = Self.grow(&c, to: 8)
        c.congested(inFlight: 8)
        #expect(c.width == 4)
        Self.clean(&c, 7)
        #expect(c.width == 4, "the seven answers still due from before the cut do not count")
        Self.clean(&c, 4)
        #expect(c.width == 5, "then a window of clean answers at the new width adds one")
    }

    @Test func theWidthThatWasRefusedIsProbedAgainLessAndLessOften() {
        var c = ConcurrencyController()
        // A service that takes three at once: four is refused.
        let taken8 = c.congested(inFlight: 4)
        #expect(taken8)
        #expect(c.width == 2 && c.ceiling == 4)
        Self.clean(&c, 3)                        // the window of the cut
        #expect(Self.grow(&c, to: 3) == 2, "below the ceiling: a window a step")
        let first = Self.grow(&c, to: 4)
        #expect(first == ConcurrencyController.firstProbeWait, "the step back to the refused width waits")
        c.congested(inFlight: 4)
        #expect(c.width == 2 && c.ceiling == 4)
        Self.clean(&c, 3)
        _ = Self.grow(&c, to: 3)
        #expect(Self.grow(&c, to: 4) == 2 * first, "refused there again: the wait doubles")
        c.congested(inFlight: 4)
        Self.clean(&c, 3)
        _ = Self.grow(&c, to: 3)
        #expect(Self.grow(&c, to: 4) == 4 * first)
        for _ in 0..<10 {
            c.congested(inFlight: 4)
            Self.clean(&c, 3)
            _ = Self.grow(&c, to: 3)
            _ = Self.grow(&c, to: 4)
        }
        #expect(c.probeWait == ConcurrencyController.maxProbeWait, "the wait has a cap")
    }

    @Test func aProbeThatStaysCleanLiftsTheCeiling() {
        var c = ConcurrencyController()
        c.congested(inFlight: 4)
        Self.clean(&c, 3)
        _ = Self.grow(&c, to: 4)
        #expect(c.ceiling == 4)
        Self.clean(&c, 3)
        #expect(c.ceiling == 4 && c.width == 4)
        Self.clean(&c, 1)
        #expect(c.ceiling == nil, "a window of clean answers at the refused width: the limit has moved")
        #expect(c.width == 5, "and growth goes on")
        #expect(Self.grow(&c, to: 6) == 5)
    }

    @Test func underAnyScheduleItStaysWithinOneAndTheCap() {
        var rng = SplitMix64(seed: 13)
        for _ in 0..<200 {
            var c = ConcurrencyController()
            for _ in 0..<500 {
                switch rng.next() % 10 {
                case 0: c.congested(inFlight: Int(rng.next() % 40) + 1)
                default: c.clean(latencyBound: rng.next() % 4 != 0)
                }
                #expect((1...32).contains(c.width))
                if !(1...32).contains(c.width) { return }
            }
        }
    }

    @Test(arguments: [1, 4, 7, 32])
    func pinnedNeverMoves(n: Int) {
        var c = ConcurrencyController(pinned: n)
        #expect(c.width == n && !c.isAdaptive)
        Self.clean(&c, 1_000)
        #expect(c.width == n)
        let taken = c.congested(inFlight: n)
        #expect(!taken, "pinned: nothing is absorbed, every refusal is reported as before")
        #expect(c.width == n && c.cuts == 0)
    }

    @Test func pinnedIsClamped() {
        #expect(ConcurrencyController(pinned: 0).width == 1)
        #expect(ConcurrencyController(pinned: 99).width == 32)
    }
}
