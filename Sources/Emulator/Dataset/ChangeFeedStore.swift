import FeedModel
import Foundation

/// Which kind of dataset a store serves.
public enum DatasetKind: String, Sendable, Hashable, CaseIterable {
    /// Every row generated at start and kept in memory (about 100 bytes a row; up to about 10^6 rows).
    case generated
    /// Rows computed from the seed on demand (`ProceduralFeed`): memory does not grow with the
    /// count, 10^8 or 10^9 rows start at once, and the newest row is at `DatasetOptions.newestAt`.
    case procedural
}

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
    /// `.generated` (the default) or `.procedural`.
    public var kind: DatasetKind
    /// Procedural: the newest row's timestamp (nil: now, when the store is made).
    public var newestAt: Date?
    /// Procedural: rows per day on average. Busy weekday hours get several times that rate,
    /// nights and weekends a fraction of it (UTC). 200,000 a day puts 10^8 rows over about 500 days.
    public var entriesPerDay: Int

    public init(entryCount: Int = 2000, seed: UInt64 = 1, shape: FeedShape = .plain, unreadableShare: Double = 0,
                kind: DatasetKind = .generated, newestAt: Date? = nil, entriesPerDay: Int = 200_000) {
        self.entryCount = entryCount
        self.seed = seed
        self.shape = shape
        self.unreadableShare = unreadableShare
        self.kind = kind
        self.newestAt = newestAt
        self.entriesPerDay = entriesPerDay
    }

    /// A procedural dataset of `entries` rows, the newest at `newestAt` (nil: now).
    public static func procedural(entries: Int, seed: UInt64 = 1, newestAt: Date? = nil,
                                  entriesPerDay: Int = 200_000) -> DatasetOptions {
        DatasetOptions(entryCount: entries, seed: seed, kind: .procedural, newestAt: newestAt, entriesPerDay: entriesPerDay)
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
/// With a procedural dataset (`DatasetKind.procedural`) the rows up to the newest are computed
/// on demand; rows appended at run time (live changes, `append…`) follow them, with later
/// sequences and timestamps never before the procedural newest (an earlier `at` is moved up
/// to it). `appendDelete`, `appendUpdate` and `appendCreate` (a re-create) also take the UIDs
/// of a procedural instance, and its procedural rows then read Deleted or Replaced; the live
/// generator only changes appended instances. Pending rows and `FeedShape`'s equal and
/// earlier timestamps apply to appended rows only (the procedural rows take the shape's
/// whole-second, millisecond and microsecond rounding).
///
/// Rows can be appended invisible (`visible: false`): their transaction has not committed.
/// They hold their sequence and timestamp, but no query shows them, nor their effect on the
/// instance's other rows (the state a delete, update or re-create rewrites), until
/// `commit(sequence:)` or `commitAll()`.
public final class ChangeFeedStore: @unchecked Sendable {
    private let lock = NSLock()
    /// The whole feed (generated), or the rows appended after the procedural ones.
    private var data: FeedData
    private let procedural: ProceduralFeed?
    public let seed: UInt64
    public let kind: DatasetKind

    /// Generates `options.entryCount` rows from `options.seed` (procedural: only sets up how to compute them).
    public init(options: DatasetOptions = DatasetOptions()) {
        seed = options.seed
        kind = options.kind
        let share = min(1, max(0, options.unreadableShare))
        switch options.kind {
        case .generated:
            var d = FeedData(seed: options.seed, shape: options.shape, unreadableShare: share)
            d.generate(until: max(0, options.entryCount))
            data = d
            procedural = nil
        case .procedural:
            let newest = FeedTime.ticks(options.newestAt ?? Date())
            let feed = ProceduralFeed(seed: options.seed, count: options.entryCount, anchorTicks: newest,
                                      entriesPerDay: options.entriesPerDay, shape: options.shape, unreadableShare: share,
                                      uidStem: FeedData.uidStem(seed: options.seed))
            // Appended rows: UIDs of their own, after the procedural rows in sequence and time.
            var tail = FeedData(seed: SplitMix64.mix(options.seed ^ 0x7A11_0000_0000_0003), shape: options.shape,
                                unreadableShare: share)
            tail.lastSequence = feed.lastSequence
            tail.lastTicks = newest
            tail.floorTicks = newest
            data = tail
            procedural = feed
        }
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
    public var count: Int { Int(procedural?.count ?? 0) + locked { $0.rows.count - $0.pending.count } }
    /// Number of distinct instances ever created (procedural: only those that rows appended at
    /// run time created or changed, as counting the others takes a walk over the feed).
    public var instanceCount: Int { locked { $0.instances.count } }
    /// Procedural: the sequence of the newest computed row (0 for a generated dataset).
    public var proceduralLastSequence: Int64 { procedural?.lastSequence ?? 0 }
    /// Sequences of the rows whose transaction has not committed, ascending.
    public var pendingSequences: [Int64] { locked { d in d.pending.map { d.rows[$0].sequence } } }

    /// What the service shows now: the visible rows in sequence order (for tests and tools; a copy).
    public func allEntries() -> [EmulatedEntry] {
        allEntries(includingPending: false)
    }

    /// With `includingPending`, the pending rows too (`isPending`), and every row reads as it
    /// will once all pending rows have committed (what `allEntries()` returns after `commitAll()`).
    /// A procedural dataset is walked row by row: for small ones.
    public func allEntries(includingPending: Bool) -> [EmulatedEntry] {
        let views = adoptedViews(asCommitted: includingPending)
        let prefix = procedural.map { p in p.rows(0..<p.count).map { entry(p, $0, views) } } ?? []
        return prefix + locked { d in
            d.rows.indices.compactMap { i in
                includingPending ? entry(d, i, asCommitted: true) : d.rows[i].isPending ? nil : entry(d, i)
            }
        }
    }

    /// The row with this sequence, if any and if it is visible (or, with `includingPending`,
    /// pending; then read as in `allEntries(includingPending: true)`).
    public func entry(sequence: Int64, includingPending: Bool = false) -> EmulatedEntry? {
        if let p = procedural, sequence <= p.lastSequence {
            let views = adoptedViews(asCommitted: includingPending)
            return p.row(sequence: sequence).flatMap { p.rows($0..<($0 + 1)).first }.map { entry(p, $0, views) }
        }
        return locked { d in
            let i = lowerBound(d.rows, sequence)
            guard i < d.rows.count, d.rows[i].sequence == sequence else { return nil }
            if includingPending { return entry(d, i, asCommitted: true) }
            return d.rows[i].isPending ? nil : entry(d, i)
        }
    }

    // MARK: Queries (the service's SQL, row for row, over committed rows)

    /// v1: `WHERE Sequence BETWEEN offset+1 AND offset+limit ORDER BY Sequence`.
    public func entriesV1(offset: Int64, limit: Int) -> [EmulatedEntry] {
        let views = adoptedViews()
        let prefix = proceduralV1(offset: offset, limit: limit).map { entry(procedural!, $0, views) }
        return prefix + locked { d in v1Indices(d, offset: offset, limit: limit).map { entry(d, $0) } }
    }

    /// v2: `WHERE Timestamp >= start AND Timestamp < end ORDER BY Timestamp, Sequence
    /// OFFSET offset ROWS FETCH NEXT limit ROWS`. Times are ticks (see `FeedTime`).
    public func entriesV2(startTicks: Int64 = FeedTime.minTicks, endTicks: Int64 = FeedTime.maxTicks,
                          offset: Int64 = 0, limit: Int) -> [EmulatedEntry] {
        let (prefix, tailOffset) = proceduralV2(start: startTicks, end: endTicks, offset: offset, limit: limit)
        let rest = limit - prefix.count
        let views = adoptedViews()
        return prefix.map { entry(procedural!, $0, views) } + locked { d in
            v2Indices(d, start: startTicks, end: endTicks, offset: tailOffset, limit: rest).map { entry(d, $0) }
        }
    }

    /// Rows in the v2 window `start ..< end` (the service's SQL reads this many at most, plus
    /// `offset` when the window has more).
    public func v2WindowCount(startTicks: Int64 = FeedTime.minTicks, endTicks: Int64 = FeedTime.maxTicks) -> Int64 {
        guard startTicks < endTicks else { return 0 }
        var n: Int64 = 0
        if let p = procedural { n = p.rowLowerBound(ticks: endTicks) - p.rowLowerBound(ticks: startTicks) }
        return n + locked { d in
            let pending = d.pending.filter { d.rows[$0].ticks >= startTicks && d.rows[$0].ticks < endTicks }.count
            return Int64(timeLowerBound(d, endTicks) - timeLowerBound(d, startTicks) - pending)
        }
    }

    /// v2 with `Timestamp` bounds (nil: the service's defaults, MinValue and MaxValue).
    public func entriesV2(start: Timestamp?, end: Timestamp?, offset: Int64 = 0, limit: Int) -> [EmulatedEntry] {
        entriesV2(startTicks: start?.ticks ?? FeedTime.minTicks, endTicks: end?.ticks ?? FeedTime.maxTicks,
                  offset: offset, limit: limit)
    }

    /// latest: v1 and v1.0-prerelease by sequence; v2 by (timestamp, sequence). Nil when empty.
    public func latest(_ version: APIVersion) -> EmulatedEntry? {
        if let e = locked({ d in latestIndex(d, version).map { entry(d, $0) } }) { return e }
        guard let p = procedural, p.count > 0 else { return nil }
        return p.rows((p.count - 1)..<p.count).first.map { entry(p, $0, adoptedViews()) }
    }

    /// The current metadata of an instance as DICOM JSON bytes, nil when unknown or deleted.
    public func metadataJSON(sopInstanceUid: String, bulkDataBase: String = "http://127.0.0.1/v2",
                             format: WireFormat = WireFormat()) -> [UInt8]? {
        var known = false
        var snap: InstanceSnapshot? = locked { d in
            guard let i = instanceIndex(d, sop: sopInstanceUid) else { return nil }
            known = true
            let view = d.visibleView(i)
            return view.watermark != 0 ? instanceSnapshot(d, i, version: view.version) : nil
        }
        if !known, let p = procedural, let found = p.instance(sopInstanceUid: sopInstanceUid), !found.deleted {
            snap = p.instanceSnapshot(block: found.block, ordinal: found.ordinal)
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
            try adopt(&d, studyInstanceUid, seriesInstanceUid, sopInstanceUid)
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
            try adopt(&d, studyInstanceUid, seriesInstanceUid, sopInstanceUid)
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
            try adopt(&d, studyInstanceUid, seriesInstanceUid, sopInstanceUid)
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
        var prefix: [ProceduralFeed.Row] = []
        var tailQuery = query
        switch query {
        case .v1(let offset, let limit): prefix = proceduralV1(offset: offset, limit: limit)
        case .v2(let start, let end, let offset, let limit):
            let (rows, tailOffset) = proceduralV2(start: start, end: end, offset: offset, limit: limit)
            prefix = rows
            tailQuery = .v2(start: start, end: end, offset: tailOffset, limit: limit - rows.count)
        case .latest: break
        }
        let tail: [RowSnapshot]? = locked { d in
            let indices: [Int]
            switch tailQuery {
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
                let studyIndex = d.adopted[row.instance].map { procedural!.studyKey(block: $0.block, ordinal: $0.ordinal) }
                return RowSnapshot(row: row, state: state, studyIndex: studyIndex ?? series.study,
                                   studyUID: d.studies[Int(series.study)].uid,
                                   seriesUID: series.uid, sopUID: d.sopUID(row.instance),
                                   instance: includeMetadata && state != .deleted
                                       ? instanceSnapshot(d, row.instance, version: view.version) : nil)
            }
        }
        guard let p = procedural else { return tail }
        if case .latest = query {
            if let tail { return tail }
            guard p.count > 0 else { return nil }
            prefix = p.rows((p.count - 1)..<p.count)
        }
        let views = adoptedViews()
        return prefix.map { row in
            p.snapshot(row, includeMetadata: includeMetadata) { sop in views[sop] }
        } + (tail ?? [])
    }

    /// The procedural rows of a v1 page.
    private func proceduralV1(offset: Int64, limit: Int) -> [ProceduralFeed.Row] {
        guard let p = procedural, limit > 0, offset < p.lastSequence else { return [] }
        let first = p.rowLowerBound(sequence: offset + 1)
        let end = p.rowLowerBound(sequence: offset + Int64(limit) + 1)
        return p.rows(first..<end)
    }

    /// The procedural rows of a v2 page, and the offset left for the appended rows (which all
    /// come after them in (timestamp, sequence) order). The offset is skipped by arithmetic.
    private func proceduralV2(start: Int64, end: Int64, offset: Int64, limit: Int) -> (rows: [ProceduralFeed.Row], tailOffset: Int64) {
        guard let p = procedural, limit > 0, start < end else { return ([], offset) }
        let lo = p.rowLowerBound(ticks: start), hi = p.rowLowerBound(ticks: end)
        guard offset < hi - lo else { return ([], offset - (hi - lo)) }
        let first = lo + offset
        return (p.rows(first..<min(hi, first + Int64(limit))), 0)
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

    /// How the procedural instances that runtime changes touched read now (or `asCommitted`),
    /// by SOP Instance UID; empty while there are none.
    private func adoptedViews(asCommitted: Bool = false) -> [String: InstanceView] {
        locked { d in
            guard !d.adopted.isEmpty else { return [:] }
            var views: [String: InstanceView] = [:]
            for i in d.adopted.keys {
                views[d.sopUID(i)] = asCommitted ? InstanceView(d.instances[Int(i)]) : d.visibleView(i)
            }
            return views
        }
    }

    private func entry(_ p: ProceduralFeed, _ row: ProceduralFeed.Row, _ views: [String: InstanceView]) -> EmulatedEntry {
        let uids = p.uids(block: row.sourceBlock, ordinal: row.ordinal)
        return EmulatedEntry(sequence: row.sequence, timestampTicks: row.ticks,
                             action: row.action == 0 ? .create : row.action == 1 ? .delete : .update,
                             state: ProceduralFeed.state(row.state, after: views[uids.sop]),
                             studyInstanceUid: uids.study, seriesInstanceUid: uids.series,
                             sopInstanceUid: uids.sop, isUnreadable: row.isUnreadable)
    }

    /// The entry a runtime append returns: as readers see it, or as committed while pending.
    private func appended(_ d: FeedData, _ i: Int) -> EmulatedEntry {
        entry(d, i, asCommitted: d.rows[i].isPending)
    }

    private func instanceSnapshot(_ d: FeedData, _ i: Int32, version: Int32) -> InstanceSnapshot {
        if let a = d.adopted[i], let p = procedural {
            // Its metadata stays the procedural one, with the updates made since.
            var snap = p.instanceSnapshot(block: a.block, ordinal: a.ordinal)
            snap.version += version
            return snap
        }
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

    /// Before a runtime change to a procedural instance: an instance record here stands for
    /// it from then on (with its UIDs, and deleted if the procedural feed deleted it).
    private func adopt(_ d: inout FeedData, _ study: String, _ series: String, _ sop: String) throws {
        guard let p = procedural, d.instanceByCustomSOP[sop] == nil,
              try d.findInstance(study: study, series: series, sop: sop) == nil,
              let found = p.instance(sopInstanceUid: sop) else { return }
        let uids = p.uids(block: found.block, ordinal: found.ordinal)
        guard uids.study == study, uids.series == series else {
            throw ChangeFeedStoreError.uidConflict("instance \(sop) belongs to another series or study")
        }
        let i = try d.instanceForCreate(study: study, series: series, sop: sop, ticks: d.lastTicks)
        d.instances[Int(i)].currentWatermark = found.deleted ? 0 : FeedData.adoptedWatermark
        d.adopted[i] = (found.block, found.ordinal)
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
        if let time { return max(FeedTime.ticks(time), d.floorTicks) }
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

    /// The first position in (timestamp, sequence) order whose timestamp is `t` or later.
    private func timeLowerBound(_ d: FeedData, _ t: Int64) -> Int {
        var lo = 0, hi = d.rows.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if d.rows[timeIndex(d, mid)].ticks < t { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    private func v2Indices(_ d: FeedData, start: Int64, end: Int64, offset: Int64, limit: Int) -> [Int] {
        guard limit > 0, start < end else { return [] }
        let lo = timeLowerBound(d, start)
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
