@testable import ChangeFeedClient
import Emulator
import FeedModel
import Foundation
import Testing

/// Errors retrying cannot fix: the fetcher stops at once with the service's own words and a hint.
@Suite struct FetcherErrorTests {
    @Test func forbiddenStopsWithTheServiceTextAndARoleHint() async throws {
        try await withFeed { feed in
            feed.server.faults.failNext(1, status: 403, body: "Authorization failed.")
            let log = await feed.fetcher().collect()
            #expect(log.stopped == .forbidden("Authorization failed."))
            #expect(log.stopped?.message.contains("Authorization failed.") == true)
            #expect(log.stopped?.hint?.contains("DICOM Data Reader") == true)
            #expect(feed.server.requestLog.count == 1, "no retry")
            #expect(log.retries.isEmpty && log.caughtUpCount == 0)
        }
    }

    @Test func aBadRequestFromTheServiceStopsWithItsMessage() async throws {
        try await withFeed { feed in
            // The service's own 400 text, as it would answer an out-of-range parameter.
            feed.server.faults.failNext(1, status: 400, body: "The query parameter 'Limit' is invalid. The field Limit must be between 1 and 200.",
                                        target: .page)
            let log = await feed.fetcher().collect()
            guard case .badRequest(let text) = log.stopped else {
                Issue.record("expected 400, got \(log.events)")
                return
            }
            #expect(text.contains("must be between 1 and 200"))
            #expect(log.stopped?.message.contains(text) == true)
            #expect(log.stopped?.hint?.isEmpty == false)
            let pages = feed.pageRequests
            #expect(pages.count == 1 && pages.first?.status == 400, "no retry")
        }
    }

    @Test func aWrongPathIsNotFoundWithAURLHint() async throws {
        try await withFeed(pathPrefix: "/dicom") { feed in
            let log = await feed.fetcher().collect()
            guard case .notFound = log.stopped else {
                Issue.record("expected 404, got \(log.events)")
                return
            }
            #expect(log.stopped?.message.hasPrefix("404") == true)
            #expect(log.stopped?.hint?.contains("--api-version") == true)
            #expect(feed.server.requestLog.requests.map(\.path) == ["/dicom/v2/changefeed/latest"])
        }
    }

    @Test func notFoundKeepsTheServiceText() async throws {
        try await withFeed(version: .v1) { feed in
            feed.server.faults.enqueue(.delay(milliseconds: 0))
            feed.server.faults.failNext(1, status: 404, body: "The requested resource was not found.")
            let log = await feed.fetcher().collect()
            #expect(log.stopped == .notFound("The requested resource was not found."))
            #expect(log.stopped?.message.contains("The requested resource was not found.") == true)
            #expect(feed.server.requestLog.count == 2)
        }
    }

    /// Defect: one HTML or garbled 200 stopped loading. A body that is not the JSON expected is
    /// transient until it persists: retried with the 5xx backoff, attempts reported.
    @Test(arguments: ["<html><body>Sign in</body></html>", "[{\"sequence\":1", "{\"sequence\":1}", ""])
    func aPageThatIsNotAJSONArrayOnceIsRetried(body: String) async throws {
        try await withFeed(EmulatorOptions(entries: 60, seed: 12, auth: .bearerToken("t"))) { feed in
            feed.server.faults.enqueue(.delay(milliseconds: 0))
            feed.server.faults.failNext(2, status: 200, body: body, target: .page)
            let log = await feed.fetcher().collect()
            #expect(log.stopped == nil)
            expectSameEntries(log.entries, v2Truth(feed.store))
            #expect(log.retries.map(\.attempt) == [1, 2])
            #expect(log.retries.allSatisfy { if case .malformed = $0.error { true } else { false } })
        }
    }

    @Test func aPageThatStaysMalformedStopsAfterFiveAnswersInARow() async throws {
        try await withFeed { feed in
            feed.server.faults.every(1, .malformedJSON, target: .page)
            let log = await feed.fetcher().collect()
            guard case .malformed(let what) = log.stopped else {
                Issue.record("expected malformed, got \(log.events)")
                return
            }
            #expect(what.contains("5 answers in a row"))
            #expect(log.stopped?.hint?.contains("--url") == true)
            #expect(feed.pageRequests.count == 5)
            #expect(log.entries.isEmpty && log.caughtUpCount == 0)
        }
    }

    /// Defect: an empty 200 from /latest read as "the feed is empty" (exit 0, nothing printed).
    /// Only a 204 means an empty feed.
    @Test(arguments: APIVersion.allCases)
    func anEmptyOrGarbled200FromLatestIsNotAnEmptyFeed(version: APIVersion) async throws {
        try await withFeed(EmulatorOptions(entries: 120, seed: 12, auth: .bearerToken("t")), version: version) { feed in
            feed.server.faults.failNext(1, status: 200, body: "", target: .latest)
            feed.server.faults.failNext(1, status: 200, body: "not json", target: .latest)
            let log = await feed.fetcher().collect()
            #expect(log.stopped == nil)
            #expect(log.retries.count == 2)
            #expect(log.entries.count == 120)
            #expect(log.latestEvents == [version.isSequenceMode ? feed.store.latest(.v1)?.sequence : feed.store.latest(.v2)?.sequence])
        }
    }

    /// The controller's `StatusCode(200, null)` for an empty feed, should it reach the wire as a
    /// JSON `null` instead of a 204, is an empty feed too (an explicit one, unlike an empty body).
    @Test func aJSONNullFromLatestIsAnEmptyFeed() async throws {
        try await withFeed(EmulatorOptions(entries: 0, seed: 12, auth: .bearerToken("t")), version: .v1) { feed in
            feed.server.faults.every(1, .status(200, body: "null"), target: .latest)
            let log = await feed.fetcher().collect()
            #expect(log.stopped == nil && log.retries.isEmpty && log.caughtUpCount == 1)
            #expect(log.latestEvents == [nil])
        }
    }

    @Test func aMalformedLatestThatPersistsStopsAsMalformed() async throws {
        try await withFeed(version: .v1) { feed in
            feed.server.faults.every(1, .status(200, body: "not json"), target: .latest)
            let log = await feed.fetcher().collect()
            guard case .malformed = log.stopped else {
                Issue.record("expected malformed, got \(log.events)")
                return
            }
            #expect(log.retries.count == 4)
        }
    }

    /// A page whose element does not decode is read once more: a garbled answer is often
    /// transient, and the second read heals it.
    @Test func aTransientlyUndecodableEntryIsHealedByReadingThePageAgain() async throws {
        try await withFeed(EmulatorOptions(entries: 60, seed: 12, auth: .bearerToken("t"))) { feed in
            let truth = v2Truth(feed.store)
            breakFirstPage(feed, times: 1)
            let log = await feed.fetcher(pageSize: 10, parallel: 1).collect()
            #expect(log.stopped == nil)
            #expect(log.undecodable == 0)
            expectSameEntries(log.entries, truth)
            // The first page was read twice; the next request goes on after its ten rows.
            #expect(feed.pageRequests.map { queryItems($0)["offset"] }.prefix(2) == ["0", "0"])
            expectGoesOnAfterTheFirstPage(feed, truth, rows: 10)
        }
    }

    @Test func onePersistentlyUndecodableEntryIsKeptAndTheRestOfTheFeedStillLoads() async throws {
        try await withFeed(EmulatorOptions(entries: 60, seed: 12, auth: .bearerToken("t"))) { feed in
            let truth = v2Truth(feed.store)
            // The first page (offset 0, 10 rows) comes back with its third element broken, twice.
            let broken = breakFirstPage(feed, times: 2)

            // Sequential: the order of the first requests is checked (pipelined below).
            let log = await feed.fetcher(pageSize: 10, parallel: 1).collect()

            #expect(log.stopped == nil)
            #expect(log.undecodable == 1)
            var expected = truth
            expected.remove(at: 2)
            expectSameEntries(log.entries, expected)
            // The broken element is handed over with where it stood, why it did not decode, and itself.
            let bad = log.events.flatMap { (e: FetchEvent) -> [UnreadableEntry] in if case .page(_, let b) = e { b } else { [] } }
            #expect(bad.count == 1)
            #expect(bad.first?.afterEntries == 2 && bad.first?.sequence == nil)
            #expect(bad.first?.reason.contains("sequence") == true, "\(bad.first?.reason ?? "")")
            #expect(bad.first?.raw == broken)
            // The broken element still counted as a row: the next page starts at 10, not 9.
            // The first page was read twice; the next request goes on after its ten rows.
            #expect(feed.pageRequests.map { queryItems($0)["offset"] }.prefix(2) == ["0", "0"])
            expectGoesOnAfterTheFirstPage(feed, truth, rows: 10)
            #expect(log.caughtUpCount == 1)
        }
    }

    @Test func anUndecodableEntryInAPipelinedRunStillCountsAsARow() async throws {
        try await withFeed(EmulatorOptions(entries: 60, seed: 12, auth: .bearerToken("t"))) { feed in
            let truth = v2Truth(feed.store)
            // The first page is requested alone, so the broken body is surely page 1 (and its re-read).
            breakFirstPage(feed, times: 2)

            let log = await feed.fetcher(pageSize: 10, parallel: 4).collect()

            #expect(log.stopped == nil)
            #expect(log.undecodable == 1)
            var expected = truth
            expected.remove(at: 2)
            expectSameEntries(log.entries, expected)
            // The first page (read twice) holds the broken element, which counts as one of its rows.
            expectGoesOnAfterTheFirstPage(feed, truth, rows: 10)
            #expect(log.caughtUpCount == 1)
        }
    }
}

/// An entry as the service writes it (camelCase keys, C# enum names, `+00:00`).
/// The first page request (after `/latest`), `times` times: the first 10 rows of the v2 feed,
/// the third replaced by an element that does not decode (returned).
@discardableResult
func breakFirstPage(_ feed: Feed, times: Int) -> String {
    var page = v2Truth(feed.store).prefix(10).map(entryJSON)
    page[2] = #"{"sequence":"three","action":"Explode"}"#
    feed.server.faults.enqueue(.delay(milliseconds: 0))
    feed.server.faults.failNext(times, status: 200, body: "[" + page.joined(separator: ",") + "]")
    return page[2]
}

func entryJSON(_ e: EmulatedEntry) -> String {
    #"{"sequence":\#(e.sequence),"partitionName":"Microsoft.Default","studyInstanceUid":"\#(e.studyInstanceUid)","#
        + #""seriesInstanceUid":"\#(e.seriesInstanceUid)","sopInstanceUid":"\#(e.sopInstanceUid)","#
        + #""action":"\#(e.action.rawValue)","timestamp":"\#(e.timestampText)","state":"\#(e.state.rawValue)"}"#
}

/// v2: the first request after the first page (of `rows` rows) starts at the timestamp of that
/// page's last row and skips only the rows of the page at that time (`WindowSchedule`).
func expectGoesOnAfterTheFirstPage(_ feed: Feed, _ truth: [EmulatedEntry], rows: Int,
                                   sourceLocation: SourceLocation = #_sourceLocation) {
    let next = feed.pageRequests.map(queryItems).first { $0["startTime"] != nil }
    let last = truth[rows - 1].timestamp
    #expect(next?["startTime"].flatMap(Timestamp.parse) == last, sourceLocation: sourceLocation)
    #expect(next?["offset"] == String(truth[..<rows].filter { $0.timestamp == last }.count), sourceLocation: sourceLocation)
}
