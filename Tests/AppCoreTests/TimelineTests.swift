import AppCore
import FeedModel
import Foundation
import TerminalKit
import Testing

/// `T0` plus whole seconds, as a feed time.
private func at(_ seconds: Int64) -> Timestamp { Timestamp(ticks: Timestamp(t0).ticks + seconds * Timestamp.ticksPerSecond) }

private func point(_ seq: Int64, _ seconds: Int64, _ action: ChangeFeedAction = .create) -> ProbePoint {
    ProbePoint(sequence: seq, timestamp: at(seconds), action: action)
}

/// Three probes: 40 changes in the first 40 s, 20 in the next 40 s.
private let threePoints = ActivitySample(points: [point(1, 0), point(41, 40, .delete)], latest: point(61, 80, .update), requests: 3)

@Suite struct ActivityCurveTests {
    @Test func bucketsSpreadEachStretchsChangesEvenlyOverItsTime() {
        let curve = ActivityCurve(threePoints)
        #expect(curve.sequences == [1, 41, 61])
        #expect(curve.totalChanges == 60)
        #expect(curve.buckets(width: 4) == [20, 20, 10, 10])
        #expect(curve.buckets(width: 2) == [40, 20])
        #expect(curve.buckets(width: 1) == [60])
        #expect(curve.sequence(before: at(20).ticks) == 21)
        #expect(curve.sequence(before: at(60).ticks) == 51)
        #expect(curve.changes(from: at(10).ticks, to: at(70).ticks) == 45)
    }

    @Test func aTimeFallsInTheBucketThatStartsAtOrBeforeIt() {
        let curve = ActivityCurve(threePoints)
        #expect(curve.bucketStart(2, width: 4) == at(40).ticks)
        #expect(curve.column(ofTicks: at(40).ticks, width: 4) == 2)
        #expect(curve.column(ofTicks: at(40).ticks - 1, width: 4) == 1)
        #expect(curve.column(ofTicks: at(0).ticks, width: 4) == 0)
        #expect(curve.column(ofTicks: at(80).ticks, width: 4) == 3)
        // Outside the range: the nearest end.
        #expect(curve.column(ofTicks: at(-100).ticks, width: 4) == 0)
        #expect(curve.column(ofTicks: at(500).ticks, width: 4) == 3)
        #expect(curve.middle(ofColumn: 0, width: 4) == at(10).ticks - 1)
    }

    @Test func timesThatGoBackCountAtTheEarlierRowsTime() {
        // Sequence 41 was stamped before sequence 21 (it committed late).
        let sample = ActivitySample(points: [point(1, 0), point(21, 50), point(41, 30)], latest: point(61, 100), requests: 4)
        let curve = ActivityCurve(sample)
        #expect(curve.ticks == [at(0).ticks, at(50).ticks, at(50).ticks, at(100).ticks])
        // Both stretches up to 41 land in the first half; nothing is lost.
        #expect(curve.buckets(width: 2) == [20, 40])
        #expect(curve.buckets(width: 2).reduce(0, +) == Double(curve.totalChanges))
    }

    @Test func theLatestEntryClosesTheCurveAndDuplicatesAreDropped() {
        let sample = ActivitySample(points: [point(1, 0), point(1, 0), point(31, 30)], latest: point(31, 30), requests: 3)
        let curve = ActivityCurve(sample)
        #expect(curve.sequences == [1, 31])
        #expect(curve.buckets(width: 3) == [10, 10, 10])
    }

    @Test func eachBucketIsColouredByWhatTheNearestProbesSaw() {
        let curve = ActivityCurve(threePoints)
        // Bucket 0 holds the probe at 0 s (a create); bucket 1 holds none: the next probe, at 40 s, saw a delete.
        #expect(curve.dominantAction(ofColumn: 0, width: 4) == .create)
        #expect(curve.dominantAction(ofColumn: 1, width: 4) == .delete)
        #expect(curve.dominantAction(ofColumn: 3, width: 4) == .update)
        #expect(curve.sampledActions == ActionCounts(create: 1, delete: 1, update: 1))
    }

    @Test func theBusiestHoursAndTheHoursOfTheDay() {
        let base = Timestamp(year: 2026, month: 1, day: 1).ticks
        let hour = 3600 * Timestamp.ticksPerSecond
        func p(_ seq: Int64, _ h: Int64) -> ProbePoint { ProbePoint(sequence: seq, timestamp: Timestamp(ticks: base + h * hour), action: .create) }
        let curve = ActivityCurve(ActivitySample(points: [p(1, 0), p(101, 1), p(401, 2)], latest: p(451, 5), requests: 4))
        let utc = TimeZone(identifier: "UTC")!
        let top = curve.busiestHours(in: utc, top: 2)
        #expect(top.map(\.start) == [base + hour, base])
        #expect(top.map(\.changes) == [300, 100])
        let hours = curve.hoursOfDay(in: utc)
        #expect(hours[0] == 100 && hours[1] == 300)
        #expect(abs(hours[2] + hours[3] + hours[4] - 50) < 1e-9)
        #expect(hours[5...].allSatisfy { $0 == 0 })
        // Tokyo is nine hours ahead: the same changes at 9 and 10 o'clock.
        let tokyo = curve.hoursOfDay(in: TimeZone(identifier: "Asia/Tokyo")!)
        #expect(tokyo[9] == 100 && tokyo[10] == 300 && tokyo[0] == 0)
    }

    @Test func estimatesAreShort() {
        #expect(Format.estimate(7.4) == "~7")
        #expect(Format.estimate(1234) == "~1.2k")
        #expect(Format.estimate(56_789) == "~57k")
        #expect(Format.estimate(3_400_000) == "~3.4M")
        #expect(Format.stripLabel(Timestamp(year: 2026, month: 11, day: 28, hour: 9, minute: 12), in: TimeZone(identifier: "UTC")!, long: false) == "11-28 09:12")
        #expect(Format.stripLabel(Timestamp(year: 2026, month: 11, day: 28, hour: 9, minute: 12), in: TimeZone(identifier: "UTC")!, long: true) == "2026-11-28")
    }
}

@Suite struct TimelineUpdateTests {
    /// 100 entries one second apart (sequence i at t0 + i s), a token, and the probes' sample of them.
    func ready(cols: Int = 80) -> AppState {
        var s = makeState(cols: cols, entries: 100)
        _ = update(&s, .tokenAcquired(tokenInfo(expiresIn: 3600)))
        let sample = ActivitySample(points: [point(1, 1), point(51, 51)], latest: point(100, 100), requests: 3)
        _ = update(&s, .activityProbed(.sample(sample)))
        return s
    }

    @Test func theFirstTokenStartsTheProbesOnce() {
        var s = makeState()
        #expect(s.timeline.status == .notAsked)
        let first = update(&s, .tokenAcquired(tokenInfo(expiresIn: 3600)))
        #expect(first.contains(.probeActivity))
        #expect(s.timeline.status == .probing && s.timeline.probing)
        let second = update(&s, .tokenAcquired(tokenInfo(expiresIn: 3600)))
        #expect(!second.contains(.probeActivity))
    }

    @Test func theProbesAnswerOrSayWhyNot() {
        var s = makeState()
        _ = update(&s, .tokenAcquired(tokenInfo(expiresIn: 3600)))
        _ = update(&s, .activityProbed(.noV1("the service does not answer v1 probes (404 Not Found)")))
        #expect(s.timeline.status == .unavailable("the service does not answer v1 probes (404 Not Found)"))
        #expect(!s.timeline.probing)
        // A new token tries again.
        #expect(update(&s, .tokenAcquired(tokenInfo(expiresIn: 3600))).contains(.probeActivity))
        _ = update(&s, .activityProbed(.empty))
        #expect(s.timeline.status == .empty && s.timeline.curve == nil)
        #expect(!update(&s, .tokenAcquired(tokenInfo(expiresIn: 3600))).contains(.probeActivity))
        let r = ready()
        #expect(r.timeline.status == .ready)
        #expect(r.timeline.curve?.totalChanges == 99)
        #expect(r.timeline.probedAt == t0)
    }

    @Test func aFailureLaterKeepsTheTimelineAndSaysSo() {
        var s = ready()
        _ = update(&s, .input(.key(.char("R"))))
        _ = update(&s, .activityProbed(.failed("503 Service Unavailable")))
        #expect(s.timeline.status == .ready)
        #expect(s.flash == "The activity probes failed: 503 Service Unavailable")
    }

    @Test func reloadAndFollowingProbeAgain() {
        var s = ready()
        _ = update(&s, .caughtUp)
        #expect(update(&s, .input(.key(.char("R")))).contains(.probeActivity))
        // Not twice at once.
        _ = update(&s, .caughtUp)
        #expect(!update(&s, .input(.key(.char("R")))).contains(.probeActivity))
        _ = update(&s, .activityProbed(.empty))

        var f = ready()
        f.follow.on = true
        #expect(!update(&f, .tick(t0.addingTimeInterval(299))).contains(.probeActivity))
        #expect(update(&f, .tick(t0.addingTimeInterval(300))).contains(.probeActivity))
        var g = ready()
        #expect(!update(&g, .tick(t0.addingTimeInterval(3000))).contains(.probeActivity), "not following: no periodic probe")
    }

    @Test func aNewerLatestExtendsTheCurveForFree() {
        var s = ready()
        _ = update(&s, .latest(sequence: 150, timestamp: at(150)))
        #expect(s.timeline.curve?.sequences.last == 150)
        #expect(s.timeline.curve?.endTicks == at(150).ticks)
        // An older answer changes nothing.
        _ = update(&s, .latest(sequence: 120, timestamp: at(120)))
        #expect(s.timeline.curve?.sequences.last == 150)
    }

    @Test func theCursorStartsAtTheViewsPositionAndMoves() {
        var s = ready()
        s.selected = 49   // sequence 50, at 50 s
        _ = update(&s, .input(.key(.char("T"))))
        let width = TimelineLayout.bars(cols: 80).width
        #expect(width == 56)
        let curve = s.timeline.curve!
        let column = curve.column(ofTicks: at(50).ticks, width: width)
        #expect(s.timeline.cursor == column)
        #expect(KeyView.current(s) == .timeline)
        _ = update(&s, .input(.key(.right)))
        _ = update(&s, .input(.key(.char("l"))))
        #expect(s.timeline.cursor == column + 2)
        _ = update(&s, .input(.key(.char("h"))))
        #expect(s.timeline.cursor == column + 1)
        _ = update(&s, .input(.key(.end)))
        #expect(s.timeline.cursor == width - 1)
        _ = update(&s, .input(.key(.right)))
        #expect(s.timeline.cursor == width - 1)
        _ = update(&s, .input(.key(.pageUp)))
        #expect(s.timeline.cursor == width - 1 - 5)
        _ = update(&s, .input(.key(.home)))
        #expect(s.timeline.cursor == 0)
        _ = update(&s, .input(.key(.escape)))
        #expect(s.timeline.cursor == nil && KeyView.current(s) == .list)
    }

    @Test func enterGoesToTheFirstLoadedRowAtTheTimeChosen() {
        var s = ready()
        s.selected = 0
        _ = update(&s, .input(.key(.char("T"))))
        let width = TimelineLayout.bars(cols: 80).width
        let target = width / 2
        s.timeline.cursor = target
        _ = update(&s, .input(.key(.enter)))
        #expect(s.timeline.cursor == nil)
        let chosen = s.timeline.curve!.middle(ofColumn: target, width: width)
        let row = s.selectedStoreIndex!
        // As `:` with that time: the first row at or after it.
        #expect(s.entries.timestamp(at: row).ticks >= chosen)
        #expect(row == 0 || s.entries.timestamp(at: row - 1).ticks < chosen)
        #expect(s.flash?.hasPrefix("Timeline: ") == true)
        // The strip's ends stand for the first and the latest entries.
        _ = update(&s, .input(.key(.char("T"))))
        _ = update(&s, .input(.key(.char("G"))))
        _ = update(&s, .input(.key(.enter)))
        #expect(s.selectedStoreIndex.map { s.entries.sequence(at: $0) } == 100)
        _ = update(&s, .input(.key(.char("T"))))
        _ = update(&s, .input(.key(.char("g"))))
        _ = update(&s, .input(.key(.enter)))
        #expect(s.selected == 0)
    }

    /// A time outside the loaded rows is a jump there (v2: the list starts again at that time,
    /// reading only that neighbourhood); inside them, the row at or after it is selected.
    @Test func goingOutsideTheLoadedRowsJumpsThere() {
        var s = makeState(entries: 10)   // rows at 1…10 s
        _ = timelineGo(&s, to: at(7))
        #expect(s.selectedStoreIndex.map { s.entries.sequence(at: $0) } == 7)
        let effects = timelineGo(&s, to: at(500))
        #expect(effects == [.fetchNeighbourhood(FeedCursor.Start(startTime: at(500)), rows: s.reach.neighbourhood)])
        #expect(s.entries.isEmpty && s.origin == FeedCursor.Start(startTime: at(500)))
        let utc = TimeZone(identifier: "UTC")!
        #expect(s.flash == "Timeline: \(Format.dateTime(at(500), in: utc)).")
    }

    @Test func withoutATimelineTheCursorKeySaysWhy() {
        var s = makeState(entries: 5)
        _ = update(&s, .input(.key(.char("T"))))
        #expect(s.timeline.cursor == nil)
        #expect(s.flash == "No timeline yet: the probes run once there is a token.")
    }

    @Test func theActivityViewCountsTheLoadedActionsAndCloses() {
        var s = ready()
        _ = update(&s, .input(.key(.char("a"))))
        #expect(s.timeline.viewOpen && KeyView.current(s) == .activity)
        // makeEntries: every seventh entry is a delete.
        #expect(s.timeline.loadedActions == ActionCounts(create: 86, delete: 14, update: 0))
        #expect(KeyHelp.bar(for: s).map(\.keys) == ["Esc"])
        _ = update(&s, .input(.key(.char("j"))))
        #expect(s.selected == 0, "the view takes the keys")
        _ = update(&s, .input(.key(.escape)))
        #expect(!s.timeline.viewOpen)
    }
}
