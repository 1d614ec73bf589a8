@testable import ChangeFeedClient
import Emulator
@testable import FeedModel
import Foundation
import Testing

/// `--since`, `--start-time`, `--end-time` into a v2 window: pure, with the clock and zone given.
@Suite struct TimeWindowTests {
    let now = Date(timeIntervalSince1970: 1_714_730_400)   // 2024-05-03T10:00:00Z
    let tokyo = TimeZone(identifier: "Asia/Tokyo")!
    let newYork = TimeZone(identifier: "America/New_York")!

    static func utc(_ text: String) -> Timestamp { Timestamp.parse(text)! }

    @Test(arguments: [("90s", 90.0), ("15m", 900), ("2h", 7200), ("7d", 604_800), ("1w", 604_800),
                      ("1h30m", 5400), ("1.5h", 5400), (" 2H ", 7200), ("1d12h", 129_600)])
    func sinceIsADurationBackFromNow(text: String, seconds: Double) throws {
        let (start, end) = try TimeWindow.resolve(since: text, start: nil, end: nil, now: now, zone: tokyo)
        #expect(start == Timestamp(now.addingTimeInterval(-seconds)))
        #expect(end == nil)
    }

    @Test(arguments: ["", "15", "m", "15x", "-5m", "1h1h", "15 minutes", "0s", "1e3s", "99999w"])
    func aBadDurationSaysWhatToType(text: String) {
        do {
            _ = try TimeWindow.resolve(since: text.isEmpty ? "  " : text, start: nil, end: "2024-01-01T00:00Z",
                                       now: now, zone: tokyo)
            if text.isEmpty { return }   // blank means "not given"
            Issue.record("'\(text)' was accepted")
        } catch {
            #expect(error.message.hasPrefix("--since '"), "\(error.message)")
            if text != "99999w" { #expect(error.message.contains("15m"), "\(error.message)") }
        }
    }

    @Test func aTimeWithoutAZoneIsLocal() throws {
        let (start, end) = try TimeWindow.resolve(since: nil, start: "2024-05-03T10:58:00", end: "2024-05-03 11:00",
                                                  now: now, zone: tokyo)
        #expect(start == Self.utc("2024-05-03T01:58:00Z"))
        #expect(end == Self.utc("2024-05-03T02:00:00Z"))
        // A date alone is its local midnight.
        let (day, _) = try TimeWindow.resolve(since: nil, start: "2024-05-03", end: nil, now: now, zone: newYork)
        #expect(day == Self.utc("2024-05-03T04:00:00Z"))
    }

    /// Found by the `time` fuzz target (Fuzz/Corpus/time/ts-min): Foundation's Gregorian
    /// calendar is Julian before 1582, so `--start-time 0001-01-01T00:00:00Z` (the service's own
    /// default start) came out two days early, 0000-12-30. Times are the service's proleptic
    /// Gregorian instants, with a zone or without one.
    @Test func timesBeforeTheGregorianReformAreTheServices() throws {
        for text in ["0001-01-01T00:00:00Z", "1500-03-01T12:00:00+01:00", "1582-10-10T00:00:00Z", "0004-02-29T23:59:59.9999999Z"] {
            #expect(try TimeWindow.time(text, option: "--start-time", zone: tokyo) == Self.utc(text), "\(text)")
        }
        #expect(try TimeWindow.time("0001-01-01T00:00:00Z", option: "--start-time", zone: tokyo) == Timestamp.min)
        // Without a zone: the proleptic date, at the zone's offset then (Tokyo's local mean time, +9:18:59).
        let local = try TimeWindow.time("1500-03-01T12:00:00", option: "--start-time", zone: tokyo)
        #expect(local == Self.utc("1500-03-01T12:00:00Z").adding(ticks: -(9 * 3600 + 18 * 60 + 59) * Timestamp.ticksPerSecond))
    }

    @Test func timesOutsideTheServicesCalendarAreRefused() {
        for text in ["9999-12-31T23:00:00-05:00", "0001-01-01T00:00:00+01:00", "0000-12-31"] {
            #expect(throws: TimeWindow.InputError.self, "\(text)") {
                try TimeWindow.time(text, option: "--end-time", zone: tokyo)
            }
        }
    }

    @Test(arguments: [("2024-05-03T10:58:00Z", "2024-05-03T10:58:00Z"),
                      ("2024-05-03T10:58:00+09:00", "2024-05-03T01:58:00Z"),
                      ("2024-05-03T10:58:00+0900", "2024-05-03T01:58:00Z"),
                      ("2024-05-03T10:58:00-05", "2024-05-03T15:58:00Z"),
                      ("2024-05-03t10:58:00.25z", "2024-05-03T10:58:00.25Z"),
                      ("2024-05-03T10:58:00.1234567+00:00", "2024-05-03T10:58:00.1234567Z")])
    func aTimeWithAZoneKeepsIt(text: String, expected: String) throws {
        let (start, _) = try TimeWindow.resolve(since: nil, start: text, end: nil, now: now, zone: tokyo)
        #expect(start == Self.utc(expected), "exact to the 100 ns tick")
    }

    @Test(arguments: ["yesterday", "2024-5-3", "2024-05-03T10", "2024-05-03T10:58:00 PST", "2024-05-03Z",
                      "03/05/2024", "2024-05-03T10:58:00+9", "2024-05-03T10:58:00.", "1714730400"])
    func aBadTimeSaysWhatToType(text: String) {
        #expect {
            _ = try TimeWindow.resolve(since: nil, start: nil, end: text, now: now, zone: tokyo)
        } throws: { error in
            let m = (error as? TimeWindow.InputError)?.message ?? ""
            return m.hasPrefix("--end-time '\(text)'") && m.contains("2024-05-03T10:58:00+09:00")
        }
    }

    @Test(arguments: [("2024-02-30", "has no day 30"), ("2023-02-29T00:00", "has no day 29"),
                      ("2024-13-01", "no month 13"), ("2024-05-03T24:00:00", "out of range"),
                      ("2024-05-03T10:60", "out of range"), ("2024-05-03T10:00+19:00", "zone offset")])
    func anImpossibleDateSaysWhy(text: String, why: String) {
        #expect {
            _ = try TimeWindow.resolve(since: nil, start: text, end: nil, now: now, zone: tokyo)
        } throws: { error in
            ((error as? TimeWindow.InputError)?.message ?? "").contains(why)
        }
        #expect((try? TimeWindow.resolve(since: nil, start: "2024-02-29", end: nil, now: now, zone: tokyo)) != nil)
    }

    @Test func aLocalTimeTheClocksSkipIsRefusedWithAHint() {
        // 2024-03-10 02:30 does not exist in New York.
        #expect {
            _ = try TimeWindow.resolve(since: nil, start: "2024-03-10T02:30", end: nil, now: now, zone: newYork)
        } throws: { error in
            let m = (error as? TimeWindow.InputError)?.message ?? ""
            return m.contains("does not exist in America/New_York") && m.contains("2024-03-10T02:30Z")
        }
    }

    @Test func anEmptyOrBackwardsWindowIsRefused() {
        for (start, end) in [("2024-05-03T12:00Z", "2024-05-03T12:00Z"), ("2024-05-03T12:00Z", "2024-05-03T11:00Z"),
                             ("2024-05-03T21:00", "2024-05-03T12:00Z")] {
            #expect("\(start) .. \(end)") {
                _ = try TimeWindow.resolve(since: nil, start: start, end: end, now: now, zone: tokyo)
            } throws: { error in
                ((error as? TimeWindow.InputError)?.message ?? "").contains("strictly before")
            }
        }
        #expect {
            _ = try TimeWindow.resolve(since: "2h", start: nil, end: "2024-05-03T07:00Z", now: now, zone: tokyo)
        } throws: { error in
            ((error as? TimeWindow.InputError)?.message ?? "").contains("--since 2h starts at 2024-05-03T08:00:00Z")
        }
    }

    @Test func sinceAndStartTimeTogetherAreRefused() {
        #expect(throws: TimeWindow.InputError.self) {
            try TimeWindow.resolve(since: "1h", start: "2024-05-03", end: nil, now: now, zone: tokyo)
        }
    }

    @Test func nothingGivenIsTheWholeFeed() throws {
        let (s, e) = try TimeWindow.resolve(since: nil, start: nil, end: " ", now: now, zone: tokyo)
        #expect(s == nil && e == nil)
    }

    /// A window typed in local time reaches the service as the same instants, with `+` encoded.
    @Test func aLocalWindowSelectsTheSameRowsOnTheService() async throws {
        try await withFeed(EmulatorOptions(entries: 500, seed: 41, auth: .bearerToken("t"))) { feed in
            let all = v2Truth(feed.store)
            let hour = (Int(all[100].timestamp.wholeSeconds) / 3600 + 1) * 3600
            let startUTC = Date(timeIntervalSince1970: TimeInterval(hour))
            let endUTC = startUTC.addingTimeInterval(3 * 3600)
            let f = DateFormatter()
            f.locale = Locale(identifier: "en_US_POSIX")
            f.timeZone = tokyo
            f.dateFormat = "yyyy-MM-dd'T'HH:mm:ss"
            let (start, end) = try TimeWindow.resolve(since: nil, start: f.string(from: startUTC),
                                                      end: tokyoTime(endUTC), now: now, zone: tokyo)
            #expect(start == Timestamp(startUTC) && end == Timestamp(endUTC))
            var fetcher = feed.fetcher(pageSize: 40)
            fetcher.start = FeedCursor.Start(startTime: start)
            fetcher.endTime = end
            let log = await fetcher.collect()
            let truth = v2Truth(feed.store, start: start, end: end)
            #expect(!truth.isEmpty && truth.count < all.count, "precondition: the window cuts the feed")
            #expect(log.stopped == nil)
            expectSameEntries(log.entries, truth)
        }
    }

    @Test func timesWithAPlusOffsetAreEncoded() {
        let s = ChangeFeedClient.encode([URLQueryItem(name: "startTime", value: "2024-05-03T10:58:00.1+09:00"),
                                         URLQueryItem(name: "endTime", value: "2024-05-03T10:58:00 +01:00&x")])
        #expect(s == "startTime=2024-05-03T10:58:00.1%2B09:00&endTime=2024-05-03T10:58:00%20%2B01:00%26x")
    }
}
