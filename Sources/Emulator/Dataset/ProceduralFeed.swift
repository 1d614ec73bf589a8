import FeedModel
import Foundation

/// A change feed of any size computed from the seed on demand: row `r` (0-based, in sequence
/// order) is found in O(1) for its sequence and O(log n) for a time, and memory does not grow
/// with the number of rows, so 10^8 or 10^9 rows start at once.
///
/// The rows are cut into blocks of `blockSize`. A block is laid out from the seed and its
/// number alone (plus the plans of the `lanes` blocks before it, see below) and kept in a
/// small cache:
/// - its *skeleton*: the studies it creates, each with series of tens to hundreds of instances
///   (a CT study runs to hundreds of rows, a radiograph to one or two);
/// - its *plan*: which of its instances change later, and in which later block (1 to `lanes`
///   blocks on, at most `laneCapacity` rows into each): bulk updates of part of a series,
///   deletes, and re-creates of deleted instances. Knowing an instance's whole future from its
///   own block gives every row's state (Deleted, Replaced, Current) without a scan;
/// - its *layout*: the changes other blocks planned for it, then creates of its skeleton's
///   instances in order to fill the block, and each row's position along the feed, which the
///   clock turns into a time (`FeedClock`).
///
/// Sequences skip numbers now and then (the service's IDENTITY does): every pair of blocks
/// skips exactly `2 × gapPerBlock` numbers, split unevenly between the two and into a few
/// gaps, sometimes one of more than a hundred; so the first sequence of a block is a closed form.
///
/// Timestamps never decrease along the sequence (v2 order is sequence order) and some rows
/// share one exactly: instances stored together, and the rows of one bulk update or delete.
/// The newest row is at `anchorTicks`.
final class ProceduralFeed: @unchecked Sendable {
    static let blockSize = 4096
    /// How many blocks ahead an instance's later changes may land.
    static let lanes = 32
    /// At most this many rows from one block into one later block: a block receives at most
    /// `lanes × laneCapacity` rows of changes and creates the rest.
    static let laneCapacity = 48
    /// Later changes only target the first `targetLimit` instances a block creates (it always creates that many).
    static let targetLimit = blockSize - lanes * laneCapacity
    static let gapPerBlock: Int64 = 128

    let seed: UInt64
    /// Number of rows.
    let count: Int64
    let blockCount: Int64
    let uidStem: String
    let unreadableShare: Double
    /// Only its whole-second, millisecond and microsecond shares apply here.
    let shape: FeedShape
    let clock: FeedClock
    let anchorTicks: Int64
    /// Sequence of the last row (0 when empty).
    private(set) var lastSequence: Int64 = 0
    /// Added to a row's position before the clock reads it, and to the clock's ticks: puts the last row at the anchor.
    private var positionShift: Int64 = 0
    private var tickShift: Int64 = 0
    /// Where the planned changes that land in the last block sit in it (the block may be cut
    /// short: a change beyond the last row has not happened yet).
    private var lastBlockPositions: [ItemKey: Int] = [:]
    private let patientPool: Int64

    private let cacheLock = NSLock()
    private var layouts = BlockCache<Layout>(capacity: 48)
    private var skeletons = BlockCache<Skeleton>(capacity: 160)
    private var plans = BlockCache<Plan>(capacity: 160)

    init(seed: UInt64, count: Int, anchorTicks: Int64, entriesPerDay: Int, shape: FeedShape, unreadableShare: Double,
         uidStem: String) {
        self.seed = seed
        self.count = Int64(max(0, count))
        let b = Int64(Self.blockSize)
        blockCount = (self.count + b - 1) / b
        self.uidStem = uidStem
        self.unreadableShare = unreadableShare
        self.shape = shape
        self.anchorTicks = anchorTicks
        clock = FeedClock(seed: seed, entriesPerDay: entriesPerDay)
        patientPool = max(200, self.count / 400)
        guard self.count > 0 else { return }
        lastSequence = sequence(ofRow: self.count - 1)
        let last = blockCount - 1
        for placed in incoming(last) {
            lastBlockPositions[ItemKey(block: placed.source, item: placed.item)] = placed.position
        }
        // The last row at the anchor: shift positions so that the clock reads (nearly) the
        // anchor there, then shift ticks by what is left.
        var memo = FeedClock.Memo()
        let lastPosition = layout(last).x[Int(self.count - last * b - 1)]
        positionShift = clock.position(at: anchorTicks - FeedClock.mondayTicks, memo: &memo) - lastPosition
        tickShift = anchorTicks - FeedClock.mondayTicks - clock.ticks(at: lastPosition + positionShift, memo: &memo)
        // Layouts made so far hold times from before the shift.
        cacheLock.withLock { layouts = BlockCache(capacity: 48) }
    }

    // MARK: Sequences

    /// Skipped sequence numbers inside block `k`: blocks 2m and 2m+1 share 2 × gapPerBlock.
    private func gapTotal(_ k: Int64) -> Int64 {
        let h = SplitMix64.mix(seed ^ 0x6A9_0000_0000_0000 ^ UInt64(bitPattern: k / 2))
        let e = Int64(h % UInt64(2 * Self.gapPerBlock + 1))
        return k % 2 == 0 ? e : 2 * Self.gapPerBlock - e
    }

    private func gapsBefore(block k: Int64) -> Int64 {
        k * Self.gapPerBlock + (k % 2 == 1 ? gapTotal(k - 1) - Self.gapPerBlock : 0)
    }

    private func firstSequence(block k: Int64) -> Int64 {
        k * Int64(Self.blockSize) + 1 + gapsBefore(block: k)
    }

    /// The gaps of block `k`: before the row at `position` (never the first), `size` numbers are skipped.
    private func gaps(_ k: Int64) -> [(position: Int, size: Int64)] {
        let total = gapTotal(k)
        var rng = SplitMix64(seed: SplitMix64.mix(seed ^ 0x6A95_0000_0000_0000 ^ UInt64(bitPattern: k)))
        let n = 1 + rng.below(6)
        let positions = (0..<n).map { _ in 1 + rng.below(Self.blockSize - 1) }.sorted()
        var sizes: [Int64]
        if total >= 160 && rng.chance(0.5) {
            // One long run of missing numbers (a v1 page can come back empty), a few short ones.
            sizes = (0..<n).map { _ in Int64(rng.range(1...3)) }
            sizes[rng.below(n)] = 0
            let rest = sizes.reduce(0, +)
            if let i = sizes.firstIndex(of: 0) { sizes[i] = total - rest }
        } else {
            let cuts = ((0..<(n - 1)).map { _ in Int64(rng.below(Int(total) + 1)) } + [0, total]).sorted()
            sizes = (0..<n).map { cuts[$0 + 1] - cuts[$0] }
        }
        return zip(positions, sizes).map { (position: $0, size: $1) }
    }

    func sequence(ofRow r: Int64) -> Int64 {
        let b = Int64(Self.blockSize)
        let k = r / b, j = Int(r % b)
        var s = firstSequence(block: k) + Int64(j)
        for gap in gaps(k) where gap.position <= j { s += gap.size }
        return s
    }

    /// The first row whose sequence is `s` or more (`count` when none).
    func rowLowerBound(sequence s: Int64) -> Int64 {
        guard count > 0, s > 1 else { return 0 }
        guard s <= lastSequence else { return count }
        let b = Int64(Self.blockSize)
        var k = min(blockCount - 1, (s - 1) / (b + Self.gapPerBlock))
        while k + 1 < blockCount && firstSequence(block: k + 1) <= s { k += 1 }
        while k > 0 && firstSequence(block: k) > s { k -= 1 }
        let offset = s - firstSequence(block: k)
        var skipped: Int64 = 0
        for gap in gaps(k) {
            let p = Int64(gap.position)
            if offset < p + skipped { return min(count, k * b + offset - skipped) }
            if offset < p + skipped + gap.size { return min(count, k * b + p) }
            skipped += gap.size
        }
        return min(count, k * b + min(b, offset - skipped))
    }

    /// The row with exactly this sequence, if any.
    func row(sequence s: Int64) -> Int64? {
        let r = rowLowerBound(sequence: s)
        return r < count && sequence(ofRow: r) == s ? r : nil
    }

    // MARK: Times

    /// Time of a position along the feed, before rounding (see `shape`).
    private func ticks(at x: Int64, memo: inout FeedClock.Memo) -> Int64 {
        FeedClock.mondayTicks + tickShift + clock.ticks(at: x + positionShift, memo: &memo)
    }

    /// The first row whose timestamp is at or after `t` (`count` when none): a binary search
    /// over the blocks' first rows, then within one block.
    func rowLowerBound(ticks t: Int64) -> Int64 {
        guard count > 0 else { return 0 }
        let b = Int64(Self.blockSize)
        var memo = FeedClock.Memo()
        // The last block whose first row (before rounding, which only moves a time up to the
        // next row's) is before t.
        var lo: Int64 = -1, hi = blockCount
        while hi - lo > 1 {
            let mid = (lo + hi) / 2
            if ticks(at: mid * b * FeedClock.subunits, memo: &memo) < t { lo = mid } else { hi = mid }
        }
        guard lo >= 0 else { return 0 }
        let layout = layout(lo)
        let rows = Int(min(b, count - lo * b))
        var a = 0, z = rows
        while a < z {
            let mid = (a + z) / 2
            if layout.ticks[mid] < t { a = mid + 1 } else { z = mid }
        }
        return lo * b + Int64(a)
    }

    // MARK: Rows

    /// One row, resolved.
    struct Row: Sendable {
        var sequence: Int64
        var ticks: Int64
        var action: UInt8
        var state: ChangeFeedState
        /// The block that created the instance, and which of its creates it was.
        var sourceBlock: Int64
        var ordinal: Int
        var isUnreadable: Bool
    }

    /// Rows `range` (clamped to the feed), in sequence order.
    func rows(_ range: Range<Int64>) -> [Row] {
        let lower = max(0, range.lowerBound), upper = min(count, range.upperBound)
        guard lower < upper else { return [] }
        let b = Int64(Self.blockSize)
        var out: [Row] = []
        out.reserveCapacity(Int(upper - lower))
        var r = lower
        while r < upper {
            let k = r / b
            let layout = layout(k)
            let end = min(upper, (k + 1) * b)
            let first = firstSequence(block: k)
            let gaps = gaps(k)
            while r < end {
                let j = Int(r - k * b)
                var s = first + Int64(j)
                for gap in gaps where gap.position <= j { s += gap.size }
                let lane = Int64(layout.lane[j])
                out.append(Row(sequence: s, ticks: layout.ticks[j], action: layout.action[j],
                               state: Self.states[Int(layout.state[j])], sourceBlock: k - lane,
                               ordinal: Int(layout.ordinal[j]),
                               isUnreadable: unreadableShare > 0 && FeedData.isUnreadable(seed: seed, share: unreadableShare, sequence: s)))
                r += 1
            }
        }
        return out
    }

    static let states: [ChangeFeedState] = [.current, .replaced, .deleted]

    /// The UIDs of an instance.
    func uids(block k: Int64, ordinal: Int) -> (study: String, series: String, sop: String) {
        let skeleton = skeleton(k)
        let s = skeleton.series(ofOrdinal: ordinal)
        let study = uidStem + "." + String(k) + "." + String(Int(skeleton.seriesStudy[s]) + 1)
        let series = study + "." + String(skeleton.seriesNumber[s])
        return (study, series, series + "." + String(ordinal - Int(skeleton.seriesFirst[s]) + 1))
    }

    /// Everything the metadata of an instance needs (its current version).
    func instanceSnapshot(block k: Int64, ordinal: Int) -> InstanceSnapshot {
        let skeleton = skeleton(k)
        let s = skeleton.series(ofOrdinal: ordinal)
        let studyIndex = Int(skeleton.seriesStudy[s])
        let plan = skeleton.studies[studyIndex]
        let (studyUID, seriesUID, sopUID) = uids(block: k, ordinal: ordinal)
        let layout = layout(k)
        let firstRow = Int(layout.ordinalRow[Int(skeleton.seriesFirst[Int(plan.firstSeries)])])
        let studyTicks = firstRow >= 0 ? layout.ticks[firstRow] : layout.ticks[0]
        let size = skeleton.seriesSize[s]
        let global = k &* Int64(Self.blockSize) &+ Int64(ordinal)
        return InstanceSnapshot(
            index: Int32(truncatingIfNeeded: global),
            patient: patient(plan.patient),
            study: StudyRecord(patient: Int32(truncatingIfNeeded: plan.patient), uid: studyUID, ticks: studyTicks,
                               accession: UInt32(truncatingIfNeeded: 10_000_000 &+ k &* 64 &+ Int64(studyIndex)),
                               modality: plan.modality, description: plan.description, physician: plan.physician,
                               priorStudy: -1),
            series: SeriesRecord(study: Int32(studyIndex), uid: seriesUID, number: Int32(skeleton.seriesNumber[s]),
                                 description: skeleton.seriesDescription[s], firstInstance: 0,
                                 generatedCount: size, plannedCount: size),
            number: Int32(ordinal) - skeleton.seriesFirst[s] + 1,
            version: Int32(history(block: k, ordinal: ordinal).updates),
            sopUID: sopUID, priorStudyUID: nil)
    }

    /// The instance an SOP Instance UID names, if this feed created it; and whether it is deleted now.
    func instance(sopInstanceUid uid: String) -> (block: Int64, ordinal: Int, deleted: Bool)? {
        guard uid.hasPrefix(uidStem + ".") else { return nil }
        let parts = uid.dropFirst(uidStem.count + 1).split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4, parts.allSatisfy({ !$0.isEmpty && ($0 == "0" || !$0.hasPrefix("0")) }),
              let k = Int64(parts[0]), let study = Int(parts[1]), let seriesNumber = Int(parts[2]),
              let number = Int(parts[3]), k >= 0, k < blockCount, study >= 1, seriesNumber >= 1, number >= 1 else { return nil }
        let skeleton = skeleton(k)
        guard study <= skeleton.studies.count else { return nil }
        let firstSeries = Int(skeleton.studies[study - 1].firstSeries)
        let s = firstSeries + seriesNumber - 1
        guard s < skeleton.seriesFirst.count, Int(skeleton.seriesStudy[s]) == study - 1,
              number <= Int(skeleton.seriesSize[s]) else { return nil }
        let ordinal = Int(skeleton.seriesFirst[s]) + number - 1
        let layout = layout(k)
        let row = Int(layout.ordinalRow[ordinal])
        guard row >= 0, k * Int64(Self.blockSize) + Int64(row) < count else { return nil }
        return (k, ordinal, history(block: k, ordinal: ordinal).deleted)
    }

    private func patient(_ n: Int64) -> PatientRecord {
        var rng = SplitMix64(seed: SplitMix64.mix(seed ^ 0x9A71_E000_0000_0000 ^ UInt64(bitPattern: n)))
        let family: Int, given: Int
        if rng.chance(0.35) {
            family = rng.below(NamePools.japaneseFamilies)
            given = rng.below(NamePools.japaneseGivens)
        } else {
            family = NamePools.japaneseFamilies + rng.below(NamePools.families.count - NamePools.japaneseFamilies)
            given = NamePools.japaneseGivens + rng.below(NamePools.givens.count - NamePools.japaneseGivens)
        }
        let birth = Timestamp.daysFromCivil(year: 1935, month: 1, day: 1) + rng.below(80 * 365)
        return PatientRecord(family: UInt16(family), given: UInt16(given), id: UInt32(truncatingIfNeeded: 100_000 &+ n),
                             birthDays: Int32(birth))
    }

    // MARK: Skeletons

    /// The studies a block creates, in order; instances are numbered by their ordinal in the
    /// block's creates (the first `blockSize − incoming` of them are created).
    struct Skeleton: Sendable {
        struct Study: Sendable {
            var modality: UInt8
            var description: UInt8
            var physician: UInt8
            var patient: Int64
            var firstSeries: Int32
        }
        var studies: [Study] = []
        var seriesFirst: [Int32] = []
        var seriesSize: [Int32] = []
        var seriesStudy: [Int32] = []
        var seriesNumber: [Int32] = []
        var seriesDescription: [UInt8] = []

        func series(ofOrdinal o: Int) -> Int {
            var lo = 0, hi = seriesFirst.count
            while hi - lo > 1 {
                let mid = (lo + hi) / 2
                if Int(seriesFirst[mid]) <= o { lo = mid } else { hi = mid }
            }
            return lo
        }
    }

    /// How often each modality's studies come, their series and instances per series (in
    /// `Modalities.all` order: CT, MR, US, CR, DX, MG).
    static let studyMix: [(weight: Int, series: ClosedRange<Int>, instances: ClosedRange<Int>)] = [
        (20, 2...6, 40...400), (12, 3...8, 15...200), (13, 1...2, 1...25),
        (25, 1...2, 1...3), (20, 1...3, 1...4), (10, 4...4, 1...2),
    ]

    private func makeSkeleton(_ k: Int64) -> Skeleton {
        var rng = SplitMix64(seed: SplitMix64.mix(seed ^ 0x5EE1_E700_0000_0000 ^ UInt64(bitPattern: k)))
        var sk = Skeleton()
        let totalWeight = Self.studyMix.reduce(0) { $0 + $1.weight }
        var ordinal = 0
        while ordinal < Self.blockSize {
            var pick = rng.below(totalWeight), modality = 0
            while pick >= Self.studyMix[modality].weight { pick -= Self.studyMix[modality].weight; modality += 1 }
            let mix = Self.studyMix[modality]
            let info = Modalities.all[modality]
            let study = Int32(sk.studies.count)
            sk.studies.append(Skeleton.Study(modality: UInt8(modality), description: UInt8(rng.below(info.studyDescriptions.count)),
                                             physician: UInt8(rng.below(NamePools.physicians.count)),
                                             patient: Int64(rng.next() % UInt64(patientPool)),
                                             firstSeries: Int32(sk.seriesFirst.count)))
            let seriesCount = rng.range(mix.series)
            for n in 1...seriesCount where ordinal < Self.blockSize {
                let size = min(rng.range(mix.instances), Self.blockSize - ordinal)
                sk.seriesFirst.append(Int32(ordinal))
                sk.seriesSize.append(Int32(size))
                sk.seriesStudy.append(study)
                sk.seriesNumber.append(Int32(n))
                sk.seriesDescription.append(UInt8(rng.below(info.seriesDescriptions.count)))
                ordinal += size
            }
        }
        return sk
    }

    // MARK: Plans

    /// A later change to a run of a block's instances (ordinals `first ..< first + count`),
    /// landing `lane` blocks on, near row `slot` of that block; all its rows share one timestamp.
    struct PlanItem: Sendable {
        var action: UInt8   // 0 re-create, 1 delete, 2 update
        var first: Int32
        var count: Int32
        var lane: Int32
        var slot: Int32
    }

    struct Plan: Sendable {
        var items: [PlanItem] = []
    }

    struct ItemKey: Hashable, Sendable {
        var block: Int64
        var item: Int
    }

    private func makePlan(_ k: Int64) -> Plan {
        let sk = skeleton(k)
        var rng = SplitMix64(seed: SplitMix64.mix(seed ^ 0x91A7_0000_0000_0000 ^ UInt64(bitPattern: k)))
        var room = [Int](repeating: Self.laneCapacity, count: Self.lanes + 1)
        var plan = Plan()
        /// A lane at or after `from` with room for `rows`, taken.
        func lane(from: Int, rows: Int) -> Int? {
            var d = from
            while d <= Self.lanes {
                if room[d] >= rows { room[d] -= rows; return d }
                d += 1
            }
            return nil
        }
        for s in sk.seriesFirst.indices {
            let first = Int(sk.seriesFirst[s])
            guard first < Self.targetLimit else { break }
            let size = min(Int(sk.seriesSize[s]), Self.targetLimit - first)
            let p = rng.unit()
            // Sooner rather than later: half of them within 3 blocks.
            let u = rng.unit()
            let near = 1 + min(Self.lanes - 1, Int(Double(Self.lanes) * u * u * u * u))
            let slot = Int32(rng.below(Self.blockSize))
            if p < 0.2 {
                // Bulk update of (the start of) a series.
                let n = min(size, rng.range(1...24))
                if let d = lane(from: near, rows: n) {
                    plan.items.append(PlanItem(action: 2, first: Int32(first), count: Int32(n), lane: Int32(d), slot: slot))
                }
            } else if p < 0.55 {
                // Deletes: a run of a series (or one instance), maybe stored again later.
                let n = p < 0.35 ? min(size, rng.range(1...12)) : 1
                let start = first + rng.below(size - n + 1)
                guard let d = lane(from: near, rows: n) else { continue }
                plan.items.append(PlanItem(action: 1, first: Int32(start), count: Int32(n), lane: Int32(d), slot: slot))
                if d < Self.lanes && rng.chance(0.4),
                   let again = lane(from: d + 1 + rng.below(min(8, Self.lanes - d)), rows: n) {
                    plan.items.append(PlanItem(action: 0, first: Int32(start), count: Int32(n), lane: Int32(again),
                                               slot: Int32(rng.below(Self.blockSize))))
                }
            }
        }
        return plan
    }

    /// What happened to an instance after its create, up to the end of the feed.
    struct History {
        /// The plan items that touch it and have happened, in order (lanes increase).
        var items: [Int] = []
        var deleted = false
        var updates = 0
    }

    func history(block k: Int64, ordinal o: Int) -> History {
        var h = History()
        guard o < Self.targetLimit else { return h }
        let plan = plan(k)
        for (i, item) in plan.items.enumerated() where o >= Int(item.first) && o < Int(item.first + item.count) {
            guard happened(source: k, item: i, item, offset: o - Int(item.first)) else { continue }
            h.items.append(i)
            h.deleted = item.action == 1
            if item.action == 2 { h.updates += 1 }
        }
        return h
    }

    /// Whether row `offset` of a planned change is in the feed (its block may be past the end,
    /// or the last block may end before it).
    private func happened(source k: Int64, item i: Int, _ item: PlanItem, offset: Int) -> Bool {
        let dest = k + Int64(item.lane)
        let last = blockCount - 1
        if dest < last { return true }
        guard dest == last, let position = lastBlockPositions[ItemKey(block: k, item: i)] else { return false }
        return last * Int64(Self.blockSize) + Int64(position + offset) < count
    }

    // MARK: Layouts

    struct Placed {
        var source: Int64
        var item: Int
        var plan: PlanItem
        var position: Int
    }

    /// The changes planned for block `m` by the blocks before it, placed in it (in slot order,
    /// each run contiguous, all within the block).
    private func incoming(_ m: Int64) -> [Placed] {
        var placed: [Placed] = []
        for lane in 1...Self.lanes {
            let k = m - Int64(lane)
            guard k >= 0 else { break }
            for (i, item) in plan(k).items.enumerated() where Int(item.lane) == lane {
                placed.append(Placed(source: k, item: i, plan: item, position: 0))
            }
        }
        placed.sort { ($0.plan.slot, $0.source, $0.item) < ($1.plan.slot, $1.source, $1.item) }
        var rowsLeft = placed.reduce(0) { $0 + Int($1.plan.count) }
        var next = 0
        for i in placed.indices {
            let n = Int(placed[i].plan.count)
            let position = min(max(Int(placed[i].plan.slot), next), Self.blockSize - rowsLeft)
            placed[i].position = position
            next = position + n
            rowsLeft -= n
        }
        return placed
    }

    /// A block's rows: for each, its position along the feed, time, action, state and instance.
    struct Layout: Sendable {
        var x: [Int64]
        var ticks: [Int64]
        var action: [UInt8]
        var state: [UInt8]
        /// 0: created in this block; d: an instance created d blocks before.
        var lane: [UInt8]
        var ordinal: [Int32]
        /// For each ordinal of this block's skeleton, the row that creates it (-1: not created here).
        var ordinalRow: [Int32]
    }

    private func makeLayout(_ m: Int64) -> Layout {
        let b = Self.blockSize
        let sk = skeleton(m)
        let placed = incoming(m)
        var rng = SplitMix64(seed: SplitMix64.mix(seed ^ 0x1A70_0700_0000_0000 ^ UInt64(bitPattern: m)))
        var action = [UInt8](repeating: 0, count: b)
        var state = [UInt8](repeating: 0, count: b)
        var lane = [UInt8](repeating: 0, count: b)
        var ordinal = [Int32](repeating: 0, count: b)
        var ordinalRow = [Int32](repeating: -1, count: b)
        var weight = [Int64](repeating: 0, count: b + 1)
        var isChange = [Bool](repeating: false, count: b)
        for p in placed {
            for i in 0..<Int(p.plan.count) {
                let j = p.position + i
                let history = history(block: p.source, ordinal: Int(p.plan.first) + i)
                let step = history.items.firstIndex(of: p.item) ?? 0
                isChange[j] = true
                action[j] = p.plan.action == 1 ? 1 : p.plan.action == 2 ? 2 : 0
                lane[j] = UInt8(m - p.source)
                ordinal[j] = p.plan.first + Int32(i)
                state[j] = history.deleted ? 2 : step == history.items.count - 1 ? 0 : 1
                weight[j] = i == 0 ? Int64(rng.range(50...1000)) : 0
            }
        }
        var o = 0
        var currentSeries = -1
        for j in 0..<b where !isChange[j] {
            ordinal[j] = Int32(o)
            ordinalRow[o] = Int32(j)
            let s = sk.series(ofOrdinal: o)
            if s != currentSeries {
                weight[j] = Int(sk.seriesFirst[s]) == o && sk.studies[Int(sk.seriesStudy[s])].firstSeries == Int32(s)
                    ? Int64(rng.range(100...3000)) : Int64(rng.range(20...200))
                currentSeries = s
            } else {
                weight[j] = rng.chance(0.08) ? 0 : Int64(rng.range(1...4))   // instances stored together
            }
            let history = history(block: m, ordinal: o)
            state[j] = history.deleted ? 2 : history.items.isEmpty ? 0 : 1
            o += 1
        }
        weight[0] = 0
        weight[b] = Int64(rng.range(1...1000))   // to the next block's first row
        let total = weight.reduce(0, +)
        let span = Int64(b) * FeedClock.subunits
        var x = [Int64](repeating: 0, count: b)
        var sum: Int64 = 0
        for j in 0..<b {
            sum += weight[j]
            x[j] = m * span + FeedClock.mulDiv(sum, span, total)
        }
        return Layout(x: x, ticks: times(m, x), action: action, state: state, lane: lane, ordinal: ordinal,
                      ordinalRow: ordinalRow)
    }

    /// The times of a block's rows. With a shape, some are rounded up to a whole second,
    /// millisecond or microsecond, never past the next row's time (so they never decrease).
    private func times(_ m: Int64, _ x: [Int64]) -> [Int64] {
        var memo = FeedClock.Memo()
        var t = x.map { ticks(at: $0, memo: &memo) }
        let b = Int64(Self.blockSize)
        let roundShare = shape.wholeSecondShare + shape.millisecondShare + shape.microsecondShare
        guard roundShare > 0 else { return t }
        let next = ticks(at: (m + 1) * b * FeedClock.subunits, memo: &memo)
        for j in t.indices.reversed() where m * b + Int64(j) < count - 1 {
            var h = SplitMix64(seed: SplitMix64.mix(seed ^ 0x5A9E_0000_0000_0000 ^ UInt64(bitPattern: m * b + Int64(j))))
            let q = h.unit()
            let unit: Int64 = q < shape.wholeSecondShare ? FeedTime.ticksPerSecond
                : q < shape.wholeSecondShare + shape.millisecondShare ? 10_000 : q < roundShare ? 10 : 1
            guard unit > 1 else { continue }
            let rounded = (t[j] + unit - 1).flooredDivision(by: unit) * unit
            let limit = j + 1 < t.count ? ticks(at: x[j + 1], memo: &memo) : next
            t[j] = min(rounded, limit)
        }
        return t
    }

    // MARK: Cache

    func layout(_ k: Int64) -> Layout {
        if let hit = cacheLock.withLock({ layouts[k] }) { return hit }
        let made = makeLayout(k)
        cacheLock.withLock { layouts[k] = made }
        return made
    }

    func skeleton(_ k: Int64) -> Skeleton {
        if let hit = cacheLock.withLock({ skeletons[k] }) { return hit }
        let made = makeSkeleton(k)
        cacheLock.withLock { skeletons[k] = made }
        return made
    }

    func plan(_ k: Int64) -> Plan {
        if let hit = cacheLock.withLock({ plans[k] }) { return hit }
        let made = makePlan(k)
        cacheLock.withLock { plans[k] = made }
        return made
    }
}

/// The most recently stored blocks, up to `capacity` (the oldest goes first).
struct BlockCache<Value> {
    let capacity: Int
    private var values: [Int64: Value] = [:]
    private var order: [Int64] = []
    private var start = 0

    init(capacity: Int) { self.capacity = capacity }

    subscript(key: Int64) -> Value? {
        get { values[key] }
        set {
            guard let newValue else { return }
            if values.updateValue(newValue, forKey: key) == nil {
                order.append(key)
                if order.count - start > capacity {
                    values[order[start]] = nil
                    start += 1
                    if start > capacity { order.removeFirst(start); start = 0 }
                }
            }
        }
    }
}

extension ProceduralFeed {
    /// A row as the wire encoder wants it. The watermark (for `filePath`) is the row's sequence.
    /// `view` tells how runtime changes left the instance, if any touched it.
    func snapshot(_ row: Row, includeMetadata: Bool, view: (String) -> InstanceView?) -> RowSnapshot {
        let uids = uids(block: row.sourceBlock, ordinal: row.ordinal)
        let global = row.sourceBlock &* Int64(Self.blockSize) &+ Int64(row.ordinal)
        let changeRow = ChangeRow(sequence: row.sequence, ticks: row.ticks, instance: Int32(truncatingIfNeeded: global),
                                  action: row.action, flags: row.isUnreadable ? ChangeRow.unreadableFlag : 0,
                                  originalWatermark: row.sequence)
        let after = view(uids.sop)
        let state = Self.state(row.state, after: after)
        var instance: InstanceSnapshot?
        if includeMetadata && state != .deleted {
            instance = instanceSnapshot(block: row.sourceBlock, ordinal: row.ordinal)
            instance?.version += after?.version ?? 0
        }
        return RowSnapshot(row: changeRow, state: state, studyIndex: studyKey(block: row.sourceBlock, ordinal: row.ordinal),
                           studyUID: uids.study, seriesUID: uids.series, sopUID: uids.sop, instance: instance)
    }

    /// What picks a study's partition on the wire (`RowStyle`).
    func studyKey(block k: Int64, ordinal: Int) -> Int32 {
        let skeleton = skeleton(k)
        let study = Int64(skeleton.seriesStudy[skeleton.series(ofOrdinal: ordinal)])
        return Int32(truncatingIfNeeded: k &* 64 &+ study)
    }

    /// A procedural row's state once runtime changes touched its instance: a later delete
    /// leaves it Deleted, a later update or re-create Replaced.
    static func state(_ state: ChangeFeedState, after view: InstanceView?) -> ChangeFeedState {
        guard let view, view.watermark != FeedData.adoptedWatermark else { return state }
        return view.watermark == 0 ? .deleted : .replaced
    }
}
