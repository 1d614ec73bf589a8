@testable import ChangeFeedClient
import Emulator
import FeedModel
import Foundation
import Testing

/// Several pages in flight: what `emit` receives is exactly the sequential run's, faults or not.
@Suite struct FetcherPipelineTests {
    static func truth(_ feed: Feed, _ version: APIVersion) -> [EmulatedEntry] {
        version.isSequenceMode ? feed.store.allEntries() : v2Truth(feed.store)
    }

    /// Runs `fetcher`, and once `afterPages` pages have been handed over, queues `faults` for
    /// the requests that follow (those already in flight are not affected).
    static func run(_ fetcher: Fetcher, server: EmulatorServer, afterPages: Int = 0,
                    faults: @escaping @Sendable (FaultInjector) -> Void = { _ in }) async -> EventLog {
        let log = EventLog()
        let armed = OnceFlag()
        log.onEvent = { event, _ in
            if case .page = event, log.pages.count == afterPages, armed.take() { faults(server.faults) }
        }
        if afterPages == 0 { faults(server.faults) }
        await fetcher.run { log.record($0) }
        return log
    }

    @Test(arguments: APIVersion.allCases)
    func faultsInTheMiddleOfAPipelinedRunLoseNothingAndMatchTheSequentialRun(version: APIVersion) async throws {
        try await withFeed(EmulatorOptions(entries: 1200, seed: 31, auth: .bearerToken("t")), version: version) { feed in
            let truth = Self.truth(feed, version)
            var runs: [(parallel: Int, pages: [[ChangeFeedEntry]])] = []
            for parallel in [1, 4, 7] {
                feed.server.faults.reset()
                let fetcher = feed.fetcher(pageSize: 40, parallel: parallel)
                // Three pages in: two 503s, a slow answer (later pages overtake it), a 500 and a 408.
                let log = await Self.run(fetcher, server: feed.server, afterPages: 3) { faults in
                    faults.failNext(2, status: 503, body: "busy")
                    faults.enqueue(.delay(milliseconds: 300))
                    faults.failNext(1, status: 500)
                    faults.enqueue(.delay(milliseconds: 0), times: 2)
                    faults.failNext(1, status: 408)
                }
                #expect(log.stopped == nil, "parallel \(parallel): \(String(describing: log.stopped))")
                expectSameEntries(log.entries, truth)
                #expect(Set(log.entries.map(\.sequence)).count == log.entries.count, "no duplicates")
                #expect(log.retries.count == 4, "parallel \(parallel): every injected failure was retried once")
                #expect(log.caughtUpCount == 1 && log.events.last == .caughtUp)
                #expect(log.events.first == .started)
                #expect(feed.server.faults.pendingCount == 0)
                runs.append((parallel, log.pages))
            }
            for run in runs.dropFirst() {
                #expect(run.pages == runs[0].pages, "parallel \(run.parallel) hands over the same pages as parallel 1")
            }
        }
    }

    @Test(arguments: APIVersion.allCases)
    func aSlowFirstRequestOfTheWindowIsNotOvertaken(version: APIVersion) async throws {
        try await withFeed(EmulatorOptions(entries: 700, seed: 32, auth: .bearerToken("t")), version: version) { feed in
            // Page 1 is slow and then fails twice; pages 2... arrive long before it.
            let log = await Self.run(feed.fetcher(pageSize: 50, parallel: 6), server: feed.server, afterPages: 1) { faults in
                faults.enqueue(.delay(milliseconds: 250))
                faults.failNext(1, status: 503)
            }
            #expect(log.stopped == nil)
            expectSameEntries(log.entries, Self.truth(feed, version))
            #expect(log.caughtUpCount == 1)
        }
    }

    @Test func v2PagesAcrossEqualTimestampsAreTheSameWithAndWithoutPipelining() async throws {
        try await withFeed(EmulatorOptions(entries: 900, seed: 3, auth: .bearerToken("t"))) { feed in
            let truth = v2Truth(feed.store)
            let tie = try #require((2..<min(truth.count, 200)).first { i in
                truth[i - 1].timestampTicks == truth[i].timestampTicks
            }, "precondition: a tie within the first 200 rows")
            // More ties on later boundaries: every boundary that splits equal timestamps.
            let boundaries = stride(from: tie, to: truth.count, by: tie)
            #expect(boundaries.contains { truth[$0 - 1].timestampTicks == truth[$0].timestampTicks })

            let sequential = await feed.fetcher(pageSize: tie, parallel: 1).collect()
            feed.server.requestLog.reset()
            let pipelined = await feed.fetcher(pageSize: tie, parallel: 5).collect()

            #expect(pipelined.stopped == nil && sequential.stopped == nil)
            expectSameEntries(pipelined.entries, truth)
            #expect(pipelined.pages == sequential.pages)
            #expect(pipelined.pages.first?.last?.sequence == truth[tie - 1].sequence)
            #expect(pipelined.pages.dropFirst().first?.first?.sequence == truth[tie].sequence)
            // The settled part, in windows: each request asked once, none skipping more than the
            // bound, and not many more requests than pages. (The rest is paged by time.)
            let settled = try #require(feed.store.latest(.v2)).timestamp.adding(seconds: -FeedCursor.defaultLateWindow)
            let windowed = feed.pageRequests.map(queryItems).filter { $0["endTime"] != nil }
            let asked = windowed.map { [$0["startTime"] ?? "", $0["endTime"] ?? "", $0["offset"] ?? ""] }
            #expect(Set(asked).count == asked.count)
            #expect(windowed.allSatisfy { Int64($0["offset"] ?? "") ?? .max <= Fetcher.defaultMaxOffset })
            let needed = truth.filter { $0.timestamp < settled }.count / tie + 1
            #expect(windowed.count >= needed && windowed.count <= needed * 2 + 8, "\(windowed.count) requests, \(needed) pages")
        }
    }

    @Test(arguments: [APIVersion.v1, .v1Prerelease])
    func sequenceWindowsAreEachAskedOnceUpToLatest(version: APIVersion) async throws {
        try await withFeed(EmulatorOptions(entries: 400, seed: 9, auth: .bearerToken("t")), version: version) { feed in
            let truth = feed.store.allEntries()
            #expect(sequenceGaps(truth).filter { $0 >= 5 }.count >= 2, "precondition: gaps wider than a window")
            let log = await feed.fetcher(pageSize: 5, parallel: 4).collect()
            #expect(log.stopped == nil)
            expectSameEntries(log.entries, truth)
            let latest = try #require(truth.last?.sequence)
            let offsets = feed.pageRequests.compactMap { queryItems($0)["offset"].flatMap { Int64($0) } }.sorted()
            #expect(offsets == Array(stride(from: Int64(0), to: latest, by: 5)), "every window once, none past latest")
            #expect(log.caughtUpCount == 1)
        }
    }

    @Test(arguments: APIVersion.allCases)
    func resumingPipelinedMatchesTheTail(version: APIVersion) async throws {
        try await withFeed(EmulatorOptions(entries: 500, seed: 33, auth: .bearerToken("t")), version: version) { feed in
            let truth = Self.truth(feed, version)
            var fetcher = feed.fetcher(pageSize: 30, parallel: 4)
            let expected: [EmulatedEntry]
            if version.isSequenceMode {
                let after = truth[123].sequence
                fetcher.start = FeedCursor.Start(afterSequence: after)
                expected = truth.filter { $0.sequence > after }
            } else {
                // From a row's time: that row and everything after it (rows at the same time
                // before it in sequence order too: the start is inclusive).
                let from = truth[123].timestamp
                fetcher.start = FeedCursor.Start(startTime: from)
                expected = truth.filter { $0.timestamp >= from }
            }
            let log = await fetcher.collect()
            #expect(log.stopped == nil)
            expectSameEntries(log.entries, expected)
        }
    }

    @Test(arguments: APIVersion.allCases)
    func aFatalErrorMidRunStopsOnceAfterAnUnbrokenPrefix(version: APIVersion) async throws {
        try await withFeed(EmulatorOptions(entries: 900, seed: 34, auth: .bearerToken("t")), version: version) { feed in
            let truth = Self.truth(feed, version).map(\.changeFeedEntry)
            let log = await Self.run(feed.fetcher(pageSize: 30, parallel: 4), server: feed.server, afterPages: 2) { faults in
                faults.enqueue(.delay(milliseconds: 0))
                faults.failNext(1, status: 403, body: "Authorization failed.")
            }
            #expect(log.stopped == .forbidden("Authorization failed."))
            #expect(log.events.filter { if case .stopped = $0 { true } else { false } }.count == 1)
            #expect(log.events.last == .stopped(.forbidden("Authorization failed.")))
            #expect(log.caughtUpCount == 0)
            // What arrived is the feed's beginning with nothing missing, and not all of it.
            #expect(!log.entries.isEmpty && log.entries.count < truth.count)
            #expect(log.entries == Array(truth.prefix(log.entries.count)))
            // The requests still in flight were abandoned: the run is over and nothing more comes.
            let after = log.events.count
            try await Task.sleep(for: .milliseconds(100))
            #expect(log.events.count == after)
        }
    }

    @Test func aTokenThatExpiresMidPipelinedRunIsRefreshedOnce() async throws {
        try await withFeed(EmulatorOptions(entries: 1500, seed: 6, auth: .bearerToken("first"))) { feed in
            let tokens = TokenSequence(["first", "second", "third"])
            let log = EventLog()
            let server = feed.server
            log.onEvent = { event, _ in
                if case .page = event, log.pages.count == 2, server.authPolicy == .bearerToken("first") {
                    server.authPolicy = .bearerToken("second")
                }
            }
            await feed.fetcher(tokens, pageSize: 50, parallel: 4).run { log.record($0) }

            #expect(log.stopped == nil)
            expectSameEntries(log.entries, v2Truth(feed.store))
            // Several requests in flight may see the old token refused; the source hears of it once.
            #expect(await tokens.rejections == 1)
            let refused = feed.server.requestLog.requests.filter { $0.status == 401 }
            #expect(refused.count >= 1 && refused.count <= 4)
            #expect(refused.allSatisfy { $0.authorization == "Bearer first" })
            #expect(log.retries.isEmpty)
        }
    }

    @Test(arguments: [1, 4])
    func aSourceThatHandsOutTheSameTokenAgainIsToldAgainNextTime(parallel: Int) async throws {
        try await withFeed(EmulatorOptions(entries: 1000, seed: 6, auth: .bearerToken("a"))) { feed in
            // The first refusal (a stray 401 on /latest) leaves the source's token as it was;
            // later the service stops taking that token, and the source must hear of it again.
            let tokens = TokenSequence(["a", "a", "b"])
            feed.server.faults.failNext(1, status: 401)
            let log = EventLog()
            let server = feed.server
            log.onEvent = { event, _ in
                if case .page = event, log.pages.count == 2 { server.authPolicy = .bearerToken("b") }
            }
            await feed.fetcher(tokens, pageSize: 50, parallel: parallel).run { log.record($0) }
            #expect(log.stopped == nil, "\(String(describing: log.stopped))")
            expectSameEntries(log.entries, v2Truth(feed.store))
            #expect(await tokens.rejections == 2)
        }
    }

    @Test func throttlingInAPipelinedRunLosesNothing() async throws {
        try await withFeed(EmulatorOptions(entries: 800, seed: 35, auth: .bearerToken("t"))) { feed in
            let log = await Self.run(feed.fetcher(pageSize: 50, parallel: 4), server: feed.server, afterPages: 2) { faults in
                faults.failNext(2, status: 429, retryAfter: 1)
            }
            #expect(log.stopped == nil)
            expectSameEntries(log.entries, v2Truth(feed.store))
            #expect(log.retries.count == 2)
            #expect(log.retries.allSatisfy { $0.error == .throttled(retryAfter: 1) && $0.delay == 1 })
        }
    }

    @Test func cancellingAPipelinedRunIsQuiet() async throws {
        try await withFeed(EmulatorOptions(entries: 3000, seed: 36, auth: .bearerToken("t"))) { feed in
            feed.server.faults.addedLatencyMilliseconds = 30
            let fetcher = feed.fetcher(pageSize: 20, parallel: 4)
            let log = EventLog()
            let holder = TaskHolder()
            log.onEvent = { event, _ in
                if case .page = event, log.pages.count == 3 { holder.cancel() }
            }
            let task = Task { await fetcher.run { log.record($0) } }
            holder.set(task)
            await task.value
            #expect(log.stopped == nil && log.caughtUpCount == 0)
            #expect(log.retries.isEmpty, "cancellation is not a network error: \(log.retries)")
            #expect(log.pages.count == 3)
            #expect(log.entries.count >= 3)
            expectSameEntries(log.entries, Array(v2Truth(feed.store).prefix(log.entries.count)))
        }
    }

    @Test(arguments: [1, 4])
    func progressInSequenceModeIsExactInWindows(parallel: Int) async throws {
        try await withFeed(EmulatorOptions(entries: 600, seed: 5, auth: .bearerToken("t")), version: .v1) { feed in
            let reports = ProgressLog()
            var fetcher = feed.fetcher(pageSize: 50, parallel: parallel)
            fetcher.onProgress = { reports.add($0) }
            let log = await fetcher.collect()
            let truth = feed.store.allEntries()
            let latest = try #require(truth.last?.sequence)
            let all = reports.list
            let windows = Int((latest + 49) / 50)
            #expect(all.map(\.pages) == Array(1...windows), "one report per window, empty ones too")
            #expect(all.last?.fraction == 1 && all.last?.fractionIsEstimate == false)
            #expect(all.allSatisfy { $0.entriesUpperBound == latest })
            #expect(all.last?.entries == truth.count && log.entries.count == truth.count)
            #expect(zip(all, all.dropFirst()).allSatisfy { ($0.fraction ?? 0) < ($1.fraction ?? 0) })
            #expect(all.allSatisfy { $0.pagesPerSecond >= 0 && $0.entriesPerSecond >= 0 && $0.elapsed >= 0 })
        }
    }

    @Test func progressInV2IsAnEstimateOrNothing() async throws {
        try await withFeed(EmulatorOptions(entries: 600, seed: 5, auth: .bearerToken("t"))) { feed in
            let open = ProgressLog()
            var fetcher = feed.fetcher(pageSize: 100)
            fetcher.onProgress = { open.add($0) }
            _ = await fetcher.collect()
            #expect(open.list.count == v2Truth(feed.store).count / 100 + 1)
            #expect(open.list.allSatisfy { $0.entriesUpperBound == nil && $0.fractionIsEstimate })
            #expect(open.list.last?.fraction == 1)
            #expect(open.list.last?.entries == v2Truth(feed.store).count)

            let closed = ProgressLog()
            fetcher.endTime = Timestamp(Date(timeIntervalSince1970: 4_000_000_000))
            fetcher.onProgress = { closed.add($0) }
            _ = await fetcher.collect()
            #expect(!closed.list.isEmpty && closed.list.allSatisfy { $0.fraction == nil && $0.entriesUpperBound == nil })
        }
    }
}

/// Progress reports, in order.
final class ProgressLog: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [FetchProgress] = []
    func add(_ p: FetchProgress) { lock.withLock { items.append(p) } }
    var list: [FetchProgress] { lock.withLock { items } }
}

/// True the first time only.
final class OnceFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var taken = false
    func take() -> Bool { lock.withLock { defer { taken = true }; return !taken } }
}
