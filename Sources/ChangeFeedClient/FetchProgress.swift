import Foundation

/// How far a fetcher run has come and how fast it goes; see `Fetcher.onProgress`.
///
/// The totals are honest about what the service lets us know:
/// - **v1 and v1.0-prerelease**: `/latest` gives the newest sequence, so the number of sequence
///   windows to read is exact and `fraction` is windows read / windows to read. Sequences can be
///   skipped, so `entriesUpperBound` (latest sequence − start sequence) is an upper bound on the
///   entries, not a count.
/// - **v2**: the service has no count of the rows in a time window, so there is no total and
///   `entriesUpperBound` is nil. When the window is open at the end (no `endTime`), `fraction`
///   is an *estimate* from sequences: how far the last delivered sequence has come from the
///   first one towards the sequence `/latest` reported. Feed order is timestamp order, which
///   follows sequence order only roughly, so the estimate can jump; it reaches 1 on the last
///   page. With an `endTime` the end of the window is unknown and `fraction` is nil.
public struct FetchProgress: Sendable, Equatable {
    /// Page responses consumed in feed order (v1: including empty windows).
    public var pages: Int
    /// Entries delivered so far (decoded ones).
    public var entries: Int
    /// Seconds since the first page request of the run.
    public var elapsed: TimeInterval
    /// Averages over the run so far (0 until some time has passed).
    public var pagesPerSecond: Double
    public var entriesPerSecond: Double
    /// v1: at most this many entries in the run (latest sequence − start). v2: nil.
    public var entriesUpperBound: Int64?
    /// 0...1, or nil when unknown; see `fractionIsEstimate`.
    public var fraction: Double?
    /// True when `fraction` is a sequence-based guess (v2), false when it is exact (v1).
    public var fractionIsEstimate: Bool
    /// Page requests in flight right after this page was handed over (0 at the end).
    public var inFlight: Int
    /// How many the fetcher keeps in flight now: the concurrency controller's width (pinned by
    /// `--parallel`, or adaptive; 1 while v2 pages by time, which is sequential).
    public var width: Int
    /// The width adapts (no `--parallel`).
    public var adaptive: Bool
    /// Refusals (429, 503) the adaptive controller absorbed in this run: retried without a
    /// `.retrying` event, the width cut back instead.
    public var absorbedRefusals: Int
    /// v2's newest part, paged by time: one request at a time, whatever the width was.
    public var byTime: Bool

    public init(pages: Int, entries: Int, elapsed: TimeInterval, pagesPerSecond: Double, entriesPerSecond: Double,
                entriesUpperBound: Int64?, fraction: Double?, fractionIsEstimate: Bool,
                inFlight: Int = 0, width: Int = 1, adaptive: Bool = false, absorbedRefusals: Int = 0, byTime: Bool = false) {
        self.pages = pages; self.entries = entries; self.elapsed = elapsed
        self.pagesPerSecond = pagesPerSecond; self.entriesPerSecond = entriesPerSecond
        self.entriesUpperBound = entriesUpperBound; self.fraction = fraction; self.fractionIsEstimate = fractionIsEstimate
        self.inFlight = inFlight; self.width = width; self.adaptive = adaptive; self.absorbedRefusals = absorbedRefusals
        self.byTime = byTime
    }
}

/// Counts what the pipeline hands over and turns it into `FetchProgress`.
struct ProgressCounter {
    let sequenceMode: Bool
    /// v1: what `/latest` reported; v2: its sequence, for the estimate.
    let latest: Int64?
    /// v1: the exclusive start sequence.
    let base: Int64
    let limit: Int
    /// v2: the window has no end (the estimate needs one).
    let openEnded: Bool
    /// v1: the number of sequence windows to read.
    var windows: Int?
    let started = ContinuousClock.now
    var pages = 0
    var entries = 0
    /// Elements handed over (entries and undecodable ones), counted whether or not anyone
    /// listens to progress: `maxRows` stops on it.
    var rows = 0
    var firstSequence: Int64?
    var lastSequence: Int64?
    /// The width adapts; refusals it absorbed so far (the pipeline counts them).
    var adaptive = false
    var absorbedRefusals = 0

    init(sequenceMode: Bool, latest: Int64?, base: Int64, limit: Int, openEnded: Bool) {
        self.sequenceMode = sequenceMode; self.latest = latest; self.base = base; self.limit = limit
        self.openEnded = openEnded
    }

    mutating func add(_ page: Fetcher.PageResult) -> FetchProgress {
        pages += 1
        entries += page.entries.count
        if firstSequence == nil { firstSequence = page.entries.first?.sequence }
        if let last = page.entries.last?.sequence { lastSequence = last }
        let d = ContinuousClock.now - started
        let elapsed = Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
        let rate: (Int) -> Double = { elapsed > 0 ? Double($0) / elapsed : 0 }

        var upper: Int64? = nil
        var fraction: Double? = nil
        var estimate = false
        if sequenceMode {
            if let windows, windows > 0 { fraction = min(1, Double(pages) / Double(windows)) }
            upper = max(0, (latest ?? 0) - base)
        } else if openEnded, let latest, let first = firstSequence, let last = lastSequence {
            estimate = true
            let span = latest - first
            fraction = span <= 0 ? 1 : min(1, max(0, Double(last - first) / Double(span)))
        }
        return FetchProgress(pages: pages, entries: entries, elapsed: elapsed,
                             pagesPerSecond: rate(pages), entriesPerSecond: rate(entries),
                             entriesUpperBound: upper, fraction: fraction, fractionIsEstimate: estimate,
                             adaptive: adaptive, absorbedRefusals: absorbedRefusals)
    }
}
