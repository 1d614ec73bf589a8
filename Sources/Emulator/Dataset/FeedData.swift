import FeedModel

/// A small, fast, seedable generator (SplitMix64). Deterministic across platforms and runs,
/// unlike `SystemRandomNumberGenerator` or `Hasher`: the dataset's, and the tests' (a generated
/// case replays from its seed).
public struct SplitMix64: RandomNumberGenerator, Sendable {
    var state: UInt64
    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return Self.mix(state)
    }

    static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// 0 ..< n
    mutating func below(_ n: Int) -> Int { n <= 1 ? 0 : Int(next() % UInt64(n)) }
    mutating func range(_ r: ClosedRange<Int>) -> Int { r.lowerBound + below(r.count) }
    public mutating func chance(_ p: Double) -> Bool { unit() < p }
    /// 0 ..< 1
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}

/// Why a runtime change was refused.
public enum ChangeFeedStoreError: Error, Sendable, Equatable, CustomStringConvertible {
    case instanceNotFound(sopInstanceUid: String)
    case instanceAlreadyExists(sopInstanceUid: String)
    case instanceDeleted(sopInstanceUid: String)
    case uidConflict(String)

    public var description: String {
        switch self {
        case .instanceNotFound(let uid): return "no instance \(uid)"
        case .instanceAlreadyExists(let uid): return "instance \(uid) already exists"
        case .instanceDeleted(let uid): return "instance \(uid) is deleted"
        case .uidConflict(let what): return what
        }
    }
}

/// All mutable state of the feed. Not thread-safe by itself: `ChangeFeedStore` wraps it in a lock.
struct FeedData: Sendable {
    let seed: UInt64
    let shape: FeedShape
    /// Share of generated rows that the wire always breaks (`ChangeRow.isUnreadable`).
    let unreadableShare: Double
    /// `1.2.826.0.1.3680043.8.498.<10 digits from the seed>`; study UIDs append `.<n>`.
    let uidStem: String

    var patients: [PatientRecord] = []
    var studies: [StudyRecord] = []
    var series: [SeriesRecord] = []
    var instances: [InstanceRecord] = []
    var rows: [ChangeRow] = []

    var studyByUID: [String: Int32] = [:]
    var seriesByUID: [String: Int32] = [:]
    var customSOPs: [Int32: String] = [:]
    var instanceByCustomSOP: [String: Int32] = [:]

    var nextWatermark: Int64 = 1
    var lastSequence: Int64 = 0
    var lastTicks: Int64
    /// No row is stamped earlier (the rows appended after a procedural feed: never before its newest).
    var floorTicks: Int64 = .min
    /// Instances of a procedural feed that runtime changes touched, by the instance standing
    /// for them here: the block that created them and their ordinal in it. Their record's
    /// watermark starts at `adoptedWatermark` (or 0 when the procedural feed deleted them).
    var adopted: [Int32: (block: Int64, ordinal: Int)] = [:]
    /// "Whatever the procedural rows say": no row here has changed the instance yet.
    static let adoptedWatermark: Int64 = -1
    /// Row indices in (timestamp, sequence) order; nil while `rows` is already in that order
    /// (always with the plain shape, unless a runtime change was given an earlier timestamp).
    var timeOrder: [Int32]?

    /// Indices of the rows whose transaction has not committed, ascending.
    var pending: [Int] = []
    /// What readers see of the instances that have uncommitted rows.
    var journals: [Int32: PendingJournal] = [:]
    /// Rows the live generator holds back, with the number of later changes they wait for.
    var held: [(row: Int, changesLeft: Int)] = []

    // Generator cursor.
    var rng: SplitMix64
    /// The shape's own stream (timestamps only), and the live options' (holds and past stamps).
    var shapeRNG: SplitMix64
    var liveRNG: SplitMix64
    var currentSeries: Int32 = -1
    var seriesLeftInStudy = 0
    var studiesLeftForPatient = 0
    var lastStudyOfPatient: Int32 = -1
    var deleted: [Int32] = []
    var bigGapAt: Int = 0
    var bigGapDone = false

    static let uidRoot = "1.2.826.0.1.3680043.8.498"
    static let defaultStartTicks = FeedTime.ticks(year: 2024, month: 3, day: 4, hour: 8)

    init(seed: UInt64, shape: FeedShape = .plain, unreadableShare: Double = 0) {
        self.seed = seed
        self.shape = shape
        self.unreadableShare = unreadableShare
        rng = SplitMix64(seed: seed)
        shapeRNG = SplitMix64(seed: SplitMix64.mix(seed ^ 0x05A4_E000_0000_0001))
        liveRNG = SplitMix64(seed: SplitMix64.mix(seed ^ 0x011F_E000_0000_0002))
        uidStem = FeedData.uidStem(seed: seed)
        // Start somewhere in the first hours of 2024-03-04, varying with the seed.
        lastTicks = FeedData.defaultStartTicks + Int64(rng.below(4 * 3600)) * FeedTime.ticksPerSecond
            + Int64(rng.below(10_000_000))
    }

    // MARK: Identity

    /// `uidRoot` and 10 digits from the seed.
    static func uidStem(seed: UInt64) -> String {
        let tag = 1_000_000_000 + SplitMix64.mix(seed ^ 0x5EED_0F_D1C0) % 8_999_999_999
        return uidRoot + "." + String(tag)
    }

    func sopUID(_ instance: Int32) -> String {
        if let custom = customSOPs[instance] { return custom }
        let rec = instances[Int(instance)]
        return series[Int(rec.series)].uid + "." + String(rec.number)
    }

    func findInstance(study: String, series seriesUID: String, sop: String) throws -> Int32? {
        if let i = instanceByCustomSOP[sop] {
            let s = series[Int(instances[Int(i)].series)]
            guard s.uid == seriesUID, studies[Int(s.study)].uid == study else {
                throw ChangeFeedStoreError.uidConflict("instance \(sop) belongs to another series or study")
            }
            return i
        }
        guard let si = seriesByUID[seriesUID] else { return nil }
        let s = series[Int(si)]
        guard studies[Int(s.study)].uid == study else {
            throw ChangeFeedStoreError.uidConflict("series \(seriesUID) belongs to another study")
        }
        let prefix = seriesUID + "."
        guard s.firstInstance >= 0, sop.hasPrefix(prefix), let n = Int32(sop.dropFirst(prefix.count)),
              n >= 1, n <= s.generatedCount, String(n) == sop.dropFirst(prefix.count) else { return nil }
        return s.firstInstance + n - 1
    }

    // MARK: Primitive changes (shared by the generator and the runtime API)

    /// Appends one row. `skip` sequences are left unused before it, as SQL identity does after
    /// rolled-back inserts. `before` is the instance as it was before this change (the
    /// instance record already holds the change's effect); an invisible row keeps that
    /// effect from readers until it commits.
    @discardableResult
    mutating func appendRow(instance: Int32, action: UInt8, ticks: Int64, watermark: Int64, skip: Int64,
                            before: InstanceRecord, visible: Bool, unreadable: Bool) -> Int {
        lastSequence += 1 + skip
        var flags: UInt8 = 0
        if !visible { flags |= ChangeRow.pendingFlag }
        if unreadable { flags |= ChangeRow.unreadableFlag }
        let row = ChangeRow(sequence: lastSequence, ticks: ticks, instance: instance, action: action, flags: flags,
                            originalWatermark: watermark)
        let index = rows.count
        if timeOrder == nil, !rows.isEmpty, ticks < lastTicks {
            timeOrder = (0..<Int32(rows.count)).map { $0 }
        }
        rows.append(row)
        if timeOrder != nil {
            if ticks >= lastTicks {
                // The common case: not earlier than any row, and the largest sequence.
                timeOrder!.append(Int32(index))
            } else {
                // Insert after every row with a smaller or equal timestamp (its sequence is the largest).
                var lo = 0, hi = timeOrder!.count
                while lo < hi {
                    let mid = (lo + hi) / 2
                    if rows[Int(timeOrder![mid])].ticks <= ticks { lo = mid + 1 } else { hi = mid }
                }
                timeOrder!.insert(Int32(index), at: lo)
            }
        }
        lastTicks = max(lastTicks, ticks)
        if !visible || journals[instance] != nil {
            let after = InstanceView(instances[Int(instance)])
            journals[instance, default: PendingJournal(base: InstanceView(before))].changes.append((index, after))
        }
        if !visible { pending.append(index) }
        return index
    }

    /// Create (or re-create) an instance: a new watermark; every older row of it now points there.
    @discardableResult
    mutating func create(_ instance: Int32, ticks: Int64, skip: Int64, visible: Bool = true, unreadable: Bool = false) -> Int {
        let before = instances[Int(instance)]
        let wm = nextWatermark
        nextWatermark += 1
        instances[Int(instance)].currentWatermark = wm
        return appendRow(instance: instance, action: 0, ticks: ticks, watermark: wm, skip: skip,
                         before: before, visible: visible, unreadable: unreadable)
    }

    /// Delete: the row keeps the deleted version's watermark; all rows of the instance now read NULL.
    @discardableResult
    mutating func delete(_ instance: Int32, ticks: Int64, skip: Int64, visible: Bool = true, unreadable: Bool = false) -> Int {
        let before = instances[Int(instance)]
        instances[Int(instance)].currentWatermark = 0
        return appendRow(instance: instance, action: 1, ticks: ticks, watermark: before.currentWatermark, skip: skip,
                         before: before, visible: visible, unreadable: unreadable)
    }

    /// Update (v2 bulk update): a new watermark and a new metadata version.
    @discardableResult
    mutating func update(_ instance: Int32, ticks: Int64, skip: Int64, visible: Bool = true, unreadable: Bool = false) -> Int {
        let before = instances[Int(instance)]
        let wm = nextWatermark
        nextWatermark += 1
        instances[Int(instance)].currentWatermark = wm
        instances[Int(instance)].version += 1
        return appendRow(instance: instance, action: 2, ticks: ticks, watermark: wm, skip: skip,
                         before: before, visible: visible, unreadable: unreadable)
    }

    // MARK: Commits

    /// Makes a pending row visible, with its effect on the instance's other rows. False when
    /// the row is not pending.
    @discardableResult
    mutating func commit(row index: Int) -> Bool {
        guard let k = pending.firstIndex(of: index) else { return false }
        pending.remove(at: k)
        rows[index].flags &= ~ChangeRow.pendingFlag
        held.removeAll { $0.row == index }
        let instance = rows[index].instance
        if let journal = journals[instance], journal.changes.allSatisfy({ !rows[$0.row].isPending }) {
            journals[instance] = nil
        }
        return true
    }

    /// What readers see of an instance: its record, unless some of its rows are uncommitted;
    /// then the effect of its last visible row (or what it was before its first pending one).
    func visibleView(_ instance: Int32) -> InstanceView {
        if !journals.isEmpty, let journal = journals[instance] {
            for change in journal.changes.reversed() where !rows[change.row].isPending { return change.after }
            return journal.base
        }
        return InstanceView(instances[Int(instance)])
    }

    // MARK: Catalog growth

    mutating func newPatient() -> Int32 {
        let index = patients.count
        var family: Int, given: Int
        switch index {
        case 0: family = 0; given = 0                 // Yamada^Tarou / 山田^太郎 / やまだ^たろう
        case 1: family = 5; given = 5                 // Müller^José
        default:
            if rng.chance(0.35) {
                family = rng.below(NamePools.japaneseFamilies)
                given = rng.below(NamePools.japaneseGivens)
            } else {
                family = NamePools.japaneseFamilies + rng.below(NamePools.families.count - NamePools.japaneseFamilies)
                given = NamePools.japaneseGivens + rng.below(NamePools.givens.count - NamePools.japaneseGivens)
            }
        }
        let birth = Timestamp.daysFromCivil(year: 1935, month: 1, day: 1) + rng.below(80 * 365)
        patients.append(PatientRecord(family: UInt16(family), given: UInt16(given),
                                      id: UInt32(100_000 + index * 7 + rng.below(7)), birthDays: Int32(birth)))
        return Int32(index)
    }

    mutating func newStudy(patient: Int32, uid: String? = nil, ticks: Int64) -> Int32 {
        let index = Int32(studies.count)
        let modality = rng.below(Modalities.all.count)
        let info = Modalities.all[modality]
        let studyUID = uid ?? uidStem + "." + String(index + 1)
        studies.append(StudyRecord(
            patient: patient, uid: studyUID, ticks: ticks,
            accession: UInt32(2_400_000 + Int(index) * 11 + rng.below(11)),
            modality: UInt8(modality), description: UInt8(rng.below(info.studyDescriptions.count)),
            physician: UInt8(rng.below(NamePools.physicians.count)),
            priorStudy: patient == patients.count - 1 && uid == nil ? lastStudyOfPatient : -1))
        studyByUID[studyUID] = index
        return index
    }

    mutating func newSeries(study: Int32, uid: String? = nil, generated: Bool) -> Int32 {
        let index = Int32(series.count)
        let number = Int32(seriesByStudyCount(study) + 1)
        let info = Modalities.all[Int(studies[Int(study)].modality)]
        let seriesUID = uid ?? studies[Int(study)].uid + "." + String(number)
        series.append(SeriesRecord(
            study: study, uid: seriesUID, number: number,
            description: UInt8(rng.below(info.seriesDescriptions.count)),
            firstInstance: generated ? Int32(instances.count) : -1, generatedCount: 0,
            plannedCount: Int32(rng.range(info.instances))))
        seriesByUID[seriesUID] = index
        return index
    }

    private var seriesCountByStudy: [Int32: Int] = [:]
    private mutating func seriesByStudyCount(_ study: Int32) -> Int {
        let n = seriesCountByStudy[study, default: 0]
        seriesCountByStudy[study] = n + 1
        return n
    }

    // MARK: The generator

    /// Appends generated changes until `rows.count == target`. With `clock`, timestamps are
    /// `max(clock, last)` (live changes, which `live` may hold back or stamp in the past);
    /// without, they follow the synthetic timeline. `shape` reshapes both.
    mutating func generate(until target: Int, clock: Int64? = nil, live: LiveChangeOptions? = nil) {
        if !bigGapDone && bigGapAt == 0 { bigGapAt = max(1, target * 2 / 5) }
        while rows.count < target {
            let remaining = target - rows.count
            let p = Double(rng.next() >> 11) / Double(1 << 53)
            if instances.count > 20 && p < 0.035, let victim = randomLive() {
                let t = advance(by: rng.range(1...1200) * 1000, clock: clock)
                emit(1, victim, ticks: t, live: live)
                deleted.append(victim)
            } else if instances.count > 20 && p < 0.06, let seed = randomLive() {
                // Bulk update of (part of) a series: one timestamp for all of its rows.
                let s = series[Int(instances[Int(seed)].series)]
                let t = advance(by: rng.range(1...1200) * 1000, clock: clock)
                var updated = 0
                let limit = min(remaining, 12)
                var stamped: Int64?
                if s.firstInstance >= 0 {
                    for i in s.firstInstance..<(s.firstInstance + s.generatedCount) where updated < limit {
                        guard instances[Int(i)].currentWatermark != 0 else { continue }
                        stamped = rows[emit(2, i, ticks: t, live: live, stamped: stamped)].ticks
                        updated += 1
                    }
                }
            } else if !deleted.isEmpty && p < 0.075 {
                let k = rng.below(deleted.count)
                let again = deleted[k]
                deleted.swapAt(k, deleted.count - 1)
                deleted.removeLast()
                let t = advance(by: rng.range(1...600) * 1000, clock: clock)
                emit(0, again, ticks: t, live: live)
            } else {
                createNext(clock: clock, live: live)
            }
        }
    }

    mutating func nextSkip() -> Int64 {
        guard !rows.isEmpty else { return 0 }
        if !bigGapDone && rows.count >= bigGapAt {
            bigGapDone = true
            return Int64(101 + rng.below(300))
        }
        return rng.chance(0.02) ? Int64(rng.range(1...12)) : 0
    }

    /// Moves the synthetic clock forward by `milliseconds` plus a sub-millisecond jitter.
    private mutating func advance(by milliseconds: Int, clock: Int64?) -> Int64 {
        if let clock { return max(clock, lastTicks) }
        return lastTicks + Int64(milliseconds) * 10_000 + Int64(rng.below(10_000))
    }

    private mutating func randomLive() -> Int32? {
        for _ in 0..<8 {
            let i = Int32(rng.below(instances.count))
            if instances[Int(i)].currentWatermark != 0 && customSOPs[i] == nil { return i }
        }
        return nil
    }

    private mutating func createNext(clock: Int64?, live: LiveChangeOptions?) {
        var ticks: Int64
        if currentSeries < 0 || series[Int(currentSeries)].generatedCount >= series[Int(currentSeries)].plannedCount {
            if seriesLeftInStudy > 0 && currentSeries >= 0 {
                ticks = advance(by: rng.range(5_000...90_000), clock: clock)
                currentSeries = newSeries(study: series[Int(currentSeries)].study, generated: true)
                seriesLeftInStudy -= 1
            } else {
                ticks = advance(by: rng.range(600_000...8 * 3_600_000), clock: clock)
                let patient: Int32
                if studiesLeftForPatient > 0 {
                    patient = Int32(patients.count - 1)
                    studiesLeftForPatient -= 1
                } else {
                    patient = newPatient()
                    studiesLeftForPatient = rng.range(1...4) - 1
                    lastStudyOfPatient = -1
                }
                let study = newStudy(patient: patient, ticks: ticks)
                lastStudyOfPatient = study
                currentSeries = newSeries(study: study, generated: true)
                seriesLeftInStudy = rng.range(1...5) - 1
            }
        } else if rng.chance(0.06) {
            ticks = clock.map { max($0, lastTicks) } ?? lastTicks   // same instant as the previous row
        } else {
            ticks = advance(by: rng.range(3...250), clock: clock)
        }
        let s = currentSeries
        series[Int(s)].generatedCount += 1
        let instance = Int32(instances.count)
        instances.append(InstanceRecord(series: s, number: series[Int(s)].generatedCount, currentWatermark: 0, version: 0))
        emit(0, instance, ticks: ticks, live: live)
    }

    /// A runtime create with explicit UIDs: reuses known study/series/instance records,
    /// otherwise adds custom ones.
    mutating func instanceForCreate(study: String, series seriesUID: String, sop: String, ticks: Int64) throws -> Int32 {
        if let existing = try findInstance(study: study, series: seriesUID, sop: sop) {
            guard instances[Int(existing)].currentWatermark == 0 else {
                throw ChangeFeedStoreError.instanceAlreadyExists(sopInstanceUid: sop)
            }
            return existing
        }
        let studyIndex: Int32
        if let known = studyByUID[study] {
            studyIndex = known
        } else {
            studyIndex = newStudy(patient: newPatient(), uid: study, ticks: ticks)
        }
        let seriesIndex: Int32
        if let known = seriesByUID[seriesUID] {
            seriesIndex = known
        } else {
            seriesIndex = newSeries(study: studyIndex, uid: seriesUID, generated: false)
        }
        let number = series[Int(seriesIndex)].generatedCount + Int32(customSOPs.count) + 1
        let instance = Int32(instances.count)
        instances.append(InstanceRecord(series: seriesIndex, number: number, currentWatermark: 0, version: 0))
        customSOPs[instance] = sop
        instanceByCustomSOP[sop] = instance
        return instance
    }
}
