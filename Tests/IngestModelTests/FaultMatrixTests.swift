import AppCore
@testable import AppRuntime
import ChangeFeedClient
import Emulator
import FeedModel
@testable import ScriptMode
import Foundation
import Synchronization
import Testing

/// Every fault the emulator can inject, at every place a request goes (a page, `/latest`, the
/// detail view's one-entry request, a follow poll), in the UI and in `feed`, on v1 and v2: what
/// dicomtui does (retries, or stops with which message) and whether what it shows afterwards is
/// the emulator's feed. The run writes the table to docs/fault-matrix.md (never edited by hand)
/// and fails on any cell where a transient fault was not healed or a permanent one did not stop
/// with its message.
@Suite struct FaultMatrixTests {
    enum Place: String, CaseIterable, Sendable {
        case page = "page"
        case latest = "/latest"
        case entry = "one entry (detail view)"
        case poll = "follow poll"
    }

    struct Kind: Sendable {
        let name: String
        let fault: InjectedFault
        let target: FaultTarget
        /// How often: the next `times` requests, or every request.
        let times: Int?
        /// The run must stop, with a message containing this.
        let stops: String?
        /// Where the place changes what must happen (the one-entry request of the detail view:
        /// an entry that does not decode is the whole answer).
        var stopsAt: [Place: String] = [:]

        func stop(at place: Place) -> String? { stopsAt[place] ?? stops }
    }

    static let kinds: [Kind] = [
        Kind(name: "503 Service Unavailable ×2", fault: .status(503), target: .page, times: 2, stops: nil),
        Kind(name: "500 with the service's text ×2", fault: .status(500, body: "The server encountered an internal error. Please retry the request."),
             target: .page, times: 2, stops: nil),
        Kind(name: "408 Request Timeout", fault: .status(408), target: .page, times: 1, stops: nil),
        Kind(name: "429, Retry-After: 1", fault: .status(429, retryAfter: 1), target: .page, times: 1, stops: nil),
        Kind(name: "429, Retry-After as an HTTP date", fault: .statusRetryAfter(429, retryAfter: .httpDateIn(seconds: 1)),
             target: .page, times: 1, stops: nil),
        Kind(name: "connection reset ×2", fault: .reset, target: .page, times: 2, stops: nil),
        Kind(name: "no answer (client timeout)", fault: .hang(milliseconds: 1_500), target: .page, times: 1, stops: nil),
        Kind(name: "body cut short", fault: .truncatedBody, target: .page, times: 1, stops: nil),
        Kind(name: "slow body", fault: .slowBody(bytesPerChunk: 512, delayMilliseconds: 5), target: .page, times: 1, stops: nil),
        Kind(name: "HTML page with 200 ×2", fault: .malformedJSON, target: .page, times: 2, stops: nil),
        Kind(name: "empty 200 ×2", fault: .emptyBody, target: .page, times: 2, stops: nil),
        Kind(name: "one entry garbled, once", fault: .badEntry(index: 1), target: .page, times: 1, stops: nil),
        Kind(name: "HTML page with 200, always", fault: .malformedJSON, target: .page, times: nil, stops: "answers in a row"),
        Kind(name: "one entry garbled, always", fault: .badEntry(index: 1), target: .page, times: nil, stops: nil,
             stopsAt: [.entry: "answers in a row"]),
        Kind(name: "401 once (a new token is fetched)", fault: .status(401), target: .page, times: 1, stops: nil),
        Kind(name: "401 always", fault: .status(401), target: .page, times: nil, stops: "401"),
        Kind(name: "403 Authorization failed.", fault: .status(403, body: "Authorization failed."), target: .page, times: nil,
             stops: "403 Forbidden: Authorization failed."),
        Kind(name: "404", fault: .status(404), target: .page, times: nil, stops: "404"),
        Kind(name: "400 with the service's text", fault: .status(400, body: "The query parameter 'Limit' is invalid. The field Limit must be between 1 and 200."),
             target: .page, times: nil, stops: "400 Bad Request: The query parameter"),
    ]

    /// One cell's result.
    struct Outcome: Sendable {
        var retries = 0
        var stopped: String?
        var equalsTruth: Bool?
        var note: String?

        var text: String {
            var s = stopped.map { "stopped: \(Self.cell($0))" } ?? (retries == 0 ? "no retry needed" : "retried \(retries)×")
            if let note { s += "; " + note }
            if let equalsTruth { s += equalsTruth ? " ✓" : " ✗ differs from the feed" }
            return s
        }

        static func cell(_ text: String) -> String {
            let one = text.replacingOccurrences(of: "|", with: "/").replacingOccurrences(of: "\n", with: " ")
            return one.count > 120 ? String(one.prefix(120)) + "…" : one
        }
    }

    struct Cell: Sendable {
        let kind: Int
        let place: Place
        let mode: Scenario.Mode
        let version: APIVersion
    }

    @Test func everyFaultEverywhereIsHealedOrSaid() async throws {
        let cells = APIVersion.allCases.filter { $0 != .v1Prerelease }.flatMap { version in
            Self.kinds.indices.flatMap { k in
                Place.allCases.flatMap { place in
                    [Scenario.Mode.ui, .feed].compactMap { mode in
                        place == .entry && mode == .feed ? nil : Cell(kind: k, place: place, mode: mode, version: version)
                    }
                }
            }
        }
        let results = Locked<[Int: Outcome]>([:])
        try await withThrowingTaskGroup(of: Void.self) { group in
            var next = 0
            func add() {
                guard next < cells.count else { return }
                let i = next
                next += 1
                let cell = cells[i]
                group.addTask { let o = try await Self.run(cell); results.with { $0[i] = o } }
            }
            for _ in 0..<4 { add() }
            while try await group.next() != nil { add() }
        }
        let outcomes = results.value
        for (i, cell) in cells.enumerated() {
            let kind = Self.kinds[cell.kind]
            guard let o = outcomes[i] else { continue }
            let name = "\(kind.name) at \(cell.place.rawValue), \(cell.mode.rawValue) \(cell.version.rawValue)"
            if let stop = kind.stop(at: cell.place) {
                #expect(o.stopped?.contains(stop) == true, "\(name): \(o.text)")
            } else {
                #expect(o.stopped == nil, "\(name): \(o.text)")
                #expect(o.equalsTruth != false, "\(name): \(o.text)")
            }
        }
        try Self.write(cells: cells, outcomes: outcomes)
    }

    /// The retries the injected fault caused: at most one per answer the emulator gave with it.
    /// On a busy machine a slow answer can time out and be retried as well; that is the
    /// machine, not the fault, and would make this generated file differ from run to run.
    static func causedByTheFault(_ retries: Int, _ world: World) -> Int {
        min(retries, world.server.requestLog.requests.filter { $0.fault != nil }.count)
    }

    /// One cell: a 150-entry feed, the fault where the cell says, then the oracle.
    static func run(_ cell: Cell) async throws -> Outcome {
        let kind = kinds[cell.kind]
        var base = Scenario.generate(seed: 4_242, mode: cell.mode)
        base = Scenario(seed: base.seed, mode: cell.mode, version: cell.version, parallel: 1, metadata: false,
                        pageSize: 50, entries: 150, unreadableShare: 0, faults: [[]], duringRun: [], polls: [])
        let world = try await World.start(base, http: IngestModelTests.http)
        defer { Task { await world.stop() } }
        let target: FaultTarget = cell.place == .latest ? .latest : cell.place == .entry ? .page : kind.target
        func inject() {
            if let n = kind.times {
                world.server.faults.enqueue(kind.fault, times: n, target: target)
            } else {
                world.server.faults.every(1, kind.fault, target: target)
            }
        }
        var outcome = Outcome()
        switch cell.mode {
        case .ui:
            var ui = UIDriver(base, client: world.client)
            if cell.place == .page || cell.place == .latest { inject() }
            await ui.start()
            if cell.place == .poll {
                world.apply(.generated)
                world.apply(.lateCreate)
                inject()
                await ui.poll()
                world.commitPending()
            }
            if cell.place == .entry {
                inject()
                let sequence = world.truth()[3].sequence
                let fetcher = ui.config.fetcher(client: world.client, tokens: AnyToken(), from: .beginning)
                var f = fetcher
                f.backoffBase = 0.001
                f.backoffCap = 0.005
                let retries = Mutex(0)
                do {
                    let e = try await f.entry(sequence: sequence) { _, _ in retries.withLock { $0 += 1 } }
                    outcome.retries = Self.causedByTheFault(retries.withLock { $0 }, world)
                    outcome.equalsTruth = e?.sequence == sequence && e?.timestamp == world.truth()[3].timestamp
                } catch let e as ChangeFeedError {
                    outcome.retries = retries.withLock { $0 }
                    outcome.stopped = e.message
                }
                return outcome
            }
            outcome.retries = Self.causedByTheFault(ui.retries.count, world)
            if let stop = ui.stopped {
                outcome.stopped = stop.message
                return outcome
            }
            world.server.faults.reset()
            await ui.poll()
            let rows = Array(ui.state.entries)
            let truth = world.truth()
            let unreadable = rows.filter { $0.unreadable != nil }.count
            if unreadable > 0 { outcome.note = "\(unreadable) row\(unreadable == 1 ? "" : "s") kept as unreadable" }
            outcome.equalsTruth = rows.count == truth.count
                && zip(rows, truth).allSatisfy { $0.sequence == $1.sequence && ($0.unreadable != nil || $0.timestamp == $1.timestamp) }
        case .feed:
            let feed = FeedDriver(base, client: world.client)
            if cell.place == .page || cell.place == .latest { inject() }
            var stop = await feed.start()
            if cell.place == .poll, stop == nil {
                world.apply(.generated)
                world.apply(.lateCreate)
                inject()
                stop = await feed.poll()
                world.commitPending()
            }
            outcome.retries = Self.causedByTheFault(feed.notes.filter { $0.contains("; try ") }.count, world)
            if case .failed(let e)? = stop {
                outcome.stopped = e.message
                return outcome
            }
            world.server.faults.reset()
            _ = await feed.poll()
            let records = feed.records
            let unreadable = records.filter { $0["unreadable"] != nil }.count
            if unreadable > 0 { outcome.note = "\(unreadable) written as unreadable (exit 65)" }
            let sequences = records.compactMap { ($0["sequence"] as? NSNumber)?.int64Value }
            outcome.equalsTruth = sequences.count == Set(sequences).count && Set(sequences) == Set(world.truth().map(\.sequence))
        }
        return outcome
    }

    /// docs/fault-matrix.md, from the outcomes.
    static func write(cells: [Cell], outcomes: [Int: Outcome]) throws {
        var md = """
            # Fault matrix

            Generated by `Tests/IngestModelTests/FaultMatrixTests.swift` on every test run (`scripts/test \
            --filter FaultMatrix` alone); never edited by hand. Each fault is injected by the emulator \
            (`--faults`, see `FaultPlan`) into a 150-entry feed read with 50-entry pages, one request at a time \
            (so that the counts are the same on every run), \
            in every wire form the service writes. A cell says what dicomtui did (retried how often, \
            or stopped with which message) and whether what it shows afterwards is exactly the \
            emulator's feed (✓: same entries, same order, none twice, timestamps to the tick). \
            "Always" faults hit every request of their kind; the others hit the next one or two. A \
            body that is not JSON is retried like a 5xx and stops the run after 5 answers in a row; \
            a page with an entry that does not decode is read again until two reads agree (at most \
            3 more reads) before the entry is kept as an unreadable row (the UI) or record (`feed`, \
            exit status 65); the newest entry (`/latest`) only has to give its sequence and time.


            """
        for version in [APIVersion.v1, .v2] {
            md += "## \(version.rawValue)\n\n"
            let columns: [(Place, Scenario.Mode)] = Place.allCases.flatMap { p in
                [Scenario.Mode.ui, .feed].compactMap { m in p == .entry && m == .feed ? nil : (p, m) }
            }
            md += "| fault | " + columns.map { "\($0.0.rawValue), \($0.1 == .ui ? "UI" : "feed")" }.joined(separator: " | ") + " |\n"
            md += "|---|" + columns.map { _ in "---" }.joined(separator: "|") + "|\n"
            for (k, kind) in kinds.enumerated() {
                let texts = columns.map { column -> String in
                    guard let i = cells.firstIndex(where: { $0.kind == k && $0.place == column.0 && $0.mode == column.1 && $0.version == version }),
                          let o = outcomes[i] else { return "—" }
                    return o.text
                }
                md += "| \(kind.name) | " + texts.joined(separator: " | ") + " |\n"
            }
            md += "\n"
        }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let docs = root.appendingPathComponent("docs")
        try FileManager.default.createDirectory(at: docs, withIntermediateDirectories: true)
        try md.write(to: docs.appendingPathComponent("fault-matrix.md"), atomically: true, encoding: .utf8)
    }
}
