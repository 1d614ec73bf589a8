import Foundation
import FeedModel

/// One row of the list: what the views show of an entry. Built on access from `EntryStore`.
public struct FeedRow: Sendable, Equatable {
    public var sequence: Int64
    public var timestamp: Date
    public var action: ChangeFeedAction
    public var state: ChangeFeedState
    public var studyInstanceUid: String
    public var seriesInstanceUid: String
    public var sopInstanceUid: String
}

/// The loaded change-feed entries, kept small enough for a million of them: columns of plain
/// numbers, study and series UIDs interned (many instances share them), SOP instance UIDs as
/// bytes in one arena. Metadata is not kept here (the detail view fetches it on demand).
/// About 90 bytes an entry; `[ChangeFeedEntry]` takes several times that.
public struct EntryStore: Sendable, Equatable, RandomAccessCollection {
    private var sequences: [Int64] = []
    /// Microseconds since 1970 (the service writes 100 ns ticks; the UI shows seconds).
    private var micros: [Int64] = []
    /// Action in the low 2 bits, state in the next 2.
    private var kinds: [UInt8] = []
    private var studies: [UInt32] = []
    private var series: [UInt32] = []
    /// End of each SOP instance UID in `sopBytes`.
    private var sopEnds: [UInt32] = []
    private var sopBytes: [UInt8] = []
    private var studyUIDs = Interner()
    private var seriesUIDs = Interner()

    public init() {}

    public var startIndex: Int { 0 }
    public var endIndex: Int { sequences.count }

    public subscript(position: Int) -> FeedRow {
        let start = position == 0 ? 0 : Int(sopEnds[position - 1])
        let end = Int(sopEnds[position])
        let sop = sopBytes.withUnsafeBufferPointer { String(decoding: UnsafeBufferPointer(rebasing: $0[start..<end]), as: UTF8.self) }
        let kind = kinds[position]
        return FeedRow(sequence: sequences[position],
                       timestamp: Date(timeIntervalSince1970: Double(micros[position]) / 1_000_000),
                       action: ChangeFeedAction.allCases[Int(kind & 3)],
                       state: ChangeFeedState.allCases[Int(kind >> 2 & 3)],
                       studyInstanceUid: studyUIDs[studies[position]],
                       seriesInstanceUid: seriesUIDs[series[position]],
                       sopInstanceUid: sop)
    }

    /// Appends entries in feed order.
    public mutating func append(contentsOf entries: [ChangeFeedEntry]) {
        for e in entries { append(e) }
    }

    public mutating func append(_ e: ChangeFeedEntry) {
        sequences.append(e.sequence)
        // Rounded down, so a saved position's start time never passes the entry it came from.
        micros.append(Int64((e.timestamp.timeIntervalSince1970 * 1_000_000).rounded(.down)))
        kinds.append(Self.kind(e.action, e.state))
        studies.append(studyUIDs.intern(e.studyInstanceUid))
        series.append(seriesUIDs.intern(e.seriesInstanceUid))
        sopBytes.append(contentsOf: e.sopInstanceUid.utf8)
        sopEnds.append(UInt32(sopBytes.count))
    }

    /// Rewrites the state of the row at `index` (a re-read found the instance replaced or deleted).
    public mutating func setState(_ state: ChangeFeedState, at index: Int) {
        let action = kinds[index] & 3
        kinds[index] = action | UInt8(ChangeFeedState.allCases.firstIndex(of: state)!) << 2
    }

    /// Reserves room for `count` more entries (when the size of the feed is known).
    public mutating func reserve(_ count: Int) {
        sequences.reserveCapacity(sequences.count + count)
        micros.reserveCapacity(micros.count + count)
        kinds.reserveCapacity(kinds.count + count)
        studies.reserveCapacity(studies.count + count)
        series.reserveCapacity(series.count + count)
        sopEnds.reserveCapacity(sopEnds.count + count)
        sopBytes.reserveCapacity(sopBytes.count + count * 60)
    }

    /// Bytes held, capacity included: what the store costs in memory.
    public var approximateBytes: Int {
        sequences.capacity * 8 + micros.capacity * 8 + kinds.capacity + studies.capacity * 4 + series.capacity * 4
            + sopEnds.capacity * 4 + sopBytes.capacity + studyUIDs.approximateBytes + seriesUIDs.approximateBytes
    }

    public var lastSequence: Int64? { sequences.last }

    static func kind(_ a: ChangeFeedAction, _ s: ChangeFeedState) -> UInt8 {
        UInt8(ChangeFeedAction.allCases.firstIndex(of: a)!) | UInt8(ChangeFeedState.allCases.firstIndex(of: s)!) << 2
    }

    public static func == (a: EntryStore, b: EntryStore) -> Bool {
        a.sequences == b.sequences && a.micros == b.micros && a.kinds == b.kinds && a.sopEnds == b.sopEnds
            && a.sopBytes == b.sopBytes && a.studies.map { a.studyUIDs[$0] } == b.studies.map { b.studyUIDs[$0] }
            && a.series.map { a.seriesUIDs[$0] } == b.series.map { b.seriesUIDs[$0] }
    }
}

/// Strings stored once, referred to by number.
struct Interner: Sendable {
    private var strings: [String] = []
    private var index: [String: UInt32] = [:]
    /// The last string interned: consecutive entries usually share their study and series.
    private var lastString: String?
    private var lastID: UInt32 = 0

    subscript(id: UInt32) -> String { strings[Int(id)] }

    mutating func intern(_ s: String) -> UInt32 {
        if s == lastString { return lastID }
        let id: UInt32
        if let found = index[s] {
            id = found
        } else {
            id = UInt32(strings.count)
            strings.append(s)
            index[s] = id
        }
        lastString = s
        lastID = id
        return id
    }

    var approximateBytes: Int {
        strings.reduce(0) { $0 + $1.utf8.count + 32 } + index.capacity * 24
    }
}
