@testable import ChangeFeedClient
import Emulator
import FeedModel
import Foundation
import Testing

/// A measurement, not a test: off unless DICOMTUI_MEASURE=1. Run it on a release build:
/// `DICOMTUI_MEASURE=1 swift test -c release --filter PipelineThroughput`.
/// Entries per second through the whole fetcher (HTTP, decoding, reorder, emit) for a
/// 100,000-entry emulator feed, parallel 1 against 4 in interleaved rounds.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["DICOMTUI_MEASURE"] == "1"), .serialized)
struct PipelineThroughput {
    static func measure(_ feed: Feed, version: APIVersion, parallel: Int) async -> (rate: Double, entries: Int) {
        let counter = LockedBox(0)
        var f = feed.fetcher(parallel: parallel)
        f.onProgress = nil
        let clock = ContinuousClock()
        let start = clock.now
        await f.run { event in
            if case .page(let entries, _) = event { counter.value += entries.count }
        }
        let d = clock.now - start
        let seconds = Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
        return (Double(counter.value) / seconds, counter.value)
    }

    static func median(_ xs: [Double]) -> Double { xs.sorted()[xs.count / 2] }

    @Test(arguments: [(APIVersion.v2, 0, 3), (.v1, 0, 3), (.v2, 50, 1), (.v1, 50, 1)])
    func entriesPerSecond(version: APIVersion, latency: Int, rounds: Int) async throws {
        try await withFeed(EmulatorOptions(entries: 100_000, seed: 1, auth: .bearerToken("t")), version: version,
                           requestTimeoutMilliseconds: 60_000) { feed in
            let total = version.isSequenceMode ? feed.store.count : v2Truth(feed.store).count
            feed.server.faults.addedLatencyMilliseconds = latency
            var rates: [Int: [Double]] = [1: [], 4: []]
            for _ in 0..<rounds {
                for p in [1, 4] {
                    let (rate, n) = await Self.measure(feed, version: version, parallel: p)
                    #expect(n == total)
                    rates[p]!.append(rate)
                }
            }
            let r1 = Self.median(rates[1]!), r4 = Self.median(rates[4]!)
            let line = "MEASURE \(version.rawValue) latency=\(latency)ms rounds=\(rounds) entries=\(total): "
                + "parallel 1 \(Int(r1))/s, parallel 4 \(Int(r4))/s, ratio \(String(format: "%.2f", r4 / r1)) "
                + "(all p1 \(rates[1]!.map { Int($0) }), p4 \(rates[4]!.map { Int($0) }))"
            print(line)
            try? (line + "\n").appendLine(to: "/tmp/dicomtui-measure.txt")
        }
    }
}

extension String {
    func appendLine(to path: String) throws {
        if let h = FileHandle(forWritingAtPath: path) {
            h.seekToEndOfFile()
            h.write(Data(utf8))
            h.closeFile()
        } else {
            try write(toFile: path, atomically: true, encoding: .utf8)
        }
    }
}
