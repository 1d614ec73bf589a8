import FeedModel
import Synchronization

/// Entries just before what the list holds, for scrolling up from the newest entries.
public struct OlderPage: Sendable, Equatable {
    public var entries: [ChangeFeedEntry]
    public var unreadable: [UnreadableEntry]
    /// Where the list begins after these rows are put before it: nil when they reach the feed's
    /// first entry.
    public var boundary: FeedCursor.Start?
    /// v2: the time span the next request should try (how dense the feed was here).
    public var nextSpan: Int64?
    public init(entries: [ChangeFeedEntry], unreadable: [UnreadableEntry], boundary: FeedCursor.Start?, nextSpan: Int64? = nil) {
        self.entries = entries; self.unreadable = unreadable; self.boundary = boundary; self.nextSpan = nextSpan
    }
}

extension Fetcher {
    /// The rows just before `boundary`, where the list begins: about a page of them, in feed
    /// order, and where the list then begins.
    ///
    /// - **v1**: the list holds the sequences after `boundary.afterSequence` = `b`; this reads
    ///   `(b − limit, b]`, and further down across gaps (an empty window is not the start of the
    ///   feed) until a row comes or sequence 0 is reached.
    /// - **v2**: the list holds the rows at or after `boundary.startTime` = `T`; this reads the
    ///   half-open window `[T − span, T)` whole (by time, so no offset grows), `span` chosen
    ///   from how dense the feed was (`spanHint`) and cut while the first page of the window
    ///   comes back full. An empty window widens it; the feed's first entry says where to stop.
    ///
    /// Rows that commit late (changefeed-api.md 1.5) are the tail's business: the boundary is
    /// kept settled by the caller, so nothing can still appear before it.
    public func older(before boundary: FeedCursor.Start, spanHint: Int64? = nil,
                      onRetry: @escaping @Sendable (ChangeFeedError, Int) -> Void = { _, _ in }) async throws -> OlderPage {
        let emit = Self.retries(onRetry)
        let gate = RequestGate(tokens: tokens)
        if client.apiVersion.isSequenceMode {
            var b = boundary.afterSequence
            var tries = 0
            while b > 0 {
                let lo = max(0, b - Int64(pageSize))
                let page = try await fetchPage(PageQuery(offset: lo, limit: Int(b - lo), includeMetadata: includeMetadata),
                                               gate: gate, emit: emit)
                tries += 1
                if page.rows > 0 || lo == 0 || tries >= 20 {
                    return OlderPage(entries: page.entries, unreadable: page.unreadable,
                                     boundary: lo == 0 ? nil : FeedCursor.Start(afterSequence: lo))
                }
                b = lo
            }
            return OlderPage(entries: [], unreadable: [], boundary: nil)
        }

        guard var end = boundary.startTime else { return OlderPage(entries: [], unreadable: [], boundary: nil) }
        guard let floor = try await feedStart(before: end, gate: gate, emit: emit) else {
            return OlderPage(entries: [], unreadable: [], boundary: nil)
        }
        var span = max(WindowSchedule.minSpan, spanHint ?? 60 * Timestamp.ticksPerSecond)
        for _ in 0..<40 {
            let start = Self.rangeStart(before: end, span: span, feedStart: floor)
            let head = try await fetchPage(PageQuery(offset: 0, limit: pageSize, includeMetadata: includeMetadata,
                                                     startTime: start, endTime: end), gate: gate, emit: emit)
            if head.rows == 0 {
                // Nothing in [start, end): the list may begin at `start`; look further back, wider.
                guard let s = start else { return OlderPage(entries: [], unreadable: [], boundary: nil) }
                end = s
                span = span > Int64.max / 8 ? span : span * 4
                continue
            }
            if head.rows >= pageSize, start != nil, span > WindowSchedule.minSpan {
                // More than a page: a narrower window (at most half as wide, narrower still when
                // the first page says the rows are dense).
                var narrower = span / 2
                if let a = head.entries.first?.timestamp, let z = head.lastTime?.time {
                    let perRow = Double(max(1, z.ticks - a.ticks)) / Double(head.rows)
                    narrower = min(narrower, Int64(min(Double(narrower), perRow * Double(pageSize) / 2)))
                }
                span = max(WindowSchedule.minSpan, narrower)
                continue
            }
            // The whole window, by time from where the first page ended.
            var read = Rows(head.entries, head.unreadable)
            var page = head
            var at = TimeResume(start: start)
            while page.rows >= pageSize {
                at.advance(over: page)
                page = try await fetchPage(PageQuery(offset: at.skip, limit: pageSize, includeMetadata: includeMetadata,
                                                     startTime: at.start, endTime: end), gate: gate, emit: emit)
                read.append(Rows(page.entries, page.unreadable))
            }
            // (In doubles, capped before it becomes a number of ticks again: a wide empty span
            // times a page would not fit.)
            let next = Self.ticks(Double(span) * Double(pageSize) / Double(max(1, read.count)))
            return OlderPage(entries: read.entries, unreadable: read.unreadable,
                             boundary: start.map { FeedCursor.Start(startTime: $0) },
                             nextSpan: max(WindowSchedule.minSpan, min(next, span > Int64.max / 8 ? span : span * 4)))
        }
        // Forty windows without rows: say how far back the feed is known to be empty; the next
        // call goes on from there.
        return OlderPage(entries: [], unreadable: [], boundary: FeedCursor.Start(startTime: end), nextSpan: span)
    }
}

extension Fetcher {
    /// The newest entry's sequence and time (`/changefeed/latest`; nil for an empty feed), with
    /// the run's retry rules.
    public func latest(onRetry: @escaping @Sendable (ChangeFeedError, Int) -> Void = { _, _ in }) async throws
        -> (sequence: Int64?, timestamp: Timestamp?)? {
        let answer = try await withRetries(Self.retries(onRetry)) { token in try await client.latestPosition(authorization: token) }
        switch answer {
        case .entry(let e)?: return (e.sequence, e.timestamp)
        case .undecodable(_, let bad)?: return (bad.sequence, bad.timestamp)
        case nil: return nil
        }
    }

    /// Where a list that starts at the entry with sequence `s` (or the first after it) begins:
    /// v1, after `s − 1`; v2, at that entry's time, read through the v1 route of the same
    /// service (v2 cannot ask for a sequence). Nil when no entry has a sequence from `s` on.
    /// `onRetry` hears each retry.
    public func locate(sequence s: Int64, onRetry: @escaping @Sendable (ChangeFeedError, Int) -> Void = { _, _ in }) async throws
        -> FeedCursor.Start? {
        if client.apiVersion.isSequenceMode { return FeedCursor.Start(afterSequence: max(0, s - 1)) }
        var v1 = self
        v1.client = client.sibling(.v1)
        v1.pageSize = APIVersion.v1.maxLimit
        let gate = RequestGate(tokens: tokens)
        var after = max(0, s - 1)
        // Across gaps: an empty window is not the end while /latest is further on.
        let newest = try await v1.latest(onRetry: onRetry)?.sequence ?? 0
        let emit = Self.retries(onRetry)
        while after < newest {
            let page = try await v1.fetchPage(PageQuery(offset: after, limit: v1.pageSize), gate: gate, emit: emit)
            if let time = page.entries.first?.timestamp ?? page.unreadable.first(where: { $0.timestamp != nil })?.timestamp {
                return FeedCursor.Start(startTime: time)
            }
            after += Int64(v1.pageSize)
        }
        return nil
    }

    /// Where a list that starts at the first entry at or after `time` begins: v2, at that
    /// time; v1, after the sequence before that entry's, found with one v2 request to the same
    /// service (`startTime=time&limit=1`). Nil when no entry is that new. `onRetry` hears each retry.
    public func locate(time: Timestamp, onRetry: @escaping @Sendable (ChangeFeedError, Int) -> Void = { _, _ in }) async throws
        -> FeedCursor.Start? {
        if !client.apiVersion.isSequenceMode { return FeedCursor.Start(startTime: time) }
        var v2 = self
        v2.client = client.sibling(.v2)
        let page = try await v2.fetchPage(PageQuery(offset: 0, limit: 1, startTime: time), gate: RequestGate(tokens: tokens),
                                          emit: Self.retries(onRetry))
        guard let sequence = page.entries.first?.sequence ?? page.unreadable.first?.sequence else { return nil }
        return FeedCursor.Start(afterSequence: max(0, sequence - 1))
    }
}

extension Fetcher {
    /// Many pages of rows just before `boundary` at once, several requests in flight (the
    /// whole-feed search streams the feed past this way): about `pages` pages, in feed order,
    /// and where they begin. What `older` reads one request at a time, this reads through the
    /// run's pipeline.
    ///
    /// - **v1**: the sequences `(b − pages·limit, b]` below `boundary.afterSequence` = `b`, in
    ///   sequence windows (`SequenceSchedule`, its last window ending at `b`).
    /// - **v2**: half-open ranges `[T − span, T)` below `boundary.startTime` = `T`, newest first,
    ///   each sized for about 20 pages (from `spanHint`, a page's worth of time, then from the
    ///   density of the range before), until about `pages` pages are read. A range whose first
    ///   page shows it far denser is narrowed before it is read, an empty one widens the next;
    ///   each is read in small windows (`WindowSchedule`, every `offset` within `maxOffset`),
    ///   one concurrency controller for them all.
    public func olderBatch(before boundary: FeedCursor.Start, spanHint: Int64? = nil, pages: Int = 100,
                           onRetry: @escaping @Sendable (ChangeFeedError, Int) -> Void = { _, _ in }) async throws -> OlderPage {
        let pages = max(1, pages)
        let gate = RequestGate(tokens: tokens)
        let emit = Self.retries(onRetry)
        if client.apiVersion.isSequenceMode {
            let b = boundary.afterSequence
            guard b > 0 else { return OlderPage(entries: [], unreadable: [], boundary: nil) }
            let lo = max(0, b - Int64(pages) * Int64(pageSize))
            var controller = ConcurrencyController(pinned: parallel)
            let read = try await collect(SequenceSchedule(after: lo, latest: b, limit: pageSize, includeMetadata: includeMetadata,
                                                          exactEnd: true), firstAlone: true, controller: &controller,
                                         gate: gate, onRetry: onRetry)
            return OlderPage(entries: read.entries, unreadable: read.unreadable,
                             boundary: lo == 0 ? nil : FeedCursor.Start(afterSequence: lo))
        }

        guard let boundaryTime = boundary.startTime else { return OlderPage(entries: [], unreadable: [], boundary: nil) }
        guard let floor = try await feedStart(before: boundaryTime, gate: gate, emit: emit) else {
            return OlderPage(entries: [], unreadable: [], boundary: nil)
        }
        // Ranges of about `part` rows, newest first, until `wanted` rows: the feed's density
        // swings by tens of times within a day, so each range is sized from the one before
        // it, and a range the first page shows far denser is narrowed before it is read.
        let wanted = pages * pageSize
        let part = Double(min(pages, 20) * pageSize)
        var span = Self.ticks(Double(max(WindowSchedule.minSpan, spanHint ?? 60 * Timestamp.ticksPerSecond)) * part / Double(pageSize))
        var end = boundaryTime
        // One controller for every range of the read: the width learnt in one goes on in the next.
        var controller = ConcurrencyController(pinned: parallel)
        var gathered = Rows()
        var rounds = 0
        while gathered.count < wanted, rounds < 40 {
            rounds += 1
            let start = Self.rangeStart(before: end, span: span, feedStart: floor)
            let head = try await fetchPage(PageQuery(offset: 0, limit: pageSize, includeMetadata: false, startTime: start, endTime: end),
                                           gate: gate, emit: emit)
            if head.rows >= pageSize, let s = start, let z = head.lastTime?.time, span > WindowSchedule.minSpan {
                let perRow = Double(max(1, z.ticks - s.ticks)) / Double(head.rows)
                if Double(span) / perRow > 2 * part {
                    span = max(WindowSchedule.minSpan, Self.ticks(perRow * part))
                    continue
                }
            }
            var rows = head.rows
            if head.rows > 0 {
                // The first page says how dense the range is where it starts: its windows go out at once.
                let upTo = head.rows < pageSize ? end.ticks : head.lastTime?.time.ticks ?? end.ticks
                let rate = start.map { Double(head.rows) / Double(max(1, upTo - $0.ticks)) }
                let read = try await collect(WindowSchedule(start: start, end: end, limit: pageSize, maxOffset: maxOffset,
                                                            includeMetadata: includeMetadata, rate: rate),
                                             firstAlone: rate == nil, controller: &controller, gate: gate, onRetry: onRetry)
                // Older rows go in front.
                gathered = read.appending(gathered)
                rows = read.count
            }
            guard let s = start else {
                return OlderPage(entries: gathered.entries, unreadable: gathered.unreadable, boundary: nil,
                                 nextSpan: Self.ticks(Double(span) / part * Double(pageSize)))
            }
            end = s
            // The next range: sized for `part` rows at this one's density (at most four times as wide).
            span = max(WindowSchedule.minSpan, Self.ticks(min(Double(span) * 4, Double(span) * part / Double(max(1, rows)))))
        }
        return OlderPage(entries: gathered.entries, unreadable: gathered.unreadable, boundary: FeedCursor.Start(startTime: end),
                         nextSpan: Self.ticks(Double(span) / part * Double(pageSize)))
    }

    /// Pages a read of the whole-feed search takes: many, so that the requests in flight
    /// outweigh the few each read makes alone; fewer with metadata, which makes rows large.
    public static func searchBatchPages(metadata: Bool) -> Int { metadata ? 10 : 100 }

    /// Whether any entry is older than `end`, and the time of the feed's first entry (`.some(nil)`:
    /// one is, its time unknown): a v2 range that would begin at or before it begins at the
    /// feed's start instead (no `startTime`).
    private func feedStart(before end: Timestamp, gate: RequestGate,
                           emit: @Sendable (FetchEvent) -> Void) async throws -> Timestamp?? {
        let first = try await fetchPage(PageQuery(offset: 0, limit: 1, includeMetadata: false, endTime: end), gate: gate, emit: emit)
        guard first.rows > 0 else { return nil }
        return .some(first.entries.first?.timestamp ?? first.unreadable.first?.timestamp)
    }

    /// Where the range of `span` ticks before `end` begins: nil, the feed's start, when that is
    /// no later than the feed's first entry.
    static func rangeStart(before end: Timestamp, span: Int64, feedStart: Timestamp?) -> Timestamp? {
        let start = end.adding(ticks: -span)
        if let first = feedStart, start <= first { return nil }
        return start
    }

    /// A span in ticks from a product in doubles, capped before it could overflow.
    static func ticks(_ value: Double) -> Int64 { Int64(max(1, min(Double(Int64.max / 8), value))) }

    /// Every page of `schedule`, through the pipeline, as one list (the unreadable elements
    /// placed among the entries of all its pages).
    private func collect<Schedule: PageSchedule>(_ schedule: Schedule, firstAlone: Bool, controller: inout ConcurrencyController,
                                                 gate: RequestGate, onRetry: @escaping @Sendable (ChangeFeedError, Int) -> Void)
        async throws -> Rows {
        let pages = Mutex(Rows())
        var progress = ProgressCounter(sequenceMode: client.apiVersion.isSequenceMode, latest: nil, base: 0, limit: pageSize, openEnded: false)
        var fetcher = self
        fetcher.maxRows = nil
        fetcher.onProgress = nil
        try await fetcher.pipeline(schedule, gate: gate, progress: &progress, firstAlone: firstAlone, controller: &controller) { event in
            switch event {
            case .page(let entries, let unreadable): pages.withLock { $0.append(Rows(entries, unreadable)) }
            case .retrying(let e, let attempt, _): onRetry(e, attempt)
            default: break
            }
        }
        return pages.withLock { $0 }
    }
}

/// Rows of several pages as one list, in feed order: the entries, and the elements that did not
/// decode, each placed among all the entries (`afterEntries`).
struct Rows: Sendable {
    private(set) var entries: [ChangeFeedEntry]
    private(set) var unreadable: [UnreadableEntry]

    init(_ entries: [ChangeFeedEntry] = [], _ unreadable: [UnreadableEntry] = []) {
        self.entries = entries
        self.unreadable = unreadable
    }

    var count: Int { entries.count + unreadable.count }

    /// `later`'s rows after these.
    mutating func append(_ later: Rows) {
        let before = entries.count
        unreadable += later.unreadable.map { u in var u = u; u.afterEntries += before; return u }
        entries += later.entries
    }

    /// These rows, then `later`'s.
    func appending(_ later: Rows) -> Rows {
        var all = self
        all.append(later)
        return all
    }
}
