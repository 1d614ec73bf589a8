import FeedModel

/// How the generated timeline deviates from a clean, ever-increasing clock. Every choice is
/// drawn from the dataset's seed (on a stream of its own, so the rows, UIDs and actions are
/// the same whatever the shape; only their timestamps differ).
///
/// The service stamps rows inside the storing transaction (creates with `SYSUTCDATETIME()`,
/// deletes and updates with `SYSDATETIMEOFFSET()`), on more than one machine, while sequences
/// come from an identity column: so timestamps repeat, and now and then a row is stamped
/// earlier than the row before it. v2 order (timestamp, then sequence) then differs from
/// sequence order.
public struct FeedShape: Sendable, Hashable {
    /// Share of rows stamped with exactly the timestamp of the row before them (in sequence
    /// order), on top of the ties the timeline has anyway (instances stored together).
    public var sameTimestampShare: Double
    /// Share of rows stamped earlier than the row before them, by 1 tick to `maxStepBackSeconds`.
    public var earlierTimestampShare: Double
    public var maxStepBackSeconds: Double
    /// Shares of rows whose timestamp is a whole second, a whole millisecond or a whole
    /// microsecond (rounded up, so the timeline does not go back), so that the wire, which
    /// trims trailing zeros, shows 0 to 7 fraction digits.
    public var wholeSecondShare: Double
    public var millisecondShare: Double
    public var microsecondShare: Double

    public init(sameTimestampShare: Double = 0, earlierTimestampShare: Double = 0, maxStepBackSeconds: Double = 3,
                wholeSecondShare: Double = 0, millisecondShare: Double = 0, microsecondShare: Double = 0) {
        self.sameTimestampShare = sameTimestampShare
        self.earlierTimestampShare = earlierTimestampShare
        self.maxStepBackSeconds = maxStepBackSeconds
        self.wholeSecondShare = wholeSecondShare
        self.millisecondShare = millisecondShare
        self.microsecondShare = microsecondShare
    }

    /// The generator as it always was: timestamps never decrease.
    public static let plain = FeedShape()

    /// About 1 % of rows share their predecessor's timestamp, about 0.3 % are stamped up to
    /// 3 s before it; 2 % fall on a whole second, 5 % on a whole millisecond, 3 % on a whole
    /// microsecond.
    public static let realistic = FeedShape(sameTimestampShare: 0.01, earlierTimestampShare: 0.003,
                                            maxStepBackSeconds: 3, wholeSecondShare: 0.02,
                                            millisecondShare: 0.05, microsecondShare: 0.03)

    var isPlain: Bool { self == .plain }
}

/// How the live generator (`EmulatorOptions.liveChangeInterval`,
/// `ChangeFeedStore.appendGeneratedChanges(count:at:live:)`) behaves beyond appending rows.
///
/// A real feed shows a change when its transaction commits, which can be after later changes
/// were already shown, and with the timestamp it got when the transaction began. Rows stamped
/// in the past are at most `maxPastSeconds` (never 60 or more) behind the newest timestamp. A
/// held row becomes visible after `lateHold` later changes, or as soon as the newest timestamp
/// is `maxLateSeconds` past its own, whichever comes first: so with changes at most
/// 60 − max(`maxPastSeconds`, `maxLateSeconds`) seconds apart, every row becomes visible less
/// than a minute behind the newest timestamp, and a reader that re-reads the last two minutes
/// on every poll sees them all.
public struct LiveChangeOptions: Sendable, Hashable {
    /// Share of changes appended invisible (uncommitted).
    public var lateShare: Double
    /// How many later generated changes a held change waits for before it commits.
    public var lateHold: ClosedRange<Int>
    /// A held change commits at the latest once the newest timestamp is this far past its own.
    public var maxLateSeconds: Double
    /// Share of changes stamped in the past.
    public var pastShare: Double
    /// How far in the past, at most (clamped below 60 s).
    public var maxPastSeconds: Double

    /// The defaults are the demo's: 15 % late (1 to 4 changes, at most 20 s), 10 % stamped up
    /// to 30 s in the past.
    public init(lateShare: Double = 0.15, lateHold: ClosedRange<Int> = 1...4, maxLateSeconds: Double = 20,
                pastShare: Double = 0.1, maxPastSeconds: Double = 30) {
        self.lateShare = lateShare
        self.lateHold = max(1, lateHold.lowerBound)...max(1, lateHold.upperBound)
        self.maxLateSeconds = maxLateSeconds
        self.pastShare = pastShare
        self.maxPastSeconds = min(max(0, maxPastSeconds), 59.9)
    }

    /// Every change visible at once, stamped with the clock (what the live generator always did).
    public static let plain = LiveChangeOptions(lateShare: 0, pastShare: 0)
    /// The demo's defaults.
    public static let realistic = LiveChangeOptions()
}

// MARK: - The generator's stamps and holds

extension FeedData {
    /// The timestamp a generated row gets: `t` from the timeline, moved into the past for
    /// some live changes, then reshaped by `shape`.
    mutating func stamp(_ t: Int64, live: LiveChangeOptions?) -> Int64 {
        var ticks = t
        if let live, live.pastShare > 0, liveRNG.chance(live.pastShare) {
            ticks -= 1 + Int64(liveRNG.below(Int(live.maxPastSeconds * Double(FeedTime.ticksPerSecond))))
        }
        if !shape.isPlain {
            let p = shapeRNG.unit()
            if p < shape.sameTimestampShare, let previous = rows.last {
                ticks = previous.ticks
            } else if p < shape.sameTimestampShare + shape.earlierTimestampShare, let previous = rows.last {
                let most = max(1, Int(shape.maxStepBackSeconds * Double(FeedTime.ticksPerSecond)))
                ticks = previous.ticks - 1 - Int64(shapeRNG.below(most))
            } else {
                let q = shapeRNG.unit()
                let unit: Int64
                if q < shape.wholeSecondShare {
                    unit = FeedTime.ticksPerSecond
                } else if q < shape.wholeSecondShare + shape.millisecondShare {
                    unit = 10_000
                } else if q < shape.wholeSecondShare + shape.millisecondShare + shape.microsecondShare {
                    unit = 10
                } else {
                    unit = 1
                }
                if unit > 1 { ticks = (ticks + unit - 1).flooredDivision(by: unit) * unit }
            }
        }
        if let live {
            // Never a minute or more behind the time the change happened.
            ticks = max(ticks, t - Int64(live.maxPastSeconds * Double(FeedTime.ticksPerSecond)))
        }
        return max(ticks, floorTicks)
    }

    /// Appends one generated change (0 create, 1 delete, 2 update) with the next sequence gap,
    /// its shaped timestamp (or `stamped`, already shaped: the rows of one bulk update share
    /// a timestamp) and, for live changes, maybe held back; then lets held rows commit.
    @discardableResult
    mutating func emit(_ action: UInt8, _ instance: Int32, ticks t: Int64, live: LiveChangeOptions?,
                       stamped: Int64? = nil) -> Int {
        let skip = nextSkip()
        let ticks = stamped ?? stamp(t, live: live)
        let hold = live.map { $0.lateShare > 0 && liveRNG.chance($0.lateShare) } ?? false
        let unreadable = unreadableShare > 0 && isUnreadable(sequence: lastSequence + 1 + skip)
        let index: Int
        switch action {
        case 0: index = create(instance, ticks: ticks, skip: skip, visible: !hold, unreadable: unreadable)
        case 1: index = delete(instance, ticks: ticks, skip: skip, visible: !hold, unreadable: unreadable)
        default: index = update(instance, ticks: ticks, skip: skip, visible: !hold, unreadable: unreadable)
        }
        if let live {
            releaseHeld(live)
            if hold { held.append((row: index, changesLeft: liveRNG.range(live.lateHold))) }
        }
        return index
    }

    /// One later change has happened: held rows count down, and those whose count is done or
    /// which fell `maxLateSeconds` behind the newest timestamp commit.
    private mutating func releaseHeld(_ live: LiveChangeOptions) {
        guard !held.isEmpty else { return }
        let oldest = lastTicks - Int64(live.maxLateSeconds * Double(FeedTime.ticksPerSecond))
        var keep: [(row: Int, changesLeft: Int)] = []
        for var h in held {
            h.changesLeft -= 1
            if h.changesLeft <= 0 || rows[h.row].ticks <= oldest {
                commit(row: h.row)
            } else {
                keep.append(h)
            }
        }
        held = keep
    }

    /// Whether the generated row with this sequence is one the wire always breaks: a hash of
    /// the seed and the sequence, so the choice does not disturb any other stream.
    func isUnreadable(sequence: Int64) -> Bool {
        Self.isUnreadable(seed: seed, share: unreadableShare, sequence: sequence)
    }

    static func isUnreadable(seed: UInt64, share: Double, sequence: Int64) -> Bool {
        let h = SplitMix64.mix(seed ^ 0x0BAD_0E17_7000_0000 ^ (UInt64(bitPattern: sequence) &* 0x9E37_79B9_7F4A_7C15))
        return Double(h >> 11) / Double(1 << 53) < share
    }
}
