import FeedModel
import Foundation

/// What the fetcher reports, in order, to whoever runs it.
public enum FetchEvent: Sendable, Equatable {
    case started
    /// The newest entry the service knows (`/changefeed/latest`; nils for an empty feed): its
    /// sequence, and its timestamp, which tells what is settled (see `FeedCursor`).
    case latest(sequence: Int64?, timestamp: Timestamp?)
    /// A page of entries in feed order, and the elements that did not decode (each says where
    /// it stood among the entries).
    case page([ChangeFeedEntry], unreadable: [UnreadableEntry])
    /// v1: every sequence window up to this sequence has been read (empty windows included).
    case readThrough(Int64)
    /// Reached the end of the feed (or of the window).
    case caughtUp
    /// Handed over `maxRows` rows and stopped before the end: a later run goes on from there.
    case paused
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

/// Reads the change feed from `start` to its end, handing pages over in feed order. One run
/// reads `/changefeed/latest` first; its answer fixes what the run can promise (`FeedCursor`).
///
/// - **v1 and v1.0-prerelease** walk the sequence windows `(s + k·limit, s + (k+1)·limit]` up
///   to the sequence `/latest` reported (an empty window is a gap, not the end), several in
///   flight at once (`parallel`), handed over strictly in order by a reorder buffer.
/// - **v2** reads in two parts. Rows older than the late window before `/latest`'s timestamp
///   are *settled* (nothing can still appear among them), so that part is read in small time
///   windows, each paged by `offset` up to `maxOffset` (`WindowSchedule`), several pages and
///   windows in flight, handed over in feed order. The newer
///   part is paged by time: each page starts at the timestamp of the previous page's last row
///   and skips only the rows read at that very timestamp, so a row that commits late among
///   them shifts nothing by more than one row (read again, recognised by its sequence) and
///   never makes a row be skipped.
///
/// Pages with elements that do not decode are read once more before they are handed over (a
/// cut or garbled answer is often transient); what still does not decode is kept as
/// `UnreadableEntry`. A 200 whose body is not change-feed JSON is retried like a 5xx, up to
/// `maxMalformedAttempts` times in a row.
public struct Fetcher: Sendable {
    public var pageSize: Int
    public var includeMetadata: Bool
    /// Backoff: base, cap (seconds). Jitter adds up to 25 %.
    public var backoffBase: TimeInterval = 1
    public var backoffCap: TimeInterval = 30
    /// Where the run starts (v1: after this sequence; v2: from this time, inclusive).
    public var start: FeedCursor.Start = .beginning
    /// v2: the exclusive end of the window (`--end-time`).
    public var endTime: Timestamp?
    /// Seconds a row may take to become visible after its timestamp (`--late-window`).
    public var lateWindow: TimeInterval = FeedCursor.defaultLateWindow
    /// v2: the most rows a request may skip (`offset`). The service reads `offset + limit` rows
    /// for each request, so the settled part is read in time windows small enough for this
    /// (see `WindowSchedule`); the newest part is paged by time, where `offset` only counts the
    /// rows read at one timestamp.
    public var maxOffset: Int64 = Fetcher.defaultMaxOffset
    public static let defaultMaxOffset: Int64 = 1000
    /// Stop (`.paused`) once this many rows have been handed over, at a page's end; nil reads
    /// to the end. The UI reads a neighbourhood of the feed this way when the list is far
    /// from its end.
    public var maxRows: Int?
    /// Page requests in flight at once (`--parallel`): nil adapts to what the service and the
    /// network allow (`ConcurrencyController`: from 4, up to 32, cut back on 429, 503, timeouts
    /// and resets); a number pins it (1 is the plain sequential walk). Clamped to 1...32.
    public var parallel: Int?
    /// Adaptive mode: a request refused with 429 or 503 up to this many times in a row, while
    /// the controller absorbs the refusal (it cuts the width for it), is retried without a
    /// `.retrying` event: the refusal is the controller's probe, not the user's news.
    public var quietRefusals = 3
    /// A 200 that is not change-feed JSON this many times in a row for one request stops the run.
    public var maxMalformedAttempts = 5
    /// A request that keeps failing with errors worth retrying (network, 5xx, 429, …) stops the
    /// run once its next try would start more than this many seconds after its first failure
    /// (`ChangeFeedError.gaveUp`). nil: keep trying, as the UI and `feed --follow` do.
    public var giveUpAfter: TimeInterval?
    /// At most this many more reads of a page with elements that do not decode (see `fetchPage`).
    public var unreadableRereads = 3
    /// Called after each page (and each empty v1 window) with the run's progress, on the same
    /// task that calls `emit` and right after it.
    public var onProgress: (@Sendable (FetchProgress) -> Void)?

    var client: ChangeFeedClient
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
            // The newest row may be one that does not decode: its sequence and time are enough.
            let latest = try await withRetries(gate, emit) { token in try await client.latestPosition(authorization: token) }
            var sequence: Int64?
            var newest: Timestamp?
            switch latest {
            case .entry(let e)?:
                sequence = e.sequence
                newest = e.timestamp
            case .undecodable(_, let bad)?:
                sequence = bad.sequence
                newest = bad.timestamp
            case nil:
                break
            }
            emit(.latest(sequence: sequence, timestamp: newest))
            var progress = ProgressCounter(sequenceMode: client.apiVersion.isSequenceMode, latest: sequence,
                                           base: start.afterSequence, limit: pageSize, openEnded: endTime == nil)
            progress.adaptive = parallel == nil
            if client.apiVersion.isSequenceMode {
                let schedule = SequenceSchedule(after: start.afterSequence, latest: sequence, limit: pageSize,
                                                includeMetadata: includeMetadata)
                progress.windows = schedule.windows
                try await pipeline(schedule, gate: gate, progress: &progress, emit)
            } else if latest != nil {
                try await readTimeWindow(newest: newest, gate: gate, progress: &progress, emit)
            }
            emit(.caughtUp)
        } catch is Paused {
            emit(.paused)
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
        try await withRetries(Self.retries(onRetry)) { token in try await client.entry(sequence: sequence, authorization: token) }
    }

    /// The events of a request outside a run, of which its caller hears only the retries.
    static func retries(_ onRetry: @escaping @Sendable (ChangeFeedError, Int) -> Void) -> @Sendable (FetchEvent) -> Void {
        { event in if case .retrying(let e, let attempt, _) = event { onRetry(e, attempt) } }
    }

    // MARK: - v2: the settled part in small windows, the rest by time

    /// `newest` is `/latest`'s timestamp; nil when the newest row's time could not be read, and
    /// then nothing counts as settled: the whole window is read by time.
    private func readTimeWindow(newest: Timestamp?, gate: RequestGate, progress: inout ProgressCounter,
                                _ emit: @Sendable (FetchEvent) -> Void) async throws {
        var from = start.startTime
        if var settledEnd = newest?.adding(seconds: -max(0, lateWindow)) {
            if let end = endTime { settledEnd = min(settledEnd, end) }
            if from.map({ $0 < settledEnd }) ?? true {
                let schedule = WindowSchedule(start: from, end: settledEnd, limit: pageSize, maxOffset: maxOffset,
                                              includeMetadata: includeMetadata)
                try await pipeline(schedule, gate: gate, progress: &progress, emit)
                from = settledEnd
            }
        }
        let tailStart = from ?? .min
        guard endTime.map({ tailStart < $0 }) ?? true else { return }
        try await readByTime(from: tailStart, gate: gate, progress: &progress, emit)
    }

    /// Pages `[from, endTime)` by time: the next page starts at the timestamp `t` of the last
    /// row read and skips the rows of this run already read at `t`. Rows that commit late at
    /// `t` shift those by one (a row read twice, recognised by its sequence); rows that commit
    /// before `t` are the next run's (they are newer than what it treats as settled).
    func readByTime(from: Timestamp, gate: RequestGate, progress: inout ProgressCounter,
                    _ emit: @Sendable (FetchEvent) -> Void) async throws {
        var resume = TimeResume(start: from)
        while true {
            try Task.checkCancellation()
            let query = PageQuery(offset: resume.skip, limit: pageSize, includeMetadata: includeMetadata,
                                  startTime: resume.start ?? from, endTime: endTime)
            let page = try await fetchPage(query, gate: gate, emit: emit)
            emit(.page(page.entries, unreadable: page.unreadable))
            progress.rows += page.rows
            if let onProgress {
                // Paging by time is sequential: each request starts where the last one ended.
                var p = progress.add(page)
                p.inFlight = page.rows < pageSize ? 0 : 1
                if page.rows < pageSize { p.fraction = p.fraction.map { _ in 1 } }
                p.width = 1
                p.byTime = true
                onProgress(p)
            }
            if page.rows < pageSize { return }
            if let maxRows, progress.rows >= maxRows { throw Paused() }
            resume.advance(over: page)
        }
    }

    // MARK: - The pipeline

    /// A page as a child task hands it back: decoded and split, ready to emit.
    struct PageResult: Sendable {
        let entries: [ChangeFeedEntry]
        let unreadable: [UnreadableEntry]
        /// Elements in the response (entries and undecodable ones): what the v2 end test counts.
        let rows: Int
        /// The timestamp of the last element whose time is known, and the element index where
        /// the elements at that timestamp start.
        let lastTime: (time: Timestamp, firstIndex: Int)?
        /// No element of unknown time stands right before the elements at `lastTime`: their count
        /// is exact. (One there may be at that time too, or at the time before.)
        var lastRunExact = true
        /// The last element's time is known (none of unknown time after the last known one).
        var endsAtKnownTime = true

    }

    /// Where a reader that pages a v2 window by time goes on after each full page: from the
    /// timestamp of the last row read, skipping only the rows read at that time (so `offset`
    /// stays small), or, when that count is not exact, from where it was, skipping every row
    /// read since.
    ///
    /// The count of the rows at the last time is not exact when an element of unknown time
    /// stands right before them (it may be at that time or at the one before). Elements of
    /// unknown time after the last known one count with it: whatever their time, they come
    /// right after it. A run of rows at one time that goes on from one page to the next keeps
    /// the exactness of where it began.
    struct TimeResume: Sendable, Equatable {
        /// Where the next page starts (nil: the feed's first entry), and the rows it skips there.
        var start: Timestamp?
        var skip: Int64
        /// The last known time read, and whether the count of the rows at it is exact.
        var lastTime: Timestamp?
        var runExact = true

        init(start: Timestamp?, skip: Int64 = 0) {
            self.start = start
            self.skip = skip
            // The rows skipped at the start are at the start's time (that is how they were counted).
            lastTime = skip > 0 ? start : nil
        }

        mutating func advance(over page: PageResult) {
            let rows = Int64(page.rows)
            guard let (last, first) = page.lastTime else {
                skip += rows
                return
            }
            let continues = last == lastTime && first == 0
            let exact = continues ? runExact : page.lastRunExact
            if exact && start != last {
                start = last
                skip = rows - Int64(first)
            } else {
                skip += rows
            }
            lastTime = last
            runExact = exact
        }
    }

    /// One page with the run's retry rules. A page with elements that do not decode is read
    /// again until two reads in a row agree on which elements those are (at most
    /// `unreadableRereads` more reads): a transient garble, even one that hits a re-read, never
    /// becomes an unreadable row, and an element the service always sends broken costs one
    /// more read.
    func fetchPage(_ query: PageQuery, gate: RequestGate, emit: @Sendable (FetchEvent) -> Void) async throws -> PageResult {
        var results = try await withRetries(gate, emit) { token in try await client.page(query, authorization: token) }
        var previous: [Int]?
        var reread = 0
        while let first = results.firstUndecodable, reread < unreadableRereads {
            let bad = results.undecodableIndices
            if bad == previous { break }
            previous = bad
            reread += 1
            emit(.retrying(.entryUnreadable(first.reason), attempt: reread, delay: 0))
            results = try await withRetries(gate, emit) { token in try await client.page(query, authorization: token) }
        }
        return Self.split(results)
    }


    enum Message: Sendable {
        case event(FetchEvent)
        /// Slot `k`'s request failed and will be tried again (what `.retrying` says): the
        /// controller hears of it before the user may.
        case retrying(Int, ChangeFeedError, attempt: Int, delay: TimeInterval)
        /// Slot `k` is done; a page comes with how long it took, from its request to the page
        /// decoded.
        case done(Int, Result<PageResult, ChangeFeedError>, Duration = .zero)
        case cancelled(Int)
    }

    /// An answer that says the service or the network is overloaded: the concurrency
    /// controller cuts back on it.
    static func isCongestion(_ e: ChangeFeedError) -> Bool {
        switch e {
        case .throttled, .network: true
        case .server(let status, _): status == 503
        default: false
        }
    }

    /// A congestion answer the adaptive fetcher may retry without telling (429, 503): a
    /// network error is told, since it may be the network going away rather than load.
    static func isQuietable(_ e: ChangeFeedError) -> Bool {
        if case .network = e { return false }
        return isCongestion(e)
    }

    /// Runs the requests of `schedule`, as many in flight as the concurrency controller says
    /// (`parallel`, or adaptive), and hands the pages over strictly in the schedule's order:
    /// what `emit` receives is the same as with `parallel = 1`, also when requests are retried.
    /// The first page is requested alone, so that a one-page feed or a request the service
    /// refuses costs one request, not several (unless `firstAlone` is false: the caller has
    /// read there already).
    ///
    /// The controller hears every answer: each page (clean, with how long it took; see the
    /// controller for when it counts as latency-bound) and each retry of a 429, 503, timeout
    /// or reset (congestion). It only ever changes how many requests `topUp` keeps going:
    /// requests already sent are not withdrawn.
    func pipeline<Schedule: PageSchedule>(_ schedule: Schedule, gate: RequestGate, progress: inout ProgressCounter,
                                          firstAlone: Bool = true, _ emit: @Sendable (FetchEvent) -> Void) async throws {
        var controller = ConcurrencyController(pinned: parallel)
        try await pipeline(schedule, gate: gate, progress: &progress, firstAlone: firstAlone, controller: &controller, emit)
    }

    /// The same, with a controller that goes on from where an earlier pipeline of the same
    /// reader left it (what it learnt of the service is kept from one range to the next).
    func pipeline<Schedule: PageSchedule>(_ schedule: Schedule, gate: RequestGate, progress: inout ProgressCounter,
                                          firstAlone: Bool, controller: inout ConcurrencyController,
                                          _ emit: @Sendable (FetchEvent) -> Void) async throws {
        var schedule = schedule
        guard !schedule.isComplete else { return }
        let quietRefusals = self.quietRefusals
        let onProgress = self.onProgress
        let (stream, channel) = AsyncStream.makeStream(of: Message.self)
        defer { channel.finish() }

        try await withThrowingDiscardingTaskGroup { group in
            var handed = 0        // pages handed over
            var issued = 0        // requests sent so far (keys 0..<issued)
            var inFlight = 0      // requests sent and not answered for good
            var blocked = false   // a request failed for good: request nothing more
            var failure: ChangeFeedError?   // the first such failure
            var buffer: [Int: Result<PageResult, ChangeFeedError>] = [:]
            var absorbed = 0      // refusals retried without a `.retrying` event
            var retried: Set<Int> = []   // requests retried and not done: their time says nothing

            // The first page goes alone; after it, `width` requests in flight or waiting in the buffer.
            func ahead() -> Int { handed == 0 && firstAlone ? 1 : controller.width }

            // The page to hand over next is always asked for, whatever the width: the pages
            // waiting in the buffer (of later windows) wait for it, and the width may have
            // been cut below their number.
            func topUp() {
                while !blocked, inFlight + buffer.count < ahead() || schedule.nextKey == nil && !schedule.isComplete,
                      let query = schedule.nextRequest(key: issued) {
                    let k = issued
                    group.addTask { [self] in
                        do {
                            let sent = ContinuousClock.now
                            let page = try await fetchPage(query, gate: gate, emit: { event in
                                if case .retrying(let e, let attempt, let delay) = event {
                                    channel.yield(.retrying(k, e, attempt: attempt, delay: delay))
                                } else {
                                    channel.yield(.event(event))
                                }
                            })
                            channel.yield(.done(k, .success(page), ContinuousClock.now - sent))
                        } catch let e as ChangeFeedError {
                            channel.yield(.done(k, .failure(e)))
                        } catch {
                            channel.yield(.cancelled(k))
                        }
                    }
                    issued += 1
                    inFlight += 1
                }
            }

            topUp()
            for await message in stream {
                switch message {
                case .event(let e):
                    emit(e)
                case .retrying(let k, let e, let attempt, let delay):
                    retried.insert(k)
                    if Self.isCongestion(e) {
                        let taken = controller.congested(inFlight: inFlight)
                        if taken && Self.isQuietable(e) && attempt <= quietRefusals {
                            absorbed += 1
                            continue
                        }
                    }
                    emit(.retrying(e, attempt: attempt, delay: delay))
                case .cancelled:
                    continue
                case .done(let k, let result, let took):
                    inFlight -= 1
                    if schedule.drop(k) {
                        // A page past the end of its window: not wanted, whatever it says.
                        retried.remove(k)
                        topUp()
                        continue
                    }
                    switch result {
                    case .failure(let e):
                        blocked = true
                        if failure == nil { failure = e }
                    case .success(let page):
                        let roundTrip = retried.remove(k) == nil ? took : nil
                        controller.clean(latencyBound: inFlight + 1 >= ahead(), roundTrip: roundTrip)
                        schedule.answered(key: k, rows: page.rows)
                    }
                    buffer[k] = result
                    // Hand over every page that is now next in line.
                    while let key = schedule.nextKey, let ready = buffer.removeValue(forKey: key) {
                        switch ready {
                        case .failure(let e):
                            group.cancelAll()
                            throw e
                        case .success(let page):
                            // Cancelled from inside `emit`: hand over nothing more.
                            if Task.isCancelled { throw CancellationError() }
                            let handOver = schedule.handedOver(page)
                            if handOver.emit { emit(.page(page.entries, unreadable: page.unreadable)) }
                            if let through = handOver.readThrough { emit(.readThrough(through)) }
                            for d in handOver.discarded where buffer.removeValue(forKey: d) != nil { _ = schedule.drop(d) }
                            handed += 1
                            progress.rows += page.rows
                            let end = schedule.isComplete
                            if !end { topUp() }
                            if let onProgress {
                                progress.absorbedRefusals = absorbed
                                var p = progress.add(page)
                                if end { p.fraction = p.fraction.map { _ in 1 } }
                                p.inFlight = end ? 0 : inFlight
                                p.width = controller.width
                                onProgress(p)
                            }
                            if end {
                                group.cancelAll()
                                return
                            }
                            if let maxRows, progress.rows >= maxRows {
                                group.cancelAll()
                                throw Paused()
                            }
                        }
                    }
                    topUp()
                    if blocked, inFlight == 0, let failure {
                        // Everything that could be handed over before the failure was: the pages
                        // still missing before it would need requests, and none are sent now.
                        group.cancelAll()
                        throw failure
                    }
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
        var lastTime: Timestamp?
        var firstAtLast = 0
        for (i, r) in results.enumerated() {
            let time: Timestamp?
            switch r {
            case .entry(let e):
                entries.append(e)
                time = e.timestamp
            case .undecodable(_, let u):
                bad.append(u)
                time = u.timestamp
            }
            if let time, time != lastTime {
                lastTime = time
                firstAtLast = i
            }
        }
        var page = PageResult(entries: entries, unreadable: bad, rows: results.count, lastTime: lastTime.map { ($0, firstAtLast) })
        if firstAtLast > 0, case .undecodable(_, let u) = results[firstAtLast - 1], u.timestamp == nil { page.lastRunExact = false }
        if case .undecodable(_, let u)? = results.last, u.timestamp == nil { page.endsAtKnownTime = false }
        return page
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
        var malformedInARow = 0
        var refreshedAfter401 = false
        var failingSince: ContinuousClock.Instant?
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
                if case .malformed(let what) = error {
                    malformedInARow += 1
                    if malformedInARow >= maxMalformedAttempts {
                        throw ChangeFeedError.malformed("\(malformedInARow) answers in a row; the last: \(what)")
                    }
                } else {
                    malformedInARow = 0
                }
                attempt += 1
                var delay = min(backoffCap, backoffBase * pow(2, Double(attempt - 1)))
                if case .throttled(let after?) = error {
                    delay = max(after, 0)
                    await gate.throttle(for: delay)
                } else {
                    delay += Double.random(in: 0...(delay / 4))
                }
                let since = failingSince ?? ContinuousClock.now
                failingSince = since
                if let limit = giveUpAfter {
                    let failing = (ContinuousClock.now - since) / .seconds(1)
                    if failing + delay > limit {
                        throw ChangeFeedError.gaveUp(seconds: Int(failing.rounded()), attempts: attempt, last: error)
                    }
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

extension Array where Element == EntryResult {
    /// The first element that did not decode, if any.
    var firstUndecodable: UnreadableEntry? {
        for r in self { if case .undecodable(_, let u) = r { return u } }
        return nil
    }

    /// Where the elements that did not decode stand.
    var undecodableIndices: [Int] {
        enumerated().compactMap { i, r in if case .undecodable = r { i } else { nil } }
    }
}

/// A run handed over `maxRows` rows: it stops there (`.paused`).
struct Paused: Error {}
