import FeedModel
import Foundation

/// What the fetcher reports, in order, to whoever runs it.
public enum FetchEvent: Sendable, Equatable {
    case started
    /// The newest sequence the service knows (nil for an empty feed).
    case latest(Int64?)
    /// A page of entries in feed order, and how many of its elements did not decode.
    case page([ChangeFeedEntry], undecodable: Int)
    /// Reached the end of the feed (or of the window).
    case caughtUp
    /// A request failed and will be tried again after `delay` seconds.
    case retrying(ChangeFeedError, attempt: Int, delay: TimeInterval)
    /// Stopped on an error that retrying will not fix.
    case stopped(ChangeFeedError)
}

/// Supplies the Authorization header to the fetcher. `authorization()` returns `Bearer …` for a
/// usable token (getting one if needed); `rejected()` is called after a 401 so the next call
/// gets a fresh token.
public protocol AuthorizationSource: Sendable {
    func authorization() async throws -> String
    func rejected() async
}

/// Pages through the change feed from the start to the end, handing pages over in feed order.
/// v2 steps `offset` by `limit` until a short page; v1 walks sequence windows and, because an
/// empty window is not the end of the feed, compares with `/changefeed/latest`.
public struct Fetcher: Sendable {
    public var pageSize: Int
    public var includeMetadata: Bool
    /// Backoff: base, cap (seconds). Jitter adds up to 25 %.
    public var backoffBase: TimeInterval = 1
    public var backoffCap: TimeInterval = 30
    public var startTime: Date?
    public var endTime: Date?
    /// Where to continue after a restart: v2 skips this many rows of the window; v1 starts
    /// after this sequence. Zero means from the start.
    public var resumeOffset: Int64 = 0
    public var resumeAfterSequence: Int64 = 0

    let client: ChangeFeedClient
    let tokens: AuthorizationSource

    public init(client: ChangeFeedClient, tokens: AuthorizationSource, pageSize: Int? = nil, includeMetadata: Bool = false) {
        self.client = client
        self.tokens = tokens
        self.pageSize = min(pageSize ?? client.apiVersion.maxLimit, client.apiVersion.maxLimit)
        self.includeMetadata = includeMetadata
    }

    /// Runs until the end of the feed, a fatal error or cancellation.
    public func run(_ emit: @Sendable (FetchEvent) -> Void) async {
        emit(.started)
        do {
            let latest = try await withRetries(emit) { token in try await client.latest(authorization: token) }
            emit(.latest(latest?.sequence))
            if client.apiVersion.isSequenceMode {
                try await runSequenceWindows(latest: latest?.sequence ?? 0, emit)
            } else {
                try await runTimeWindow(emit)
            }
            emit(.caughtUp)
        } catch let e as ChangeFeedError {
            emit(.stopped(e))
        } catch {
            // Cancelled: the app is closing or restarting the fetcher.
        }
    }

    private func runTimeWindow(_ emit: @Sendable (FetchEvent) -> Void) async throws {
        var offset: Int64 = resumeOffset
        while true {
            try Task.checkCancellation()
            let q = PageQuery(offset: offset, limit: pageSize, includeMetadata: includeMetadata, startTime: startTime, endTime: endTime)
            let results = try await withRetries(emit) { token in try await client.page(q, authorization: token) }
            emit(Self.pageEvent(results))
            offset += Int64(results.count)
            if results.count < pageSize { return }
        }
    }

    private func runSequenceWindows(latest: Int64, _ emit: @Sendable (FetchEvent) -> Void) async throws {
        var cursor: Int64 = resumeAfterSequence
        while cursor < latest {
            try Task.checkCancellation()
            let q = PageQuery(offset: cursor, limit: pageSize, includeMetadata: includeMetadata)
            let results = try await withRetries(emit) { token in try await client.page(q, authorization: token) }
            let event = Self.pageEvent(results)
            if case .page(let entries, _) = event, let last = entries.last {
                cursor = max(cursor + 1, last.sequence)
                emit(event)
            } else {
                // An empty window is a gap, not the end: step over it.
                cursor += Int64(pageSize)
                if results.contains(where: { if case .undecodable = $0 { true } else { false } }) { emit(event) }
            }
        }
    }

    static func pageEvent(_ results: [EntryResult]) -> FetchEvent {
        var entries: [ChangeFeedEntry] = []
        entries.reserveCapacity(results.count)
        var bad = 0
        for r in results {
            switch r {
            case .entry(let e): entries.append(e)
            case .undecodable: bad += 1
            }
        }
        return .page(entries, undecodable: bad)
    }

    /// Runs `request` with a token; retries network errors, 408, 5xx and 429 with capped
    /// exponential backoff and jitter; after a 401 gets a new token and tries once more.
    func withRetries<T: Sendable>(_ emit: @Sendable (FetchEvent) -> Void,
                                  _ request: @Sendable (String) async throws -> T) async throws -> T {
        var attempt = 0
        var refreshedAfter401 = false
        while true {
            try Task.checkCancellation()
            let token: String
            do {
                token = try await tokens.authorization()
            } catch is CancellationError {
                throw CancellationError()
            } catch let error as ChangeFeedError {
                throw error
            } catch {
                throw ChangeFeedError.noToken(String(describing: error))
            }
            do {
                return try await request(token)
            } catch let error as ChangeFeedError {
                // A request abandoned because the fetcher was cancelled is not a network error.
                if Task.isCancelled { throw CancellationError() }
                if case .unauthorized = error, !refreshedAfter401 {
                    refreshedAfter401 = true
                    await tokens.rejected()
                    continue
                }
                guard error.isRetryable else { throw error }
                attempt += 1
                var delay = min(backoffCap, backoffBase * pow(2, Double(attempt - 1)))
                if case .throttled(let after?) = error { delay = max(after, 0) } else { delay += Double.random(in: 0...(delay / 4)) }
                emit(.retrying(error, attempt: attempt, delay: delay))
                try await Task.sleep(nanoseconds: UInt64(delay * 1_000_000_000))
            }
        }
    }
}
