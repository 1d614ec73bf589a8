import Emulator
import FeedModel
import Foundation
import Testing

/// The (timestamp, sequence) order of the visible rows, computed from scratch: what every v2
/// query must agree with.
func v2Order(_ entries: [EmulatedEntry]) -> [EmulatedEntry] {
    entries.sorted { ($0.timestampTicks, $0.sequence) < ($1.timestampTicks, $1.sequence) }
}

/// How many fraction digits the wire shows for this timestamp once trailing zeros are trimmed.
func trimmedFractionDigits(_ ticks: Int64) -> Int {
    var fraction = Timestamp(ticks: ticks).fractionTicks
    if fraction == 0 { return 0 }
    var digits = 7
    while fraction % 10 == 0 { fraction /= 10; digits -= 1 }
    return digits
}

@Suite("Realistic timeline")
struct ShapeTests {
    static let count = 200_000
    static let plain = ChangeFeedStore(options: DatasetOptions(entryCount: count, seed: 31)).allEntries()
    static let realistic = ChangeFeedStore(options: DatasetOptions(entryCount: count, seed: 31, shape: .realistic)).allEntries()

    @Test("the shape changes only timestamps: same sequences, actions, states and UIDs as the plain dataset")
    func onlyTimestampsDiffer() {
        let p = Self.plain, r = Self.realistic
        #expect(r.count == Self.count)
        #expect(r.map(\.sequence) == p.map(\.sequence))
        #expect(r.map(\.action) == p.map(\.action))
        #expect(r.map(\.state) == p.map(\.state))
        #expect(r.map(\.sopInstanceUid) == p.map(\.sopInstanceUid))
        #expect(r.map(\.timestampTicks) != p.map(\.timestampTicks))
    }

    @Test("about 0.3 % of rows are stamped earlier than their predecessor, by at most 3 s")
    func earlierThanPredecessor() {
        let ticks = Self.realistic.map(\.timestampTicks)
        let steps = zip(ticks, ticks.dropFirst()).map { $1 - $0 }
        let back = steps.filter { $0 < 0 }
        let share = Double(back.count) / Double(steps.count)
        #expect(share > 0.002 && share < 0.004, "share \(share)")
        #expect(back.allSatisfy { -$0 <= 3 * Timestamp.ticksPerSecond })
        // The plain generator never goes back.
        let plain = Self.plain.map(\.timestampTicks)
        #expect(zip(plain, plain.dropFirst()).allSatisfy { $0 <= $1 })
    }

    @Test("about 1 % more rows share their predecessor's timestamp than in the plain dataset")
    func sameAsPredecessor() {
        let p = Self.plain.map(\.timestampTicks), r = Self.realistic.map(\.timestampTicks)
        var added = 0
        for i in 1..<r.count where r[i] == r[i - 1] && p[i] != p[i - 1] { added += 1 }
        let share = Double(added) / Double(r.count)
        #expect(share > 0.007 && share < 0.013, "share \(share)")
    }

    @Test("the wire shows 0 to 7 fraction digits: whole seconds, milliseconds and microseconds occur")
    func fractionDigits() {
        let digits = Self.realistic.map { trimmedFractionDigits($0.timestampTicks) }
        var histogram = [Int](repeating: 0, count: 8)
        for d in digits { histogram[d] += 1 }
        #expect(histogram.allSatisfy { $0 > 0 }, "\(histogram)")
        let n = Double(digits.count)
        #expect(Double(histogram[0]) / n > 0.015, "whole seconds: \(histogram)")
        #expect(Double(histogram[0...3].reduce(0, +)) / n > 0.06, "milliseconds or coarser: \(histogram)")
        // The plain dataset almost always has 7 digits (a trailing zero one time in ten).
        let plain = Self.plain.map { trimmedFractionDigits($0.timestampTicks) }
        #expect(Double(plain.filter { $0 <= 3 }.count) / n < 0.001)
    }

    @Test("v2 order differs from sequence order, and every v2 query follows (timestamp, sequence)")
    func v2OrderIsExact() {
        let store = ChangeFeedStore(options: DatasetOptions(entryCount: 20_000, seed: 8, shape: .realistic))
        let all = store.allEntries()
        let expected = v2Order(all)
        #expect(expected.map(\.sequence) != all.map(\.sequence))
        #expect(store.entriesV2(limit: Int.max) == expected)
        // Windows and offsets, with bounds on and around rows that went back in time.
        let back = zip(all, all.dropFirst()).filter { $1.timestampTicks < $0.timestampTicks }.map(\.1)
        #expect(!back.isEmpty)
        for (k, row) in back.prefix(20).enumerated() {
            for (start, end) in [(row.timestampTicks, row.timestampTicks + 1),
                                 (row.timestampTicks - 5 * Timestamp.ticksPerSecond, row.timestampTicks + 5 * Timestamp.ticksPerSecond)] {
                let offset = Int64(k % 4)
                let window = expected.filter { $0.timestampTicks >= start && $0.timestampTicks < end }
                #expect(store.entriesV2(startTicks: start, endTicks: end, offset: offset, limit: 50)
                        == Array(window.dropFirst(Int(offset)).prefix(50)))
            }
        }
        #expect(store.latest(.v2) == expected.last)
        #expect(store.latest(.v1) == all.last)
    }

    @Test("same seed and shape, same dataset; the shape's choices depend on the seed")
    func deterministic() {
        let a = ChangeFeedStore(options: DatasetOptions(entryCount: 5000, seed: 12, shape: .realistic)).allEntries()
        let b = ChangeFeedStore(options: DatasetOptions(entryCount: 5000, seed: 12, shape: .realistic)).allEntries()
        let c = ChangeFeedStore(options: DatasetOptions(entryCount: 5000, seed: 13, shape: .realistic)).allEntries()
        #expect(a == b)
        let backA = zip(a, a.dropFirst()).filter { $1.timestampTicks < $0.timestampTicks }.map(\.1.sequence)
        let backC = zip(c, c.dropFirst()).filter { $1.timestampTicks < $0.timestampTicks }.map(\.1.sequence)
        #expect(backA != backC)
    }

    @Test("a million realistic rows generate about as fast as a million plain ones")
    func largeRealisticDatasetSpeed() {
        let clock = ContinuousClock()
        var plain: ChangeFeedStore?
        var realistic: ChangeFeedStore?
        let plainTime = clock.measure { plain = ChangeFeedStore(options: DatasetOptions(entryCount: 1_000_000, seed: 5)) }
        let realisticTime = clock.measure {
            realistic = ChangeFeedStore(options: DatasetOptions(entryCount: 1_000_000, seed: 5, shape: .realistic))
        }
        #expect(plain?.count == 1_000_000 && realistic?.count == 1_000_000)
        // Debug builds are several times slower than release; this still leaves a wide margin.
        #expect(realisticTime < .seconds(20))
        #expect(realisticTime < plainTime * 3, "plain \(plainTime), realistic \(realisticTime)")
        // The last rows' v2 order is still right.
        let tail = realistic!.entriesV2(startTicks: realistic!.latest(.v2)!.timestampTicks - 60 * Timestamp.ticksPerSecond,
                                        limit: 10_000)
        #expect(!tail.isEmpty && tail == v2Order(tail))
    }

    @Test("benchmark: generation of 1,000,000 rows, plain and realistic (set EMULATOR_BENCH=1)",
          .enabled(if: ProcessInfo.processInfo.environment["EMULATOR_BENCH"] != nil))
    func benchmark() {
        let clock = ContinuousClock()
        for (name, shape) in [("plain", FeedShape.plain), ("realistic", FeedShape.realistic)] {
            var times: [Duration] = []
            for _ in 0..<5 {
                times.append(clock.measure { _ = ChangeFeedStore(options: DatasetOptions(entryCount: 1_000_000, seed: 1, shape: shape)) })
            }
            print("bench \(name): median \(times.sorted()[2]) of \(times)")
        }
    }
}
