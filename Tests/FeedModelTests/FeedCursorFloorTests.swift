import FeedModel
import Testing

/// The list's start moves back as older rows load (`FeedCursor.lowerFloor`): a late row in a
/// gap among them is read again by the next run, as in a gap the run itself read.
@Suite struct FeedCursorFloorTests {
    static func t(_ seconds: Int) -> Timestamp { Timestamp(ticks: Int64(seconds) * Timestamp.ticksPerSecond + 1_700_000_000 * Timestamp.ticksPerSecond) }

    @Test func aGapAmongOlderRowsStaysOpenWhileItsRowsAreNew() {
        var c = FeedCursor(order: .sequence, floor: FeedCursor.Start(afterSequence: 685), lateWindow: 120)
        c.runStarted(at: FeedCursor.Start(afterSequence: 685), latest: Self.t(1_000))
        c.read(sequence: 722, timestamp: Self.t(999))
        c.read(sequence: 723, timestamp: Self.t(1_000))
        // Older rows, loaded while the run goes on: 611 has not committed yet.
        // (Newest first, as `AppState.prepend` reads them.)
        c.lowerFloor(to: FeedCursor.Start(afterSequence: 585))
        for s in [625, 618, 617, 616, 615] { c.read(sequence: Int64(s), timestamp: Self.t(990)) }
        for s in (586...610).reversed() { c.read(sequence: Int64(s), timestamp: Self.t(100)) }
        c.lowerFloor(to: FeedCursor.Start(afterSequence: 485))
        for s in (487...585).reversed() { c.read(sequence: Int64(s), timestamp: Self.t(100)) }
        c.readThrough(sequence: 723)
        c.runFinished()
        #expect(c.nextStart == FeedCursor.Start(afterSequence: 610))
    }
}
