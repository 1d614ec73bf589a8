import DicomKit
import FeedModel
import Foundation

/// The detail view of one entry (Enter on a row; Esc goes back): its fields, then its DICOM
/// metadata, fetched on demand (or from the cache).
public struct DetailState: Sendable, Equatable {
    public enum Load: Sendable, Equatable {
        /// The one-entry request is under way.
        case loading
        /// The entry as the service has it now (metadata absent for a deleted instance).
        case loaded(ChangeFeedEntry)
        /// The service has no entry with this sequence any more.
        case notFound
        case failed(Problem)
        /// The row is an element that did not decode: nothing to ask for.
        case unreadable(String)
    }
    /// The store row shown.
    public var row: Int
    public var sequence: Int64
    public var load: Load
    /// The line under the cursor, and the first line on screen.
    public var cursor = 0
    public var top = 0
    /// `/` inside the metadata.
    public var search: DetailSearch?
    /// The metadata as a tree, once loaded.
    public var tree: MetadataTree?
    /// Tree nodes whose children are hidden.
    public var collapsed: Set<Int> = []

    public init(row: Int, sequence: Int64, load: Load) {
        self.row = row; self.sequence = sequence; self.load = load
    }
}

/// A search inside the detail view: matches are line numbers, `n`/`N` step through them.
public struct DetailSearch: Sendable, Equatable {
    public var query = ""
    public var editing = true
    /// Line positions (in `DetailLines`) that match, in order.
    public var matches: [Int] = []
    /// The match the cursor is on (index into `matches`).
    public var current: Int?
    /// The cursor before the search started (Esc goes back there).
    public var origin: Int
    public init(origin: Int) { self.origin = origin }
}

/// The metadata of recently opened entries (and of entries loaded with their pages), so going
/// back and forth does not ask the service again. Bounded: the least recently stored goes first.
/// Storing is O(1): with `--metadata` every entry of every page passes through here.
public struct MetadataCache: Sendable, Equatable {
    public private(set) var capacity: Int
    private struct Slot: Sendable, Equatable {
        var entry: ChangeFeedEntry
        var stamp: Int
    }
    private var items: [Int64: Slot] = [:]
    /// Sequences in the order they were stored, with the stamp they were stored with; a pair
    /// whose stamp is no longer the item's was stored again later and is skipped on eviction.
    private var order: [(sequence: Int64, stamp: Int)] = []
    private var head = 0
    private var stamp = 0

    public init(capacity: Int = 256) { self.capacity = max(1, capacity) }

    public var count: Int { items.count }

    public subscript(sequence: Int64) -> ChangeFeedEntry? { items[sequence]?.entry }

    public mutating func insert(_ e: ChangeFeedEntry) {
        stamp += 1
        items[e.sequence] = Slot(entry: e, stamp: stamp)
        order.append((e.sequence, stamp))
        while items.count > capacity, head < order.count {
            let oldest = order[head]
            head += 1
            if items[oldest.sequence]?.stamp == oldest.stamp { items[oldest.sequence] = nil }
        }
        if head > capacity && head * 2 > order.count {
            order.removeFirst(head)
            head = 0
        }
    }

    public static func == (a: MetadataCache, b: MetadataCache) -> Bool {
        a.capacity == b.capacity && a.items == b.items
    }
}
