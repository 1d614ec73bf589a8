import ChangeFeedClient
import Emulator
import FeedModel
import Foundation
import Synchronization
import Testing

/// The fetcher's pipeline keeps nothing per page it has handed over: a long run reads in the
/// same memory as a short one. (Its task group once kept every finished request's task until
/// the run ended, about 30 KB a page: `feed` grew from 46 to 166 MB over 400,000 v1 entries.)
/// `scripts/test` runs them last, alone in their process, so resident memory is the fetcher's.
@Suite(.serialized) struct PipelineMemoryTests {
    /// Resident memory of this process, from /proc/self/statm.
    static func residentBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        return fields.count > 1 ? (Int(fields[1]) ?? 0) * Int(sysconf(Int32(_SC_PAGESIZE))) : 0
    }

    @Test(arguments: [APIVersion.v1, .v2])
    func aLongRunReadsInTheMemoryOfAShortOne(version: APIVersion) async throws {
        // One entry a page: many requests, little data; what a page's request leaves behind shows.
        let pages = 6_000
        let server = EmulatorServer(options: EmulatorOptions(port: 0, entries: pages, seed: 5, auth: .none))
        let base = try await server.start()
        let http = ChangeFeedClient.makeHTTPClient()
        do {
            let client = ChangeFeedClient(endpoint: try ServiceEndpoint(base.absoluteString), apiVersion: version, http: http)
            var fetcher = Fetcher(client: client, tokens: AnyToken(), pageSize: 1)
            fetcher.parallel = 4
            fetcher.lateWindow = 0
            let count = Mutex(0)
            let peak = Mutex(0)
            let warm = Mutex<Int?>(nil)
            await fetcher.run { event in
                guard case .page(let entries, _) = event else { return }
                let n = count.withLock { $0 += entries.count; return $0 }
                // Warmed up after the first 500 pages (the client's pools, the emulator's caches).
                if n == 500 { warm.withLock { $0 = Self.residentBytes() } }
                if n % 250 == 0 { let r = Self.residentBytes(); peak.withLock { $0 = max($0, r) } }
            }
            #expect(count.withLock { $0 } == pages)
            let start = try #require(warm.withLock { $0 })
            let growth = peak.withLock { $0 } - start
            // 5,500 more pages: at 30 KB each a leak is 160 MB; without one, a few MB of noise.
            #expect(growth < 48 << 20, "resident memory grew \(growth >> 20) MB over \(pages - 500) pages")
        } catch {
            Issue.record("\(error)")
        }
        try await http.shutdown()
        await server.stop()
    }
}
