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
    /// Entries already in the list that a re-read found again and updated in place.
    public var rewritten = 0
    /// The last sequence the current run handed over (where an unreadable element without a
    /// sequence stands); set when a run starts.
    public var cursor: Int64 = 0
    /// When the last run reached the end of the feed (follow mode polls from there).
    public var caughtUpAt: Date?
    /// The current run re-reads entries already loaded, to update their states; how many rows
    /// there were when it started.
    public var rereading = false
    public var rereadFrom = 0
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
    public private(set) var entries = EntryStore()
    /// Position of the selected row in the list as shown (filtered or not).
    public var selected = 0
    /// Position of the first row on screen.
    public var top = 0
    /// The list filter (`/`), while one is typed or kept.
    public var filter: FilterState?
    /// Follow mode (`f`): poll for new entries and stay at the bottom.
    public var follow = FollowState()
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
    public var endTime: Date?
    /// A one-line message for the status line (what a key did); it goes away after
    /// `Layout.flashSeconds`.
    public var flash: String? {
        didSet { flashSince = flash == nil ? nil : now }
    }
    /// When the flash appeared.
    public private(set) var flashSince: Date?
    /// The sign-in dialog, while it is open.
    public var signIn: SignInState?
    public var shouldQuit = false

    public init(serviceURL: String, apiVersion: APIVersion, isDemo: Bool = false,
                screenRows: Int = 24, screenCols: Int = 80, now: Date, timeZone: TimeZone = .current) {
        self.serviceURL = serviceURL; self.apiVersion = apiVersion; self.isDemo = isDemo
        self.screenRows = screenRows; self.screenCols = screenCols; self.now = now; self.timeZone = timeZone
    }

    /// Where this run started reading the feed (a position saved by an earlier run, or the start).
    public var origin: ResumePoint = .start

    /// Where a restarted fetcher continues: v2 skips the entries already loaded (counted from
    /// the origin's window start), v1 starts after the last sequence loaded.
    public var resumePoint: ResumePoint {
        ResumePoint(offset: origin.offset + Int64(entries.count), afterSequence: entries.lastSequence ?? origin.afterSequence,
                    startTime: origin.startTime)
    }

    /// The position to save for the next run: after the last entry loaded. For v2 the window
    /// starts at the last entry's time and skips the entries already seen at that very time.
    public var savePoint: ResumePoint? {
        guard let last = entries.last else { return nil }
        var sameTime: Int64 = 0
        var i = entries.count - 1
        while i >= 0, entries[i].timestamp == last.timestamp {
            sameTime += 1
            i -= 1
        }
        if i < 0, origin.startTime == last.timestamp { sameTime += origin.offset }
        return ResumePoint(offset: sameTime, afterSequence: last.sequence, startTime: last.timestamp)
    }

    /// Appends entries in the order given (the fetcher hands them over in feed order).
    public mutating func append(_ new: [ChangeFeedEntry]) {
        merge(new, unreadable: [])
    }

    /// Takes a page into the list, in feed order. An entry whose sequence is already listed
    /// (a re-read, or a poll that overlapped) updates that row's state in place instead of
    /// being added again, so nothing is ever listed twice; an element that did not decode
    /// becomes a marked row where it stood in the page. Returns how many rows were added.
    ///
    /// With `inferStates` (entries that arrive after the feed was read to the end: follow mode),
    /// a new entry also rewrites the state of its instance's older rows, by the service's rules,
    /// so the list does not show a deleted instance as current until the next re-read.
    @discardableResult
    public mutating func merge(_ page: [ChangeFeedEntry], unreadable: [UnreadableEntry], inferStates: Bool = false,
                               summary: (ChangeFeedEntry) -> RowSummary = { _ in RowSummary() }) -> Int {
        let before = entries.count
        var bad = unreadable[...]
        func takeUnreadable(upTo position: Int) {
            while let u = bad.first, u.afterEntries <= position {
                bad = bad.dropFirst()
                if let seq = u.sequence {
                    if let last = entries.lastSequence, seq <= last { continue }
                    entries.append(unreadable: u)
                    fetch.cursor = seq
                } else if entries.lastSequence.map({ fetch.cursor >= $0 }) ?? true {
                    // Only at the end of the list: during a re-read it is already listed.
                    entries.append(unreadable: u)
                }
            }
        }
        for (i, e) in page.enumerated() {
            takeUnreadable(upTo: i)
            fetch.cursor = e.sequence
            if let last = entries.lastSequence, e.sequence <= last {
                if let row = entries.index(ofSequence: e.sequence) {
                    if entries.state(at: row) != e.state {
                        entries.setState(e.state, at: row)
                        fetch.rewritten += 1
                    }
                    let s = summary(e)
                    if !s.isEmpty { entries.setSummary(s, at: row) }
                }
                continue
            }
            if inferStates {
                // The service rewrites the state of an instance's older rows when it changes:
                // a delete makes them all Deleted; an update or a new version, Replaced.
                let older: ChangeFeedState = e.action == .delete ? .deleted : .replaced
                for row in entries.rows(ofInstance: e.sopInstanceUid, series: e.seriesInstanceUid)
                where entries.state(at: row) != older {
                    entries.setState(older, at: row)
                    fetch.rewritten += 1
                }
            }
            entries.append(e, summary: summary(e))
        }
        takeUnreadable(upTo: Int.max)
        let added = entries.count - before
        filterNewRows()
        return added
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
    /// Rows above the list: title, token line, identity line, column heading.
    public static let headerRows = 4
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

/// Where the fetcher starts: nothing is fetched twice and nothing is skipped.
/// v1 reads after `afterSequence`; v2 reads the window from `startTime` (nil: the feed's
/// start, or the window the user asked for) skipping `offset` entries.
public struct ResumePoint: Sendable, Equatable {
    public var offset: Int64
    public var afterSequence: Int64
    public var startTime: Date?
    public init(offset: Int64, afterSequence: Int64, startTime: Date? = nil) {
        self.offset = offset; self.afterSequence = afterSequence; self.startTime = startTime
    }
    public static let start = ResumePoint(offset: 0, afterSequence: 0)
}

/// Loading speed and completion, as the fetcher measures them.
public struct FetchRate: Sendable, Equatable {
    public var pagesPerSecond: Double
    public var entriesPerSecond: Double
    /// 0...1 when known; `fractionIsEstimate` marks a guess (v2 has no exact total).
    public var fraction: Double?
    public var fractionIsEstimate: Bool
    public init(pagesPerSecond: Double, entriesPerSecond: Double, fraction: Double?, fractionIsEstimate: Bool) {
        self.pagesPerSecond = pagesPerSecond; self.entriesPerSecond = entriesPerSecond
        self.fraction = fraction; self.fractionIsEstimate = fractionIsEstimate
    }
}
