@testable import ChangeFeedClient
import Emulator
import FeedModel
import Foundation
import Testing

/// The adaptive fetcher against an emulator that takes only so many requests at once
/// (`limit=N`: one more gets 429 "too many concurrent requests", Retry-After: 1), and against
/// one that is only slow. Assertions are on order and counts, never on durations: the machine
/// is shared and slow, and the margins are wide.
@Suite struct AdaptiveConcurrencyTests {
    static func options(entries: Int, faults: String) throws -> EmulatorOptions {
        var o = EmulatorOptions(entries: entries, seed: 41, auth: .bearerToken("t"))
        o.faults = try FaultPlan(spec: faults)
        return o
    }

    /// Requests the emulator refused for being over its limit.
    static func refusals(_ feed: Feed) -> Int {
        feed.server.requestLog.requests.filter { $0.fault == FaultInjector.overLimit }.count
    }

    @Test(arguments: APIVersion.allCases)
    func underAConcurrencyLimitEveryEntryArrivesInOrderQuietlyAndTheWidthSettlesNearTheLimit(version: APIVersion) async throws {
        let limit = 3
        try await withFeed(try Self.options(entries: 1_200, faults: "limit=\(limit),latency=40"), version: version) { feed in
            let truth = FetcherPipelineTests.truth(feed, version)
            let reports = ProgressLog()
            var fetcher = feed.fetcher(pageSize: 20)
            #expect(fetcher.parallel == nil, "adaptive is the default")
            fetcher.onProgress = { reports.add($0) }
            let log = await fetcher.collect()

            #expect(log.stopped == nil, "\(String(describing: log.stopped))")
            expectSameEntries(log.entries, truth)
            #expect(Set(log.entries.map(\.sequence)).count == log.entries.count, "no duplicates")
            #expect(log.caughtUpCount == 1 && log.events.last == .caughtUp)
            // The service did refuse (the controller probed past the limit) ...
            let refused = Self.refusals(feed)
            #expect(refused >= 1, "the width never went past the limit: this test would prove nothing")
            // ... and none of it reached the user: no retry events, every refusal absorbed.
            #expect(log.retries.isEmpty, "\(log.retries.map { "\($0.error.message) (attempt \($0.attempt))" })")
            // The pipelined part (v2's newest rows are paged by time, one request at a time).
            let all = reports.list.filter { !$0.byTime }
            let last = try #require(all.last)
            #expect(last.adaptive && all.allSatisfy(\.adaptive))
            #expect(last.absorbedRefusals >= 1 && last.absorbedRefusals <= refused)
            // Settled at or near the limit, nowhere near the cap: the refused width is limit + 1,
            // and after a cut it is probed again less and less often. (Before the first refusal
            // the width grows fast: on a slow machine the first requests may not overlap.)
            let widths = all.map(\.width)
            #expect(widths.max()! <= 2 * (limit + 1), "\(widths)")
            #expect((1...(limit + 1)).contains(last.width), "\(widths)")
            #expect(widths.filter { $0 <= limit }.count * 4 >= widths.count * 3, "mostly within the limit: \(widths)")
            #expect(refused <= 12, "a few probes, not a storm: \(refused) refused; widths \(widths)")
        }
    }

    @Test(arguments: APIVersion.allCases)
    func withLatencyAndNoLimitTheWidthGrowsPastFour(version: APIVersion) async throws {
        try await withFeed(try Self.options(entries: 2_000, faults: "latency=50"), version: version) { feed in
            let truth = FetcherPipelineTests.truth(feed, version)
            let reports = ProgressLog()
            var fetcher = feed.fetcher(pageSize: 20)
            fetcher.onProgress = { reports.add($0) }
            let log = await fetcher.collect()

            #expect(log.stopped == nil && log.retries.isEmpty)
            expectSameEntries(log.entries, truth)
            let widths = reports.list.filter { !$0.byTime }.map(\.width)
            // About 100 pages: until a refusal each latency-bound answer adds one, so 4 of them
            // take it to 8 (an answer that took more than twice the fastest does not count).
            #expect(widths.max()! >= 8, "\(widths)")
            #expect(widths.allSatisfy { (1...32).contains($0) })
            #expect(zip(widths, widths.dropFirst()).allSatisfy { $1 >= $0 }, "no refusal, no cut: \(widths)")
            #expect(reports.list.map(\.inFlight).max()! > 4, "more than 4 were really in flight")
        }
    }

    @Test func pinnedKeepsItsWidthAndReportsEveryRefusal() async throws {
        try await withFeed(try Self.options(entries: 600, faults: "limit=2,latency=20"), version: .v1) { feed in
            let reports = ProgressLog()
            var fetcher = feed.fetcher(pageSize: 50, parallel: 6)
            fetcher.onProgress = { reports.add($0) }
            let log = await fetcher.collect()

            #expect(log.stopped == nil)
            expectSameEntries(log.entries, feed.store.allEntries())
            #expect(reports.list.allSatisfy { $0.width == 6 && !$0.adaptive && $0.absorbedRefusals == 0 && !$0.byTime })
            let refused = Self.refusals(feed)
            #expect(refused >= 1)
            #expect(log.retries.count == refused, "pinned: every refusal is a retry event, as before")
            #expect(log.retries.allSatisfy { if case .throttled = $0.error { true } else { false } })
        }
    }

    @Test func aServiceThatKeepsRefusingIsStillReported() async throws {
        // The next 20 page requests are refused with 429. The width is cut to 1, so no new slot is
        // requested and the four or five in flight share the refusals: one of them at least is
        // refused more than `quietRefusals` (3) times, and that is the user's news.
        try await withFeed(EmulatorOptions(entries: 300, seed: 41, auth: .bearerToken("t")), version: .v1) { feed in
            let log = await FetcherPipelineTests.run(feed.fetcher(pageSize: 20), server: feed.server, afterPages: 1) { faults in
                faults.failNext(20, status: 429, target: .page)
            }
            #expect(log.stopped == nil)
            expectSameEntries(log.entries, feed.store.allEntries())
            #expect(feed.server.faults.pendingCount == 0)
            #expect(!log.retries.isEmpty, "a persistent refusal reaches the user")
            #expect(log.retries.allSatisfy { $0.attempt > 3 }, "only past the quiet ones: \(log.retries.map(\.attempt))")
            #expect(log.retries.count < 20, "the first ones were absorbed: \(log.retries.count)")
        }
    }
}
