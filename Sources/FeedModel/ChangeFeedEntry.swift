import Foundation

/// What happened to an instance: the `action` of a change-feed entry.
public enum ChangeFeedAction: String, Sendable, Hashable, CaseIterable {
    case create = "Create", delete = "Delete", update = "Update"

    /// Accepts any casing (`create`, `Create`) and the service's enum numbers (0, 1, 2).
    public init?(wire: String) {
        switch wire.lowercased() {
        case "create", "0": self = .create
        case "delete", "1": self = .delete
        case "update", "2": self = .update
        default: return nil
        }
    }
}

/// The instance's current status, rewritten on older rows as the instance changes.
public enum ChangeFeedState: String, Sendable, Hashable, CaseIterable {
    case current = "Current", replaced = "Replaced", deleted = "Deleted"

    public init?(wire: String) {
        switch wire.lowercased() {
        case "current", "0": self = .current
        case "replaced", "1": self = .replaced
        case "deleted", "2": self = .deleted
        default: return nil
        }
    }
}

/// One change-feed entry as the service sends it; `PageDecoder` reads it from the wire.
public struct ChangeFeedEntry: Sendable, Equatable {
    public var sequence: Int64
    public var partitionName: String?
    public var filePath: String?
    public var studyInstanceUid: String
    public var seriesInstanceUid: String
    public var sopInstanceUid: String
    public var action: ChangeFeedAction
    /// Exact (100 ns ticks): see `Timestamp`.
    public var timestamp: Timestamp
    public var state: ChangeFeedState
    /// DICOM JSON (PS3.18 F.2) keyed by 8-hex tag, as the service sent it (read into a tree on
    /// demand); absent for deleted instances and with includeMetadata=false.
    public var metadata: RawJSON?

    public init(sequence: Int64, partitionName: String? = "Microsoft.Default", filePath: String? = nil,
                studyInstanceUid: String, seriesInstanceUid: String, sopInstanceUid: String,
                action: ChangeFeedAction, timestamp: Timestamp, state: ChangeFeedState, metadata: RawJSON? = nil) {
        self.sequence = sequence; self.partitionName = partitionName; self.filePath = filePath
        self.studyInstanceUid = studyInstanceUid; self.seriesInstanceUid = seriesInstanceUid
        self.sopInstanceUid = sopInstanceUid; self.action = action; self.timestamp = timestamp
        self.state = state; self.metadata = metadata
    }
}

/// The decoded result of one element of a page: an entry, or the reason it could not be read.
/// A bad entry never takes its page down with it.
public enum EntryResult: Sendable, Equatable {
    case entry(ChangeFeedEntry)
    /// `index` is the element's position in the page.
    case undecodable(index: Int, UnreadableEntry)
}

/// An element of a page that is not a readable entry: what could still be read of it (its
/// sequence, time and SOP instance UID, when those fields are intact) and why it failed.
/// The list keeps it as a marked row, so that nothing the service sent is silently dropped.
public struct UnreadableEntry: Error, Sendable, Equatable {
    public var sequence: Int64?
    public var timestamp: Timestamp?
    public var sopInstanceUid: String?
    public var reason: String
    /// How many readable entries of the same page come before it (where it goes in the list).
    public var afterEntries: Int
    /// The element's JSON text as the service sent it, when the page could be split into
    /// elements (script mode writes it through).
    public var raw: String?

    public init(sequence: Int64? = nil, timestamp: Timestamp? = nil, sopInstanceUid: String? = nil, reason: String,
                afterEntries: Int = 0, raw: String? = nil) {
        self.sequence = sequence; self.timestamp = timestamp; self.sopInstanceUid = sopInstanceUid
        self.reason = reason; self.afterEntries = afterEntries; self.raw = raw
    }
}

/// Walks a page's elements in the order the service sent them: `entry` for each readable entry
/// (with its index among the entries), `unreadable` for each element that did not decode, in
/// its place (`afterEntries`), with the index of the entry that follows it (`entries.count`
/// after the last). `unreadable` is in page order, as the decoder gives it.
@inlinable
public func walkPage(_ entries: [ChangeFeedEntry], _ unreadable: [UnreadableEntry],
                     entry: (Int, ChangeFeedEntry) throws -> Void,
                     unreadable onUnreadable: (UnreadableEntry, _ nextEntry: Int) throws -> Void) rethrows {
    var next = 0
    for (i, e) in entries.enumerated() {
        while next < unreadable.count, unreadable[next].afterEntries <= i {
            try onUnreadable(unreadable[next], i)
            next += 1
        }
        try entry(i, e)
    }
    while next < unreadable.count {
        try onUnreadable(unreadable[next], entries.count)
        next += 1
    }
}
