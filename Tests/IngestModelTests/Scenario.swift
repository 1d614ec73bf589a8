import ChangeFeedClient
import Emulator
import FeedModel
import Foundation

/// One generated case of the model-based test: a feed, how it is read (UI or `feed`, API
/// version, requests in flight, page size, metadata), what goes wrong on the wire, and what
/// changes in the feed while it is read and followed.
struct Scenario: Sendable, CustomStringConvertible {
    enum Mode: String, Sendable { case ui, feed }

    /// What the feed does between (or during) reads.
    enum Change: Sendable, Equatable {
        /// A generated change at the feed's clock: create, delete, update or re-create.
        case generated
        /// A create whose transaction commits only after the next read (invisible until then).
        case lateCreate
        /// A create stamped `seconds` before the newest timestamp (v2: it lands among rows read).
        case pastCreate(seconds: Int)
        /// Sequences skipped (rolled-back inserts) before a create.
        case gapCreate(skip: Int)
    }

    /// A fault queued `after` requests from when it is queued (those take no fault).
    struct Fault: Sendable {
        var after: Int
        var rule: FaultPlan.Rule
    }

    let seed: UInt64
    let mode: Mode
    let version: APIVersion
    /// Requests in flight: pinned, or nil for adaptive.
    let parallel: Int?
    let metadata: Bool
    let pageSize: Int
    let entries: Int
    /// Share of rows the wire always breaks (an unknown action or state, a time without a zone):
    /// they must stay listed, as unreadable rows or records, in their place.
    let unreadableShare: Double
    /// Queued before the first read, and before each poll (index 0: the first read).
    let faults: [[Fault]]
    /// Changes a writer makes while the first read runs.
    let duringRun: [Change]
    /// Follow polls after the first read, with the changes made before each.
    let polls: [[Change]]
    /// Seconds a row may take to appear (the contract the changes keep: late rows commit,
    /// and past-stamped rows are stamped, well within it).
    let lateWindow: TimeInterval = 120
    /// v2: the most rows a request may skip; small ones make many small windows.
    var maxOffset: Int64 = Fetcher.defaultMaxOffset
    /// UI: open at the newest entries (`tailRows` back in v1; in v2, the late window and 60 s
    /// back), then read every older page by scrolling up to the top.
    var tailFirst = false
    var tailRows: Int64 = 1_000
    /// UI, newest first: the most rows the list may hold (`Reach.maxRows`, smaller than the
    /// feed), on a short screen; nil: no budget that matters.
    var listBudget: Int?

    var description: String {
        "seed \(seed): \(mode.rawValue) \(version.rawValue), \(entries) entries"
            + (unreadableShare > 0 ? " (\(Int(unreadableShare * 100)) % unreadable)" : "") + ", page \(pageSize), parallel \(parallel.map(String.init) ?? "adaptive")"
            + (version == .v2 ? ", max offset \(maxOffset)" : "")
            + (tailFirst ? ", newest first (\(version == .v2 ? "by time" : "\(tailRows) back"))" : "")
            + (listBudget.map { ", list budget \($0) rows" } ?? "")
            + (metadata ? ", metadata" : "") + ", \(faults.map(\.count).reduce(0, +)) faults, "
            + "\(duringRun.count) changes during the read, \(polls.count) polls (\(polls.map(\.count).reduce(0, +)) changes)"
            + " — replay: DICOMTUI_MODEL_SEED=\(seed)"
    }

    /// The faults a request can meet that retrying heals: every one the emulator has but a
    /// hang that never ends. A body that is not JSON is at most twice in a case (no request can
    /// meet five in a row), a broken entry and a 401 at most once (a page is read again until two
    /// reads agree; a 401 gets one retry with a new token).
    static func generate(seed: UInt64, mode forced: Mode? = nil) -> Scenario {
        var r = SplitMix64(seed: seed)
        let mode = forced ?? (r.chance(0.5) ? .ui : .feed)
        let version: APIVersion = r.chance(0.45) ? .v2 : r.chance(0.8) ? .v1 : .v1Prerelease
        let parallel: Int? = [1, 4, 16, nil].randomElement(using: &r)!
        let metadata = r.chance(0.25)
        let pageSize = r.chance(0.2) ? version.maxLimit : Int.random(in: 3...40, using: &r)
        let entries = r.chance(0.08) ? 0 : Int.random(in: 1...320, using: &r)
        let unreadableShare = r.chance(0.25) ? 0.02 : 0

        var notJSON = 0
        var badEntry = 0
        var unauthorized = 0
        func faults(_ count: Int) -> [Fault] {
            (0..<count).compactMap { _ in
                let target: FaultTarget = r.chance(0.2) ? .latest : r.chance(0.75) ? .page : .any
                let fault: InjectedFault
                switch Int.random(in: 0..<15, using: &r) {
                case 12:
                    fault = .statusRetryAfter(503, retryAfter: .httpDateIn(seconds: 0))
                case 13:
                    // A new token is asked for and the request tried once more (a second 401 in a
                    // row would be the service refusing the new token too: not transient).
                    guard unauthorized < 1 else { return nil }
                    unauthorized += 1
                    return Fault(after: Int.random(in: 0...25, using: &r), rule: FaultPlan.Rule(.status(401), target: target))
                case 14:
                    // Every k-th page request, until the final read: the last page among them.
                    let every = Int.random(in: 2...6, using: &r)
                    let transient: [InjectedFault] = [.status(503), .reset, .status(429, retryAfter: 0)]
                    return Fault(after: 0, rule: FaultPlan.Rule(transient.randomElement(using: &r)!, target: .page,
                                                                repeat: .every(every)))
                case 0: fault = .status(503)
                case 1: fault = .status(500, body: "The server encountered an internal error. Please retry the request.")
                case 2: fault = .status(429, retryAfter: 0)
                case 3: fault = .status(408)
                case 4: fault = .reset
                case 5: fault = .truncatedBody
                case 6: fault = .delay(milliseconds: Int.random(in: 1...20, using: &r))
                case 7: fault = .slowBody(bytesPerChunk: 2048, delayMilliseconds: 1)
                case 8:
                    guard notJSON < 2 else { return nil }
                    notJSON += 1
                    fault = .malformedJSON
                case 9:
                    guard notJSON < 2 else { return nil }
                    notJSON += 1
                    fault = r.chance(0.5) ? .emptyBody : .status(200)   // an empty 200 (JSON or no content type)
                case 10:
                    guard badEntry < 1 else { return nil }
                    badEntry += 1
                    // Once: the page is read again, and the second read heals it.
                    return Fault(after: Int.random(in: 0...25, using: &r),
                                 rule: FaultPlan.Rule(.badEntry(index: Int.random(in: 0..<8, using: &r)), target: target))
                default:
                    guard r.chance(0.3) else { return nil }
                    fault = .hang(milliseconds: 1_500)   // longer than the harness's request timeout
                }
                let times = r.chance(0.8) ? 1 : 2
                return Fault(after: Int.random(in: 0...25, using: &r),
                             rule: FaultPlan.Rule(fault, target: target, repeat: .next(times)))
            }
        }
        func changes(_ count: Int) -> [Change] {
            (0..<count).map { _ in
                switch Int.random(in: 0..<10, using: &r) {
                case 0, 1: .lateCreate
                case 2: .pastCreate(seconds: Int.random(in: 1...60, using: &r))
                case 3: .gapCreate(skip: Int.random(in: 1...(r.chance(0.3) ? 150 : 5), using: &r))
                default: .generated
                }
            }
        }
        let first = faults(Int.random(in: 0...5, using: &r))
        let pollCount = r.chance(0.15) ? 0 : Int.random(in: 1...4, using: &r)
        let pollFaults = (0..<pollCount).map { _ in faults(r.chance(0.5) ? Int.random(in: 1...2, using: &r) : 0) }
        let during = r.chance(0.4) ? changes(Int.random(in: 1...12, using: &r)) : []
        let polls = (0..<pollCount).map { _ in changes(Int.random(in: 0...8, using: &r)) }
        var scenario = Scenario(seed: seed, mode: mode, version: version, parallel: parallel, metadata: metadata,
                                pageSize: pageSize, entries: entries, unreadableShare: unreadableShare, faults: [first] + pollFaults,
                                duringRun: during, polls: polls)
        // Drawn last, so that a seed keeps drawing what it drew before.
        if r.chance(0.6) { scenario.maxOffset = Int64.random(in: 0...(Int64(pageSize) * 3), using: &r) }
        if mode == .ui, r.chance(0.5) {
            scenario.tailFirst = true
            scenario.tailRows = Int64.random(in: 1...60, using: &r)
            if entries > 80, r.chance(0.4) { scenario.listBudget = Int.random(in: 40...(entries - 20), using: &r) }
        }
        return scenario
    }
}
