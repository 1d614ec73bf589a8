import FeedModel

/// Which pages a fetcher run requests, in which order they are handed over, and when the run is
/// done. The pipeline (`Fetcher.pipeline`) owns the requests in flight and the reorder buffer;
/// a schedule owns the plan. Requests are numbered by the pipeline in the order they are sent
/// (`key`); pages are handed over in the schedule's order, which need not be the same.
protocol PageSchedule: Sendable {
    /// The request numbered `key`, or nil when nothing more can be asked for now (more may be
    /// possible after an answer or a hand-over).
    mutating func nextRequest(key: Int) -> PageQuery?
    /// The key of the page to hand over next; nil when it has not been requested yet.
    var nextKey: Int? { get }
    /// Request `key` was answered with `rows` elements (in any order).
    mutating func answered(key: Int, rows: Int)
    /// Request `key` belongs to a part of the plan already finished: its answer is dropped.
    /// True once per such key.
    mutating func drop(_ key: Int) -> Bool
    /// The page `nextKey` was handed over. Returns what the hand-over means for the run.
    mutating func handedOver(_ page: Fetcher.PageResult) -> HandOver
    /// Everything planned has been handed over.
    var isComplete: Bool { get }
}

/// What one handed-over page means for the run.
struct HandOver: Sendable {
    /// Emit the page (v1 does not emit an empty sequence window: it is a gap).
    var emit = true
    /// v1: every sequence up to this one has been read.
    var readThrough: Int64?
    /// Requests made unnecessary by this page (a window that ended before them): their
    /// answers, buffered or still to come, are dropped.
    var discarded: [Int] = []
}

/// v1 and v1.0-prerelease: the sequence windows `(base + k·limit, base + (k+1)·limit]` up to
/// the sequence `/latest` reported, handed over in order. An empty window is a gap, not the end.
struct SequenceSchedule: PageSchedule {
    let base: Int64
    let limit: Int
    let windows: Int
    let includeMetadata: Bool
    /// The last sequence to read (what `/latest` reported).
    let last: Int64
    /// The last window ends at `last` (a range of the feed) rather than a whole `limit` past
    /// the window before (a run, which takes the rows that committed past `/latest` meanwhile).
    let exactEnd: Bool
    private var next = 0

    init(after base: Int64, latest: Int64?, limit: Int, includeMetadata: Bool, exactEnd: Bool = false) {
        self.base = base
        self.limit = limit
        self.includeMetadata = includeMetadata
        self.exactEnd = exactEnd
        last = latest ?? base
        let span = max(0, (latest ?? 0) - base)
        windows = Int((span + Int64(limit) - 1) / Int64(limit))
    }

    mutating func nextRequest(key: Int) -> PageQuery? {
        guard key < windows else { return nil }
        let offset = base + Int64(key) * Int64(limit)
        let limit = exactEnd ? Int(min(Int64(self.limit), last - offset)) : self.limit
        return PageQuery(offset: offset, limit: limit, includeMetadata: includeMetadata)
    }

    var nextKey: Int? { next < windows ? next : nil }
    mutating func answered(key: Int, rows: Int) {}
    mutating func drop(_ key: Int) -> Bool { false }

    mutating func handedOver(_ page: Fetcher.PageResult) -> HandOver {
        let through = min(last, base + Int64(next + 1) * Int64(limit))
        next += 1
        return HandOver(emit: page.rows > 0, readThrough: through)
    }

    var isComplete: Bool { next >= windows }
}

/// v2, the settled part of a run: `[start, end)` read in **small time windows**, so that no
/// request skips more than `maxOffset` rows. The service's SQL reads `offset + limit` rows for
/// every request (changefeed-api.md 1.5: "keep windows small"): one window paged by `offset`
/// over a whole feed makes the millionth row cost a million.
///
/// - The first request is one page from `start` over the whole range. A short page is the whole
///   range; a full one tells how dense the feed is where it starts.
/// - After it, windows follow one another, each sized for about `maxOffset / 2` rows at the
///   density the last window showed, and each paged by `offset` (several pages and several
///   windows in flight at once). A short page ends its window.
/// - A window denser than expected, whose page at the last offset allowed comes back full,
///   goes on from the timestamp `t` of the last row read, skipping only the rows already read
///   at `t` (the windows are half-open, `[start, end)`, so the rows at `t` are the only ones
///   read twice by position, and those are skipped by count). Only more than `maxOffset` rows
///   sharing one timestamp, to the 100 ns, could make an offset go past the bound.
///
/// The rows are settled (see `FeedCursor`), so no row appears inside a window while it is read,
/// and windows can be read in any order; they are handed over in feed order.
struct WindowSchedule: PageSchedule {
    let limit: Int
    let maxOffset: Int64
    let includeMetadata: Bool
    /// The exclusive end of the range.
    let end: Timestamp
    /// The rows a window is sized for.
    let targetRows: Double

    /// A window being read: `[start, end)`, skipping `skip` rows at its start.
    struct Window: Sendable {
        /// nil: from the feed's first entry (no `startTime`).
        var start: Timestamp?
        var skip: Int64
        var end: Timestamp
        /// Pages this window may request (offsets up to `maxOffset`), and may request now.
        var maxPages: Int
        var allowed: Int
        /// The key of each page requested, by page number.
        var keys: [Int] = []
        var handed = 0
        var rows = 0
        /// Where a reader by time goes on after the rows handed over (`Fetcher.TimeResume`).
        var resume: Fetcher.TimeResume
        /// The window ends where the plan ends (`plannedTo`): it may be cut shorter.
        var isLast: Bool
    }

    /// Windows not yet fully handed over, in feed order.
    private(set) var windows: [Window]
    /// The end of the last window planned.
    private(set) var plannedTo: Timestamp
    /// Rows per tick where the feed was last read; nil until the first page.
    private(set) var rate: Double?
    /// The duration of the last window planned, in ticks.
    private var lastSpan: Int64 = 0
    /// Keys of requests whose answers are no longer wanted.
    private var unwanted: Set<Int> = []

    /// The shortest window: 1 ms.
    static let minSpan: Int64 = 10_000

    /// `rate`: rows per tick the caller already knows near `start` (from a page it read there):
    /// the windows are planned from `start` at once, with no first page alone to measure it.
    init(start: Timestamp?, end: Timestamp, limit: Int, maxOffset: Int64, includeMetadata: Bool, rate: Double? = nil) {
        self.limit = limit
        self.maxOffset = max(0, maxOffset)
        self.includeMetadata = includeMetadata
        self.end = end
        targetRows = max(Double(limit), Double(self.maxOffset) / 2)
        if let start, let rate, rate > 0, start < end {
            windows = []
            plannedTo = start
            self.rate = rate
        } else {
            windows = [Window(start: start, skip: 0, end: end, maxPages: 1, allowed: 1, resume: .init(start: start), isLast: true)]
            plannedTo = end
        }
    }

    /// Pages a window skipping `skip` rows may request without an offset past `maxOffset`
    /// (one, past it, when more than `maxOffset` rows share its start's timestamp).
    private func maxPages(skip: Int64) -> Int {
        skip > maxOffset ? 1 : Int((maxOffset - skip) / Int64(limit)) + 1
    }

    /// Pages to request at first for a window of `span` ticks: what the density says it holds,
    /// plus the short page that ends it.
    private func expectedPages(span: Int64, maxPages: Int) -> Int {
        let rows = (rate ?? 0) * Double(max(0, span))
        return max(1, min(maxPages, Int(rows / Double(limit)) + 1))
    }

    /// How long the next window is: `targetRows` at the density last seen, at least 1 ms, and
    /// at most 8 times the last one (an empty window says little about the next).
    private func nextSpan() -> Int64 {
        var span = Double(Int64.max / 4)
        if let rate, rate > 0 { span = targetRows / rate }
        if lastSpan > 0 { span = min(span, Double(lastSpan) * 8) }
        return max(Self.minSpan, Int64(min(span, Double(Int64.max / 4))))
    }

    private func query(_ w: Window, page: Int) -> PageQuery {
        PageQuery(offset: w.skip + Int64(page) * Int64(limit), limit: limit, includeMetadata: includeMetadata,
                  startTime: w.start, endTime: w.end)
    }

    mutating func nextRequest(key: Int) -> PageQuery? {
        for i in windows.indices where windows[i].keys.count < windows[i].allowed {
            windows[i].keys.append(key)
            return query(windows[i], page: windows[i].keys.count - 1)
        }
        // Every page wanted so far is asked for: plan the next window.
        guard rate != nil, plannedTo < end else { return nil }
        let from = plannedTo
        let span = nextSpan()
        let to = from.ticks < end.ticks - span ? from.adding(ticks: span) : end
        lastSpan = to.ticks - from.ticks
        for i in windows.indices { windows[i].isLast = false }
        let pages = maxPages(skip: 0)
        var w = Window(start: from, skip: 0, end: to, maxPages: pages,
                       allowed: expectedPages(span: lastSpan, maxPages: pages), resume: .init(start: from), isLast: true)
        w.keys = [key]
        windows.append(w)
        plannedTo = to
        return query(w, page: 0)
    }

    var nextKey: Int? {
        guard let w = windows.first, w.handed < w.keys.count else { return nil }
        return w.keys[w.handed]
    }

    mutating func answered(key: Int, rows: Int) {
        guard rows >= limit else { return }
        // A full page: the window may hold one more.
        for i in windows.indices where windows[i].keys.last == key && windows[i].allowed < windows[i].maxPages {
            windows[i].allowed += 1
        }
    }

    mutating func drop(_ key: Int) -> Bool { unwanted.remove(key) != nil }

    mutating func handedOver(_ page: Fetcher.PageResult) -> HandOver {
        var w = windows.removeFirst()
        w.handed += 1
        w.rows += page.rows
        w.resume.advance(over: page)
        if rate == nil, let first = page.entries.first?.timestamp, let last = page.lastTime?.time {
            // The first page: how dense the feed is where the range starts.
            rate = Double(page.rows) / Double(max(1, last.ticks - first.ticks))
        }
        if page.rows < limit {
            // The end of the window: how dense it was.
            if let start = w.start {
                rate = Double(w.rows) / Double(max(1, w.end.ticks - start.ticks))
            }
            unwanted.formUnion(w.keys[w.handed...])
            return HandOver(discarded: Array(w.keys[w.handed...]))
        }
        guard w.handed == w.maxPages else {
            windows.insert(w, at: 0)
            return HandOver()
        }
        // Full at the last offset allowed: go on from the last timestamp read.
        let from = w.resume.start
        if let from, let start = w.start, from > start {
            rate = Double(w.rows) / Double(from.ticks - start.ticks)
        }
        // A shorter window from there only when every row read is known to be before its end:
        // the last row's time is known and the reader goes on from it.
        var to = w.end
        if w.isLast, let from, page.endsAtKnownTime, from == page.lastTime?.time {
            let span = nextSpan()
            if from.ticks < w.end.ticks - span { to = from.adding(ticks: span) }
            lastSpan = to.ticks - from.ticks
            plannedTo = to
        }
        let skip = w.resume.skip
        let pages = maxPages(skip: skip)
        let span = from.map { to.ticks - $0.ticks } ?? 0
        let next = Window(start: from, skip: skip, end: to, maxPages: pages,
                          allowed: expectedPages(span: span, maxPages: pages), resume: w.resume, isLast: w.isLast)
        windows.insert(next, at: 0)
        return HandOver()
    }

    var isComplete: Bool { windows.isEmpty && plannedTo >= end }
}
