@testable import ChangeFeedClient
import Emulator
import FeedModel
import Foundation
import Testing

/// 401 handling: one fresh token per refusal, never a loop.
@Suite struct FetcherAuthTests {
    @Test func aStaleTokenIsReplacedOnceAndTheFetchCompletes() async throws {
        try await withFeed(EmulatorOptions(entries: 300, seed: 4, auth: .bearerToken("good"))) { feed in
            let tokens = TokenSequence(["stale", "good"])
            let log = await feed.fetcher(tokens).collect()

            #expect(log.stopped == nil)
            expectSameEntries(log.entries, v2Truth(feed.store))
            #expect(await tokens.rejections == 1)
            let requests = feed.server.requestLog.requests
            #expect(requests.first?.status == 401)
            #expect(requests.first?.authorization == "Bearer stale")
            #expect(requests.dropFirst().allSatisfy { $0.status == 200 && $0.authorization == "Bearer good" })
            #expect(log.retries.isEmpty, "a 401 refresh is not a backoff retry")
            #expect(log.caughtUpCount == 1)
        }
    }

    @Test(arguments: APIVersion.allCases)
    func aTokenThatIsAlwaysRefusedStopsAfterOneRefresh(version: APIVersion) async throws {
        try await withFeed(EmulatorOptions(entries: 50, seed: 4, auth: .bearerToken("good")), version: version) { feed in
            let tokens = TokenSequence(["bad-1", "bad-2", "bad-3"])
            let log = await feed.fetcher(tokens).collect()

            guard case .unauthorized(let challenge) = log.stopped else {
                Issue.record("expected to stop with 401, got \(log.events)")
                return
            }
            #expect(challenge?.contains("error=\"invalid_token\"") == true)
            #expect(await tokens.rejections == 1)
            #expect(feed.server.requestLog.count == 2)
            #expect(feed.server.requestLog.requests.map(\.authorization) == ["Bearer bad-1", "Bearer bad-2"])
            #expect(log.entries.isEmpty && log.caughtUpCount == 0)
            #expect(log.stopped?.hint?.isEmpty == false)
        }
    }

    @Test func aTokenThatExpiresMidFeedIsRefreshedAndNothingIsLostOrRepeated() async throws {
        try await withFeed(EmulatorOptions(entries: 700, seed: 6, auth: .bearerToken("first"))) { feed in
            let tokens = TokenSequence(["first", "second"])
            let log = EventLog()
            let server = feed.server
            // After the first page the service stops accepting the first token.
            log.onEvent = { event, _ in
                if case .page = event, server.authPolicy == .bearerToken("first") {
                    server.authPolicy = .bearerToken("second")
                }
            }
            // Sequential: exactly one request sees the old token refused (the pipelined case, where
            // every request in flight may, is in FetcherPipelineTests).
            await feed.fetcher(tokens, parallel: 1).run { log.record($0) }

            #expect(log.stopped == nil)
            expectSameEntries(log.entries, v2Truth(feed.store))
            #expect(await tokens.rejections == 1)
            #expect(feed.server.requestLog.requests.filter { $0.status == 401 }.count == 1)
            #expect(log.caughtUpCount == 1)
        }
    }

    @Test func theAuthorizationHeaderIsSentUnchanged() async throws {
        let token = "eyJhbGciOiJub25lIn0.eyJhdWQiOiJ4In0.c2ln-_~+/="
        try await withFeed(EmulatorOptions(entries: 30, seed: 4, auth: .bearerToken(token))) { feed in
            let log = await feed.fetcher(FixedToken(token)).collect()
            #expect(log.stopped == nil)
            #expect(feed.server.requestLog.requests.allSatisfy { $0.authorization == "Bearer " + token && $0.status == 200 })
        }
    }
}
