import FeedModel
import Foundation

/// The filter across the whole feed (`F` with a filter kept): the rows of the list that match
/// at once, then the feed before the list's first entry, read a window at a time in the
/// background back to the feed's first entry, each row tested and only the matches kept.
/// Nothing else is held: the feed streams past. The matches are bounded (`limit`, the newest
/// kept); the scan stops when they are cut, and says so.
public struct FeedSearch: Sendable, Equatable {
    public var text: String
    public var query: FeedFilter
    /// The matches, in feed order (older ones arrive in front).
    public var found: EntryStore
    public var limit = 10_000
    /// More matches than `limit` were found: the oldest were not kept, and the scan stopped.
    public var cut = false
    /// Rows examined so far (the list's and those read).
    public var examined = 0
    /// Where the scan reads next (the rows before it); nil: it reached the feed's first entry.
    public var before: FeedCursor.Start?
    public var spanHint: Int64?
    /// A read is under way; `stopped`: the user stopped the scan (`s`).
    public var reading = false
    public var stopped = false
    public var problem: Problem?
    /// Which scan a read answers for (a new `F` starts another).
    public var generation: Int
    /// The results view: open, its selected row and first row shown.
    public var open = true
    public var selected = 0
    public var top = 0

    public init(text: String, query: FeedFilter, order: FeedCursor.Order, generation: Int) {
        self.text = text
        self.query = query
        found = EntryStore(order: order)
        self.generation = generation
    }

    /// The scan has more to read and is not stopped.
    public var goesOn: Bool { before != nil && !stopped && !cut }

    /// How the results view says where the scan is.
    public func progress(in zone: TimeZone) -> String {
        let matches = "\(Format.count(found.count)) match\(found.count == 1 ? "" : "es") in \(Format.count(examined)) entries"
        let back = before.map { b in
            b.startTime.map { " · back to " + Format.dateTime($0, in: zone) } ?? " · back to sequence \(Format.count(b.afterSequence))"
        } ?? ""
        if cut { return matches + " · cut at the newest \(Format.count(limit)); the scan stopped" }
        if let problem { return matches + back + " · stopped: \(problem.message); F tries again" }
        if before == nil { return matches + " · the whole feed" }
        if stopped { return matches + back + " · stopped (F goes on)" }
        return matches + back + " · searching… (s stops)"
    }
}
