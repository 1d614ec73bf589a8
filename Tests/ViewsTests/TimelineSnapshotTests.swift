import AppCore
import FeedModel
import Foundation
import TerminalKit
import Testing
import Views

/// The time `entries(_:)` gives entry `i`.
private func entryTime(_ i: Int) -> Timestamp { Timestamp(t0.addingTimeInterval(Double(i * 37) - 86_400)) }

/// 30 entries, and a sample of them with a burst early on: sequence 3 to 30 in the first 74 s.
func timelineState(rows: Int, cols: Int) -> AppState {
    var s = state(rows: rows, cols: cols)
    _ = update(&s, .latest(sequence: 90, timestamp: nil))
    _ = update(&s, .pageLoaded(entries: entries(30), unreadable: []))
    _ = update(&s, .caughtUp)
    let points = [
        ProbePoint(sequence: 3, timestamp: entryTime(1), actions: ActionCounts(create: 8, update: 2)),
        ProbePoint(sequence: 30, timestamp: entryTime(3), actions: ActionCounts(create: 9, delete: 1)),
        ProbePoint(sequence: 45, timestamp: entryTime(10), actions: ActionCounts(delete: 6, update: 4)),
        ProbePoint(sequence: 60, timestamp: entryTime(12), actions: ActionCounts(create: 3, update: 7)),
    ]
    let latest = ProbePoint(sequence: 90, timestamp: entryTime(30), action: .delete)
    _ = update(&s, .activityProbed(.sample(ActivitySample(points: points + [latest], latest: latest, requests: 6, elapsed: 0.21))))
    // The selection on entry 11 (sequence 33).
    for _ in 0..<10 { _ = update(&s, .input(.key(.char("j")))) }
    return s
}

@Suite struct TimelineSnapshots {
    @Test func theStripUnderTheHeader80x24() {
        let s = timelineState(rows: 24, cols: 80)
        let c = MainScreen.render(s, theme: Theme(color: true))
        assertSnapshot(c, named: "timeline-80x24")
        let row = c.line(TimelineLayout.row)
        #expect(row.hasPrefix("11-25 02:16 "))
        #expect(row.contains("█"))
        #expect(row.hasSuffix(" 11-25 02:34"))
    }

    @Test func theStripIsColouredByActionAndMarksTheView() {
        let s = timelineState(rows: 24, cols: 80)
        let (start, width) = TimelineLayout.bars(cols: 80)
        let curve = s.timeline.curve!
        let view = curve.column(ofTicks: entryTime(11).ticks, width: width)
        let c = MainScreen.render(s, theme: Theme(color: true))
        #expect(c[TimelineLayout.row, start + view].style.bg == .magenta)
        #expect((0..<width).filter { c[TimelineLayout.row, start + $0].style.bg != nil } == [view], "one mark")
        // The burst was mostly creates (green); the stretch after sequence 45, deletes and updates.
        #expect(c[TimelineLayout.row, start].style.fg == .green)
        #expect((0..<width).contains { c[TimelineLayout.row, start + $0].style.fg == .red })
        // Without colour: the bars and the mark stay, the colours go.
        let mono = MainScreen.render(s, theme: Theme(color: false))
        #expect((0..<width).allSatisfy { mono[TimelineLayout.row, start + $0].style.fg == nil })
        #expect((0..<width).filter { mono[TimelineLayout.row, start + $0].style.reverse } == [view])
        #expect(mono.line(TimelineLayout.row) == c.line(TimelineLayout.row))
    }

    @Test func theCursorAndWhatItPointsAt80x24() {
        var s = timelineState(rows: 24, cols: 80)
        _ = update(&s, .input(.key(.char("T"))))
        _ = update(&s, .input(.key(.char("L"))))
        let c = MainScreen.render(s, theme: Theme(color: true))
        assertSnapshot(c, named: "timeline-cursor-80x24")
        #expect(c.line(22).contains("timeline ▸ 2026-11-25 "))
        #expect(c.line(23).contains("Enter go"))
    }

    @Test func narrowStripsHaveNoLabels40x12() {
        let s = timelineState(rows: 12, cols: 40)
        let c = MainScreen.render(s, theme: Theme(color: true))
        assertSnapshot(c, named: "timeline-40x12")
        #expect(!c.line(TimelineLayout.row).contains("11-25"))
    }

    @Test func withoutATimelineTheStripSaysWhy() {
        var s = state(rows: 24, cols: 80)
        #expect(MainScreen.render(s, theme: Theme(color: true)).line(TimelineLayout.row).hasPrefix("Activity probing the feed…"))
        _ = update(&s, .activityProbed(.noV1("the service does not answer v1 probes (404 Not Found)")))
        #expect(MainScreen.render(s, theme: Theme(color: true)).line(TimelineLayout.row)
                .hasPrefix("Activity unavailable: the service does not answer v1 probes (404 Not Found)"))
        _ = update(&s, .activityProbed(.empty))
        #expect(MainScreen.render(s, theme: Theme(color: true)).line(TimelineLayout.row).hasPrefix("Activity none: the feed is empty"))
    }

    @Test(arguments: [(24, 80), (40, 120), (12, 40)])
    func theActivityView(rows: Int, cols: Int) {
        var s = timelineState(rows: rows, cols: cols)
        _ = update(&s, .input(.key(.char("a"))))
        let c = MainScreen.render(s, theme: Theme(color: true))
        assertSnapshot(c, named: "activity-\(cols)x\(rows)")
        let text = c.lines().joined(separator: "\n")
        #expect(text.contains("Activity"))
        if rows >= 24 {
            #expect(text.contains("Busiest hours"))
            #expect(text.contains("5 points from 6 requests in 0.2 s"))
        }
    }
}
