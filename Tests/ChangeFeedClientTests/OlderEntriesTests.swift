@testable import ChangeFeedClient
import Emulator
import FeedModel
import Foundation
import Synchronization
import Testing

/// Reading older entries before the list's first (`Fetcher.older`), again and again until the
/// feed's first entry, gives exactly the feed before where the list began: in order, none twice.
@Suite struct OlderEntriesTests {
    static func readBack(_ fetcher: Fetcher, from boundary: FeedCursor.Start) async throws -> (rows: [ChangeFeedEntry], calls: Int) {
        var rows: [ChangeFeedEntry] = []
        var before: FeedCursor.Start? = boundary
        var hint: Int64?
        var calls = 0
        while let b = before, calls < 5_000 {
            let older = try await fetcher.older(before: b, spanHint: hint)
            rows = older.entries + rows
            before = older.boundary
            hint = older.nextSpan ?? hint
            calls += 1
            // The boundary only moves back.
            if let next = older.boundary {
                #expect(next.afterSequence <= b.afterSequence)
                if let t = next.startTime, let u = b.startTime { #expect(t <= u) }
            }
        }
        return (rows, calls)
    }

    @Test(arguments: [(APIVersion.v1, 20), (.v1, 100), (.v2, 20), (.v2, 200)])
    func olderPagesBackToTheStartAreTheFeedBeforeTheBoundary(version: APIVersion, pageSize: Int) async throws {
        var options = EmulatorOptions(entries: 2_500, seed: 44, auth: .bearerToken("t"))
        options.dataset.shape = .realistic
        try await withFeed(options, version: version) { feed in
            let (boundary, expected) = cut(feed, version, at: 2_000)
            let (rows, calls) = try await Self.readBack(feed.fetcher(pageSize: pageSize), from: boundary)
            expectSameEntries(rows, expected)
            #expect(calls < expected.count / pageSize * 4 + 20, "\(calls) reads for \(expected.count) rows")
            // Windows by time: no offset above the page (v2 never pages by offset here).
            if version == .v2 { #expect(feed.server.requestLog.largestV2Offset <= Int64(pageSize) * 2) }
        }
    }

    /// A hundred million entries: the rows just before the newest come in a few requests.
    @Test func olderRowsOfAHugeFeedComeInAFewRequests() async throws {
        let options = EmulatorOptions(entries: 100_000_000, auth: .bearerToken("t"), dataset: .procedural)
        try await withFeed(options) { feed in
            let newest = try #require(feed.store.latest(.v2))
            let boundary = FeedCursor.Start(startTime: newest.timestamp.adding(seconds: -600))
            let fetcher = feed.fetcher()
            var before = boundary
            var hint: Int64?
            var rows: [ChangeFeedEntry] = []
            for _ in 0..<10 {
                let older = try await fetcher.older(before: before, spanHint: hint)
                rows = older.entries + rows
                before = try #require(older.boundary)
                hint = older.nextSpan
            }
            let expected = feed.store.entriesV2(start: before.startTime, end: boundary.startTime, limit: 100_000)
            expectSameEntries(rows, expected)
            // Windows grow (up to 4 times) until they hold about a page each.
            #expect(rows.count >= 600, "\(rows.count) rows")
            #expect(feed.server.requestLog.count < 80, "\(feed.server.requestLog.count) requests")
        }
    }
}

/// The whole-feed search reads older rows many pages at a time, several in flight
/// (`Fetcher.olderBatch`): back to the feed's first entry it is exactly the feed before the
/// boundary, with every v2 `offset` within `maxOffset`, in far fewer rounds than `older`.
@Suite struct OlderBatchTests {
    /// Batches back from `boundary` to the feed's first entry: the entries, the sequences of
    /// the unreadable elements, and how many batches it took.
    static func readBack(_ fetcher: Fetcher, from boundary: FeedCursor.Start, pages: Int,
                         onRetry: @escaping @Sendable (ChangeFeedError, Int) -> Void = { _, _ in }) async throws
        -> (entries: [ChangeFeedEntry], unreadable: [Int64?], batches: Int) {
        var entries: [ChangeFeedEntry] = []
        var unreadable: [Int64?] = []
        var before: FeedCursor.Start? = boundary
        var hint: Int64?
        var batches = 0
        while let b = before, batches < 500 {
            let read = try await fetcher.olderBatch(before: b, spanHint: hint, pages: pages, onRetry: onRetry)
            entries = read.entries + entries
            unreadable = read.unreadable.map(\.sequence) + unreadable
            before = read.boundary
            hint = read.nextSpan ?? hint
            batches += 1
        }
        return (entries, unreadable, batches)
    }

    @Test(arguments: [(APIVersion.v1, 20, 4), (.v1, 100, 1), (.v2, 20, 4), (.v2, 200, 16)])
    func batchesBackToTheStartAreTheFeedBeforeTheBoundary(version: APIVersion, pageSize: Int, parallel: Int) async throws {
        var options = EmulatorOptions(entries: 2_500, seed: 45, auth: .bearerToken("t"))
        options.dataset.shape = .realistic
        options.dataset.unreadableShare = 0.01
        try await withFeed(options, version: version) { feed in
            let (boundary, expected) = cut(feed, version, at: 2_200)
            var fetcher = feed.fetcher(pageSize: pageSize)
            fetcher.parallel = parallel
            fetcher.maxOffset = Int64(pageSize) * 3
            let (entries, unreadable, batches) = try await Self.readBack(fetcher, from: boundary, pages: 5)
            let broken = Set(expected.filter(\.isUnreadable).map(\.sequence))
            expectSameEntries(entries, expected.filter { !broken.contains($0.sequence) })
            #expect(Set(unreadable.compactMap { $0 }) == broken)
            #expect(batches < expected.count / (pageSize * 5) * 4 + 20, "\(batches) batches for \(expected.count) rows")
            if version == .v2 { #expect(feed.server.requestLog.largestV2Offset <= Int64(pageSize) * 3) }
        }
    }

    /// Answers that fail now and then (503, resets, a cut body) are tried again inside the
    /// batch: the rows are still exactly the feed's, each once.
    @Test(arguments: [APIVersion.v1, .v2])
    func faultsInsideABatchAreRetried(version: APIVersion) async throws {
        var options = EmulatorOptions(entries: 1_500, seed: 46, auth: .bearerToken("t"))
        options.dataset.shape = .realistic
        try await withFeed(options, version: version) { feed in
            let (boundary, expected) = cut(feed, version, at: 1_400)
            feed.server.faults.every(4, .status(503), target: .page)
            feed.server.faults.enqueue(.reset, times: 2, target: .page)
            feed.server.faults.enqueue(.truncatedBody, times: 1, target: .page)
            var fetcher = feed.fetcher(pageSize: 25)
            fetcher.parallel = 4
            fetcher.backoffBase = 0.001
            fetcher.backoffCap = 0.005
            let retries = Mutex(0)
            let (entries, _, _) = try await Self.readBack(fetcher, from: boundary, pages: 8) { _, _ in retries.withLock { $0 += 1 } }
            expectSameEntries(entries, expected)
            #expect(retries.withLock { $0 } > 0, "the faults were met and retried")
        }
    }
}

/// Where a list that begins at the feed's row `index` (in the version's order) begins, and the
/// rows before it.
func cut(_ feed: Feed, _ version: APIVersion, at index: Int) -> (boundary: FeedCursor.Start, before: [EmulatedEntry]) {
    let truth = version == .v2 ? v2Truth(feed.store) : feed.store.allEntries()
    let row = truth[index]
    return version == .v2
        ? (FeedCursor.Start(startTime: row.timestamp), truth.filter { $0.timestamp < row.timestamp })
        : (FeedCursor.Start(afterSequence: row.sequence - 1), truth.filter { $0.sequence < row.sequence })
}
