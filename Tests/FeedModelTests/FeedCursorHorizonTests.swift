import FeedModel
import Testing

/// v2, when `/latest`'s newest row does not decode (its time unknown): the first run has no
/// newest time, and what it read up to stands in for one. Model seed 20261336 found rows
/// written twice here: the next run's `/latest` time was older than the first run's last
/// rows, the run after it started before them, and the cursor had let them go.
@Suite struct FeedCursorHorizonTests {
    static func t(_ seconds: Int) -> Timestamp {
        Timestamp(ticks: (Int64(seconds) + 1_700_000_000) * Timestamp.ticksPerSecond)
    }

    @Test func aRunWithoutANewestTimeNeverLetsTheNextRunsRepeatIt() {
        var c = FeedCursor(order: .time, lateWindow: 120)
        c.runStarted(at: c.nextStart, latest: nil)
        for s in 1...300 { let new = c.read(sequence: Int64(s), timestamp: Self.t(s)); #expect(new) }
        c.runFinished()
        // The last 120 s read are kept and read again: nothing before them can still change.
        #expect(c.nextStart.startTime == Self.t(180))

        // The next run's newest time is older than what the first run read (a newest row
        // stamped in the past): where runs start never goes back before the rows kept.
        c.runStarted(at: c.nextStart, latest: Self.t(250))
        for s in 180...300 { let new = c.read(sequence: Int64(s), timestamp: Self.t(s)); #expect(!new, "row \(s) again") }
        c.runFinished()
        #expect(c.nextStart.startTime == Self.t(180))
        c.runStarted(at: c.nextStart, latest: Self.t(301))
        for s in 181...300 { let new = c.read(sequence: Int64(s), timestamp: Self.t(s)); #expect(!new, "row \(s) again") }
        let newest = c.read(sequence: 301, timestamp: Self.t(301))
        #expect(newest)
        c.runFinished()
        #expect(c.nextStart.startTime == Self.t(181))
    }

    @Test func whileAHorizonlessRunReadsOnlyItsLastLateWindowIsKept() {
        var c = FeedCursor(order: .time, lateWindow: 10)
        c.runStarted(at: c.nextStart, latest: nil)
        for s in 1...5_000 { c.read(sequence: Int64(s), timestamp: Self.t(s)) }
        #expect(c.keptRows < 1_100)
        #expect(c.nextStart.startTime == Self.t(4_990))
    }
}
