import Foundation
import FeedModel

/// What the fetcher is doing.
public enum FetchPhase: Sendable, Equatable {
    /// Not started yet (waiting for a token).
    case waiting
    /// Pages are being requested.
    case fetching
    /// At the end of the feed; nothing in flight.
    case idle
    /// Stopped by an error that retrying cannot fix.
    case stopped
}

/// Progress of the background fetcher, as the status line shows it.
public struct FetchState: Sendable, Equatable {
    public var phase: FetchPhase = .waiting
    public var pagesLoaded = 0
    /// The highest sequence the service reports (`/changefeed/latest`), when known.
    public var latestSequence: Int64?
    /// Where the current run started (the cursor hears of it with `/latest`'s answer).
    public var runStart: FeedCursor.Start = .beginning
    /// Entries already in the list that a re-read found again and updated in place.
    public var rewritten = 0
    /// When the last run reached the end of the feed (follow mode polls from there).
    public var caughtUpAt: Date?
    /// The current run re-reads entries already loaded, to update their states; how many rows
    /// there were when it started.
    public var rereading = false
    public var rereadFrom = 0
    /// The re-read asked for with `M`, to load every entry's metadata (patient names, IDs,
    /// modality) for the filter.
    public var loadingNames = false
    /// The last error, with what to do about it.
    public var problem: Problem?
    /// Set while a failed request is being retried.
    public var retryAttempt: Int?
    /// The fetcher stopped for want of an accepted token: a new token restarts it.
    public var stoppedForToken = false
    /// The latest rate and completion the fetcher reported.
    public var rate: FetchRate?

    public init() {}
}

/// The whole state of the app. Pure data: `update` changes it, views draw it.
public struct AppState: Sendable, Equatable {
    public var serviceURL: String
    public var apiVersion: APIVersion
    /// `true` when the app runs against the built-in emulator.
    public var isDemo: Bool
    /// Rows and columns of the terminal.
    public var screenRows: Int
    public var screenCols: Int
    /// The clock as of the last event; time is injected, never read, so tests are exact.
    public var now: Date
    /// The zone timestamps are shown in (local by default).
    public var timeZone: TimeZone

    public var token = TokenState()
    public var fetch = FetchState()
    /// The change-feed entries loaded so far, in feed order (compact: see `EntryStore`).
    public private(set) var entries: EntryStore
    /// Where the next read must start so that nothing is missed (restarts, follow polls, the
    /// saved position): see `FeedCursor`.
    public private(set) var cursor: FeedCursor
    /// Position of the selected row in the list as shown (filtered or not).
    public var selected = 0
    /// Position of the first row on screen.
    public var top = 0
    /// The list filter (`/`), while one is typed or kept.
    public var filter: FilterState?
    /// Follow mode (`f`): poll for new entries and stay at the bottom.
    public var follow = FollowState()
    /// How much of the feed the list holds and how it grows: newest first, older entries as
    /// the view comes near the start, jumps (see `Reach`).
    public var reach = Reach()
    /// The `:` prompt (go to a sequence or a time), while it is typed.
    public var seekPrompt: String?
    /// The filter across the whole feed (`F`), while it runs or its results are kept.
    public var search: FeedSearch?
    /// The detail view of one entry (Enter), while open.
    public var detail: DetailState?
    /// Metadata of entries opened (or loaded with pages), most recent last; bounded.
    public var metadataCache = MetadataCache()
    /// Load metadata with every page (`--metadata`).
    public var metadataWithPages = false
    /// The configuration profile shown (nil without a configuration file), whether it is
    /// production (the header turns red), every profile, and the picker (`p`) while open.
    public var profileName: String?
    public var production = false
    public var profiles: [String] = []
    /// The highlighted row of the profile picker, while it is open.
    public var profilePicker: Int?
    /// Rows the filter examines per step (see `filterNewRows`).
    public var filterChunk = 25_000
    /// The help overlay (`?`), while open, and how far it is scrolled.
    public var helpOpen = false
    public var helpTop = 0
    /// The zone `t` switches back to from UTC (the local zone).
    public var localZone: TimeZone = .current
    /// The end of the v2 window asked for, if any (follow mode needs an open window).
    public var endTime: Timestamp?
    /// A one-line message for the status line (what a key did); it goes away after
    /// `Layout.flashSeconds`.
    public var flash: String? {
        didSet { flashSince = flash == nil ? nil : now }
    }
    /// When the flash appeared.
    public private(set) var flashSince: Date?
    /// The sign-in dialog, while it is open.
    public var signIn: SignInState?
    /// The activity timeline under the header: the probes' sample, its cursor, its view.
    public var timeline = TimelineState()
    public var shouldQuit = false

    public init(serviceURL: String, apiVersion: APIVersion, isDemo: Bool = false,
                screenRows: Int = 24, screenCols: Int = 80, now: Date, timeZone: TimeZone = .current) {
        self.serviceURL = serviceURL; self.apiVersion = apiVersion; self.isDemo = isDemo
        self.screenRows = screenRows; self.screenCols = screenCols; self.now = now; self.timeZone = timeZone
        let order: FeedCursor.Order = apiVersion.isSequenceMode ? .sequence : .time
        entries = EntryStore(order: order)
        cursor = FeedCursor(order: order)
    }

    /// Where this session started reading the feed (a position saved by an earlier run, the
    /// window asked for, or the start).
    public private(set) var origin: FeedCursor.Start = .beginning

    /// Sets where reading starts and how long rows may take to appear (`--late-window`);
    /// before anything is loaded.
    public mutating func startReading(from origin: FeedCursor.Start, lateWindow: TimeInterval = FeedCursor.defaultLateWindow) {
        self.origin = origin
        cursor = FeedCursor(order: cursor.order, floor: origin, lateWindow: lateWindow)
    }

    /// Where a restarted fetcher continues, and where a follow poll starts: from what may
    /// still change (see `FeedCursor`); whatever it reads again is recognised by sequence.
    public var resumePoint: FeedCursor.Start { cursor.nextStart }

    /// The position to save for the next session: nothing before it can still appear.
    public var savePoint: FeedCursor.Start? {
        entries.isEmpty ? nil : cursor.nextStart
    }

    /// Starts the list again at `origin` (a jump): no rows, reading from there on. The filter
    /// keeps its text and tests the new rows as they come; an open entry closes.
    public mutating func restart(at origin: FeedCursor.Start) {
        let lateWindow = Double(cursor.lateWindowTicks) / Double(Timestamp.ticksPerSecond)
        entries = EntryStore(order: cursor.order)
        startReading(from: origin, lateWindow: lateWindow)
        selected = 0
        top = 0
        detail = nil
        reach.lastRead = nil
        fetch.caughtUpAt = nil
        fetch.rereading = false
        if var f = filter {
            f.matches = []
            f.scanned = 0
            f.candidates = nil
            f.candidateCursor = 0
            f.anchor = nil
            filter = f
        }
    }

    /// Rows just before the list's first (older entries): they go in front, the list now
    /// begins at `boundary` (nil: at the feed's first entry), and the selection, the filter and
    /// the open entry stay on the rows they were on. A row listed already is not added again.
    /// Returns how many rows were added.
    @discardableResult
    public mutating func prepend(_ page: [ChangeFeedEntry], unreadable: [UnreadableEntry], boundary: FeedCursor.Start?,
                                 summary: (ChangeFeedEntry) -> RowSummary = { _ in RowSummary() }) -> Int {
        let newOrigin = boundary ?? .beginning
        origin = newOrigin
        cursor.lowerFloor(to: newOrigin)
        var front = EntryStore(order: entries.order)
        var read: [(Int64, Timestamp?)] = []
        walkPage(page, unreadable, entry: { _, e in
            guard entries.position(ofSequence: e.sequence) == nil else { return }
            read.append((e.sequence, e.timestamp))
            front.append(e, summary: summary(e))
        }, unreadable: { u, _ in
            if let seq = u.sequence {
                guard entries.position(ofSequence: seq) == nil else { return }
                read.append((seq, u.timestamp))
            }
            front.insert(unreadable: u, at: front.count)
        })
        // Newest first: each row then lands next to rows already known above it, so a gap
        // the cursor sees among them is one the page has (read oldest first, the rows of the
        // page still to come would look like a gap, and a settled one could be closed).
        for (sequence, time) in read.reversed() { cursor.read(sequence: sequence, timestamp: time) }
        let n = front.count
        guard n > 0 else { return 0 }
        entries.prepend(front)
        if var f = filter, let query = f.query {
            let shifted = f.matches.map { $0 + Int32(n) }
            let matcher = entries.matcher(for: query)
            let fresh = (0..<n).filter { matcher.matches($0) }.map { Int32($0) }
            f.matches = fresh + shifted
            f.candidates = f.candidates.map { $0.map { $0 + Int32(n) } }
            f.anchor = f.anchor.map { $0 + n }
            f.scanned += n
            filter = f
            selected += fresh.count
            top += fresh.count
        } else {
            if var f = filter {
                f.anchor = f.anchor.map { $0 + n }
                f.scanned += n
                filter = f
            }
            selected += n
            top += n
        }
        if var d = detail {
            d.row += n
            detail = d
        }
        return n
    }

    /// Keeps only the store rows in `range` (the rest are far from the view, and over the memory
    /// budget): the selection, the filter and the open entry stay on their rows. The caller
    /// says where the list now begins or ends (`Reach`).
    mutating func keepRows(_ range: Range<Int>) {
        let lo = range.lowerBound
        entries = entries.keeping(range)
        if var f = filter, f.query != nil {
            let before = f.matches.prefix { Int($0) < lo }.count
            f.matches = f.matches.filter { range.contains(Int($0)) }.map { $0 - Int32(lo) }
            f.candidates = f.candidates.map { $0.filter { range.contains(Int($0)) }.map { $0 - Int32(lo) } }
            f.candidateCursor = min(f.candidateCursor, f.candidates?.count ?? 0)
            f.anchor = f.anchor.flatMap { range.contains($0) ? $0 - lo : nil }
            f.scanned = max(0, min(f.scanned, range.upperBound) - lo)
            filter = f
            selected = max(0, selected - before)
            top = max(0, top - before)
        } else {
            if var f = filter {
                f.anchor = f.anchor.flatMap { range.contains($0) ? $0 - lo : nil }
                f.scanned = max(0, min(f.scanned, range.upperBound) - lo)
                filter = f
            }
            selected = max(0, selected - lo)
            top = max(0, top - lo)
        }
        if let d = detail {
            if range.contains(d.row) { detail?.row = d.row - lo } else { detail = nil }
        }
        selected = min(selected, max(0, visibleCount - 1))
    }

    /// Starts the cursor again after `point` (the newest rows were dropped: the next read of
    /// newer rows goes on from the list's last row).
    mutating func restartCursor(after point: FeedCursor.Start) {
        let lateWindow = Double(cursor.lateWindowTicks) / Double(Timestamp.ticksPerSecond)
        cursor = FeedCursor(order: cursor.order, floor: point, lateWindow: lateWindow)
    }

    /// Where the list begins after older rows were dropped.
    mutating func moveOrigin(to point: FeedCursor.Start) { origin = point }

    /// Rows the list shows on screen: the screen's list rows, less the row that says older
    /// entries come before the list's first.
    public var listRows: Int {
        max(1, Layout.listRows(screenRows: screenRows) - (showsOlderRow ? 1 : 0))
    }

    /// The list's first row says what comes before it: older entries not loaded yet.
    public var showsOlderRow: Bool { reach.olderExists || reach.loadingOlder }

    /// Takes entries in the order given (tests; the fetcher's pages go through `merge`).
    public mutating func append(_ new: [ChangeFeedEntry]) {
        merge(new, unreadable: [])
    }

    /// Takes a page into the list. Each row goes to its place in feed order (by sequence in
    /// v1, by time then sequence in v2): normally the end, but a row that committed late goes
    /// where it belongs and the rows after it move down (the selection, the filter and the
    /// open entry stay on the rows they were on). An entry whose sequence is already listed (a
    /// re-read, an overlapping poll) updates that row's state in place instead of being added
    /// again, so nothing is ever listed twice; an element that did not decode becomes a marked
    /// row where it stood in the page, and a later good read of it replaces it. The cursor
    /// hears of every row. Returns how many rows were added.
    ///
    /// With `inferStates` (entries that arrive after the feed was read to the end: follow mode),
    /// a new entry also rewrites the state of its instance's older rows, by the service's rules,
    /// so the list does not show a deleted instance as current until the next re-read.
    @discardableResult
    public mutating func merge(_ page: [ChangeFeedEntry], unreadable: [UnreadableEntry], inferStates: Bool = false,
                               summary: (ChangeFeedEntry) -> RowSummary = { _ in RowSummary() }) -> Int {
        let before = entries.count
        /// The row of the page's previous element: where an element without a place of its own goes.
        var previous: Int?
        walkPage(page, unreadable, entry: { _, e in
            cursor.read(sequence: e.sequence, timestamp: e.timestamp)
            if let row = entries.position(ofSequence: e.sequence) {
                if !entries.isUnreadable(at: row) {
                    if entries.state(at: row) != e.state {
                        entries.setState(e.state, at: row)
                        fetch.rewritten += 1
                    }
                    let s = summary(e)
                    if !s.isEmpty { entries.setSummary(s, at: row) }
                    previous = row
                    return
                }
                // A good read of an element that did not decode before.
                removeRow(at: row)
            }
            if inferStates {
                // The service rewrites the state of an instance's older rows when it changes:
                // a delete makes them all Deleted; an update or a new version, Replaced.
                let older: ChangeFeedState = e.action == .delete ? .deleted : .replaced
                for row in entries.rows(ofInstance: e.sopInstanceUid, series: e.seriesInstanceUid)
                where entries.sequence(at: row) < e.sequence && entries.state(at: row) != older {
                    entries.setState(older, at: row)
                    fetch.rewritten += 1
                }
            }
            let at = entries.insertionPoint(of: e)
            entries.insert(e, at: at, summary: summary(e))
            rowInserted(at: at)
            previous = at
        }, unreadable: { u, next in
            previous = place(u, after: previous, nextInPage: next < page.count ? page[next] : nil)
        })
        let added = entries.count - before
        filterNewRows()
        return added
    }

    /// Puts an element that did not decode where it belongs (returns its row): by its sequence
    /// and time when those could be read, else right after the page's previous element (or
    /// before the next one). One met again (a re-read) is not listed twice.
    private mutating func place(_ u: UnreadableEntry, after previous: Int?, nextInPage: ChangeFeedEntry?) -> Int {
        if let seq = u.sequence {
            cursor.read(sequence: seq, timestamp: u.timestamp)
            if let row = entries.position(ofSequence: seq) {
                // Listed already: a good row stays as it is; an unreadable one keeps the newest reason.
                entries.setReason(u.reason, at: row)
                // v2, no time: the page says where it stands now, after its previous element
                // (rows that committed late may have come in around it since it was placed).
                guard entries.order == .time, u.timestamp == nil, entries.isUnreadable(at: row),
                      let previous, previous != row, previous + 1 != row else { return row }
                removeRow(at: row)
                let at = previous < row ? previous + 1 : previous
                entries.insert(unreadable: u, at: at)
                rowInserted(at: at)
                return at
            }
        }
        var at: Int
        if let seq = u.sequence, let time = u.timestamp ?? (entries.order == .sequence ? Timestamp(ticks: 0) : nil) {
            at = entries.insertionPoint(sequence: seq, ticks: time.ticks)
        } else if let previous {
            at = previous + 1
        } else if let next = nextInPage {
            at = entries.position(ofSequence: next.sequence) ?? entries.insertionPoint(of: next)
        } else {
            at = entries.count
        }
        if u.sequence == nil {
            // The same element met again sits right there.
            var k = at
            while k < entries.count, !entries.sequenceKnown(at: k) {
                if entries.isSameUnreadable(at: k, as: u) { return k }
                k += 1
            }
        }
        entries.insert(unreadable: u, at: at)
        rowInserted(at: at)
        return at
    }

    /// A row was put at store position `row`: positions from there on moved down by one.
    private mutating func rowInserted(at row: Int) {
        guard row < entries.count - 1 else {
            return   // the end of the list: nothing moved
        }
        if var f = filter, f.query != nil {
            for i in f.matches.indices where Int(f.matches[i]) >= row { f.matches[i] += 1 }
            if var c = f.candidates {
                for i in c.indices where Int(c[i]) >= row { c[i] += 1 }
                f.candidates = c
            }
            if let a = f.anchor, a >= row { f.anchor = a + 1 }
            if row < f.scanned {
                // Already scanned past: test the new row now.
                f.scanned += 1
                if let query = f.query, entries.matcher(for: query).matches(row) {
                    let k = f.matches.firstIndex { Int($0) > row } ?? f.matches.count
                    f.matches.insert(Int32(row), at: k)
                    if k <= selected, f.matches.count > 1 { selected += 1 }
                    if k < top { top += 1 }
                }
            }
            filter = f
        } else {
            if row <= selected { selected += 1 }
            if row < top { top += 1 }
        }
        if var d = detail, d.row >= row {
            d.row += 1
            detail = d
        }
    }

    /// The row at store position `row` was taken out.
    private mutating func removeRow(at row: Int) {
        entries.remove(at: row)
        if var f = filter, f.query != nil {
            if let k = f.matches.firstIndex(of: Int32(row)) {
                f.matches.remove(at: k)
                if k < selected { selected -= 1 }
                if k < top { top -= 1 }
            }
            for i in f.matches.indices where Int(f.matches[i]) > row { f.matches[i] -= 1 }
            if var c = f.candidates {
                c.removeAll { Int($0) == row }
                for i in c.indices where Int(c[i]) > row { c[i] -= 1 }
                f.candidates = c
            }
            if let a = f.anchor, a > row { f.anchor = a - 1 }
            if row < f.scanned { f.scanned -= 1 }
            filter = f
        } else {
            if row < selected { selected -= 1 }
            if row < top { top -= 1 }
        }
        if var d = detail, d.row > row {
            d.row -= 1
            detail = d
        }
    }

    /// What a run's fetcher reports about the feed's shape: `/latest` at the start of a run.
    public mutating func runStarted(latestSequence: Int64?, latestTime: Timestamp?) {
        cursor.runStarted(at: fetch.runStart, latest: latestTime)
    }

    /// v1: the sequence windows up to `sequence` have been read.
    public mutating func readThrough(sequence: Int64) {
        cursor.readThrough(sequence: sequence)
    }

    /// The run reached the end of the feed.
    public mutating func runFinished() {
        cursor.runFinished()
    }

    /// This state brought back after another profile was shown: the list as it was, nothing
    /// open, no token yet (a new one is asked for), loading to go on from where it was.
    public func resumed(rows: Int, cols: Int, now: Date) -> AppState {
        var s = self
        s.screenRows = rows
        s.screenCols = cols
        s.now = now
        let refreshBefore = token.refreshBefore
        s.token = TokenState()
        s.token.refreshBefore = refreshBefore
        s.fetch.phase = .waiting
        s.fetch.problem = nil
        s.fetch.retryAttempt = nil
        s.fetch.stoppedForToken = false
        s.fetch.rereading = false
        s.detail = nil
        s.signIn = nil
        s.helpOpen = false
        s.profilePicker = nil
        s.timeline.probing = false
        s.timeline.cursor = nil
        s.timeline.viewOpen = false
        if s.filter?.editing == true { s.filter?.editing = false }
        keepSelectionVisible(&s)
        return s
    }

    /// Updates the row of an entry fetched on its own (the detail view): its current state and
    /// what its metadata says.
    public mutating func refreshRow(_ e: ChangeFeedEntry, summary: RowSummary) {
        guard let row = entries.index(ofSequence: e.sequence) else { return }
        if entries.state(at: row) != e.state { entries.setState(e.state, at: row) }
        if !summary.isEmpty { entries.setSummary(summary, at: row) }
    }

    // MARK: - The list as shown (filtered or not)

    /// Rows in the list as shown.
    public var visibleCount: Int {
        if let f = filter, f.query != nil { return f.matches.count }
        return entries.count
    }

    /// The store row shown at list position `position`.
    public func storeIndex(atVisible position: Int) -> Int {
        guard let f = filter, f.query != nil else { return position }
        return Int(f.matches[position])
    }

    /// The list position of store row `row`, or of the nearest row shown after it (before it
    /// when none is after).
    public func visiblePosition(nearStoreIndex row: Int) -> Int {
        guard let f = filter, f.query != nil else { return row }
        var lo = 0, hi = f.matches.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if Int(f.matches[mid]) < row { lo = mid + 1 } else { hi = mid }
        }
        return min(lo, max(0, f.matches.count - 1))
    }

    /// The store row of the selected list position, if the list is not empty.
    public var selectedStoreIndex: Int? {
        visibleCount == 0 ? nil : storeIndex(atVisible: max(0, min(selected, visibleCount - 1)))
    }

    /// Runs the filter over at most `budget` rows it has not examined yet: the rows an
    /// earlier, wider filter matched (when typing narrowed it), then rows not seen so far.
    /// The run loop calls it again (`.filterStep`) while `filterPending`, between keys, so a
    /// million rows never freeze the screen.
    mutating func filterNewRows(budget: Int? = nil) {
        guard var f = filter else { return }
        guard let query = f.query else {
            f.scanned = entries.count
            filter = f
            return
        }
        var left = budget ?? filterChunk
        guard f.candidates != nil || f.scanned < entries.count else { return }
        let matcher = entries.matcher(for: query)
        if let candidates = f.candidates {
            let end = min(candidates.count, f.candidateCursor + left)
            for i in f.candidateCursor..<end where matcher.matches(Int(candidates[i])) { f.matches.append(candidates[i]) }
            left -= end - f.candidateCursor
            f.candidateCursor = end
            if end == candidates.count {
                f.candidates = nil
                f.candidateCursor = 0
            }
        }
        if f.candidates == nil, left > 0, f.scanned < entries.count {
            let end = min(entries.count, f.scanned + left)
            for row in f.scanned..<end where matcher.matches(row) { f.matches.append(Int32(row)) }
            f.scanned = end
        }
        filter = f
    }

    /// When the filter looks at patient names, IDs or modality but those are known only for the
    /// rows whose metadata was loaded: how many, and how to load the rest (issue 11: `/山田`
    /// used to show "filtered 0" while 159 entries carried the name).
    public var filterNamesNote: String? {
        guard let f = filter, let query = f.query, query.usesMetadata, !entries.isEmpty else { return nil }
        if fetch.loadingNames { return "loading names: the filter looks again when done" }
        if metadataWithPages { return nil }
        let known = entries.summaryCount
        return "names known for \(Format.count(known)) of \(Format.count(entries.count)) rows · "
            + (f.editing ? "Enter, then M loads them" : "M loads them")
    }

    /// Tests every row against the filter again (names became known).
    mutating func rescanFilter() {
        guard var f = filter, f.query != nil else { return }
        f.matches = []
        f.scanned = 0
        f.candidates = nil
        f.candidateCursor = 0
        filter = f
        filterNewRows()
    }

    /// The filter has rows left to examine.
    public var filterPending: Bool {
        guard let f = filter, f.query != nil else { return false }
        return f.candidates != nil || f.scanned < entries.count
    }

    /// How far the filter's current pass has got, 0...1 (for the prompt while it works).
    public var filterProgress: Double {
        guard let f = filter, filterPending else { return 1 }
        if let c = f.candidates { return c.isEmpty ? 1 : Double(f.candidateCursor) / Double(c.count) }
        return entries.isEmpty ? 1 : Double(f.scanned) / Double(entries.count)
    }
}

/// Screen geometry shared by `update` (paging) and the views (layout).
public enum Layout {
    /// Rows above the list: title, token line, identity line, activity timeline, column heading.
    public static let headerRows = 5
    /// Rows below the list: status line and key hints.
    public static let footerRows = 2
    /// Below this size the app shows "terminal too small" instead of the UI.
    public static let minCols = 32
    public static let minRows = 8

    /// How long a flash message stays in the status line.
    public static let flashSeconds: TimeInterval = 5

    public static func isTooSmall(rows: Int, cols: Int) -> Bool { rows < minRows || cols < minCols }

    /// Rows available to list entries.
    public static func listRows(screenRows: Int) -> Int { max(1, screenRows - headerRows - footerRows) }
}

/// Loading speed and completion, as the fetcher measures them.
public struct FetchRate: Sendable, Equatable {
    public var pagesPerSecond: Double
    public var entriesPerSecond: Double
    /// 0...1 when known; `fractionIsEstimate` marks a guess (v2 has no exact total).
    public var fraction: Double?
    public var fractionIsEstimate: Bool
    /// Page requests in flight as the last page was handed over, and how many the fetcher
    /// aims to keep in flight (adaptive, or `--parallel`).
    public var inFlight: Int
    public var width: Int
    public init(pagesPerSecond: Double, entriesPerSecond: Double, fraction: Double?, fractionIsEstimate: Bool,
                inFlight: Int = 0, width: Int = 0) {
        self.pagesPerSecond = pagesPerSecond; self.entriesPerSecond = entriesPerSecond
        self.fraction = fraction; self.fractionIsEstimate = fractionIsEstimate
        self.inFlight = inFlight; self.width = width
    }
}
