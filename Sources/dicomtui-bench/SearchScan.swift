import ChangeFeedClient
import Emulator
import FeedModel
import Foundation

/// `search-scan`: how fast the whole-feed search (`F`) streams older rows past, one read at a
/// time (`Fetcher.older`, what the list does scrolling up: the peer) and many pages a read,
/// several in flight (`Fetcher.olderBatch`, what the search does), both against the same
/// in-process emulator (procedural, 10^8 entries) with `latency` ms added to every answer,
/// each for `seconds`, back from the newest entries, `pages` pages a batch, requests in flight
/// adaptive (as in the app) unless `parallel` pins them. Prints rows/s and the ratio.
func searchScan(seconds: Double, latency: Int, pages: Int, parallel: Int?) async throws {
    let options = EmulatorOptions(port: 0, entries: 100_000_000, seed: 14, auth: .bearerToken("bench"), dataset: .procedural)
    let server = EmulatorServer(options: options)
    let url = try await server.start().absoluteString
    server.faults.addedLatencyMilliseconds = latency
    let http = HTTPClientBox()
    print("== search-scan: older rows of 10^8 procedural entries, \(latency) ms added per answer, \(Int(seconds)) s each, release build")
    for version in [APIVersion.v1, .v2] {
        let client = ChangeFeedClient(endpoint: try ServiceEndpoint(url), apiVersion: version, http: http.client)
        var fetcher = Fetcher(client: client, tokens: FixedAuthorization())
        fetcher.parallel = parallel
        let newest = try await fetcher.latest()
        let boundary = version == .v2 ? FeedCursor.Start(startTime: newest?.timestamp)
            : FeedCursor.Start(afterSequence: newest?.sequence ?? 0)
        var rates: [Double] = []
        for batch in [false, true] {
            var before: FeedCursor.Start? = boundary
            var hint: Int64?
            var rows = 0
            let start = ContinuousClock.now
            while let b = before, (ContinuousClock.now - start) / .seconds(1) < seconds {
                let read = batch ? try await fetcher.olderBatch(before: b, spanHint: hint, pages: pages) : try await fetcher.older(before: b, spanHint: hint)
                rows += read.entries.count + read.unreadable.count
                before = read.boundary
                hint = read.nextSpan ?? hint
            }
            rates.append(Double(rows) / ((ContinuousClock.now - start) / .seconds(1)))
        }
        print(String(format: "%@: one read at a time %8.0f rows/s (peer), batches in flight %8.0f rows/s, ratio %.1f",
                     version.rawValue, rates[0], rates[1], rates[1] / rates[0]))
    }
    try await http.client.shutdown()
    await server.stop()
}
