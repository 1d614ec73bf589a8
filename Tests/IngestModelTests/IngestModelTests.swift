import AppCore
@testable import AppRuntime
import AsyncHTTPClient
import ChangeFeedClient
import Emulator
import FeedModel
import Foundation
import Testing

/// Model-based test of the whole ingest path: generated feeds (equal and earlier timestamps, gaps,
/// deletes, updates and re-creates, rows that commit late, rows stamped in the past, every wire
/// form), generated fault schedules (every fault the emulator has, at random requests, `/latest`
/// and the last page included), v1 and v2, 1, 4 or 16 requests in flight or adaptive, with and without
/// metadata, changes during the first read and between follow polls. After the last change
/// commits, one more poll must bring the UI's list (or `feed`'s output) to exactly the emulator's
/// truth: the same entries in the same order, none twice, timestamps to the tick; after `R`, the
/// states as the service reports them.
///
/// `DICOMTUI_MODEL_CASES` sets how many cases run (default 200), `DICOMTUI_MODEL_FIRST_SEED`
/// the first seed (default 20261201), `DICOMTUI_MODEL_SEED` replays one; every failure names its seed.
@Suite struct IngestModelTests {
    static let http = HTTPClient(eventLoopGroupProvider: .singleton,
                                 configuration: { var c = HTTPClient.Configuration(redirectConfiguration: .disallow)
                                                  c.connectionPool.retryConnectionEstablishment = false
                                                  return c }())

    static var seeds: [UInt64] {
        let env = ProcessInfo.processInfo.environment
        if let one = env["DICOMTUI_MODEL_SEED"].flatMap(UInt64.init) { return [one] }
        let count = env["DICOMTUI_MODEL_CASES"].flatMap(Int.init) ?? 200
        let base = env["DICOMTUI_MODEL_FIRST_SEED"].flatMap(UInt64.init) ?? 20_261_201
        return (0..<UInt64(max(0, count))).map { base &+ $0 }
    }

    @Test(arguments: seeds)
    func theListAndTheOutputAreTheFeed(seed: UInt64) async throws {
        let scenario = Scenario.generate(seed: seed)
        let world = try await World.start(scenario, http: Self.http)
        do {
            switch scenario.mode {
            case .ui: await Self.checkUI(scenario, world)
            case .feed: await Self.checkFeed(scenario, world)
            }
        }
        await world.stop()
    }

    // MARK: - The UI

    static func checkUI(_ scenario: Scenario, _ world: World) async {
        var ui = UIDriver(scenario, client: world.client)
        world.queue(scenario.faults[0])
        let writer = world.write(scenario.duringRun)
        await ui.start()
        await writer.value
        for (i, changes) in scenario.polls.enumerated() {
            world.commitPending()
            for change in changes { world.apply(change) }
            world.queue(scenario.faults[i + 1])
            await ui.poll()
            // Newest first: the older pages are read after the first poll, while later polls
            // still meet rows that commit late, also below where the list first began.
            if i == 0 { await ui.scrollToTheStart() }
        }
        // Every transaction has committed: one more poll must bring the list to the truth.
        world.commitPending()
        world.clearFaults()
        await ui.poll()
        if let budget = scenario.listBudget {
            await checkBudget(budget, &ui, world, scenario)
            return
        }
        await ui.scrollToTheStart()
        if let stop = ui.stopped { Issue.record("\(scenario): the UI stopped: \(stop.message)") }
        compare(list: ui.state.entries, with: world.truth(), states: false, scenario, trace: ui.trace)

        // `R` reads the loaded range again: the states become the service's.
        await ui.reread()
        compare(list: ui.state.entries, with: world.truth(), states: true, scenario)
    }

    /// A list within a budget holds a stretch of the feed, never all of it: up at the start it
    /// must be the feed's first rows; following, its newest; after `R`, with the states the
    /// service has. Each time the stretch must be exactly the feed there, and the list no
    /// larger than the budget and what the view needs around it (rows that may still change
    /// stay).
    static func checkBudget(_ budget: Int, _ ui: inout UIDriver, _ world: World, _ scenario: Scenario) async {
        let truth = world.truth()
        await ui.scrollToTheStart(thenFollow: false)
        compare(stretchOf: ui, with: truth, budget: budget, at: .oldest, states: false, scenario, when: "scrolled up to the start")
        await ui.follow()
        compare(stretchOf: ui, with: truth, budget: budget, at: .newest, states: false, scenario, when: "following again")
        await ui.reread()
        compare(stretchOf: ui, with: truth, budget: budget, at: .newest, states: true, scenario, when: "after R")
        if ui.state.reach.dropped == 0 { Issue.record("\(scenario): the list never let rows go: the budget was not tested") }
        if let stop = ui.stopped { Issue.record("\(scenario): the UI stopped: \(stop.message)") }
    }

    static func compare(stretchOf ui: UIDriver, with truth: [EmulatedEntry], budget: Int, at end: Reach.End, states: Bool,
                        _ scenario: Scenario, when: String) {
        let rows = Array(ui.state.entries)
        guard let first = rows.first else {
            if !truth.isEmpty { Issue.record("\(scenario): \(when), the list is empty") }
            return
        }
        guard let i = truth.firstIndex(where: { $0.sequence == first.sequence }) else {
            Issue.record("\(scenario): \(when), the list's first row (\(first.sequence)) is not in the feed")
            return
        }
        let did = "\nwhat the UI did:\n" + ui.trace.suffix(60).joined(separator: "\n")
        switch end {
        case .oldest where i != 0:
            Issue.record(Comment(rawValue: "\(scenario): \(when), the list begins at row \(i) of the feed (\(first.sequence)), not its first" + did))
            return
        case .newest where i + rows.count != truth.count:
            Issue.record(Comment(rawValue: "\(scenario): \(when), the list (\(rows.count) rows from row \(i)) does not end at the feed's newest ("
                                 + "\(truth.count) rows)" + did))
            return
        default: break
        }
        compare(rows: rows, with: Array(truth[i..<min(truth.count, i + rows.count)]), states: states, scenario, when: when,
                trace: ui.trace)
        let settled = ui.state.cursor.settled
        let unsettled = rows.filter { row in settled.map { row.timestamp >= $0 } ?? true }.count
        let allowance = ui.state.listRows * 5 + unsettled
        if rows.count > budget + allowance {
            Issue.record(Comment(rawValue: "\(scenario): \(when), the list holds \(rows.count) rows, over its budget \(budget) "
                                 + "and the \(allowance) the view and the unsettled rows need" + did))
        }
    }

    static func compare(list: EntryStore, with truth: [EmulatedEntry], states: Bool, _ scenario: Scenario, trace: [String] = []) {
        compare(rows: Array(list), with: truth, states: states, scenario, when: states ? "after R" : "after the last poll", trace: trace)
    }

    static func compare(rows: [FeedRow], with truth: [EmulatedEntry], states: Bool, _ scenario: Scenario, when: String,
                        trace: [String] = []) {
        guard rows.count == truth.count else {
            let listed = Set(rows.map(\.sequence)), expected = Set(truth.map(\.sequence))
            let missing = expected.subtracting(listed).sorted().prefix(8)
            let extra = rows.count - listed.count
            let unexpected = Array(listed.subtracting(expected).sorted().prefix(8))
            let did = trace.isEmpty ? "" : "\nwhat the UI did:\n" + trace.joined(separator: "\n")
            Issue.record(Comment(rawValue: "\(scenario): \(when) the list has \(rows.count) rows, the feed \(truth.count): "
                                 + "missing \(Array(missing)), \(extra) listed twice, unexpected \(unexpected)" + did))
            return
        }
        for (i, (row, e)) in zip(rows, truth).enumerated() {
            var problems: [String] = []
            if row.sequence != e.sequence { problems.append("sequence \(row.sequence), not \(e.sequence)") }
            if e.isUnreadable {
                // Broken on the wire every time: listed as unreadable, in its place, with what could be read.
                if row.unreadable == nil { problems.append("readable, but the wire always breaks it") }
                if row.timeKnown && row.timestamp != e.timestamp { problems.append("time \(row.timestamp), not \(e.timestamp)") }
                if !problems.isEmpty {
                    Issue.record("\(scenario): \(when), row \(i) (sequence \(e.sequence)): \(problems.joined(separator: "; "))")
                    return
                }
                continue
            }
            if row.unreadable != nil { problems.append("unreadable (\(row.unreadable!))") }
            if row.timestamp != e.timestamp { problems.append("time \(row.timestamp), not \(e.timestamp)") }
            if row.sopInstanceUid != e.sopInstanceUid || row.seriesInstanceUid != e.seriesInstanceUid
                || row.studyInstanceUid != e.studyInstanceUid { problems.append("other UIDs") }
            if row.action != e.action { problems.append("action \(row.action), not \(e.action)") }
            if states && row.state != e.state { problems.append("state \(row.state), not \(e.state)") }
            if !problems.isEmpty {
                Issue.record("\(scenario): \(when), row \(i) (sequence \(e.sequence)): \(problems.joined(separator: "; "))")
                return
            }
        }
    }

    // MARK: - feed

    static func checkFeed(_ scenario: Scenario, _ world: World) async {
        let feed = FeedDriver(scenario, client: world.client)
        world.queue(scenario.faults[0])
        let writer = world.write(scenario.duringRun)
        var stop = await feed.start()
        await writer.value
        let firstRun = feed.records.count
        for (i, changes) in scenario.polls.enumerated() where stop == nil {
            world.commitPending()
            for change in changes { world.apply(change) }
            world.queue(scenario.faults[i + 1])
            stop = await feed.poll()
        }
        world.commitPending()
        world.clearFaults()
        if stop == nil { stop = await feed.poll() }
        if let stop { Issue.record("\(scenario): feed stopped: \(stop) \(feed.notes.suffix(3))") }

        let truth = world.truth()
        let records = feed.records
        let sequences = records.compactMap { ($0["sequence"] as? NSNumber)?.int64Value }
        let unreadable = Set(records.filter { $0["unreadable"] != nil }.compactMap { ($0["sequence"] as? NSNumber)?.int64Value })
        let broken = Set(truth.filter(\.isUnreadable).map(\.sequence))
        if unreadable != broken {
            Issue.record("\(scenario): unreadable records \(unreadable.sorted().prefix(8)), but the wire breaks \(broken.sorted().prefix(8))")
        }
        if sequences.count != Set(sequences).count {
            let twice = Dictionary(grouping: sequences, by: { $0 }).filter { $0.value.count > 1 }.keys.sorted()
            Issue.record("\(scenario): written twice: \(twice.prefix(8))")
        }
        let expected = Set(truth.map(\.sequence))
        if Set(sequences) != expected {
            let missing = expected.subtracting(sequences).sorted().prefix(8), unexpected = Set(sequences).subtracting(expected).sorted().prefix(8)
            Issue.record("\(scenario): missing \(Array(missing)), unexpected \(Array(unexpected))")
        }
        // Each record is its row to the tick; the first read wrote them in feed order.
        let bySequence = Dictionary(uniqueKeysWithValues: truth.map { ($0.sequence, $0) })
        for record in records where record["unreadable"] == nil {
            guard let seq = (record["sequence"] as? NSNumber)?.int64Value, let e = bySequence[seq] else { continue }
            let time = (record["timestamp"] as? String).flatMap(Timestamp.parse)
            if time != e.timestamp || record["sopInstanceUid"] as? String != e.sopInstanceUid
                || record["action"] as? String != e.action.rawValue {
                Issue.record("\(scenario): record \(seq) is not the service's row: \(record)")
                return
            }
            if scenario.metadata, record["state"] as? String != "Deleted",
               ((record["metadata"] as? [String: Any])?["0020000D"] as? [String: Any])?["Value"] as? [String] != [e.studyInstanceUid] {
                Issue.record("\(scenario): record \(seq) lacks its metadata")
                return
            }
        }
        let order = records.prefix(firstRun).compactMap { ($0["sequence"] as? NSNumber)?.int64Value }.compactMap { bySequence[$0] }
        let inOrder = zip(order, order.dropFirst()).allSatisfy { a, b in
            scenario.version.isSequenceMode ? a.sequence < b.sequence : (a.timestamp, a.sequence) < (b.timestamp, b.sequence)
        }
        if !inOrder { Issue.record("\(scenario): the first read is not in feed order") }
        if ProcessInfo.processInfo.environment["DICOMTUI_MODEL_TRACE"] != nil {
            for r in world.server.requestLog.requests { print("TRACE \(r.status) \(r.path)?\(r.query ?? "") \(r.fault.map { "\($0)" } ?? "")") }
            print("TRACE written \(records.prefix(firstRun).compactMap { ($0["sequence"] as? NSNumber)?.int64Value })")
            print("TRACE truth \(truth.map(\.sequence))")
        }
    }
}

