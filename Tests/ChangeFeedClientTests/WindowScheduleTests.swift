@testable import ChangeFeedClient
import Emulator
import FeedModel
import Foundation
import Testing

/// v2 reads its settled part in small time windows (`WindowSchedule`): no request skips more
/// than `maxOffset` rows, and every row is handed over once, in (timestamp, sequence) order.
@Suite struct WindowScheduleTests {
    // MARK: - The schedule alone, against the service's SQL over an array

    /// A v2 feed as rows (ticks, sequence), sorted the service's way.
    struct Rows {
        var rows: [(ticks: Int64, sequence: Int64)]

        /// `WHERE Timestamp >= start AND Timestamp < end ORDER BY Timestamp, Sequence OFFSET o FETCH NEXT l`.
        func answer(_ q: PageQuery) -> [(ticks: Int64, sequence: Int64)] {
            let lo = q.startTime?.ticks ?? Int64.min, hi = q.endTime?.ticks ?? Int64.max
            let inWindow = rows.filter { $0.ticks >= lo && $0.ticks < hi }
            return Array(inWindow.dropFirst(Int(q.offset)).prefix(q.limit))
        }
    }

    /// Shapes of feeds: steady, bursts of equal timestamps, long quiet stretches, a daily rhythm.
    static func feed(seed: UInt64, count: Int) -> Rows {
        var rng = SplitMix64(seed: seed)
        var t: Int64 = 1_700_000_000 * Timestamp.ticksPerSecond
        var rows: [(Int64, Int64)] = []
        var seq: Int64 = 0
        let shape = seed % 4
        for i in 0..<count {
            seq += rng.chance(0.05) ? Int64(rng.next() % 5) + 2 : 1
            switch shape {
            case 0: t += Int64(rng.next() % 20_000_000)                                   // steady, ~1 s apart
            case 1: t += rng.chance(0.7) ? 0 : Int64(rng.next() % 50_000_000)             // runs of equal times
            case 2: t += rng.chance(0.01) ? 36_000_000_000 * Int64(rng.next() % 30 + 1) : Int64(rng.next() % 1000)  // quiet days, dense bursts
            default:
                let hour = (i / 40) % 24                                                   // busy days, quiet nights
                t += (8...18).contains(hour) ? Int64(rng.next() % 2_000_000) : Int64(rng.next() % 400_000_000)
            }
            rows.append((t, seq))
        }
        return Rows(rows: rows.map { (ticks: $0.0, sequence: $0.1) })
    }

    /// The page as the fetcher splits it; with `brokenEvery`, every such sequence does not
    /// decode and has no time (a timestamp without a zone), as the wire can break an element.
    static func page(_ rows: [(ticks: Int64, sequence: Int64)], brokenEvery: Int64? = nil) -> Fetcher.PageResult {
        var readable = 0
        return Fetcher.split(rows.enumerated().map { i, r in
            if let n = brokenEvery, r.sequence % n == 0 {
                return .undecodable(index: i, UnreadableEntry(sequence: r.sequence, timestamp: nil, reason: "no zone",
                                                              afterEntries: readable))
            }
            readable += 1
            return .entry(ChangeFeedEntry(sequence: r.sequence, studyInstanceUid: "1", seriesInstanceUid: "1.1",
                                          sopInstanceUid: "1.1.\(r.sequence)", action: .create,
                                          timestamp: Timestamp(ticks: r.ticks), state: .current))
        })
    }

    /// A page's elements in order, readable or not.
    static func sequences(_ page: Fetcher.PageResult) -> [Int64] {
        var out: [Int64] = []
        var bad = page.unreadable[...]
        for (i, e) in page.entries.enumerated() {
            while let u = bad.first, u.afterEntries <= i { out.append(u.sequence!); bad = bad.dropFirst() }
            out.append(e.sequence)
        }
        out += bad.map { $0.sequence! }
        return out
    }

    /// Drives a schedule as the pipeline does, answering requests in a random order with up to
    /// `width` in flight (cut to 1 now and then, as congestion does, and back); returns the
    /// sequences handed over and every query sent.
    static func drive(_ feed: Rows, start: Timestamp?, end: Timestamp, limit: Int, maxOffset: Int64, width: Int,
                      seed: UInt64, brokenEvery: Int64? = nil, rate: Double? = nil) -> (handed: [Int64], queries: [PageQuery]) {
        var schedule = WindowSchedule(start: start, end: end, limit: limit, maxOffset: maxOffset, includeMetadata: false, rate: rate)
        var rng = SplitMix64(seed: seed)
        var inFlight: [(Int, PageQuery)] = []
        var buffer: [Int: Fetcher.PageResult] = [:]
        var queries: [PageQuery] = []
        var handed: [Int64] = []
        var issued = 0, handedPages = 0
        var current = width
        func topUp() {
            while inFlight.count + buffer.count < (handedPages == 0 ? 1 : current) || schedule.nextKey == nil && !schedule.isComplete,
                  let q = schedule.nextRequest(key: issued) {
                inFlight.append((issued, q))
                queries.append(q)
                issued += 1
            }
        }
        topUp()
        var guardSteps = 0
        while !schedule.isComplete, !inFlight.isEmpty, guardSteps < 1_000_000 {
            guardSteps += 1
            if rng.chance(0.05) { current = current == 1 ? width : 1 }
            let (k, q) = inFlight.remove(at: Int(rng.next() % UInt64(inFlight.count)))
            let result = page(feed.answer(q), brokenEvery: brokenEvery)
            if schedule.drop(k) { topUp(); continue }
            schedule.answered(key: k, rows: result.rows)
            buffer[k] = result
            while let key = schedule.nextKey, let ready = buffer.removeValue(forKey: key) {
                let h = schedule.handedOver(ready)
                handed += sequences(ready)
                for d in h.discarded where buffer.removeValue(forKey: d) != nil { _ = schedule.drop(d) }
                handedPages += 1
                if schedule.isComplete { break }
            }
            topUp()
        }
        return (handed, queries)
    }

    @Test(arguments: 0..<24)
    func everyRowOnceInOrderAndNoOffsetPastTheBound(seed: Int) {
        let s = UInt64(seed)
        let feed = Self.feed(seed: s, count: 300 + seed * 97)
        let limit = [7, 20, 50][seed % 3]
        let maxOffset = Int64([0, 30, 100, 333][seed % 4])
        // From the start (no startTime) or from a time inside the feed; to its end or before.
        let start: Timestamp? = seed % 2 == 0 ? nil : Timestamp(ticks: feed.rows[feed.rows.count / 5].ticks)
        let end = Timestamp(ticks: seed % 3 == 0 ? feed.rows.last!.ticks + 1 : feed.rows[feed.rows.count * 4 / 5].ticks)
        let truth = feed.answer(PageQuery(offset: 0, limit: Int.max, startTime: start, endTime: end)).map(\.sequence)

        // A density known beforehand (the search's ranges), right or far off, now and then.
        let span = Double(feed.rows.last!.ticks - feed.rows.first!.ticks)
        let rate: Double? = seed % 4 == 1 ? Double(feed.rows.count) / span * [0.05, 1, 20][seed % 3] : nil
        let run = Self.drive(feed, start: start, end: end, limit: limit, maxOffset: maxOffset, width: 1 + seed % 9, seed: s, rate: rate)

        #expect(run.handed == truth)
        // The only offsets past the bound: more rows than the bound at one timestamp.
        var atTime: [Int64: Int] = [:]
        for r in feed.rows { atTime[r.ticks, default: 0] += 1 }
        for q in run.queries where q.offset > maxOffset {
            let t = q.startTime?.ticks
            #expect(t != nil && Int64(atTime[t!] ?? 0) > maxOffset, "offset \(q.offset) > \(maxOffset) at \(String(describing: t))")
        }
        #expect(run.queries.allSatisfy { $0.limit == limit })
        // Not many more requests than pages of rows: windows are sized from what was seen.
        #expect(run.queries.count <= truth.count / limit * 4 + 40, "\(run.queries.count) requests for \(truth.count) rows")
    }

    /// Elements that do not decode and have no time: where one stands right before the rows at
    /// a page's last time, their count is not exact, and the reader goes on by offset from where
    /// it was instead (an offset past the bound, rarely); every row still comes once, in order.
    @Test(arguments: 0..<24)
    func elementsWithoutATimeLoseNothing(seed: Int) {
        let s = UInt64(seed)
        let feed = Self.feed(seed: s + 100, count: 400 + seed * 53)
        let limit = [7, 20][seed % 2]
        let maxOffset = Int64([30, 100][seed % 2])
        let end = Timestamp(ticks: feed.rows.last!.ticks + 1)
        let truth = feed.rows.map(\.sequence)
        let run = Self.drive(feed, start: nil, end: end, limit: limit, maxOffset: maxOffset, width: 1 + seed % 9, seed: s,
                             brokenEvery: [5, 7, 13][seed % 3])
        #expect(run.handed == truth)
    }

    @Test func aFeedThatFitsOnePageCostsOneRequest() {
        let feed = Self.feed(seed: 4, count: 30)
        let run = Self.drive(feed, start: nil, end: Timestamp(ticks: feed.rows.last!.ticks + 1), limit: 50, maxOffset: 1000,
                             width: 8, seed: 1)
        #expect(run.handed == feed.rows.map(\.sequence))
        #expect(run.queries.count == 1)
        #expect(run.queries[0].startTime == nil && run.queries[0].offset == 0)
    }

    /// A million rows a day for a year would need an offset in the hundreds of millions in one
    /// window; in windows, the offsets stay under the bound and the requests near the pages.
    @Test func aLargeSteadyFeedIsReadInWindowsOfAboutHalfTheBound() {
        var rows: [(ticks: Int64, sequence: Int64)] = []
        var t: Int64 = 1_700_000_000 * Timestamp.ticksPerSecond
        for s in 1...100_000 { t += 864_000; rows.append((t, Int64(s))) }   // 10 a second
        let feed = Rows(rows: rows)
        let run = Self.drive(feed, start: nil, end: Timestamp(ticks: t + 1), limit: 200, maxOffset: 1000, width: 16, seed: 2)
        #expect(run.handed.count == 100_000 && run.handed == rows.map(\.sequence))
        #expect(run.queries.map(\.offset).max()! <= 1000)
        #expect(run.queries.count < 100_000 / 200 * 2, "\(run.queries.count) requests")
        // Windows after the first page hold about 500 rows.
        let windows = Set(run.queries.dropFirst().compactMap { $0.startTime?.ticks })
        #expect(windows.count > 150 && windows.count < 260, "\(windows.count) windows")
    }

    // MARK: - The fetcher against the emulator

    /// The request log says it: no v2 request skips more than the bound, on feeds with equal
    /// timestamps and rows stamped earlier than rows before them; the feed comes whole.
    @Test(arguments: [(FeedShape.plain, 1), (FeedShape.realistic, 2), (FeedShape(sameTimestampShare: 0.6), 3)])
    func theFetcherNeverSendsAnOffsetAboveTheBound(shape: FeedShape, seed: Int) async throws {
        var options = EmulatorOptions(entries: 3_000, seed: UInt64(seed), auth: .bearerToken("t"))
        options.dataset.shape = shape
        try await withFeed(options) { feed in
            var fetcher = feed.fetcher(pageSize: 50)
            fetcher.maxOffset = 200
            fetcher.lateWindow = 0
            let log = await fetcher.collect()
            #expect(log.stopped == nil)
            expectSameEntries(log.entries, v2Truth(feed.store))
            let offsets = feed.pageRequests.map(queryItems).compactMap { $0["offset"].flatMap { Int64($0) } }
            #expect(offsets.count == feed.pageRequests.count)
            #expect(offsets.max()! <= 200, "largest offset \(offsets.max()!)")
            #expect(feed.pageRequests.count < 3_000 / 50 * 3)
        }
    }
}

extension WindowScheduleTests {
    /// Elements that do not decode, some with no time at all, stand among the rows: the windows
    /// still hand every row over once, in order.
    @Test(arguments: 1...30)
    func unreadableElementsInSmallWindows(seed: Int) async throws {
        var options = EmulatorOptions(entries: 300, seed: UInt64(seed), auth: .bearerToken("t"))
        options.dataset.shape = .realistic
        options.dataset.unreadableShare = 0.04
        try await withFeed(options) { feed in
            var fetcher = feed.fetcher(pageSize: 7, parallel: 16)
            fetcher.maxOffset = 19
            fetcher.lateWindow = 0
            let log = await fetcher.collect()
            #expect(log.stopped == nil)
            let truth = v2Truth(feed.store)
            expectSameEntries(log.entries, truth.filter { !$0.isUnreadable })
            if ProcessInfo.processInfo.environment["DICOMTUI_TRACE"] != nil {
                for r in feed.pageRequests { print("Q \(r.query ?? "")") }
                for p in log.pages { print("P \(p.map(\.sequence))") }
                print("T \(truth.map { "\($0.sequence)\($0.isUnreadable ? "u" : "")@\($0.timestampTicks % 10_000_000_000)" })")
            }
            #expect(log.undecodable == truth.filter(\.isUnreadable).count)
        }
    }
}
