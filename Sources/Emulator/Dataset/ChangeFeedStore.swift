import FeedModel
import Foundation

/// How big and which dataset to generate.
public struct DatasetOptions: Sendable, Hashable {
    /// Number of change-feed rows to generate.
    public var entryCount: Int
    /// Same seed, same dataset (byte for byte); different seed, different UIDs, names and timeline.
    public var seed: UInt64
    /// How the timeline deviates from a clean clock (`.plain`: timestamps never decrease).
    public var shape: FeedShape
    /// Share of generated rows (0 to 1) that the wire always writes in a form no client can
    /// decode (an unknown action or state, or a timestamp without a zone), with the sequence
    /// still readable. `EmulatedEntry.isUnreadable` says which.
    public var unreadableShare: Double

    public init(entryCount: Int = 2000, seed: UInt64 = 1, shape: FeedShape = .plain, unreadableShare: Double = 0) {
        self.entryCount = entryCount
        self.seed = seed
        self.shape = shape
        self.unreadableShare = unreadableShare
    }
}

/// One change-feed row as the store sees it now (state already resolved).
public struct EmulatedEntry: Sendable, Hashable {
    public var sequence: Int64
    /// 100-ns ticks since 1970 (exact; see `FeedTime`).
    public var timestampTicks: Int64
    public var action: ChangeFeedAction
    public var state: ChangeFeedState
    public var studyInstanceUid: String
    public var seriesInstanceUid: String
    public var sopInstanceUid: String
    /// The row's transaction has not committed: the service does not show it yet (only
    /// `allEntries(includingPending: true)` and `entry(sequence:includingPending: true)` return such rows).
    public var isPending: Bool = false
    /// The wire always writes this row in a form no client can decode (see
    /// `DatasetOptions.unreadableShare`); its sequence stays readable.
    public var isUnreadable: Bool = false

    /// Exact, as the service's 100-ns ticks.
    public var timestamp: Timestamp { Timestamp(ticks: timestampTicks) }
    /// The timestamp as the wire writes it by default.
    public var timestampText: String { FeedTime.format(timestampTicks) }

    /// The shared model's form (no metadata).
    public var changeFeedEntry: ChangeFeedEntry {
        ChangeFeedEntry(sequence: sequence, studyInstanceUid: studyInstanceUid, seriesInstanceUid: seriesInstanceUid,
                        sopInstanceUid: sopInstanceUid, action: action, timestamp: timestamp, state: state)
    }
}

/// A row copied out under the lock, with what encoding needs.
struct RowSnapshot: Sendable {
    var row: ChangeRow
    var state: ChangeFeedState
    var studyIndex: Int32
    var studyUID: String
    var seriesUID: String
    var sopUID: String
    var instance: InstanceSnapshot?
}

/// The emulated change feed: rows, per-instance watermarks, queries and live changes.
/// Thread-safe; every method may be called from any task or thread.
///
/// Rows can be appended invisible (`visible: false`): their transaction has not committed.
/// They hold their sequence and timestamp, but no query shows them, nor their effect on the
/// instance's other rows (the state a delete, update or re-create rewrites), until
/// `commit(sequence:)` or `commitAll()`.
public final class ChangeFeedStore: @unchecked Sendable {
    private let lock = NSLock()
    private var data: FeedData
    public let seed: UInt64

    /// Generates `options.entryCount` rows from `options.seed`.
    public init(options: DatasetOptions = DatasetOptions()) {
        seed = options.seed
        var d = FeedData(seed: options.seed, shape: options.shape, unreadableShare: min(1, max(0, options.unreadableShare)))
        d.generate(until: max(0, options.entryCount))
        data = d
    }

    /// An empty feed (latest answers 204), to be filled with `append…` calls.
    public static func empty(seed: UInt64 = 1) -> ChangeFeedStore {
        ChangeFeedStore(options: DatasetOptions(entryCount: 0, seed: seed))
    }

    private func locked<T>(_ body: (inout FeedData) throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body(&data)
    }

    // MARK: Inspection

    /// Number of rows the service shows (pending rows not included).
    public var count: Int { locked { $0.rows.count - $0.pending.count } }
    /// Number of distinct instances ever created.
    public var instanceCount: Int { locked { $0.instances.count } }
    /// Sequences of the rows whose transaction has not committed, ascending.
    public var pendingSequences: [Int64] { locked { d in d.pending.map { d.rows[$0].sequence } } }

    /// What the service shows now: the visible rows in sequence order (for tests and tools; a copy).
    public func allEntries() -> [EmulatedEntry] {
        allEntries(includingPending: false)
    }

    /// With `includingPending`, the pending rows too (`isPending`), and every row reads as it
    /// will once all pending rows have committed (what `allEntries()` returns after `commitAll()`).
    public func allEntries(includingPending: Bool) -> [EmulatedEntry] {
        locked { d in
            d.rows.indices.compactMap { i in
                includingPending ? entry(d, i, asCommitted: true) : d.rows[i].isPending ? nil : entry(d, i)
            }
        }
    }

    /// The row with this sequence, if any and if it is visible (or, with `includingPending`,
    /// pending; then read as in `allEntries(includingPending: true)`).
    public func entry(sequence: Int64, includingPending: Bool = false) -> EmulatedEntry? {
        locked { d in
            let i = lowerBound(d.rows, sequence)
            guard i < d.rows.count, d.rows[i].sequence == sequence else { return nil }
            if includingPending { return entry(d, i, asCommitted: true) }
            return d.rows[i].isPending ? nil : entry(d, i)
        }
    }

    // MARK: Queries (the service's SQL, row for row, over committed rows)

    /// v1: `WHERE Sequence BETWEEN offset+1 AND offset+limit ORDER BY Sequence`.
    public func entriesV1(offset: Int64, limit: Int) -> [EmulatedEntry] {
        locked { d in v1Indices(d, offset: offset, limit: limit).map { entry(d, $0) } }
    }

    /// v2: `WHERE Timestamp >= start AND Timestamp < end ORDER BY Timestamp, Sequence
    /// OFFSET offset ROWS FETCH NEXT limit ROWS`. Times are ticks (see `FeedTime`).
    public func entriesV2(startTicks: Int64 = FeedTime.minTicks, endTicks: Int64 = FeedTime.maxTicks,
                          offset: Int64 = 0, limit: Int) -> [EmulatedEntry] {
        locked { d in v2Indices(d, start: startTicks, end: endTicks, offset: offset, limit: limit).map { entry(d, $0) } }
    }

    /// v2 with `Timestamp` bounds (nil: the service's defaults, MinValue and MaxValue).
    public func entriesV2(start: Timestamp?, end: Timestamp?, offset: Int64 = 0, limit: Int) -> [EmulatedEntry] {
        entriesV2(startTicks: start?.ticks ?? FeedTime.minTicks, endTicks: end?.ticks ?? FeedTime.maxTicks,
                  offset: offset, limit: limit)
    }

    /// latest: v1 and v1.0-prerelease by sequence; v2 by (timestamp, sequence). Nil when empty.
    public func latest(_ version: APIVersion) -> EmulatedEntry? {
        locked { d in latestIndex(d, version).map { entry(d, $0) } }
    }

    /// The current metadata of an instance as DICOM JSON bytes, nil when unknown or deleted.
    public func metadataJSON(sopInstanceUid: String, bulkDataBase: String = "http://127.0.0.1/v2",
                             format: WireFormat = WireFormat()) -> [UInt8]? {
        let snap: InstanceSnapshot? = locked { d in
            guard let i = instanceIndex(d, sop: sopInstanceUid) else { return nil }
            let view = d.visibleView(i)
            return view.watermark != 0 ? instanceSnapshot(d, i, version: view.version) : nil
        }
        guard let snap else { return nil }
        var w = JSONWriter(capacity: 2048, escapeNonASCII: format.escapeNonASCII)
        DicomMetadata.write(snap, seed: seed, bulkDataBase: bulkDataBase, into: &w)
        return w.bytes
    }

    // MARK: Live changes

    /// Stores (or re-stores after a delete) an instance. Known UIDs reuse the instance's record,
    /// so create → delete → create reads Replaced, Replaced, Current. New UIDs get a new
    /// patient/study/series as needed. `at` defaults to now (never earlier than the newest row);
    /// an explicit earlier time is allowed and is placed by (timestamp, sequence) for v2.
    /// With `visible: false` the row is pending until `commit(sequence:)` or `commitAll()`.
    @discardableResult
    public func appendCreate(studyInstanceUid: String, seriesInstanceUid: String, sopInstanceUid: String,
                             at time: Date? = nil, skippingSequences skip: Int64 = 0,
                             visible: Bool = true) throws -> EmulatedEntry {
        try locked { d in
            let ticks = resolveTicks(d, time)
            let i = try d.instanceForCreate(study: studyInstanceUid, series: seriesInstanceUid, sop: sopInstanceUid, ticks: ticks)
            let row = d.create(i, ticks: ticks, skip: skip, visible: visible)
            return appended(d, row)
        }
    }

    /// Deletes an instance: a Delete row, and every row of the instance now reads Deleted
    /// (once the row is visible).
    @discardableResult
    public func appendDelete(studyInstanceUid: String, seriesInstanceUid: String, sopInstanceUid: String,
                             at time: Date? = nil, skippingSequences skip: Int64 = 0,
                             visible: Bool = true) throws -> EmulatedEntry {
        try locked { d in
            let i = try liveInstance(d, studyInstanceUid, seriesInstanceUid, sopInstanceUid)
            let row = d.delete(i, ticks: resolveTicks(d, time), skip: skip, visible: visible)
            return appended(d, row)
        }
    }

    /// Updates an instance (v2 bulk update): an Update row; older rows read Replaced; the
    /// metadata gets a new version (AccessionNumber gains a `-U<n>` suffix), once the row is visible.
    @discardableResult
    public func appendUpdate(studyInstanceUid: String, seriesInstanceUid: String, sopInstanceUid: String,
                             at time: Date? = nil, skippingSequences skip: Int64 = 0,
                             visible: Bool = true) throws -> EmulatedEntry {
        try locked { d in
            let i = try liveInstance(d, studyInstanceUid, seriesInstanceUid, sopInstanceUid)
            let row = d.update(i, ticks: resolveTicks(d, time), skip: skip, visible: visible)
            return appended(d, row)
        }
    }

    /// Commits a pending row: it and its effect on the instance's other rows become visible.
    /// False when no pending row has this sequence.
    @discardableResult
    public func commit(sequence: Int64) -> Bool {
        locked { d in
            let i = lowerBound(d.rows, sequence)
            return i < d.rows.count && d.rows[i].sequence == sequence && d.commit(row: i)
        }
    }

    /// Commits every pending row; returns their sequences.
    @discardableResult
    public func commitAll() -> [Int64] {
        locked { d in
            let rows = d.pending
            for i in rows { d.commit(row: i) }
            return rows.map { d.rows[$0].sequence }
        }
    }

    /// Continues the seeded generator with `count` more rows (creates, deletes, updates,
    /// re-creates, gaps) stamped at `at` (default now), e.g. to make a demo feed look alive.
    /// `live` may hold some of them back (pending, committed by later generated changes) and
    /// stamp some in the past; the result lists every row appended, pending ones included
    /// (`isPending`, read as in `allEntries(includingPending: true)`).
    @discardableResult
    public func appendGeneratedChanges(count: Int, at time: Date? = nil,
                                       live: LiveChangeOptions = .plain) -> [EmulatedEntry] {
        locked { d in
            let first = d.rows.count
            d.generate(until: first + max(0, count), clock: FeedTime.ticks(time ?? Date()), live: live)
            return (first..<d.rows.count).map { entry(d, $0, asCommitted: true) }
        }
    }

    // MARK: Wire encoding (used by the server; see WireFormat.swift)

    enum Query: Sendable {
        case v1(offset: Int64, limit: Int)
        case v2(start: Int64, end: Int64, offset: Int64, limit: Int)
        case latest(APIVersion)
    }

    /// Copies the rows of a query out under the lock; nil only for `latest` on an empty feed.
    func snapshot(_ query: Query, includeMetadata: Bool) -> [RowSnapshot]? {
        locked { d in
            let indices: [Int]
            switch query {
            case .v1(let offset, let limit): indices = v1Indices(d, offset: offset, limit: limit)
            case .v2(let start, let end, let offset, let limit):
                indices = v2Indices(d, start: start, end: end, offset: offset, limit: limit)
            case .latest(let version):
                guard let i = latestIndex(d, version) else { return nil }
                indices = [i]
            }
            return indices.map { i in
                let row = d.rows[i]
                let inst = d.instances[Int(row.instance)]
                let series = d.series[Int(inst.series)]
                let view = d.visibleView(row.instance)
                let state = Self.state(row, view)
                return RowSnapshot(row: row, state: state, studyIndex: series.study, studyUID: d.studies[Int(series.study)].uid,
                                   seriesUID: series.uid, sopUID: d.sopUID(row.instance),
                                   instance: includeMetadata && state != .deleted
                                       ? instanceSnapshot(d, row.instance, version: view.version) : nil)
            }
        }
    }

    // MARK: Internals

    static func state(_ row: ChangeRow, _ view: InstanceView) -> ChangeFeedState {
        if view.watermark == 0 { return .deleted }
        return view.watermark != row.originalWatermark ? .replaced : .current
    }

    /// A row as readers see it now, or (`asCommitted`) as it will read once every pending row
    /// has committed.
    private func entry(_ d: FeedData, _ i: Int, asCommitted: Bool = false) -> EmulatedEntry {
        let row = d.rows[i]
        let inst = d.instances[Int(row.instance)]
        let series = d.series[Int(inst.series)]
        let view = asCommitted ? InstanceView(inst) : d.visibleView(row.instance)
        return EmulatedEntry(sequence: row.sequence, timestampTicks: row.ticks,
                             action: row.action == 0 ? .create : row.action == 1 ? .delete : .update,
                             state: Self.state(row, view), studyInstanceUid: d.studies[Int(series.study)].uid,
                             seriesInstanceUid: series.uid, sopInstanceUid: d.sopUID(row.instance),
                             isPending: row.isPending, isUnreadable: row.isUnreadable)
    }

    /// The entry a runtime append returns: as readers see it, or as committed while pending.
    private func appended(_ d: FeedData, _ i: Int) -> EmulatedEntry {
        entry(d, i, asCommitted: d.rows[i].isPending)
    }

    private func instanceSnapshot(_ d: FeedData, _ i: Int32, version: Int32) -> InstanceSnapshot {
        let inst = d.instances[Int(i)]
        let series = d.series[Int(inst.series)]
        let study = d.studies[Int(series.study)]
        return InstanceSnapshot(index: i, patient: d.patients[Int(study.patient)], study: study, series: series,
                                number: inst.number, version: version, sopUID: d.sopUID(i),
                                priorStudyUID: study.priorStudy >= 0 ? d.studies[Int(study.priorStudy)].uid : nil)
    }

    private func instanceIndex(_ d: FeedData, sop: String) -> Int32? {
        if let i = d.instanceByCustomSOP[sop] { return i }
        guard let dot = sop.lastIndex(of: "."), let si = d.seriesByUID[String(sop[..<dot])] else { return nil }
        let s = d.series[Int(si)]
        return (try? d.findInstance(study: d.studies[Int(s.study)].uid, series: s.uid, sop: sop)) ?? nil
    }

    private func liveInstance(_ d: FeedData, _ study: String, _ series: String, _ sop: String) throws -> Int32 {
        guard let i = try d.findInstance(study: study, series: series, sop: sop) else {
            throw ChangeFeedStoreError.instanceNotFound(sopInstanceUid: sop)
        }
        guard d.instances[Int(i)].currentWatermark != 0 else {
            throw ChangeFeedStoreError.instanceDeleted(sopInstanceUid: sop)
        }
        return i
    }

    private func resolveTicks(_ d: FeedData, _ time: Date?) -> Int64 {
        if let time { return FeedTime.ticks(time) }
        return max(FeedTime.ticks(Date()), d.lastTicks)
    }

    private func lowerBound(_ rows: [ChangeRow], _ sequence: Int64) -> Int {
        var lo = 0, hi = rows.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if rows[mid].sequence < sequence { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    private func v1Indices(_ d: FeedData, offset: Int64, limit: Int) -> [Int] {
        guard limit > 0 else { return [] }
        let (first, o1) = offset.addingReportingOverflow(1)
        if o1 { return [] }
        let (last, o2) = offset.addingReportingOverflow(Int64(limit))
        let upper = o2 ? Int64.max : last
        var i = lowerBound(d.rows, first)
        var out: [Int] = []
        while i < d.rows.count, d.rows[i].sequence <= upper {
            if !d.rows[i].isPending { out.append(i) }
            i += 1
        }
        return out
    }

    /// The row at position `k` of the (timestamp, sequence) order.
    private func timeIndex(_ d: FeedData, _ k: Int) -> Int {
        if let order = d.timeOrder { return Int(order[k]) }
        return k
    }

    /// The position of row `i` in the (timestamp, sequence) order.
    private func timePosition(_ d: FeedData, _ i: Int) -> Int {
        guard d.timeOrder != nil else { return i }
        let row = d.rows[i]
        var lo = 0, hi = d.rows.count
        while lo < hi {
            let mid = (lo + hi) / 2
            let other = d.rows[timeIndex(d, mid)]
            if other.ticks < row.ticks || (other.ticks == row.ticks && other.sequence < row.sequence) {
                lo = mid + 1
            } else {
                hi = mid
            }
        }
        return lo
    }

    private func v2Indices(_ d: FeedData, start: Int64, end: Int64, offset: Int64, limit: Int) -> [Int] {
        guard limit > 0, start < end else { return [] }
        var lo = 0, hi = d.rows.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if d.rows[timeIndex(d, mid)].ticks < start { lo = mid + 1 } else { hi = mid }
        }
        guard offset < Int64(d.rows.count - lo) else { return [] }
        // OFFSET counts visible rows only: step over the pending ones at or before the target.
        var k = lo + Int(offset)
        if !d.pending.isEmpty {
            for hole in d.pending.map({ timePosition(d, $0) }).filter({ $0 >= lo }).sorted() where hole <= k {
                k += 1
            }
        }
        var out: [Int] = []
        while k < d.rows.count, out.count < limit {
            let i = timeIndex(d, k)
            guard d.rows[i].ticks < end else { break }
            if !d.rows[i].isPending { out.append(i) }
            k += 1
        }
        return out
    }

    private func latestIndex(_ d: FeedData, _ version: APIVersion) -> Int? {
        var k = d.rows.count - 1
        while k >= 0 {
            let i = version.isSequenceMode ? k : timeIndex(d, k)
            if !d.rows[i].isPending { return i }
            k -= 1
        }
        return nil
    }
}
