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
    /// From the entry's metadata, once it is known (loaded with the page or opened).
    public var patientName: String?
    public var patientID: String?
    public var modality: String?
    /// Set for an element of a page that did not decode: why. Its other fields are what could
    /// be read of it (an unknown sequence repeats the previous row's; see `sequenceKnown`).
    public var unreadable: String?
    public var sequenceKnown = true

    public init(sequence: Int64, timestamp: Date, action: ChangeFeedAction, state: ChangeFeedState,
                studyInstanceUid: String, seriesInstanceUid: String, sopInstanceUid: String,
                patientName: String? = nil, patientID: String? = nil, modality: String? = nil,
                unreadable: String? = nil, sequenceKnown: Bool = true) {
        self.sequence = sequence; self.timestamp = timestamp; self.action = action; self.state = state
        self.studyInstanceUid = studyInstanceUid; self.seriesInstanceUid = seriesInstanceUid
        self.sopInstanceUid = sopInstanceUid; self.patientName = patientName; self.patientID = patientID
        self.modality = modality; self.unreadable = unreadable; self.sequenceKnown = sequenceKnown
    }
}

/// What the list shows of an entry's metadata (patient and modality), kept per row.
public struct RowSummary: Sendable, Equatable {
    public var patientName: String?
    public var patientID: String?
    public var modality: String?
    public init(patientName: String? = nil, patientID: String? = nil, modality: String? = nil) {
        self.patientName = patientName; self.patientID = patientID; self.modality = modality
    }
    public var isEmpty: Bool { patientName == nil && patientID == nil && modality == nil }
}

/// The loaded change-feed entries, kept small enough for a million of them: columns of plain
/// numbers, study and series UIDs interned (many instances share them), SOP instance UIDs as
/// bytes in one arena. Metadata is not kept here (the detail view fetches it on demand), only
/// what the list shows of it (patient name and ID, modality; interned, 0 when unknown).
/// About 110 bytes an entry; `[ChangeFeedEntry]` takes several times that.
public struct EntryStore: Sendable, Equatable, RandomAccessCollection {
    fileprivate var sequences: [Int64] = []
    /// Microseconds since 1970 (the service writes 100 ns ticks; the UI shows seconds).
    fileprivate var micros: [Int64] = []
    /// Action in the low 2 bits, state in the next 2, then the `unreadable` and
    /// `sequenceUnknown` flags.
    fileprivate var kinds: [UInt8] = []
    fileprivate var studies: [UInt32] = []
    fileprivate var series: [UInt32] = []
    /// End of each SOP instance UID in `sopBytes`.
    fileprivate var sopEnds: [UInt32] = []
    fileprivate var sopBytes: [UInt8] = []
    fileprivate var studyUIDs = Interner()
    fileprivate var seriesUIDs = Interner()
    /// Interned metadata summaries; id 0 is "not known".
    fileprivate var patientNames: [UInt32] = []
    fileprivate var patientIDs: [UInt32] = []
    fileprivate var modalities: [UInt32] = []
    fileprivate var summaryText = Interner(reserveEmpty: true)
    /// Rows by series id, built on first use by `rows(ofInstance:series:)`.
    fileprivate var seriesIndex: [UInt32: [Int32]]?
    /// Why each unreadable row could not be read, by row index (rare).
    private var reasons: [Int: String] = [:]
    /// Rows that are unreadable elements.
    public private(set) var unreadableCount = 0

    static let unreadableFlag: UInt8 = 1 << 4
    static let sequenceUnknownFlag: UInt8 = 1 << 5

    public init() {}

    public var startIndex: Int { 0 }
    public var endIndex: Int { sequences.count }

    public subscript(position: Int) -> FeedRow {
        let start = position == 0 ? 0 : Int(sopEnds[position - 1])
        let end = Int(sopEnds[position])
        let sop = sopBytes.withUnsafeBufferPointer { String(decoding: UnsafeBufferPointer(rebasing: $0[start..<end]), as: UTF8.self) }
        let kind = kinds[position]
        func text(_ id: UInt32) -> String? { id == 0 ? nil : summaryText[id] }
        return FeedRow(sequence: sequences[position],
                       timestamp: Date(timeIntervalSince1970: Double(micros[position]) / 1_000_000),
                       action: ChangeFeedAction.allCases[Int(kind & 3)],
                       state: ChangeFeedState.allCases[Int(kind >> 2 & 3)],
                       studyInstanceUid: studyUIDs[studies[position]],
                       seriesInstanceUid: seriesUIDs[series[position]],
                       sopInstanceUid: sop,
                       patientName: text(patientNames[position]), patientID: text(patientIDs[position]),
                       modality: text(modalities[position]),
                       unreadable: kind & Self.unreadableFlag != 0 ? reasons[position] ?? "unreadable" : nil,
                       sequenceKnown: kind & Self.sequenceUnknownFlag == 0)
    }

    /// Appends entries in feed order.
    public mutating func append(contentsOf entries: [ChangeFeedEntry]) {
        for e in entries { append(e) }
    }

    public mutating func append(_ e: ChangeFeedEntry, summary: RowSummary = RowSummary()) {
        appendRow(sequence: e.sequence, timestamp: e.timestamp, kind: Self.kind(e.action, e.state),
                  study: e.studyInstanceUid, series: e.seriesInstanceUid, sop: e.sopInstanceUid, summary: summary)
    }

    /// Appends a marked row for an element that did not decode. Its sequence and time, when
    /// they could not be read, repeat the previous row's (so the columns stay in feed order).
    public mutating func append(unreadable u: UnreadableEntry) {
        var kind = Self.kind(.create, .current) | Self.unreadableFlag
        if u.sequence == nil { kind |= Self.sequenceUnknownFlag }
        let time = u.timestamp ?? micros.last.map { Date(timeIntervalSince1970: Double($0) / 1_000_000) } ?? Date(timeIntervalSince1970: 0)
        reasons[sequences.count] = u.reason
        unreadableCount += 1
        appendRow(sequence: u.sequence ?? sequences.last ?? 0, timestamp: time, kind: kind,
                  study: "", series: "", sop: u.sopInstanceUid ?? "", summary: RowSummary())
    }

    private mutating func appendRow(sequence: Int64, timestamp: Date, kind: UInt8, study: String, series s: String,
                                    sop: String, summary: RowSummary) {
        sequences.append(sequence)
        // Rounded down, so a saved position's start time never passes the entry it came from.
        micros.append(Int64((timestamp.timeIntervalSince1970 * 1_000_000).rounded(.down)))
        kinds.append(kind)
        studies.append(studyUIDs.intern(study))
        let seriesID = seriesUIDs.intern(s)
        series.append(seriesID)
        seriesIndex?[seriesID, default: []].append(Int32(series.count - 1))
        sopBytes.append(contentsOf: sop.utf8)
        sopEnds.append(UInt32(sopBytes.count))
        patientNames.append(summaryText.intern(summary.patientName ?? ""))
        patientIDs.append(summaryText.intern(summary.patientID ?? ""))
        modalities.append(summaryText.intern(summary.modality ?? ""))
    }

    /// Rewrites the state of the row at `index` (a re-read found the instance replaced or deleted).
    public mutating func setState(_ state: ChangeFeedState, at index: Int) {
        let rest = kinds[index] & ~0b1100
        kinds[index] = rest | UInt8(ChangeFeedState.allCases.firstIndex(of: state)!) << 2
    }

    /// Records what the metadata of the row at `index` says (patient, modality).
    public mutating func setSummary(_ summary: RowSummary, at index: Int) {
        patientNames[index] = summaryText.intern(summary.patientName ?? "")
        patientIDs[index] = summaryText.intern(summary.patientID ?? "")
        modalities[index] = summaryText.intern(summary.modality ?? "")
    }

    /// Whether the row's metadata summary is known.
    public func hasSummary(at index: Int) -> Bool {
        patientNames[index] != 0 || patientIDs[index] != 0 || modalities[index] != 0
    }

    /// The row of the readable entry with this sequence (binary search: sequences only grow).
    public func index(ofSequence sequence: Int64) -> Int? {
        var lo = 0, hi = sequences.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if sequences[mid] < sequence { lo = mid + 1 } else { hi = mid }
        }
        while lo < sequences.count, sequences[lo] == sequence {
            if kinds[lo] & Self.unreadableFlag == 0 { return lo }
            lo += 1
        }
        return nil
    }

    /// Readable rows of an instance (its series and SOP instance UIDs), newest first. The first
    /// call builds an index of rows by series (about 4 bytes a row, kept up to date from then
    /// on), so follow mode finds an instance's older rows without scanning a million rows.
    public mutating func rows(ofInstance sop: String, series s: String) -> [Int] {
        guard let seriesID = seriesUIDs.id(of: s) else { return [] }
        if seriesIndex == nil {
            var index: [UInt32: [Int32]] = [:]
            for (row, id) in series.enumerated() { index[id, default: []].append(Int32(row)) }
            seriesIndex = index
        }
        let needle = Array(sop.utf8)
        var found: [Int] = []
        sopBytes.withUnsafeBufferPointer { bytes in
            for row in (seriesIndex?[seriesID] ?? []).reversed().map(Int.init) {
                let start = row == 0 ? 0 : Int(sopEnds[row - 1])
                let stop = Int(sopEnds[row])
                if stop - start == needle.count, kinds[row] & Self.unreadableFlag == 0,
                   needle.withUnsafeBufferPointer({ memcmp($0.baseAddress!, bytes.baseAddress! + start, needle.count) == 0 }) {
                    found.append(row)
                }
            }
        }
        return found
    }

    /// The state of the row at `index`, without building the row's strings (re-reads ask it of
    /// every entry they meet again).
    public func state(at index: Int) -> ChangeFeedState {
        ChangeFeedState.allCases[Int(kinds[index] >> 2 & 3)]
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
        patientNames.reserveCapacity(patientNames.count + count)
        patientIDs.reserveCapacity(patientIDs.count + count)
        modalities.reserveCapacity(modalities.count + count)
    }

    /// Bytes held, capacity included: what the store costs in memory.
    public var approximateBytes: Int {
        sequences.capacity * 8 + micros.capacity * 8 + kinds.capacity + studies.capacity * 4 + series.capacity * 4
            + sopEnds.capacity * 4 + sopBytes.capacity + studyUIDs.approximateBytes + seriesUIDs.approximateBytes
            + (patientNames.capacity + patientIDs.capacity + modalities.capacity) * 4 + summaryText.approximateBytes
            + (seriesIndex.map { $0.values.reduce(0) { $0 + $1.capacity * 4 + 48 } } ?? 0)
    }

    public var lastSequence: Int64? { sequences.last }

    static func kind(_ a: ChangeFeedAction, _ s: ChangeFeedState) -> UInt8 {
        UInt8(ChangeFeedAction.allCases.firstIndex(of: a)!) | UInt8(ChangeFeedState.allCases.firstIndex(of: s)!) << 2
    }

    public static func == (a: EntryStore, b: EntryStore) -> Bool {
        a.sequences == b.sequences && a.micros == b.micros && a.kinds == b.kinds && a.sopEnds == b.sopEnds
            && a.sopBytes == b.sopBytes && a.studies.map { a.studyUIDs[$0] } == b.studies.map { b.studyUIDs[$0] }
            && a.series.map { a.seriesUIDs[$0] } == b.series.map { b.seriesUIDs[$0] }
            && a.reasons == b.reasons
            && a.patientNames.map { a.summaryText[$0] } == b.patientNames.map { b.summaryText[$0] }
            && a.modalities.map { a.summaryText[$0] } == b.modalities.map { b.summaryText[$0] }
    }
}

/// Strings stored once, referred to by number.
struct Interner: Sendable {
    private var strings: [String] = []
    private var index: [String: UInt32] = [:]
    /// The last string interned: consecutive entries usually share their study and series.
    private var lastString: String?
    private var lastID: UInt32 = 0

    /// With `reserveEmpty`, id 0 is the empty string (so 0 can mean "not known").
    init(reserveEmpty: Bool = false) {
        if reserveEmpty { _ = intern("") }
    }

    subscript(id: UInt32) -> String { strings[Int(id)] }

    /// Every string, by id.
    var all: [String] { strings }

    /// The id of a string already interned.
    func id(of s: String) -> UInt32? { s == lastString ? lastID : index[s] }

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

// MARK: - Filtering without building rows

extension EntryStore {
    /// Tests rows against a filter using the columns directly: each interned string (study,
    /// series, patient, modality) is tested once per word, so a million rows filter in one pass
    /// without building a string per row.
    public struct Matcher {
        fileprivate let store: EntryStore
        fileprivate let terms: [(negated: Bool, atoms: [AtomTest])]

        fileprivate enum AtomTest {
            case word(bytes: [UInt8], study: [Bool], series: [Bool], summary: [Bool])
            case kindMask(shift: UInt8, mask: UInt8)
            case modality([Bool])
            case unreadable
        }

        public func matches(_ row: Int) -> Bool {
            for term in terms {
                var hit = false
                for atom in term.atoms where test(atom, row) {
                    hit = true
                    break
                }
                if hit == term.negated { return false }
            }
            return true
        }

        private func test(_ atom: AtomTest, _ row: Int) -> Bool {
            let s = store
            switch atom {
            case .word(let bytes, let study, let series, let summary):
                return study[Int(s.studies[row])] || series[Int(s.series[row])] || summary[Int(s.patientNames[row])]
                    || summary[Int(s.patientIDs[row])] || s.sopContains(row: row, bytes)
            case .kindMask(let shift, let mask):
                return mask & (1 << (s.kinds[row] >> shift & 3)) != 0
            case .modality(let table):
                return table[Int(s.modalities[row])]
            case .unreadable:
                return s.kinds[row] & EntryStore.unreadableFlag != 0
            }
        }
    }

    public func matcher(for filter: FeedFilter) -> Matcher {
        /// Each interned string tested once, in place (ASCII letters folded as they are read).
        func table(_ interner: Interner, _ word: [UInt8], skipFirst: Bool = false) -> [Bool] {
            interner.all.enumerated().map { i, text in
                if skipFirst && i == 0 { return false }
                var text = text
                return text.withUTF8 { Self.contains($0, word) }
            }
        }
        func atomTest(_ atom: FeedFilter.Atom) -> Matcher.AtomTest {
            switch atom {
            case .word(let w):
                let bytes = Array(w.lowercased().utf8)
                return .word(bytes: bytes, study: table(studyUIDs, bytes), series: table(seriesUIDs, bytes),
                             summary: table(summaryText, bytes, skipFirst: true))
            case .actions(let set):
                var mask: UInt8 = 0
                for (i, x) in ChangeFeedAction.allCases.enumerated() where set.contains(x) { mask |= 1 << i }
                return .kindMask(shift: 0, mask: mask)
            case .states(let set):
                var mask: UInt8 = 0
                for (i, x) in ChangeFeedState.allCases.enumerated() where set.contains(x) { mask |= 1 << i }
                return .kindMask(shift: 2, mask: mask)
            case .modality(let m):
                return .modality(summaryText.all.enumerated().map { $0.offset != 0 && $0.element.uppercased() == m })
            case .unreadable:
                return .unreadable
            }
        }
        return Matcher(store: self, terms: filter.terms.map { ($0.negated, $0.anyOf.map(atomTest)) })
    }

    fileprivate func sopContains(row: Int, _ word: [UInt8]) -> Bool {
        let start = row == 0 ? 0 : Int(sopEnds[row - 1])
        let end = Int(sopEnds[row])
        return sopBytes.withUnsafeBufferPointer { Self.contains(UnsafeBufferPointer(rebasing: $0[start..<end]), word) }
    }

    /// Byte substring test of a lower-cased `needle` in `hay`, folding ASCII capitals of `hay`
    /// as it goes (UIDs are ASCII; names keep other scripts as they are).
    static func contains<C: RandomAccessCollection>(_ hay: C, _ needle: [UInt8]) -> Bool where C.Element == UInt8, C.Index == Int {
        let n = needle.count
        if n == 0 { return true }
        if hay.count < n { return false }
        @inline(__always) func fold(_ b: UInt8) -> UInt8 { b &- 65 < 26 ? b | 0x20 : b }
        let first = needle[0]
        var i = hay.startIndex
        let last = hay.endIndex - n
        while i <= last {
            if fold(hay[i]) == first {
                var j = 1
                while j < n, fold(hay[i + j]) == needle[j] { j += 1 }
                if j == n { return true }
            }
            i += 1
        }
        return false
    }
}
