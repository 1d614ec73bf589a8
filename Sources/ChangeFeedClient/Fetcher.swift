import FeedModel
import Foundation

/// What the fetcher reports, in order, to whoever runs it.
public enum FetchEvent: Sendable, Equatable {
    case started
    /// The newest sequence the service knows (nil for an empty feed).
    case latest(Int64?)
    /// A page of entries in feed order, and the elements that did not decode (each says where
    /// it stood among the entries).
    case page([ChangeFeedEntry], unreadable: [UnreadableEntry])
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
///
/// With `parallel` > 1 several page requests are in flight at once (each decoded in its own
/// child task), and a reorder buffer hands the pages to `emit` strictly in feed order: what
/// `emit` receives is the same as with `parallel = 1`, also when requests are retried. Offsets
/// are known ahead in both modes:
/// - v2: `offset + k·limit` inside the window, speculatively; the first short page (in feed
///   order) is the end, and pages fetched past it are dropped (this costs up to `parallel - 1`
///   extra requests at the end of the window).
/// - v1 and v1.0-prerelease: the sequence windows `(s + k·limit, s + (k+1)·limit]` up to the
///   sequence `/latest` reported, so there is no waste; an empty window is a gap.
///
/// The first page is requested alone; the rest go out in parallel once it arrived, so that a
/// one-page feed or a request the service refuses costs one request, not `parallel`.
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
    /// Page requests in flight at once (`--parallel`); 1 is the plain sequential walk.
    /// Clamped to 1...32.
    public var parallel: Int = 4
    /// Called after each page (and each empty v1 window) with the run's progress, on the same
    /// task that calls `emit` and right after it. Not a `FetchEvent` case, so that existing
    /// exhaustive switches over `FetchEvent` keep compiling.
    public var onProgress: (@Sendable (FetchProgress) -> Void)?

    let client: ChangeFeedClient
    let tokens: AuthorizationSource

    public init(client: ChangeFeedClient, tokens: AuthorizationSource, pageSize: Int? = nil, includeMetadata: Bool = false) {
        self.client = client
        self.tokens = tokens
        self.pageSize = max(1, min(pageSize ?? client.apiVersion.maxLimit, client.apiVersion.maxLimit))
        self.includeMetadata = includeMetadata
    }

    /// Runs until the end of the feed, a fatal error or cancellation. `emit` is only ever called
    /// from the task that runs `run`, one event at a time. A fatal error cancels the requests
    /// still in flight and emits `.stopped` once; cancellation emits nothing more.
    public func run(_ emit: @Sendable (FetchEvent) -> Void) async {
        emit(.started)
        let gate = RequestGate(tokens: tokens)
        do {
            let latest = try await withRetries(gate, emit) { token in try await client.latest(authorization: token) }
            emit(.latest(latest?.sequence))
            let plan = plan(latest: latest?.sequence)
            try await pipeline(plan, gate: gate, emit)
            emit(.caughtUp)
        } catch let e as ChangeFeedError {
            emit(.stopped(e))
        } catch {
            // Cancelled: the app is closing or restarting the fetcher.
        }
    }

    /// One entry with its metadata (the detail view), under the same token and retry rules as
    /// the pages; `onRetry` hears each retry.
    public func entry(sequence: Int64, onRetry: @escaping @Sendable (ChangeFeedError, Int) -> Void = { _, _ in })
        async throws -> ChangeFeedEntry? {
        try await withRetries({ event in
            if case .retrying(let e, let attempt, _) = event { onRetry(e, attempt) }
        }) { token in try await client.entry(sequence: sequence, authorization: token) }
    }

    // MARK: - The plan: which pages exist and where each one starts

    /// The page requests of one run, numbered 0, 1, 2, ….
    struct Plan: Sendable {
        let sequenceMode: Bool
        /// v1: exclusive start sequence of slot 0; v2: rows skipped before slot 0.
        let base: Int64
        let limit: Int
        /// v1: the number of windows up to `/latest`. v2: nil (the end is the first short page).
        let windows: Int?
        let includeMetadata: Bool
        let startTime: Date?
        let endTime: Date?
        let latest: Int64?

        func hasSlot(_ k: Int) -> Bool { windows.map { k < $0 } ?? true }

        func query(_ k: Int) -> PageQuery {
            PageQuery(offset: base + Int64(k) * Int64(limit), limit: limit, includeMetadata: includeMetadata,
                      startTime: sequenceMode ? nil : startTime, endTime: sequenceMode ? nil : endTime)
        }
    }

    func plan(latest: Int64?) -> Plan {
        let seq = client.apiVersion.isSequenceMode
        var windows: Int? = nil
        if seq {
            let span = max(0, (latest ?? 0) - resumeAfterSequence)
            windows = Int((span + Int64(pageSize) - 1) / Int64(pageSize))
        }
        return Plan(sequenceMode: seq, base: seq ? resumeAfterSequence : resumeOffset, limit: pageSize,
                    windows: windows, includeMetadata: includeMetadata, startTime: startTime, endTime: endTime,
                    latest: latest)
    }

    // MARK: - The pipeline

    /// A page as a child task hands it back: decoded and split, ready to emit.
    struct PageResult: Sendable {
        let entries: [ChangeFeedEntry]
        let unreadable: [UnreadableEntry]
        /// Elements in the response (entries and undecodable ones): what the v2 end test counts.
        let rows: Int
    }

    enum Message: Sendable {
        case event(FetchEvent)
        case done(Int, Result<PageResult, ChangeFeedError>)
        case cancelled(Int)
    }

    private func pipeline(_ plan: Plan, gate: RequestGate, _ emit: @Sendable (FetchEvent) -> Void) async throws {
        guard plan.hasSlot(0) else { return }
        let width = min(max(parallel, 1), 32)
        var progress = ProgressCounter(plan: plan)
        let onProgress = self.onProgress
        let (stream, channel) = AsyncStream.makeStream(of: Message.self)
        defer { channel.finish() }

        try await withThrowingTaskGroup(of: Void.self) { group in
            var next = 0          // the slot to emit next
            var issued = 0        // slots requested so far (0..<issued)
            var blocked = false   // a slot failed for good: request nothing more
            var buffer: [Int: Result<PageResult, ChangeFeedError>] = [:]

            func topUp() {
                // The first page goes alone; after it, up to `width` slots ahead of `next`.
                let ahead = next == 0 ? 1 : width
                while !blocked, issued < next + ahead, plan.hasSlot(issued) {
                    let k = issued
                    let query = plan.query(k)
                    group.addTask { [self] in
                        do {
                            let results = try await withRetries(gate, { channel.yield(.event($0)) }) { token in
                                try await client.page(query, authorization: token)
                            }
                            channel.yield(.done(k, .success(Self.split(results))))
                        } catch let e as ChangeFeedError {
                            channel.yield(.done(k, .failure(e)))
                        } catch {
                            channel.yield(.cancelled(k))
                        }
                    }
                    issued += 1
                }
            }

            topUp()
            for await message in stream {
                switch message {
                case .event(let e):
                    emit(e)
                case .cancelled:
                    continue
                case .done(let k, let result):
                    if case .failure = result { blocked = true }
                    buffer[k] = result
                    // Hand over every page that is now next in line.
                    while let ready = buffer.removeValue(forKey: next) {
                        switch ready {
                        case .failure(let e):
                            group.cancelAll()
                            throw e
                        case .success(let page):
                            // Cancelled from inside `emit`: hand over nothing more.
                            if Task.isCancelled { throw CancellationError() }
                            next += 1
                            if !plan.sequenceMode || !page.entries.isEmpty || !page.unreadable.isEmpty {
                                // v1: an empty window is a gap: nothing to show.
                                emit(.page(page.entries, unreadable: page.unreadable))
                            }
                            if let onProgress { onProgress(progress.add(page)) }
                            if !plan.sequenceMode && page.rows < plan.limit {
                                // The end of the window; anything fetched past it is dropped.
                                group.cancelAll()
                                return
                            }
                        }
                    }
                    if !plan.hasSlot(next) {
                        group.cancelAll()
                        return
                    }
                    topUp()
                }
            }
            // The stream ends early only when this task is cancelled.
            group.cancelAll()
            throw CancellationError()
        }
    }

    static func split(_ results: [EntryResult]) -> PageResult {
        var entries: [ChangeFeedEntry] = []
        entries.reserveCapacity(results.count)
        var bad: [UnreadableEntry] = []
        for r in results {
            switch r {
            case .entry(let e): entries.append(e)
            case .undecodable(_, let u): bad.append(u)
            }
        }
        return PageResult(entries: entries, unreadable: bad, rows: results.count)
    }

    static func pageEvent(_ results: [EntryResult]) -> FetchEvent {
        let p = split(results)
        return .page(p.entries, unreadable: p.unreadable)
    }

    // MARK: - Retries

    /// Runs `request` with a token; retries network errors, 408, 5xx and 429 with capped
    /// exponential backoff and jitter; after a 401 gets a new token and tries once more.
    func withRetries<T: Sendable>(_ emit: @Sendable (FetchEvent) -> Void,
                                  _ request: @Sendable (String) async throws -> T) async throws -> T {
        try await withRetries(RequestGate(tokens: tokens), emit, request)
    }

    /// The same, sharing `gate` with the other requests of the run: a token refused by several
    /// requests in flight is reported to the token source once, and a 429's Retry-After holds
    /// back every request, not only the one that was throttled.
    func withRetries<T: Sendable>(_ gate: RequestGate, _ emit: @Sendable (FetchEvent) -> Void,
                                  _ request: @Sendable (String) async throws -> T) async throws -> T {
        var attempt = 0
        var refreshedAfter401 = false
        while true {
            try Task.checkCancellation()
            try await gate.waitWhileThrottled()
            let seen = await gate.generation
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
                    await gate.rejected(seen: seen)
                    continue
                }
                guard error.isRetryable else { throw error }
                attempt += 1
                var delay = min(backoffCap, backoffBase * pow(2, Double(attempt - 1)))
                if case .throttled(let after?) = error {
                    delay = max(after, 0)
                    await gate.throttle(for: delay)
                } else {
                    delay += Double.random(in: 0...(delay / 4))
                }
                emit(.retrying(error, attempt: attempt, delay: delay))
                try await Task.sleep(nanoseconds: UInt64(delay * 1_000_000_000))
            }
        }
    }
}

/// What the requests of one run share: token refusals (so that a token several requests in
/// flight saw refused is reported to the source once, and the others retry with the token that
/// came after it), and a pause the service asked for with 429 Retry-After.
actor RequestGate {
    private let tokens: AuthorizationSource
    /// How many refusals have been reported to the source (and answered) so far.
    private(set) var generation = 0
    private var pending: Task<Void, Never>?
    private var notBefore: ContinuousClock.Instant?

    init(tokens: AuthorizationSource) { self.tokens = tokens }

    /// A request that took its token at `seen` got a 401. If a refusal was reported since, the
    /// next token is already another one: nothing to do. Otherwise report it (or wait for the
    /// report already under way). A source that hands out the same token again after one
    /// refusal is told again the next time, as a sequential run would.
    func rejected(seen: Int) async {
        if generation > seen { return }
        if let pending {
            await pending.value
            return
        }
        let tokens = self.tokens
        let task = Task { await tokens.rejected() }
        pending = task
        await task.value
        pending = nil
        generation += 1
    }

    /// Holds back new requests for `seconds`.
    func throttle(for seconds: TimeInterval) {
        guard seconds > 0 else { return }
        let until = ContinuousClock.now.advanced(by: .nanoseconds(Int64(seconds * 1_000_000_000)))
        if let current = notBefore, current > until { return }
        notBefore = until
    }

    func waitWhileThrottled() async throws {
        guard let until = notBefore else { return }
        if until <= .now {
            notBefore = nil
            return
        }
        try await Task.sleep(until: until, clock: .continuous)
    }
}
