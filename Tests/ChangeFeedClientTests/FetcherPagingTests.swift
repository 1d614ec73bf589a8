@testable import ChangeFeedClient
import Emulator
import FeedModel
import Foundation
import Testing

/// The fetcher against the emulator, happy paths: what it delivers is exactly the emulator's feed.
@Suite struct FetcherPagingTests {
    @Test func v2DeliversTheWholeFeedInTimestampThenSequenceOrderWithDefaultPageSize() async throws {
        try await withFeed(EmulatorOptions(entries: 450, seed: 21, auth: .bearerToken("t"))) { feed in
            // A row stamped earlier than newer rows: (timestamp, sequence) order is no longer sequence order.
            let early = try #require(feed.store.allEntries().dropFirst(100).first)
            try feed.store.appendCreate(studyInstanceUid: "1.2.3.900", seriesInstanceUid: "1.2.3.900.1",
                                        sopInstanceUid: "1.2.3.900.1.1", at: early.timestamp.date)
            let truth = v2Truth(feed.store)
            #expect(truth.map(\.sequence) != feed.store.allEntries().map(\.sequence), "precondition: orders differ")
            #expect(zip(truth, truth.dropFirst()).contains { $0.timestampTicks == $1.timestampTicks },
                    "precondition: equal timestamps in the dataset")

            // Sequential, because this test checks the exact request pattern (the pipelined run is
            // checked against it in FetcherPipelineTests).
            let log = await feed.fetcher(parallel: 1).collect()

            #expect(log.stopped == nil)
            expectSameEntries(log.entries, truth)
            #expect(Set(log.entries.map(\.sequence)).count == log.entries.count)
            #expect(log.latestEvents == [feed.store.latest(.v2)?.sequence])
            // Every page request asked for 200 rows. The settled part (older than the late window
            // before /latest's time) is read in windows that end by then: one page from the
            // start, then windows from where it ended, each stepping its offset by 200 up to the
            // bound; the rest is paged by time.
            let queries = feed.pageRequests.map(queryItems)
            #expect(queries.map { $0["limit"] } == Array(repeating: "200", count: queries.count))
            let settled = try #require(feed.store.latest(.v2)).timestamp.adding(seconds: -FeedCursor.defaultLateWindow)
            let byOffset = queries.filter { $0["endTime"].flatMap(Timestamp.parse).map { $0 <= settled } ?? false }
            let byTime = queries.filter { $0["endTime"] == nil }
            #expect(byOffset.first?["startTime"] == nil && byOffset.first?["offset"] == "0")
            #expect(byOffset.dropFirst().allSatisfy { $0["startTime"].flatMap(Timestamp.parse) != nil })
            #expect(byOffset.allSatisfy { Int64($0["offset"] ?? "") ?? .max <= Fetcher.defaultMaxOffset })
            #expect(byOffset.count + byTime.count == queries.count)
            #expect(byTime.first?["startTime"].flatMap(Timestamp.parse) == settled && byTime.first?["offset"] == "0")
            // caughtUp once, and last.
            #expect(log.caughtUpCount == 1)
            #expect(log.events.last == .caughtUp)
            #expect(log.events.first == .started)
        }
    }

    /// A page boundary between two rows with the same timestamp, paged by offset (the whole
    /// feed settled: late window 0) and by time (nothing settled: every page starts at the
    /// time of the previous page's last row and skips only the rows read at that time).
    @Test(arguments: [0.0, 1e9])
    func v2PagesAcrossARunOfEqualTimestamps(lateWindow: Double) async throws {
        try await withFeed(EmulatorOptions(entries: 500, seed: 3, auth: .bearerToken("t"))) { feed in
            let truth = v2Truth(feed.store)
            let tie = try #require((1..<min(truth.count, 200)).first { i in
                i >= 2 && truth[i - 1].timestampTicks == truth[i].timestampTicks
            }, "precondition: a tie within the first 200 rows")
            var fetcher = feed.fetcher(pageSize: tie, parallel: 1)
            fetcher.lateWindow = lateWindow
            let log = await fetcher.collect()

            #expect(log.stopped == nil)
            expectSameEntries(log.entries, truth)
            let pages = log.pages.filter { !$0.isEmpty }
            #expect(pages.first?.last?.sequence == truth[tie - 1].sequence)
            #expect(pages.dropFirst().first?.first?.sequence == truth[tie].sequence)
            let queries = feed.pageRequests.map(queryItems)
            #expect(queries.allSatisfy { $0["limit"] == String(tie) })
            if lateWindow > 0 {
                // By time, offsets only count rows at one timestamp: they stay small.
                let byTime = queries.filter { $0["endTime"] == nil }
                #expect(byTime.compactMap { $0["offset"].flatMap { Int($0) } }.allSatisfy { $0 <= tie })
                #expect(byTime.count == truth.count / tie + 1)
            }
            #expect(log.caughtUpCount == 1 && log.events.last == .caughtUp)
        }
    }

    /// A v2 time window read with several pages in flight: which rows of how large a feed, how
    /// many rows a page, and how many rows the window has at least.
    struct TimeWindow: Sendable, CustomTestStringConvertible {
        var entries: Int
        var rows: Range<Int>
        var pageSize: Int
        var atLeast: Int
        var testDescription: String { "rows \(rows) of \(entries), \(pageSize) a page" }
    }

    @Test(arguments: [
        TimeWindow(entries: 600, rows: 100..<450, pageSize: 100, atLeast: 200),
        TimeWindow(entries: 1500, rows: 200..<1100, pageSize: 60, atLeast: 400),
    ])
    func v2WithATimeWindowDeliversExactlyTheWindow(_ window: TimeWindow) async throws {
        try await withFeed(EmulatorOptions(entries: window.entries, seed: 23, auth: .bearerToken("t"))) { feed in
            let all = v2Truth(feed.store)
            // The rows' own timestamps, exactly: the start is inclusive, the end exclusive.
            let start = all[window.rows.lowerBound].timestamp
            let end = all[window.rows.upperBound].timestamp
            let truth = v2Truth(feed.store, start: start, end: end)
            #expect(truth.count > window.atLeast && truth.count < all.count, "precondition: more than a page, less than the feed")
            var fetcher = feed.fetcher(pageSize: window.pageSize, parallel: 4)
            fetcher.start = FeedCursor.Start(startTime: start)
            fetcher.endTime = end
            let log = await fetcher.collect()
            #expect(log.stopped == nil)
            expectSameEntries(log.entries, truth)
            #expect(log.caughtUpCount == 1)
            // Every request stays inside the window asked for (in smaller windows of its own).
            #expect(feed.pageRequests.allSatisfy { r in
                let q = queryItems(r)
                guard let s = q["startTime"].flatMap(Timestamp.parse), let e = q["endTime"].flatMap(Timestamp.parse) else { return false }
                return s >= start && e <= end && s < e
            })
        }
    }

    @Test(arguments: APIVersion.allCases)
    func aPageSizeAboveTheServiceMaximumIsClamped(version: APIVersion) async throws {
        try await withFeed(EmulatorOptions(entries: 250, seed: 23, auth: .bearerToken("t")), version: version) { feed in
            let log = await feed.fetcher(pageSize: 1000).collect()
            #expect(log.stopped == nil)
            expectSameEntries(log.entries, version.isSequenceMode ? feed.store.allEntries() : v2Truth(feed.store))
            #expect(feed.pageRequests.allSatisfy { queryItems($0)["limit"] == String(version.maxLimit) })
        }
    }

    @Test(arguments: [APIVersion.v1, .v1Prerelease])
    func sequenceModeWalksPastEveryGapIncludingOneLongerThanAPage(version: APIVersion) async throws {
        try await withFeed(EmulatorOptions(entries: 600, seed: 5, auth: .bearerToken("t")), version: version) { feed in
            let truth = feed.store.allEntries()
            let gaps = sequenceGaps(truth)
            let longest = try #require(gaps.max())
            #expect(longest > 100, "precondition: a gap longer than a v1 page")
            // The long gap sits in the middle of the feed, not at its end.
            let at = try #require(gaps.firstIndex(of: longest))
            #expect(at > 0 && at < truth.count - 10)

            // Sequential: the request order below is checked (pipelined: FetcherPipelineTests).
            let log = await feed.fetcher(parallel: 1).collect()

            #expect(log.stopped == nil)
            expectSameEntries(log.entries, truth)
            #expect(Set(log.entries.map(\.sequence)).count == log.entries.count)
            #expect(log.latestEvents == [truth.last?.sequence])
            #expect(log.caughtUpCount == 1 && log.events.last == .caughtUp)
            // Windows of 100 whose starts only move forward: nothing read twice, nothing past the end.
            let queries = feed.pageRequests.map(queryItems)
            #expect(queries.allSatisfy { $0["limit"] == "100" })
            let offsets = queries.compactMap { $0["offset"].flatMap { Int64($0) } }
            #expect(offsets.count == queries.count)
            #expect(zip(offsets, offsets.dropFirst()).allSatisfy { $0 < $1 })
            #expect(offsets.first == 0)
            #expect((offsets.last ?? 0) < truth.last!.sequence)
            // At least one window fell entirely inside the long gap, and the walk went on.
            let before = truth[at].sequence, after = truth[at + 1].sequence
            #expect(offsets.contains { $0 >= before && $0 + 100 < after })
        }
    }

    @Test func sequenceModeWithSmallWindowsCrossesManyGaps() async throws {
        try await withFeed(EmulatorOptions(entries: 400, seed: 9, auth: .bearerToken("t")), version: .v1) { feed in
            let truth = feed.store.allEntries()
            #expect(sequenceGaps(truth).filter { $0 >= 5 }.count >= 2, "precondition: several gaps wider than a window")
            let log = await feed.fetcher(pageSize: 5).collect()
            #expect(log.stopped == nil)
            expectSameEntries(log.entries, truth)
            #expect(feed.pageRequests.allSatisfy { queryItems($0)["limit"] == "5" })
            #expect(log.caughtUpCount == 1)
        }
    }

    @Test(arguments: APIVersion.allCases)
    func anEmptyFeedIsCaughtUpAtOnce(version: APIVersion) async throws {
        try await withFeed(store: ChangeFeedStore.empty(seed: 2), version: version) { feed in
            let log = await feed.fetcher().collect()
            #expect(feed.server.requestLog.requests.first.map { $0.path.hasSuffix("/latest") && $0.status == 204 } == true)
            #expect(log.stopped == nil)
            #expect(log.latestEvents == [nil])
            #expect(log.entries.isEmpty)
            #expect(log.caughtUpCount == 1 && log.events.last == .caughtUp)
            #expect(log.retries.isEmpty)
        }
    }

    @Test func metadataMatchesTheInstancesCurrentVersion() async throws {
        try await withFeed(EmulatorOptions(entries: 150, seed: 13, auth: .bearerToken("t"))) { feed in
            let log = await feed.fetcher(includeMetadata: true).collect()
            #expect(log.stopped == nil)
            let truth = v2Truth(feed.store)
            #expect(log.entries.map(\.sequence) == truth.map(\.sequence))
            #expect(truth.contains { $0.state == .deleted }, "precondition: deleted instances")
            for (got, row) in zip(log.entries, truth) {
                if row.state == .deleted {
                    #expect(got.metadata == nil, "sequence \(row.sequence) is deleted")
                    continue
                }
                let bytes = try #require(feed.store.metadataJSON(sopInstanceUid: row.sopInstanceUid,
                                                                 bulkDataBase: feed.base.absoluteString + "/v2"))
                let expected = try #require(RawJSON(parsing: Data(bytes)))
                #expect(got.metadata == expected, "metadata of sequence \(row.sequence)")
            }
            #expect(feed.pageRequests.allSatisfy { queryItems($0)["includeMetadata"] == "true" })
        }
    }
}
