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

/// The loaded change-feed entries, in feed order, kept small enough for a million of them
/// (about 30 to 60 bytes an entry, by how much the UIDs share; `[ChangeFeedEntry]` takes
/// several hundred):
/// - plain numbers in columns (sequence, time, action and state flags);
/// - each row's study and series as one number: the pair (study UID, series UID), interned
///   (the instances of a series share it);
/// - the SOP instance UID as bytes in one arena, without the part it shares with the start of
///   its series UID (instance UIDs usually extend their series' or share its root): one byte
///   says how long that shared start is, then the rest;
/// - interned strings as bytes in an arena with a hash table of numbers (`Interner`), not as
///   `String`s in a dictionary;
/// - what the list shows of an entry's metadata (patient name and ID, modality) as one number
///   per row, the interned triple, and no column at all until some row has one.
///
/// Metadata itself is not kept here (the detail view fetches it on demand).
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
    /// Each row's (study, series) pair, by id in `groups`.
    fileprivate var groupOf: [UInt32] = []
    fileprivate var groups = PairTable()
    /// Each row's SOP instance UID in `sopBytes`, ending at `sopEnds[row]`: one byte, the length
    /// of the start it shares with its series UID (at most 255), then the bytes after that.
    fileprivate var sopEnds: [UInt32] = []
    fileprivate var sopBytes: [UInt8] = []
    fileprivate var studyUIDs = Interner()
    fileprivate var seriesUIDs = Interner()
    /// Each row's metadata summary, by id in `summaries` (0: not known); no column (and
    /// `hasSummaryColumn` false) until a row has one.
    fileprivate var summaryOf: [UInt32] = []
    fileprivate var hasSummaryColumn = false
    /// (patient name, patient ID, modality) as ids in `summaryText`; pair id 0 is "not known".
    fileprivate var summaries = TripleTable()
    /// Interned summary texts; id 0 is "not known" (the empty string).
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
        let kind = kinds[position]
        let group = groupOf[position]
        let names = summaries[summaryID(position)]
        func text(_ id: UInt32) -> String? { id == 0 ? nil : summaryText[id] }
        return FeedRow(sequence: sequences[position], timestamp: Timestamp(ticks: ticks[position]),
                       timeKnown: kind & Self.timeUnknownFlag == 0,
                       action: ChangeFeedAction.allCases[Int(kind & 3)],
                       state: ChangeFeedState.allCases[Int(kind >> 2 & 3)],
                       studyInstanceUid: studyUIDs[groups.first(group)],
                       seriesInstanceUid: seriesUIDs[groups.second(group)],
                       sopInstanceUid: sop(at: position),
                       patientName: text(names.0), patientID: text(names.1), modality: text(names.2),
                       unreadable: kind & Self.unreadableFlag != 0 ? reasons[position] ?? "unreadable" : nil,
                       sequenceKnown: kind & Self.sequenceUnknownFlag == 0)
    }

    @inline(__always) private func sopRange(_ row: Int) -> Range<Int> {
        (row == 0 ? 0 : Int(sopEnds[row - 1]))..<Int(sopEnds[row])
    }

    @inline(__always) fileprivate func summaryID(_ row: Int) -> UInt32 {
        hasSummaryColumn ? summaryOf[row] : 0
    }

    /// Calls `body` with the SOP instance UID of `row` as bytes (the shared start of the series
    /// UID and the rest, put together in a temporary buffer).
    fileprivate func withSOP<R>(at row: Int, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        let range = sopRange(row)
        return sopBytes.withUnsafeBufferPointer { bytes in
            let shared = Int(bytes[range.lowerBound])
            let rest = UnsafeBufferPointer(rebasing: bytes[(range.lowerBound + 1)..<range.upperBound])
            if shared == 0 { return body(rest) }
            return seriesUIDs.withBytes(groups.second(groupOf[row])) { series in
                withUnsafeTemporaryAllocation(of: UInt8.self, capacity: shared + rest.count) { buffer in
                    _ = buffer.initialize(fromContentsOf: series[..<shared])
                    _ = UnsafeMutableBufferPointer(rebasing: buffer[shared...]).initialize(fromContentsOf: rest)
                    return body(UnsafeBufferPointer(buffer))
                }
            }
        }
    }

    /// The SOP instance UID of `row`.
    fileprivate func sop(at row: Int) -> String {
        withSOP(at: row) { String(decoding: $0, as: UTF8.self) }
    }

    /// How long a start a SOP instance UID shares with its series UID (at most 255 bytes).
    private func sharedStart(_ sop: String, series seriesID: UInt32) -> Int {
        var sop = sop
        return sop.withUTF8 { uid in
            seriesUIDs.withBytes(seriesID) { series in
                var shared = 0
                let most = Swift.min(uid.count, series.count, 255)
                while shared < most, uid[shared] == series[shared] { shared += 1 }
                return shared
            }
        }
    }

    /// The bytes a SOP instance UID is kept as, for a row of this series.
    private func sopRecord(_ sop: String, series seriesID: UInt32) -> [UInt8] {
        let shared = sharedStart(sop, series: seriesID)
        return [UInt8(shared)] + sop.utf8.dropFirst(shared)
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

    /// Appends a row as another store shows it (the whole-feed search keeps its matches so).
    public mutating func append(_ row: FeedRow) {
        if let reason = row.unreadable {
            insert(unreadable: UnreadableEntry(sequence: row.sequenceKnown ? row.sequence : nil,
                                               timestamp: row.timeKnown ? row.timestamp : nil,
                                               sopInstanceUid: row.sopInstanceUid.isEmpty ? nil : row.sopInstanceUid,
                                               reason: reason), at: count)
            return
        }
        append(ChangeFeedEntry(sequence: row.sequence, studyInstanceUid: row.studyInstanceUid,
                               seriesInstanceUid: row.seriesInstanceUid, sopInstanceUid: row.sopInstanceUid,
                               action: row.action, timestamp: row.timestamp, state: row.state),
               summary: RowSummary(patientName: row.patientName, patientID: row.patientID, modality: row.modality))
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

    private mutating func internSummary(_ summary: RowSummary) -> UInt32 {
        if summary.isEmpty { return 0 }
        return summaries.intern((summaryText.intern(summary.patientName ?? ""), summaryText.intern(summary.patientID ?? ""),
                                 summaryText.intern(summary.modality ?? "")))
    }

    private mutating func insertRow(at p: Int, sequence: Int64, ticks time: Int64, kind: UInt8, study: String, series s: String,
                                    sop: String, summary: RowSummary) {
        let seriesID = seriesUIDs.intern(s)
        let group = groups.intern((studyUIDs.intern(study), seriesID))
        let names = internSummary(summary)
        if names != 0 {
            summaryCount += 1
            addSummaryColumn()
        }
        if p == count {
            // The common case: the end of the list.
            if bySequence == nil, let last = sequences.last, sequence < last { buildSequenceIndex() }
            sequences.append(sequence)
            ticks.append(time)
            kinds.append(kind)
            groupOf.append(group)
            // Written in place (no record array for each row).
            let shared = sharedStart(sop, series: seriesID)
            sopBytes.append(UInt8(shared))
            sopBytes.append(contentsOf: sop.utf8.dropFirst(shared))
            sopEnds.append(UInt32(sopBytes.count))
            if hasSummaryColumn { summaryOf.append(names) }
            seriesIndex?[seriesID, default: []].append(Int32(p))
            if bySequence != nil { indexSequence(at: p) }
            return
        }
        let record = sopRecord(sop, series: seriesID)
        // A row in the middle (a late arrival): everything after it moves down by one.
        if bySequence == nil, !(p == 0 || sequences[p - 1] <= sequence) || sequence > sequences[p] { buildSequenceIndex() }
        sequences.insert(sequence, at: p)
        ticks.insert(time, at: p)
        kinds.insert(kind, at: p)
        groupOf.insert(group, at: p)
        let byteStart = p == 0 ? 0 : Int(sopEnds[p - 1])
        sopBytes.insert(contentsOf: record, at: byteStart)
        sopEnds.insert(UInt32(byteStart), at: p)
        for i in p..<sopEnds.count { sopEnds[i] += UInt32(record.count) }
        if hasSummaryColumn { summaryOf.insert(names, at: p) }
        shiftPositions(from: p, by: 1)
        seriesIndex?[seriesID, default: []].append(Int32(p))
        seriesIndex?[seriesID]?.sort()
        if bySequence != nil { indexSequence(at: p) }
    }

    /// Puts the rows of `front` before every row (older entries, loaded as the user scrolls up):
    /// their strings are interned here, their columns go in front in one move each.
    public mutating func prepend(_ front: EntryStore) {
        guard !front.isEmpty else { return }
        let n = front.count
        var pairMap: [UInt32: UInt32] = [:]
        let newGroups = front.groupOf.map { g -> UInt32 in
            if let m = pairMap[g] { return m }
            let m = groups.intern((studyUIDs.intern(front.studyUIDs[front.groups.first(g)]),
                                   seriesUIDs.intern(front.seriesUIDs[front.groups.second(g)])))
            pairMap[g] = m
            return m
        }
        var newSummaries: [UInt32] = []
        if front.hasSummaryColumn {
            var tripleMap: [UInt32: UInt32] = [0: 0]
            newSummaries = front.summaryOf.map { id -> UInt32 in
                if let m = tripleMap[id] { return m }
                let t = front.summaries[id]
                func text(_ i: UInt32) -> String { i == 0 ? "" : front.summaryText[i] }
                let m = summaries.intern((summaryText.intern(text(t.0)), summaryText.intern(text(t.1)), summaryText.intern(text(t.2))))
                tripleMap[id] = m
                return m
            }
            addSummaryColumn()
        }
        let wasSorted = bySequence == nil
        let stillSorted = wasSorted && front.bySequence == nil && (sequences.first.map { front.sequences[n - 1] <= $0 } ?? true)
        sequences.insert(contentsOf: front.sequences, at: 0)
        ticks.insert(contentsOf: front.ticks, at: 0)
        kinds.insert(contentsOf: front.kinds, at: 0)
        groupOf.insert(contentsOf: newGroups, at: 0)
        if hasSummaryColumn {
            summaryOf.insert(contentsOf: front.hasSummaryColumn ? newSummaries : Array(repeating: 0, count: n), at: 0)
        }
        // The SOP bytes are stored against the series UID, which is the same string here.
        let shift = UInt32(front.sopBytes.count)
        for i in sopEnds.indices { sopEnds[i] += shift }
        sopEnds.insert(contentsOf: front.sopEnds, at: 0)
        sopBytes.insert(contentsOf: front.sopBytes, at: 0)
        if !reasons.isEmpty || !front.reasons.isEmpty {
            var moved = Dictionary(uniqueKeysWithValues: reasons.map { ($0.key + n, $0.value) })
            for (k, v) in front.reasons { moved[k] = v }
            reasons = moved
        }
        unreadableCount += front.unreadableCount
        summaryCount += front.summaryCount
        seriesIndex = nil
        bySequence = nil
        if !stillSorted { buildSequenceIndex() }
    }

    /// Keeps only the rows in `range` (the list's memory budget drops the rows far from the
    /// view), in a store of their own: strings only they use are gone with the others.
    public func keeping(_ range: Range<Int>) -> EntryStore {
        var part = EntryStore(order: order)
        guard !range.isEmpty else { return part }
        part.sequences = Array(sequences[range])
        part.ticks = Array(ticks[range])
        part.kinds = Array(kinds[range])
        part.groupOf = Array(groupOf[range])
        part.groups = groups
        part.studyUIDs = studyUIDs
        part.seriesUIDs = seriesUIDs
        if hasSummaryColumn {
            part.summaryOf = Array(summaryOf[range])
            part.hasSummaryColumn = true
            part.summaries = summaries
            part.summaryText = summaryText
        }
        let base = range.lowerBound == 0 ? 0 : sopEnds[range.lowerBound - 1]
        part.sopBytes = Array(sopBytes[Int(base)..<Int(sopEnds[range.upperBound - 1])])
        part.sopEnds = sopEnds[range].map { $0 - base }
        for (row, reason) in reasons where range.contains(row) { part.reasons[row - range.lowerBound] = reason }
        part.unreadableCount = part.kinds.reduce(0) { $0 + ($1 & Self.unreadableFlag != 0 ? 1 : 0) }
        part.summaryCount = part.hasSummaryColumn ? part.summaryOf.reduce(0) { $0 + ($1 != 0 ? 1 : 0) } : 0
        if bySequence != nil, zip(part.sequences, part.sequences.dropFirst()).contains(where: { $0 > $1 }) {
            part.buildSequenceIndex()
        }
        // The tables still hold the strings of the rows dropped: copy the part into a fresh store.
        var fresh = EntryStore(order: order)
        fresh.prepend(part)
        return fresh
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
        let seriesID = groups.second(groupOf[p])
        sequences.remove(at: p)
        ticks.remove(at: p)
        kinds.remove(at: p)
        groupOf.remove(at: p)
        if hasSummaryColumn { summaryOf.remove(at: p) }
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
        let id = internSummary(summary)
        if id == 0 && !hasSummaryColumn { return }
        addSummaryColumn()
        summaryOf[index] = id
        summaryCount += (id != 0 ? 1 : 0) - (had ? 1 : 0)
    }

    /// The summary column, every row "not known", when there is none yet.
    private mutating func addSummaryColumn() {
        guard !hasSummaryColumn else { return }
        summaryOf = Array(repeating: 0, count: count)
        hasSummaryColumn = true
    }

    /// Whether the row's metadata summary is known.
    public func hasSummary(at index: Int) -> Bool { summaryID(index) != 0 }

    public func isUnreadable(at index: Int) -> Bool { kinds[index] & Self.unreadableFlag != 0 }
    public func sequenceKnown(at index: Int) -> Bool { kinds[index] & Self.sequenceUnknownFlag == 0 }
    public func sequence(at index: Int) -> Int64 { sequences[index] }
    public func timestamp(at index: Int) -> Timestamp { Timestamp(ticks: ticks[index]) }

    /// Whether the unreadable row at `index` is the same element as `u` (for an element whose
    /// sequence could not be read, which a re-read meets again).
    public func isSameUnreadable(at index: Int, as u: UnreadableEntry) -> Bool {
        guard kinds[index] & Self.unreadableFlag != 0, (kinds[index] & Self.sequenceUnknownFlag != 0) == (u.sequence == nil),
              reasons[index] == u.reason else { return false }
        var needle = u.sopInstanceUid ?? ""
        return needle.withUTF8 { needle in withSOP(at: index) { $0.elementsEqual(needle) } }
    }

    /// Readable rows of an instance (its series and SOP instance UIDs), newest first. The first
    /// call builds an index of rows by series (about 4 bytes a row, kept up to date from then
    /// on), so follow mode finds an instance's older rows without scanning a million rows.
    public mutating func rows(ofInstance sop: String, series s: String) -> [Int] {
        guard let seriesID = seriesUIDs.id(of: s) else { return [] }
        if seriesIndex == nil {
            var index: [UInt32: [Int32]] = [:]
            for (row, group) in groupOf.enumerated() { index[groups.second(group), default: []].append(Int32(row)) }
            seriesIndex = index
        }
        // Every row of the series keeps its UID the same way: compare the kept bytes.
        let needle = sopRecord(sop, series: seriesID)
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

    /// The action of the row at `index`, without building the row's strings (the activity view counts them).
    public func action(at index: Int) -> ChangeFeedAction { ChangeFeedAction.allCases[Int(kinds[index] & 3)] }

    /// Reserves room for `count` more entries (when the size of the feed is known).
    public mutating func reserve(_ count: Int) {
        sequences.reserveCapacity(sequences.count + count)
        ticks.reserveCapacity(ticks.count + count)
        kinds.reserveCapacity(kinds.count + count)
        groupOf.reserveCapacity(groupOf.count + count)
        sopEnds.reserveCapacity(sopEnds.count + count)
        sopBytes.reserveCapacity(sopBytes.count + count * 16)
    }

    /// Bytes held, capacity included: what the store costs in memory.
    public var approximateBytes: Int {
        sequences.capacity * 8 + ticks.capacity * 8 + kinds.capacity + groupOf.capacity * 4 + groups.approximateBytes
            + sopEnds.capacity * 4 + sopBytes.capacity + studyUIDs.approximateBytes + seriesUIDs.approximateBytes
            + summaryOf.capacity * 4 + summaries.approximateBytes + summaryText.approximateBytes
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

/// Strings stored once, referred to by number: their UTF-8 bytes end to end in one arena, and an
/// open-addressing hash table of ids to find them again (about 12 bytes a string beside its
/// bytes; a `[String: UInt32]` beside a `[String]` takes over a hundred). Strings are told apart
/// by their bytes, so each comes back exactly as it was given.
struct Interner: Sendable {
    private var bytes: [UInt8] = []
    /// End of each string in `bytes`, by id.
    private var ends: [UInt32] = []
    /// The id + 1 of a string at (or after) its hash's slot, 0 for an empty slot; a power of two
    /// long and at most half full.
    private var slots: [UInt32] = []
    /// The last string interned: consecutive entries usually share their study and series.
    private var lastID: UInt32?

    /// With `reserveEmpty`, id 0 is the empty string (so 0 can mean "not known").
    init(reserveEmpty: Bool = false) {
        if reserveEmpty { _ = intern("") }
    }

    /// How many strings there are (ids are 0..<count).
    var count: Int { ends.count }

    subscript(id: UInt32) -> String { withBytes(id) { String(decoding: $0, as: UTF8.self) } }

    /// Calls `body` with the bytes of string `id`.
    func withBytes<R>(_ id: UInt32, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        let i = Int(id)
        let range = (i == 0 ? 0 : Int(ends[i - 1]))..<Int(ends[i])
        return bytes.withUnsafeBufferPointer { body(UnsafeBufferPointer(rebasing: $0[range])) }
    }

    /// The id of a string already interned.
    func id(of s: String) -> UInt32? {
        var s = s
        return s.withUTF8 { find($0).id }
    }

    mutating func intern(_ s: String) -> UInt32 {
        var s = s
        return s.withUTF8 { intern(bytes: $0) }
    }

    mutating func intern(bytes utf8: UnsafeBufferPointer<UInt8>) -> UInt32 {
        if let last = lastID, withBytes(last, { Self.equal($0, utf8) }) { return last }
        let (found, slot) = find(utf8)
        if let found {
            lastID = found
            return found
        }
        let id = UInt32(ends.count)
        bytes.append(contentsOf: utf8)
        ends.append(UInt32(bytes.count))
        if ends.count * 2 > slots.count { rehash() } else { slots[slot] = id + 1 }
        lastID = id
        return id
    }

    static func equal(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Bool {
        a.count == b.count && (a.count == 0 || memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0)
    }

    private static func hash(_ b: UnsafeBufferPointer<UInt8>) -> Int {
        var h = Hasher()
        h.combine(bytes: UnsafeRawBufferPointer(b))
        return h.finalize()
    }

    /// The id of these bytes if they are interned, and the slot where they are or would go.
    private func find(_ b: UnsafeBufferPointer<UInt8>) -> (id: UInt32?, slot: Int) {
        guard !slots.isEmpty else { return (nil, 0) }
        let mask = slots.count - 1
        var i = Self.hash(b) & mask
        while true {
            let v = slots[i]
            if v == 0 { return (nil, i) }
            if withBytes(v - 1, { Self.equal($0, b) }) { return (v - 1, i) }
            i = (i + 1) & mask
        }
    }

    /// A table twice as long, every id in it again.
    private mutating func rehash() {
        var table = [UInt32](repeating: 0, count: max(16, slots.count * 2))
        let mask = table.count - 1
        for id in 0..<UInt32(ends.count) {
            var i = withBytes(id) { Self.hash($0) } & mask
            while table[i] != 0 { i = (i + 1) & mask }
            table[i] = id + 1
        }
        slots = table
    }

    var approximateBytes: Int {
        bytes.capacity + ends.capacity * 4 + slots.capacity * 4
    }
}

/// Pairs of ids stored once, referred to by number (a row's study and series).
struct PairTable: Sendable {
    /// First id in the high half, second in the low, by pair id.
    private var pairs: [UInt64] = []
    private var index: [UInt64: UInt32] = [:]
    private var lastID: UInt32?

    var count: Int { pairs.count }
    func first(_ id: UInt32) -> UInt32 { UInt32(truncatingIfNeeded: pairs[Int(id)] >> 32) }
    func second(_ id: UInt32) -> UInt32 { UInt32(truncatingIfNeeded: pairs[Int(id)]) }

    mutating func intern(_ pair: (UInt32, UInt32)) -> UInt32 {
        let key = UInt64(pair.0) << 32 | UInt64(pair.1)
        if let last = lastID, pairs[Int(last)] == key { return last }
        let id: UInt32
        if let found = index[key] {
            id = found
        } else {
            id = UInt32(pairs.count)
            pairs.append(key)
            index[key] = id
        }
        lastID = id
        return id
    }

    var approximateBytes: Int { pairs.capacity * 8 + index.capacity * 12 }
}

/// Triples of ids stored once, referred to by number (a row's patient name, patient ID and
/// modality); id 0 is (0, 0, 0).
struct TripleTable: Sendable {
    private struct Triple: Hashable {
        var a, b, c: UInt32
    }
    private var triples: [Triple] = [Triple(a: 0, b: 0, c: 0)]
    private var index: [Triple: UInt32] = [Triple(a: 0, b: 0, c: 0): 0]

    var count: Int { triples.count }
    subscript(id: UInt32) -> (UInt32, UInt32, UInt32) {
        let t = triples[Int(id)]
        return (t.a, t.b, t.c)
    }

    mutating func intern(_ t: (UInt32, UInt32, UInt32)) -> UInt32 {
        let key = Triple(a: t.0, b: t.1, c: t.2)
        if let found = index[key] { return found }
        let id = UInt32(triples.count)
        triples.append(key)
        index[key] = id
        return id
    }

    var approximateBytes: Int { triples.capacity * 12 + index.capacity * 16 }
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
            /// `groups`: by (study, series) pair, whether either UID has the word; `summaries`: by
            /// summary, whether the patient name or ID has it.
            case word(bytes: [UInt8], groups: [Bool], summaries: [Bool])
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
            case .word(let bytes, let groups, let summaries):
                return groups[Int(s.groupOf[row])] || summaries[Int(s.summaryID(row))] || s.sopContains(row: row, bytes)
            case .kindMask(let shift, let mask):
                return mask & (1 << (s.kinds[row] >> shift & 3)) != 0
            case .modality(let table):
                return table[Int(s.summaryID(row))]
            case .unreadable:
                return s.kinds[row] & EntryStore.unreadableFlag != 0
            }
        }
    }

    public func matcher(for filter: FeedFilter) -> Matcher {
        /// Each interned string tested once, in place (ASCII letters folded as they are read).
        func table(_ interner: Interner, _ word: [UInt8], skipFirst: Bool = false) -> [Bool] {
            (0..<UInt32(interner.count)).map { id in
                if skipFirst && id == 0 { return false }
                return interner.withBytes(id) { Self.contains($0, word) }
            }
        }
        func atomTest(_ atom: FeedFilter.Atom) -> Matcher.AtomTest {
            switch atom {
            case .word(let w):
                let bytes = Array(w.lowercased().utf8)
                let study = table(studyUIDs, bytes), series = table(seriesUIDs, bytes)
                let texts = table(summaryText, bytes, skipFirst: true)
                return .word(bytes: bytes,
                             groups: (0..<UInt32(groups.count)).map { study[Int(groups.first($0))] || series[Int(groups.second($0))] },
                             summaries: (0..<UInt32(summaries.count)).map { texts[Int(summaries[$0].0)] || texts[Int(summaries[$0].1)] })
            case .actions(let set):
                var mask: UInt8 = 0
                for (i, x) in ChangeFeedAction.allCases.enumerated() where set.contains(x) { mask |= 1 << i }
                return .kindMask(shift: 0, mask: mask)
            case .states(let set):
                var mask: UInt8 = 0
                for (i, x) in ChangeFeedState.allCases.enumerated() where set.contains(x) { mask |= 1 << i }
                return .kindMask(shift: 2, mask: mask)
            case .modality(let m):
                let texts = (0..<UInt32(summaryText.count)).map { $0 != 0 && summaryText[$0].uppercased() == m }
                return .modality((0..<UInt32(summaries.count)).map { texts[Int(summaries[$0].2)] })
            case .unreadable:
                return .unreadable
            }
        }
        return Matcher(store: self, terms: filter.terms.map { ($0.negated, $0.anyOf.map(atomTest)) })
    }

    fileprivate func sopContains(row: Int, _ word: [UInt8]) -> Bool {
        withSOP(at: row) { Self.contains($0, word) }
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
