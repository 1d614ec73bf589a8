@testable import ChangeFeedClient
import Emulator
import FeedModel
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

/// `ChangeFeedClient` on its own against the emulator.
@Suite struct ClientIntegrationTests {
    static func entries(_ results: [EntryResult]) -> [ChangeFeedEntry] {
        results.compactMap { if case .entry(let e) = $0 { e } else { nil } }
    }

    @Test func v2PageWithATimeWindowReturnsExactlyTheRowsInTheWindow() async throws {
        try await withFeed(EmulatorOptions(entries: 400, seed: 17, auth: .bearerToken("t"))) { feed in
            let all = v2Truth(feed.store)
            // The rows' own timestamps, to the tick: the start is inclusive, the end exclusive.
            let start = all[50].timestamp
            let end = all[300].timestamp
            let truth = v2Truth(feed.store, start: start, end: end)
            #expect(truth.count > 20 && truth.count < all.count, "precondition: the window cuts the feed")

            let first = try await feed.client.page(PageQuery(offset: 0, limit: 200, startTime: start, endTime: end),
                                                   authorization: "Bearer t")
            let second = try await feed.client.page(PageQuery(offset: 200, limit: 200, startTime: start, endTime: end),
                                                    authorization: "Bearer t")
            expectSameEntries(Self.entries(first) + Self.entries(second), truth)
            let q = try #require(feed.server.requestLog.last).query ?? ""
            #expect(q.contains("startTime=") && q.contains("endTime="))
        }
    }

    @Test func aWindowStartIsInclusiveAndItsEndExclusive() async throws {
        try await withFeed(EmulatorOptions(entries: 300, seed: 17, auth: .bearerToken("t"))) { feed in
            // Put rows on whole seconds so that the bounds are exact.
            let base = Date(timeIntervalSince1970: 1_893_456_000)   // 2030-01-01T00:00:00Z
            var made: [EmulatedEntry] = []
            for i in 0..<4 {
                made.append(try feed.store.appendCreate(studyInstanceUid: "1.2.3.77", seriesInstanceUid: "1.2.3.77.1",
                                                        sopInstanceUid: "1.2.3.77.1.\(i)",
                                                        at: base.addingTimeInterval(Double(i))))
            }
            let results = try await feed.client.page(
                PageQuery(offset: 0, limit: 10, startTime: Timestamp(base.addingTimeInterval(1)), endTime: Timestamp(base.addingTimeInterval(3))),
                authorization: "Bearer t")
            expectSameEntries(Self.entries(results), [made[1], made[2]])
        }
    }

    @Test func aTimeWithAPlusOffsetIsEncodedSoTheServiceReadsIt() async throws {
        try await withFeed(EmulatorOptions(entries: 200, seed: 17, auth: .none)) { feed in
            let all = v2Truth(feed.store)
            // 09:00 in Tokyo is 00:00 UTC; pick the hour after the 40th row.
            let hour = (Int(all[40].timestamp.wholeSeconds) / 3600 + 1) * 3600
            let utcStart = Date(timeIntervalSince1970: TimeInterval(hour))
            let startText = tokyoTime(utcStart)
            #expect(startText.hasSuffix("+09:00"))
            let query = ChangeFeedClient.encode([
                URLQueryItem(name: "startTime", value: startText),
                URLQueryItem(name: "limit", value: "200"),
                URLQueryItem(name: "includeMetadata", value: "false"),
            ])
            #expect(query.contains("%2B09:00"))
            let url = URL(string: feed.base.absoluteString + "/v2/changefeed?" + query)!
            let (data, response) = try await URLSession.shared.data(from: url)
            #expect((response as? HTTPURLResponse)?.statusCode == 200, "\(String(decoding: data, as: UTF8.self))")
            let got = Self.entries(try ChangeFeedClient.decodePage(data))
            let truth = v2Truth(feed.store, start: Timestamp(utcStart))
            #expect(!truth.isEmpty && truth.count < all.count, "precondition: the start cuts the feed")
            expectSameEntries(got, truth)
        }
    }

    @Test(arguments: APIVersion.allCases)
    func pagesAndLatestDecodeToTheStoresRows(version: APIVersion) async throws {
        try await withFeed(EmulatorOptions(entries: 120, seed: 19, auth: .bearerToken("t")), version: version) { feed in
            let latest = try await feed.client.latest(authorization: "Bearer t")
            let expectedLatest = try #require(feed.store.latest(version))
            #expect(latest == expectedLatest.changeFeedEntry)

            let got = try await feed.client.page(PageQuery(offset: 30, limit: 20), authorization: "Bearer t")
            let truth = version.isSequenceMode ? feed.store.entriesV1(offset: 30, limit: 20)
                : feed.store.entriesV2(start: nil, end: nil, offset: 30, limit: 20)
            #expect(got.count == truth.count)
            expectSameEntries(Self.entries(got), truth)
        }
    }

    @Test func latestOfAnEmptyFeedIsNil() async throws {
        try await withFeed(store: ChangeFeedStore.empty()) { feed in
            let latest = try await feed.client.latest(authorization: "Bearer t")
            #expect(latest == nil)
            #expect(feed.server.requestLog.last?.status == 204)
        }
    }

    @Test func theAuthorizationHeaderReachesTheServerUnchanged() async throws {
        let header = "Bearer eyJ0eXAiOiJKV1QifQ.eyJzdWIiOiLDqSJ9.AbC-_d"
        try await withFeed(EmulatorOptions(entries: 10, seed: 1, auth: .none)) { feed in
            _ = try await feed.client.page(PageQuery(offset: 0, limit: 5), authorization: header)
            _ = try await feed.client.latest(authorization: header)
            #expect(feed.server.requestLog.requests.map(\.authorization) == [header, header])
        }
    }

    @Test func a401CarriesTheChallenge() async throws {
        try await withFeed(EmulatorOptions(entries: 10, seed: 1, auth: .bearerToken("right"))) { feed in
            await #expect(throws: ChangeFeedError.self) {
                _ = try await feed.client.latest(authorization: "Bearer wrong")
            }
            do throws(ChangeFeedError) {
                _ = try await feed.client.page(PageQuery(offset: 0, limit: 5), authorization: "Bearer wrong")
                Issue.record("a wrong token was accepted")
            } catch {
                guard case .unauthorized(let challenge) = error else {
                    Issue.record("expected 401, got \(error)")
                    return
                }
                #expect(challenge?.hasPrefix("Bearer authorization_uri=") == true)
            }
        }
    }

    @Test func aLimitTheServiceRefusesIsABadRequestWithItsText() async throws {
        try await withFeed(EmulatorOptions(entries: 10, seed: 1, auth: .none), version: .v1) { feed in
            do throws(ChangeFeedError) {
                _ = try await feed.client.page(PageQuery(offset: 0, limit: 101), authorization: "Bearer t")
                Issue.record("limit 101 was accepted by v1")
            } catch {
                #expect(error == .badRequest("The query parameter 'limit' is invalid. The field limit must be between 1 and 100."))
            }
        }
    }

    @Test func plainHTTPIsRefusedForANonLoopbackHost() {
        for url in ["http://10.0.0.5:8080", "http://ws-svc.dicom.azurehealthcareapis.com", "http://127.0.0.1.example.com",
                    "http://localhost.example.com", "http://[::2]:80",
                    "http://127.evil.example.com", "http://127.0.0.evil:8080"] {
            #expect(throws: ServiceEndpoint.Invalid.self, "\(url)") { try ServiceEndpoint(url) }
        }
        #expect((try? ServiceEndpoint("http://127.0.0.1:9"))?.isLoopback == true)
    }
}

/// `2030-01-01T09:00:00+09:00` for 00:00 UTC.
func tokyoTime(_ date: Date) -> String {
    let f = DateFormatter()
    f.locale = Locale(identifier: "en_US_POSIX")
    f.timeZone = TimeZone(secondsFromGMT: 9 * 3600)
    f.dateFormat = "yyyy-MM-dd'T'HH:mm:ssxxx"
    return f.string(from: date)
}
