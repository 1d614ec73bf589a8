@testable import ChangeFeedClient
import Emulator
import FeedModel
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing

/// Transient failures: retried with backoff (or as the service says), nothing lost or repeated.
@Suite struct FetcherRetryTests {
    @Test(arguments: [503, 500, 408])
    func transientStatusesAreRetriedWithGrowingBackoff(status: Int) async throws {
        try await withFeed(EmulatorOptions(entries: 450, seed: 8, auth: .bearerToken("t"))) { feed in
            // The first request is /latest; let it through, then fail the first page twice.
            feed.server.faults.enqueue(.delay(milliseconds: 0))
            feed.server.faults.failNext(2, status: status, body: "busy")
            let log = await feed.fetcher().collect()

            #expect(log.stopped == nil)
            expectSameEntries(log.entries, v2Truth(feed.store))
            #expect(Set(log.entries.map(\.sequence)).count == log.entries.count)
            let retries = log.retries
            #expect(retries.map(\.attempt) == [1, 2])
            #expect(retries.allSatisfy { $0.error == .server(status: status, body: "busy") })
            // base 0.01 s doubling, plus at most 25 % jitter.
            if retries.count == 2 {
                #expect(retries[0].delay >= 0.01 && retries[0].delay <= 0.0125)
                #expect(retries[1].delay >= 0.02 && retries[1].delay <= 0.025)
            }
            // The failed page was asked for again at the same offset.
            let offsets = feed.pageRequests.map { queryItems($0)["offset"] }
            #expect(Array(offsets.prefix(3)) == ["0", "0", "0"])
            #expect(feed.pageRequests.map(\.status).prefix(3) == [status, status, 200])
            #expect(log.caughtUpCount == 1)
        }
    }

    @Test func retriesOnLatestInSequenceModeToo() async throws {
        try await withFeed(EmulatorOptions(entries: 300, seed: 8, auth: .bearerToken("t")), version: .v1) { feed in
            feed.server.faults.failNext(2, status: 503)
            let log = await feed.fetcher().collect()
            #expect(log.retries.map(\.attempt) == [1, 2])
            #expect(log.latestEvents == [feed.store.latest(.v1)?.sequence])
            expectSameEntries(log.entries, feed.store.allEntries())
        }
    }

    @Test func backoffIsCapped() async throws {
        try await withFeed(EmulatorOptions(entries: 20, seed: 8, auth: .bearerToken("t"))) { feed in
            feed.server.faults.failNext(6, status: 502)
            var f = feed.fetcher()
            f.backoffBase = 0.005
            f.backoffCap = 0.02
            let log = await f.collect()
            #expect(log.retries.map(\.attempt) == [1, 2, 3, 4, 5, 6])
            #expect(log.retries.allSatisfy { $0.delay <= 0.02 * 1.25 })
            #expect(log.retries.suffix(3).allSatisfy { $0.delay >= 0.02 })
            expectSameEntries(log.entries, v2Truth(feed.store))
        }
    }

    @Test(arguments: [0, 1])
    func throttlingWaitsAsLongAsRetryAfterSays(seconds: Int) async throws {
        try await withFeed(EmulatorOptions(entries: 250, seed: 8, auth: .bearerToken("t"))) { feed in
            feed.server.faults.enqueue(.delay(milliseconds: 0))
            feed.server.faults.failNext(1, status: 429, retryAfter: seconds)
            let clock = ContinuousClock()
            let start = clock.now
            let log = await feed.fetcher().collect()
            let elapsed = clock.now - start

            #expect(log.stopped == nil)
            expectSameEntries(log.entries, v2Truth(feed.store))
            #expect(log.retries.count == 1)
            #expect(log.retries.first?.error == .throttled(retryAfter: TimeInterval(seconds)))
            #expect(log.retries.first?.delay == TimeInterval(seconds))
            #expect(elapsed >= .milliseconds(seconds * 1000 - 50))
        }
    }

    @Test func aRequestThatTimesOutIsANetworkErrorAndIsRetried() async throws {
        try await withFeed(EmulatorOptions(entries: 250, seed: 8, auth: .bearerToken("t")),
                           requestTimeoutMilliseconds: 300) { feed in
            feed.server.faults.enqueue(.delay(milliseconds: 0))
            feed.server.faults.enqueue(.delay(milliseconds: 1500))
            let log = await feed.fetcher().collect()

            #expect(log.stopped == nil)
            // At least the delayed request timed out (on a loaded machine a later one may too).
            #expect(log.retries.count >= 1)
            if case .network = log.retries.first?.error {} else { Issue.record("expected a network error, got \(log.retries)") }
            expectSameEntries(log.entries, v2Truth(feed.store))
            #expect(Set(log.entries.map(\.sequence)).count == log.entries.count)
        }
    }

    @Test func aRefusedConnectionIsRetriedUntilCancelledAndCancellationIsQuiet() async throws {
        // A port that refuses connections and that no other test can take meanwhile: bound,
        // never listening.
        let port = try ClosedPort()
        defer { port.close() }

        // A connect timeout far longer than the test may take even on a busy machine (every
        // suite runs at once on 2 cores): a pool that retried silently until it would show.
        let http = ChangeFeedClient.makeHTTPClient(connectTimeout: 120)
        let client = ChangeFeedClient(endpoint: try ServiceEndpoint("http://127.0.0.1:\(port.number)"), apiVersion: .v2, http: http)
        var fetcher = Fetcher(client: client, tokens: FixedToken("t"))
        fetcher.backoffBase = 0.01
        fetcher.backoffCap = 0.02
        let log = EventLog()
        let holder = TaskHolder()
        log.onEvent = { event, _ in
            if case .retrying(_, let attempt, _) = event, attempt == 3 { holder.cancel() }
        }
        let clock = ContinuousClock()
        let start = clock.now
        let task = Task { [fetcher] in await fetcher.run { log.record($0) } }
        holder.set(task)
        await task.value
        let elapsed = clock.now - start
        try await http.shutdown()

        // Each refusal is reported as it happens, not after the connect timeout.
        #expect(elapsed < .seconds(60), "took \(elapsed)")
        #expect(log.retries.map(\.attempt) == [1, 2, 3])
        #expect(log.retries.allSatisfy { if case .network = $0.error { true } else { false } })
        #expect(log.stopped == nil && log.caughtUpCount == 0)
    }

    @Test func cancellingDuringARequestEmitsNoRetryOrStop() async throws {
        try await withFeed(EmulatorOptions(entries: 250, seed: 8, auth: .bearerToken("t"))) { feed in
            feed.server.faults.enqueue(.delay(milliseconds: 0))
            feed.server.faults.enqueue(.delay(milliseconds: 10_000))
            let fetcher = feed.fetcher()
            let log = EventLog()
            let task = Task { await fetcher.run { log.record($0) } }
            // Wait for the (slow) first page request to be under way.
            while !log.events.contains(where: { if case .latest = $0 { true } else { false } }) {
                try await Task.sleep(for: .milliseconds(5))
            }
            try await Task.sleep(for: .milliseconds(200))
            let clock = ContinuousClock()
            let start = clock.now
            task.cancel()
            await task.value
            // The page is held back 10 s; far less means the request was abandoned, not waited for.
            #expect(clock.now - start < .seconds(8), "the request was abandoned, not waited for")
            #expect(log.retries.isEmpty, "cancellation is not a network error: \(log.events)")
            #expect(log.stopped == nil && log.caughtUpCount == 0)
        }
    }
}

/// Lets an event handler cancel the task it runs in.
final class TaskHolder: @unchecked Sendable {
    private let lock = NSLock()
    private var task: Task<Void, Never>?
    private var cancelled = false

    func set(_ t: Task<Void, Never>) {
        let cancelNow = lock.withLock { task = t; return cancelled }
        if cancelNow { t.cancel() }
    }

    func cancel() {
        let t = lock.withLock { cancelled = true; return task }
        t?.cancel()
    }
}

/// A loopback TCP port bound but not listening: connecting to it is refused at once.
final class ClosedPort {
    let fd: Int32
    let number: Int

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.fd = fd
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else {
            _ = Glibc.close(fd)
            throw POSIXError(.EADDRINUSE)
        }
        var out = sockaddr_in()
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &out) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        number = Int(UInt16(bigEndian: out.sin_port))
    }

    func close() { _ = Glibc.close(fd) }
}
