/// Where the next read of the feed must start so that nothing is missed, and which rows a read
/// repeats. Pure; shared by the UI (restarts, follow polls, the saved position) and `feed`.
///
/// Rows become visible when their transaction commits, not in sequence or timestamp order
/// (changefeed-api.md 1.5): a reader at the tail can see sequence 505 before 503 exists, and in
/// v2 a row can appear with a timestamp earlier than rows already read. The cursor rests on one
/// assumption, the **late window** `W` (`--late-window`, default 2 minutes): a row is visible at
/// most `W` after its timestamp. From it:
///
/// - A run that starts when the newest timestamp is `M` (from `/changefeed/latest`) sees every
///   row with a timestamp up to `M − W` that exists at all; those rows are *settled*.
/// - **v2** (time order): the next run starts at `min(frontier, M − W)` (never before the
///   window's own start), where `frontier` is the time the last run read up to, and every
///   re-read row is recognised by its sequence.
/// - **v1** (sequence order): a late row can only fill a gap in the sequences read. A gap
///   between rows `a` and `b` stays *open* while either neighbour is newer than `M − W`; the next
///   run starts after the lower neighbour of the lowest open gap (or at the frontier).
///
/// `M` is taken at the start of a run, so the rule holds however long a run takes. What the
/// cursor keeps is bounded by the rows of the unsettled tail (about `W` worth of rows).
public struct FeedCursor: Sendable, Equatable {
    public enum Order: Sendable, Equatable {
        /// v1 and v1.0-prerelease.
        case sequence
        /// v2.
        case time
    }

    /// Where a run starts: v1 reads after `afterSequence`; v2 reads from `startTime` (nil: the
    /// feed's first entry). A v2 run re-reads the rows at `startTime` itself; the readers
    /// recognise them by sequence.
    public struct Start: Sendable, Equatable, CustomStringConvertible {
        public var afterSequence: Int64
        public var startTime: Timestamp?
        public init(afterSequence: Int64 = 0, startTime: Timestamp? = nil) {
            self.afterSequence = afterSequence; self.startTime = startTime
        }
        public static let beginning = Start()
        public var description: String {
            startTime.map { "from \($0.iso)" } ?? "after sequence \(afterSequence)"
        }
    }

    public let order: Order
    /// `W` in 100-ns ticks.
    public var lateWindowTicks: Int64
    /// Never read before this (the position the session started from, or the window start).
    public private(set) var floor: Start

    /// The newest timestamp `/latest` reported when the current (or last) run started.
    public private(set) var horizon: Timestamp?
    /// How far the current (or last) run has read, in feed order: v1 the last sequence window
    /// read; v2 the timestamp of the last row read. `reachedEnd`: the run read to the end.
    public private(set) var frontierSequence: Int64
    public private(set) var frontierTime: Timestamp?
    public private(set) var reachedEnd = false

    /// Rows read that a later run may meet again or that bound an open gap, by sequence:
    /// sequence → ticks (`Int64.min` for an unknown time). v1 keeps one settled row as the
    /// anchor of the first open gap; v2 keeps the rows at or after `settled`.
    private var recent: [Int64: Int64] = [:]
    /// v1: `recent`'s sequences in order (the gap scan walks them).
    private var recentOrder: [Int64] = []
    /// v2 without a newest time: prune again once this many rows are kept.
    private var pruneAt = 1_024

    /// - Parameters:
    ///   - floor: where the session starts (a saved position, `--from`, `--start-time`).
    ///   - lateWindow: seconds a row may take to become visible after its timestamp.
    public init(order: Order, floor: Start = .beginning, lateWindow: Double = FeedCursor.defaultLateWindow) {
        self.order = order
        self.floor = floor
        lateWindowTicks = Int64(lateWindow * Double(Timestamp.ticksPerSecond))
        frontierSequence = floor.afterSequence
        frontierTime = floor.startTime
        if order == .sequence {
            // The start is the lower neighbour of the first gap (as if a row stood there).
            recent[floor.afterSequence] = Int64.min
            recentOrder = [floor.afterSequence]
        }
    }

    public static let defaultLateWindow: Double = 120

    /// Rows older than this (given what `/latest` said at the start of the run) have all been
    /// visible since before the run started.
    ///
    /// v2, when no run has had a newest time yet (`/latest`'s newest row did not decode, time
    /// included): the newest time read so far stands in for it, and stays once the run ends.
    /// Without it, the next run would take `/latest`'s time, which can be older than what
    /// this run read, and start before rows already dropped as settled: they would come twice.
    public var settled: Timestamp? {
        (horizon ?? (order == .time ? frontierTime : nil)).map { $0.adding(ticks: -lateWindowTicks) }
    }

    // MARK: - Where to read next

    /// Where the next run starts: nothing before it can still appear, nothing after it was
    /// skipped. Also the position to save for the next session.
    public var nextStart: Start {
        switch order {
        case .sequence:
            var after = frontierSequence
            if let gap = firstOpenGap { after = Swift.min(after, gap) }
            return Start(afterSequence: Swift.max(after, floor.afterSequence))
        case .time:
            var start: Timestamp?
            if reachedEnd {
                start = settled ?? frontierTime
            } else {
                start = frontierTime.map { t in settled.map { Swift.min(t, $0) } ?? t }
            }
            if let f = floor.startTime { start = start.map { Swift.max($0, f) } ?? f }
            return Start(afterSequence: floor.afterSequence, startTime: start)
        }
    }

    /// v1: the lower neighbour of the lowest gap that a late row may still fill.
    private var firstOpenGap: Int64? {
        guard recentOrder.count >= 2 else { return nil }
        for k in 0..<(recentOrder.count - 1) where isOpenGap(recentOrder[k], recentOrder[k + 1]) {
            return recentOrder[k]
        }
        return nil
    }

    /// A gap between two rows read is open while a row may still appear in it: while either
    /// neighbour is newer than `settled` (an unknown time counts as new).
    private func isOpenGap(_ a: Int64, _ b: Int64) -> Bool {
        guard b - a > 1 else { return false }
        guard let s = settled else { return true }
        let newest = Swift.max(recent[a] ?? Int64.min, recent[b] ?? Int64.min)
        return newest == Int64.min || newest > s.ticks
    }

    // MARK: - What a run reports

    /// A run starts at `start`, having asked `/latest` (nil: the feed is empty).
    public mutating func runStarted(at start: Start, latest: Timestamp?) {
        // What was read stands in for a newest time none of the runs had (see `settled`).
        if order == .time, horizon == nil { horizon = frontierTime }
        if let latest { horizon = Swift.max(horizon ?? latest, latest) }
        reachedEnd = false
        switch order {
        case .sequence: frontierSequence = start.afterSequence
        case .time: frontierTime = start.startTime
        }
        prune()
    }

    /// A row was read (in the run's order). Returns false when this sequence was read before
    /// within the unsettled tail: a repeat, which a stream must not print again.
    @discardableResult
    public mutating func read(sequence: Int64, timestamp: Timestamp?) -> Bool {
        let ticks = timestamp?.ticks ?? Int64.min
        if order == .time, let t = timestamp { frontierTime = Swift.max(frontierTime ?? t, t) }
        if recent[sequence] != nil {
            if ticks != Int64.min { recent[sequence] = ticks }
            return false
        }
        switch order {
        case .sequence:
            // Below the anchor: settled long ago, never re-read; nothing to keep.
            if let first = recentOrder.first, sequence < first { return true }
            recent[sequence] = ticks
            if let last = recentOrder.last, sequence > last {
                recentOrder.append(sequence)
            } else {
                recentOrder.insert(sequence, at: lowerBound(sequence))
            }
            pruneSequencePrefix()
        case .time:
            // Settled rows are never read again: only the tail is kept.
            if let s = settled, ticks != Int64.min, ticks < s.ticks { return true }
            recent[sequence] = ticks
            // Without a newest time the settled point moves with what is read: let the rows it
            // passed go now and then, so a long run keeps about a late window of rows.
            if horizon == nil, recent.count >= pruneAt {
                prune()
                pruneAt = Swift.max(1_024, 2 * recent.count)
            }
        }
        return true
    }

    /// v1: the sequence windows up to `through` have been read (empty windows included).
    public mutating func readThrough(sequence through: Int64) {
        frontierSequence = Swift.max(frontierSequence, through)
        pruneSequencePrefix()
    }

    /// The run read to the end of the feed (or of its window).
    public mutating func runFinished() {
        reachedEnd = true
        if order == .time, frontierTime == nil { frontierTime = horizon }
        // No newest time came with the run: what it read up to stands in (see `settled`), so
        // that where the next runs start never goes back before rows dropped as settled.
        if order == .time, horizon == nil { horizon = frontierTime }
        prune()
    }

    /// The reader now also holds rows from `start` on, older than its floor (the UI loaded older
    /// entries before the list's first): the floor moves back to it, so that a row read there
    /// that is not yet settled, or a gap among them, is read again by the next run. Read such
    /// rows newest first: a row read below rows not read yet would see them as a gap, and
    /// could close it as settled.
    public mutating func lowerFloor(to start: Start) {
        switch order {
        case .sequence:
            guard start.afterSequence < floor.afterSequence else { return }
            floor = Start(afterSequence: start.afterSequence)
            // The new start stands as the lower neighbour of the first gap, as at `init`.
            recent[start.afterSequence] = Int64.min
            recentOrder.insert(start.afterSequence, at: 0)
        case .time:
            guard let t = start.startTime, floor.startTime.map({ t < $0 }) ?? false else { return }
            floor = Start(afterSequence: floor.afterSequence, startTime: t)
        }
    }

    /// Rows kept (for `--debug` figures and tests of the bound).
    public var keptRows: Int { recent.count }


    // MARK: - Pruning

    private mutating func prune() {
        switch order {
        case .sequence:
            pruneSequencePrefix()
        case .time:
            guard let s = nextStart.startTime ?? settled else { return }
            recent = recent.filter { $0.value == Int64.min || $0.value >= s.ticks }
        }
    }

    /// v1: drops rows before the first open gap, keeping its lower neighbour as the anchor. Only
    /// what the current run has read past (its frontier) goes: a row ahead of it will be read
    /// again (and must be known as a repeat), and a gap counts as closed only once a run that
    /// began after its rows settled has read through it.
    private mutating func pruneSequencePrefix() {
        guard order == .sequence else { return }
        var drop = 0
        while drop + 1 < recentOrder.count {
            let a = recentOrder[drop], b = recentOrder[drop + 1]
            // (The last window of a run can hold rows past what /latest said, which committed
            // meanwhile: the frontier stays at /latest, and those rows wait for the next run.)
            let covered = b <= frontierSequence
            guard covered, !isOpenGap(a, b) else { break }
            drop += 1
        }
        guard drop > 0 else { return }
        for s in recentOrder[..<drop] { recent[s] = nil }
        recentOrder.removeFirst(drop)
    }

    private func lowerBound(_ s: Int64) -> Int {
        var lo = 0, hi = recentOrder.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if recentOrder[mid] < s { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }
}
