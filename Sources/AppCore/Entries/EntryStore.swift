import Foundation
import FeedModel

/// One row of the list: what the views show of an entry. Built on access from `EntryStore`.
public struct FeedRow: Sendable, Equatable {
    public var sequence: Int64
    /// Exact (100 ns ticks). For a row whose time could not be read (`timeKnown` false) it
    /// repeats its neighbour's, which keeps the list in order; the views show it as unknown.
    public var timestamp: Timestamp
    public var timeKnown = true
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

    public init(sequence: Int64, timestamp: Timestamp, timeKnown: Bool = true, action: ChangeFeedAction, state: ChangeFeedState,
                studyInstanceUid: String, seriesInstanceUid: String, sopInstanceUid: String,
                patientName: String? = nil, patientID: String? = nil, modality: String? = nil,
                unreadable: String? = nil, sequenceKnown: Bool = true) {
        self.sequence = sequence; self.timestamp = timestamp; self.timeKnown = timeKnown; self.action = action
        self.state = state; self.studyInstanceUid = studyInstanceUid; self.seriesInstanceUid = seriesInstanceUid
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

/// The loaded change-feed entries, in feed order, kept small enough for a million of them:
/// columns of plain numbers, study and series UIDs interned (many instances share them), SOP
/// instance UIDs as bytes in one arena. Metadata is not kept here (the detail view fetches it
/// on demand), only what the list shows of it (patient name and ID, modality; interned, 0
/// when unknown). About 115 bytes an entry; `[ChangeFeedEntry]` takes several times that.
///
/// **Order and identity.** A row's identity is its sequence; its place is the feed's order:
/// by sequence in v1, by (timestamp, sequence) in v2, where a sequence can be lower than the
/// row's before it. Rows normally arrive at the end; a row that commits late goes to its
/// place (`insertionPoint`), and the rows after it move down by one. Look-ups by sequence use
/// the sequence column while it is sorted (always in v1) and otherwise an index of positions
/// sorted by sequence (`bySequence`), built when the first row arrives out of sequence order.
public struct EntryStore: Sendable, RandomAccessCollection {
    public let order: FeedCursor.Order
    fileprivate var sequences: [Int64] = []
    /// 100-ns ticks since 1970, exactly as the service wrote them.
    fileprivate var ticks: [Int64] = []
    /// Action in the low 2 bits, state in the next 2, then the `unreadable`, `sequenceUnknown`
    /// and `timeUnknown` flags.
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
    /// Positions sorted by sequence; nil while the sequence column itself is sorted.
    fileprivate var bySequence: [Int32]?
    /// Why each unreadable row could not be read, by position (rare).
    private var reasons: [Int: String] = [:]
    /// Rows that are unreadable elements.
    public private(set) var unreadableCount = 0
    /// Rows whose metadata summary (patient name and ID, modality) is known.
    public private(set) var summaryCount = 0

    static let unreadableFlag: UInt8 = 1 << 4
    static let sequenceUnknownFlag: UInt8 = 1 << 5
    static let timeUnknownFlag: UInt8 = 1 << 6

    public init(order: FeedCursor.Order = .sequence) { self.order = order }

    public var startIndex: Int { 0 }
    public var endIndex: Int { sequences.count }

    public subscript(position: Int) -> FeedRow {
        let sop = sopBytes.withUnsafeBufferPointer { String(decoding: UnsafeBufferPointer(rebasing: $0[sopRange(position)]), as: UTF8.self) }
        let kind = kinds[position]
        func text(_ id: UInt32) -> String? { id == 0 ? nil : summaryText[id] }
        return FeedRow(sequence: sequences[position], timestamp: Timestamp(ticks: ticks[position]),
                       timeKnown: kind & Self.timeUnknownFlag == 0,
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

    @inline(__always) private func sopRange(_ row: Int) -> Range<Int> {
        (row == 0 ? 0 : Int(sopEnds[row - 1]))..<Int(sopEnds[row])
    }

    // MARK: - Adding rows

    /// Appends entries (tests and tools: no ordering or identity checks; see `AppState.merge`).
    public mutating func append(contentsOf entries: [ChangeFeedEntry]) {
        for e in entries { append(e) }
    }

    public mutating func append(_ e: ChangeFeedEntry, summary: RowSummary = RowSummary()) {
        insert(e, at: count, summary: summary)
    }

    /// Puts an entry at `position` (see `insertionPoint`); the rows from there on move down.
    public mutating func insert(_ e: ChangeFeedEntry, at position: Int, summary: RowSummary = RowSummary()) {
        insertRow(at: position, sequence: e.sequence, ticks: e.timestamp.ticks, kind: Self.kind(e.action, e.state),
                  study: e.studyInstanceUid, series: e.seriesInstanceUid, sop: e.sopInstanceUid, summary: summary)
    }

    /// Appends a marked row for an element that did not decode (tests; see `insert(unreadable:at:)`).
    public mutating func append(unreadable u: UnreadableEntry) {
        insert(unreadable: u, at: count)
    }

    /// Puts a marked row for an element that did not decode at `position`. Its sequence and
    /// time, when they could not be read, repeat a neighbour's (so the columns stay in feed
    /// order) and are flagged unknown.
    public mutating func insert(unreadable u: UnreadableEntry, at position: Int) {
        var kind = Self.kind(.create, .current) | Self.unreadableFlag
        if u.sequence == nil { kind |= Self.sequenceUnknownFlag }
        if u.timestamp == nil { kind |= Self.timeUnknownFlag }
        let neighbour = position > 0 ? position - 1 : position < count ? position : nil
        let seq = u.sequence ?? neighbour.map { sequences[$0] } ?? 0
        let time = u.timestamp?.ticks ?? neighbour.map { ticks[$0] } ?? 0
        insertRow(at: position, sequence: seq, ticks: time, kind: kind, study: "", series: "", sop: u.sopInstanceUid ?? "",
                  summary: RowSummary())
        reasons[position] = u.reason
        unreadableCount += 1
    }

    private mutating func insertRow(at p: Int, sequence: Int64, ticks time: Int64, kind: UInt8, study: String, series s: String,
                                    sop: String, summary: RowSummary) {
        let seriesID = seriesUIDs.intern(s)
        let studyID = studyUIDs.intern(study)
        let names = (summaryText.intern(summary.patientName ?? ""), summaryText.intern(summary.patientID ?? ""),
                     summaryText.intern(summary.modality ?? ""))
        if names != (0, 0, 0) { summaryCount += 1 }
        if p == count {
            // The common case: the end of the list.
            if bySequence == nil, let last = sequences.last, sequence < last { buildSequenceIndex() }
            sequences.append(sequence)
            ticks.append(time)
            kinds.append(kind)
            studies.append(studyID)
            series.append(seriesID)
            sopBytes.append(contentsOf: sop.utf8)
            sopEnds.append(UInt32(sopBytes.count))
            patientNames.append(names.0)
            patientIDs.append(names.1)
            modalities.append(names.2)
            seriesIndex?[seriesID, default: []].append(Int32(p))
            if bySequence != nil { indexSequence(at: p) }
            return
        }
        // A row in the middle (a late arrival): everything after it moves down by one.
        if bySequence == nil, !(p == 0 || sequences[p - 1] <= sequence) || sequence > sequences[p] { buildSequenceIndex() }
        sequences.insert(sequence, at: p)
        ticks.insert(time, at: p)
        kinds.insert(kind, at: p)
        studies.insert(studyID, at: p)
        series.insert(seriesID, at: p)
        let byteStart = p == 0 ? 0 : Int(sopEnds[p - 1])
        let bytes = Array(sop.utf8)
        sopBytes.insert(contentsOf: bytes, at: byteStart)
        sopEnds.insert(UInt32(byteStart), at: p)
        for i in p..<sopEnds.count { sopEnds[i] += UInt32(bytes.count) }
        patientNames.insert(names.0, at: p)
        patientIDs.insert(names.1, at: p)
        modalities.insert(names.2, at: p)
        shiftPositions(from: p, by: 1)
        seriesIndex?[seriesID, default: []].append(Int32(p))
        seriesIndex?[seriesID]?.sort()
        if bySequence != nil { indexSequence(at: p) }
    }

    /// Takes the row at `position` out (an unreadable row a later read replaced).
    public mutating func remove(at p: Int) {
        if kinds[p] & Self.unreadableFlag != 0 { unreadableCount -= 1 }
        if hasSummary(at: p) { summaryCount -= 1 }
        reasons[p] = nil
        let range = sopRange(p)
        sopBytes.removeSubrange(range)
        sopEnds.remove(at: p)
        for i in p..<sopEnds.count { sopEnds[i] -= UInt32(range.count) }
        let seriesID = series[p]
        sequences.remove(at: p)
        ticks.remove(at: p)
        kinds.remove(at: p)
        studies.remove(at: p)
        series.remove(at: p)
        patientNames.remove(at: p)
        patientIDs.remove(at: p)
        modalities.remove(at: p)
        seriesIndex?[seriesID]?.removeAll { $0 == Int32(p) }
        bySequence?.removeAll { $0 == Int32(p) }
        shiftPositions(from: p + 1, by: -1)
    }

    /// Positions from `from` on move by `delta` (+1: a row was put at `from`, and the rows that
    /// were there are one further; -1: the row before `from` was taken out) in every index.
    private mutating func shiftPositions(from: Int, by delta: Int32) {
        let first = Int32(from)
        if var index = bySequence {
            for i in index.indices where index[i] >= first { index[i] += delta }
            bySequence = index
        }
        if let bySeries = seriesIndex {
            seriesIndex = bySeries.mapValues { rows in rows.map { $0 >= first ? $0 + delta : $0 } }
        }
        if !reasons.isEmpty {
            reasons = Dictionary(uniqueKeysWithValues: reasons.map { ($0.key >= from ? $0.key + Int(delta) : $0.key, $0.value) })
        }
    }

    // MARK: - Where a row goes, and finding it again

    /// Where a row with this sequence and time goes in feed order: after every row that comes
    /// before it or is equal (by sequence in v1; by time, then sequence in v2).
    public func insertionPoint(sequence: Int64, ticks time: Int64) -> Int {
        func before(_ i: Int) -> Bool {
            switch order {
            case .sequence: return sequences[i] <= sequence
            case .time: return ticks[i] < time || (ticks[i] == time && sequences[i] <= sequence)
            }
        }
        if let last = sequences.indices.last, before(last) { return count }
        var lo = 0, hi = count
        while lo < hi {
            let mid = (lo + hi) / 2
            if before(mid) { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    public func insertionPoint(of e: ChangeFeedEntry) -> Int {
        insertionPoint(sequence: e.sequence, ticks: e.timestamp.ticks)
    }

    /// The row whose sequence is `sequence` (readable, or unreadable with that sequence read),
    /// whatever the order: the sequence column while it is sorted, else `bySequence`.
    public func position(ofSequence sequence: Int64) -> Int? {
        var lo = 0, hi = count
        let index = bySequence
        @inline(__always) func seq(_ k: Int) -> Int64 { index.map { sequences[Int($0[k])] } ?? sequences[k] }
        while lo < hi {
            let mid = (lo + hi) / 2
            if seq(mid) < sequence { lo = mid + 1 } else { hi = mid }
        }
        while lo < count, seq(lo) == sequence {
            let row = index.map { Int($0[lo]) } ?? lo
            if kinds[row] & Self.sequenceUnknownFlag == 0 { return row }
            lo += 1
        }
        return nil
    }

    /// The row of the readable entry with this sequence.
    public func index(ofSequence sequence: Int64) -> Int? {
        guard let row = position(ofSequence: sequence), kinds[row] & Self.unreadableFlag == 0 else { return nil }
        return row
    }

    private mutating func buildSequenceIndex() {
        var index = (0..<Int32(count)).map { $0 }
        index.sort { sequences[Int($0)] < sequences[Int($1)] || (sequences[Int($0)] == sequences[Int($1)] && $0 < $1) }
        bySequence = index
    }

    /// Adds position `p` (already shifted for) to `bySequence`, in sequence order.
    private mutating func indexSequence(at p: Int) {
        let s = sequences[p]
        var lo = 0, hi = bySequence!.count
        if let last = bySequence!.last, sequences[Int(last)] <= s {
            bySequence!.append(Int32(p))
            return
        }
        while lo < hi {
            let mid = (lo + hi) / 2
            if sequences[Int(bySequence![mid])] <= s { lo = mid + 1 } else { hi = mid }
        }
        bySequence!.insert(Int32(p), at: lo)
    }

    // MARK: - Rows in place

    /// Rewrites the state of the row at `index` (a re-read found the instance replaced or deleted).
    public mutating func setState(_ state: ChangeFeedState, at index: Int) {
        let rest = kinds[index] & ~0b1100
        kinds[index] = rest | UInt8(ChangeFeedState.allCases.firstIndex(of: state)!) << 2
    }

    /// Records a new reason for an unreadable row read again.
    public mutating func setReason(_ reason: String, at index: Int) {
        if kinds[index] & Self.unreadableFlag != 0 { reasons[index] = reason }
    }

    /// Records what the metadata of the row at `index` says (patient, modality).
    public mutating func setSummary(_ summary: RowSummary, at index: Int) {
        let had = hasSummary(at: index)
        defer { summaryCount += (hasSummary(at: index) ? 1 : 0) - (had ? 1 : 0) }
        patientNames[index] = summaryText.intern(summary.patientName ?? "")
        patientIDs[index] = summaryText.intern(summary.patientID ?? "")
        modalities[index] = summaryText.intern(summary.modality ?? "")
    }

    /// Whether the row's metadata summary is known.
    public func hasSummary(at index: Int) -> Bool {
        patientNames[index] != 0 || patientIDs[index] != 0 || modalities[index] != 0
    }

    public func isUnreadable(at index: Int) -> Bool { kinds[index] & Self.unreadableFlag != 0 }
    public func sequenceKnown(at index: Int) -> Bool { kinds[index] & Self.sequenceUnknownFlag == 0 }
    public func sequence(at index: Int) -> Int64 { sequences[index] }
    public func timestamp(at index: Int) -> Timestamp { Timestamp(ticks: ticks[index]) }

    /// Whether the unreadable row at `index` is the same element as `u` (for an element whose
    /// sequence could not be read, which a re-read meets again).
    public func isSameUnreadable(at index: Int, as u: UnreadableEntry) -> Bool {
        guard kinds[index] & Self.unreadableFlag != 0, (kinds[index] & Self.sequenceUnknownFlag != 0) == (u.sequence == nil),
              reasons[index] == u.reason else { return false }
        let sop = sopBytes.withUnsafeBufferPointer { String(decoding: UnsafeBufferPointer(rebasing: $0[sopRange(index)]), as: UTF8.self) }
        return sop == (u.sopInstanceUid ?? "")
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
                let range = sopRange(row)
                if range.count == needle.count, kinds[row] & Self.unreadableFlag == 0,
                   needle.withUnsafeBufferPointer({ memcmp($0.baseAddress!, bytes.baseAddress! + range.lowerBound, needle.count) == 0 }) {
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
        ticks.reserveCapacity(ticks.count + count)
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
        sequences.capacity * 8 + ticks.capacity * 8 + kinds.capacity + studies.capacity * 4 + series.capacity * 4
            + sopEnds.capacity * 4 + sopBytes.capacity + studyUIDs.approximateBytes + seriesUIDs.approximateBytes
            + (patientNames.capacity + patientIDs.capacity + modalities.capacity) * 4 + summaryText.approximateBytes
            + (seriesIndex.map { $0.values.reduce(0) { $0 + $1.capacity * 4 + 48 } } ?? 0)
            + (bySequence?.capacity ?? 0) * 4
    }

    /// The sequence of the last row in feed order.
    public var lastSequence: Int64? { sequences.last }
    /// The highest sequence listed.
    public var highestSequence: Int64? {
        guard !sequences.isEmpty else { return nil }
        return bySequence.map { sequences[Int($0.last!)] } ?? sequences.last
    }

    static func kind(_ a: ChangeFeedAction, _ s: ChangeFeedState) -> UInt8 {
        UInt8(ChangeFeedAction.allCases.firstIndex(of: a)!) | UInt8(ChangeFeedState.allCases.firstIndex(of: s)!) << 2
    }
}

extension EntryStore: Equatable {
    /// Equal when they list the same rows in the same order: `FeedRow` has every column, so a
    /// column added to the store (and shown) takes part without being named here.
    public static func == (a: EntryStore, b: EntryStore) -> Bool {
        a.order == b.order && a.count == b.count && a.indices.allSatisfy { a[$0] == b[$0] }
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
        sopBytes.withUnsafeBufferPointer { Self.contains(UnsafeBufferPointer(rebasing: $0[sopRange(row)]), word) }
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
