@testable import ChangeFeedClient
import Emulator
import FeedModel
import Foundation
import TestSupport
import Testing

/// A started in-process emulator and a client for it; `withFeed` stops and shuts both down.
struct Feed {
    let server: EmulatorServer
    let client: ChangeFeedClient
    let base: URL

    var store: ChangeFeedStore { server.store }

    /// A fetcher with tiny backoff so that retries cost milliseconds. `parallel` nil keeps the
    /// fetcher's default (pipelined); 1 is the sequential walk.
    func fetcher(_ tokens: AuthorizationSource = FixedToken("t"), pageSize: Int? = nil,
                 includeMetadata: Bool = false, parallel: Int? = nil) -> Fetcher {
        var f = Fetcher(client: client, tokens: tokens, pageSize: pageSize, includeMetadata: includeMetadata)
        f.backoffBase = 0.01
        f.backoffCap = 0.05
        if let parallel { f.parallel = parallel }
        return f
    }

    /// The change-feed requests (not `/latest`) the server answered, oldest first.
    var pageRequests: [LoggedRequest] {
        server.requestLog.requests.filter { !$0.path.lowercased().hasSuffix("/latest") }
    }
}

/// Starts an emulator (loopback, free port), builds a client for `version`, runs `body`, and
/// always shuts the HTTP client down and stops the server.
func withFeed<T>(_ options: EmulatorOptions = EmulatorOptions(entries: 450, seed: 7, auth: .bearerToken("t")),
                 store: ChangeFeedStore? = nil,
                 version: APIVersion = .v2,
                 pathPrefix: String = "",
                 requestTimeoutMilliseconds: Int64 = 10_000,
                 _ body: (Feed) async throws -> T) async throws -> T {
    try await withEmulatorServer(options, store: store, http: { ChangeFeedClient.makeHTTPClient() }) { server, base, http in
        let endpoint = try ServiceEndpoint(base.absoluteString + pathPrefix)
        let client = ChangeFeedClient(endpoint: endpoint, apiVersion: version, http: http,
                                      requestTimeout: .milliseconds(requestTimeoutMilliseconds))
        return try await body(Feed(server: server, client: client, base: base))
    }
}

/// Everything a fetcher emitted, in order.
final class EventLog: @unchecked Sendable {
    private let lock = NSLock()
    private var list: [FetchEvent] = []
    /// Called (outside the lock) after each event is recorded, with the event and the count so far.
    var onEvent: (@Sendable (FetchEvent, Int) -> Void)?

    func record(_ e: FetchEvent) {
        let n = lock.withLock { list.append(e); return list.count }
        onEvent?(e, n)
    }

    var events: [FetchEvent] { lock.withLock { list } }

    var entries: [ChangeFeedEntry] {
        events.flatMap { (e: FetchEvent) -> [ChangeFeedEntry] in if case .page(let p, _) = e { p } else { [] } }
    }

    var pages: [[ChangeFeedEntry]] {
        events.compactMap { if case .page(let p, _) = $0 { p } else { nil } }
    }

    var undecodable: Int {
        events.reduce(0) { if case .page(_, let bad) = $1 { $0 + bad.count } else { $0 } }
    }

    var latestEvents: [Int64?] {
        events.compactMap { if case .latest(let s, _) = $0 { .some(s) } else { nil } }
    }

    var caughtUpCount: Int { events.filter { $0 == .caughtUp }.count }

    var retries: [(error: ChangeFeedError, attempt: Int, delay: TimeInterval)] {
        events.compactMap { if case .retrying(let e, let a, let d) = $0 { (e, a, d) } else { nil } }
    }

    var stopped: ChangeFeedError? {
        events.lazy.compactMap { if case .stopped(let e) = $0 { e } else { nil } }.first
    }
}

extension Fetcher {
    /// Runs to the end and returns what it emitted.
    func collect() async -> EventLog {
        let log = EventLog()
        await run { log.record($0) }
        return log
    }
}

/// Always the same token.
struct FixedToken: AuthorizationSource {
    let token: String
    init(_ token: String) { self.token = token }
    func authorization() async throws -> String { "Bearer " + token }
    func rejected() async {}
}

/// Hands out `tokens[k]` after `k` rejections (the last one forever after), counting calls.
actor TokenSequence: AuthorizationSource {
    private let tokens: [String]
    private(set) var rejections = 0
    private(set) var calls = 0

    init(_ tokens: [String]) { self.tokens = tokens }

    func authorization() async throws -> String {
        calls += 1
        return "Bearer " + tokens[min(rejections, tokens.count - 1)]
    }

    func rejected() async { rejections += 1 }
}

// MARK: - The emulator's truth

/// The full v2 ordering (timestamp, then sequence) straight from the store.
func v2Truth(_ store: ChangeFeedStore, start: Timestamp? = nil, end: Timestamp? = nil) -> [EmulatedEntry] {
    store.entriesV2(start: start, end: end, offset: 0, limit: max(1, store.count))
}

/// The query items of a logged request, decoded.
func queryItems(_ r: LoggedRequest) -> [String: String] {
    var out: [String: String] = [:]
    for part in (r.query ?? "").split(separator: "&") {
        let kv = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
        let value = kv.count > 1 ? String(kv[1]).removingPercentEncoding ?? String(kv[1]) : ""
        out[String(kv[0])] = value
    }
    return out
}

/// Compares what the client produced with the emulator's rows, entry by entry and field by
/// field; a failure names the first place they part and the sequences around it.
func expectSameEntries(_ got: [ChangeFeedEntry], _ truth: [EmulatedEntry],
                       sourceLocation: SourceLocation = #_sourceLocation) {
    let expected = truth.map(\.changeFeedEntry)
    #expect(got.count == expected.count, "entry count", sourceLocation: sourceLocation)
    let common = min(got.count, expected.count)
    guard let i = (0..<common).first(where: { got[$0] != expected[$0] }) ?? (got.count == expected.count ? nil : common)
    else { return }
    let around = max(0, i - 2)..<(i + 3)
    let g = got[around.clamped(to: got.indices)].map(\.sequence)
    let e = expected[around.clamped(to: expected.indices)].map(\.sequence)
    var what = "entries part at index \(i): got sequences \(g), expected \(e)"
    if i < got.count, i < expected.count, got[i].sequence == expected[i].sequence {
        what += "; same sequence, other fields differ: got \(got[i]), expected \(expected[i])"
    }
    Issue.record(Comment(rawValue: what), sourceLocation: sourceLocation)
}

/// The gaps between consecutive sequences (sequence numbers that were skipped).
func sequenceGaps(_ entries: [EmulatedEntry]) -> [Int64] {
    zip(entries, entries.dropFirst()).map { $1.sequence - $0.sequence - 1 }
}
