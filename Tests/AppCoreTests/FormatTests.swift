import AppCore
import Foundation
import Testing

@Suite struct FormatTests {
    @Test(arguments: [
        (3725.0, "1h 02m"), (3599.0, "59m 59s"), (61.0, "1m 01s"), (9.4, "9s"), (0.0, "0s"), (-62.0, "-1m 02s"),
    ])
    func countdown(seconds: Double, text: String) {
        #expect(Format.countdown(seconds) == text)
    }

    @Test func counts() {
        #expect(Format.count(0) == "0")
        #expect(Format.count(999) == "999")
        #expect(Format.count(1000) == "1,000")
        #expect(Format.count(1_234_567) == "1,234,567")
        #expect(Format.count(-45_000) == "-45,000")
    }

    @Test func datesInAGivenZone() {
        let d = Date(timeIntervalSince1970: 1_795_659_336)   // 2026-11-26 02:15:36 UTC
        #expect(Format.dateTime(d, in: TimeZone(identifier: "UTC")!) == "2026-11-26 02:15:36")
        #expect(Format.dateTime(d, in: TimeZone(identifier: "Asia/Tokyo")!) == "2026-11-26 11:15:36")
        #expect(Format.time(d, in: TimeZone(identifier: "America/New_York")!) == "21:15:36")
        #expect(Format.zoneLabel(TimeZone(identifier: "Asia/Tokyo")!, at: d) == "UTC+09:00")
        #expect(Format.zoneLabel(TimeZone(identifier: "UTC")!, at: d) == "UTC")
    }

    @Test func theCountdownWakesOnlyWhenItsTextChanges() {
        // Over an hour the text shows minutes: wait for the next whole minute of remaining time.
        #expect(Format.millisecondsUntilCountdownChanges(3_630.5) == 30_501)
        // Under an hour it shows seconds.
        #expect(Format.millisecondsUntilCountdownChanges(100.25) == 251)
        // Past expiry it counts up.
        #expect(Format.millisecondsUntilCountdownChanges(-10.75) == 251)
    }
}
