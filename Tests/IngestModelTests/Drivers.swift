import AppCore
@testable import AppRuntime
import ChangeFeedClient
import Config
@testable import ScriptMode
import FeedModel
import Foundation
import Synchronization

/// A value shared between tasks, behind a lock.
final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>
    init(_ value: Value) { mutex = Mutex(value) }
    func with<T>(_ body: (inout Value) -> T) -> T { mutex.withLock { body(&$0) } }
    var value: Value { mutex.withLock { $0 } }
}

/// Always the same token (the emulator of these tests asks for none).
struct AnyToken: AuthorizationSource {
    func authorization() async throws -> String { "Bearer model" }
    func rejected() async {}
}

/// The UI's ingest path, without a terminal: the pure core (`update`, the store, the cursor)
/// driven by the fetcher the UI builds (`RunConfiguration.fetcher`), its events turned into app
/// events by `AppRunner.appEvent`, exactly as `AppRunner` does; follow polls by the clock.
struct UIDriver {
    private(set) var state: AppState
    let config: RunConfiguration
    let client: ChangeFeedClient
    private var now = Date(timeIntervalSince1970: 1_800_000_000)
    /// Every problem the status line showed while retrying, and the stop, if any.
    private(set) var retries: [String] = []
    private(set) var stopped: Problem?
    /// What happened, in order (events and effects, briefly), for a failure's message.
    private(set) var trace: [String] = []

    private mutating func note(_ line: String) {
        trace.append(String(line.prefix(240)))
        if ProcessInfo.processInfo.environment["DICOMTUI_MODEL_TRACE"] != nil { print("TRACE " + line.prefix(240)) }
    }

    /// `[1...5, 7, 9...12]`: sequences as runs.
    static func ranges(_ s: [Int64]) -> String {
        var parts: [String] = []
        var i = 0
        while i < s.count {
            var j = i
            while j + 1 < s.count, s[j + 1] == s[j] + 1 { j += 1 }
            parts.append(j == i ? "\(s[i])" : "\(s[i])...\(s[j])")
            i = j + 1
        }
        return "[" + parts.joined(separator: ", ") + "]"
    }

    init(_ scenario: Scenario, client: ChangeFeedClient) {
        var config = RunConfiguration(endpoint: client.endpoint, settings: scenario.settings(follow: true))
        config.tailFirst = scenario.tailFirst
        self.config = config
        self.client = client
        // A budget is checked on a short screen: what the view needs around it stays small.
        state = AppRunner.initialState(config, rows: scenario.listBudget == nil ? 40 : 16, cols: 140, now: now)
        if let budget = scenario.listBudget { state.reach.maxRows = budget }
        // Every feed of these scenarios is small: open "at the newest" anyway, a few rows back.
        state.reach.wholeFeedUpTo = 0
        state.reach.tailRows = scenario.tailRows
        state.reach.tailSpan = 0
    }

    /// Scrolls up to the top, reading every older page, until the list begins at the feed's
    /// first entry (a failed read is tried again by moving up at the top, as a user would).
    mutating func scrollToTheStart(thenFollow: Bool = true) async {
        var steps = 0
        while state.reach.olderExists, steps < 10_000 {
            steps += 1
            await apply(.input(.key(.pageUp)))
            await apply(.input(.key(.up)))
        }
        // Scrolling up stopped following: f follows again (and reads what came meanwhile).
        if thenFollow { await follow() } else { await apply(.input(.key(.char("g")))) }
    }

    /// `f`, unless following already: the list reads on to the newest entry.
    mutating func follow() async {
        if !state.follow.on { await apply(.input(.key(.char("f")))) }
    }

    /// A token arrives: the first run starts and reads to the end.
    mutating func start() async {
        await apply(.started)
        await apply(.tokenAcquired(TokenSummary(expiresOn: now.addingTimeInterval(36_000), identity: "model@contoso.example",
                                                masked: "eyJ0…test", source: "test")))
    }

    /// The follow interval passes: the next poll runs to the end.
    mutating func poll() async {
        now = now.addingTimeInterval(config.followInterval + 1)
        await apply(.tick(now))
    }

    /// `R` at the end of the feed: the loaded range is read again (states as the service has them now).
    mutating func reread() async {
        await apply(.input(.key(.char("R"))))
    }

    private mutating func apply(_ event: AppEvent) async {
        if case .fetchRetrying(let p, _) = event { retries.append(p.message) }
        if case .fetchStopped(let p, _) = event { stopped = p }
        switch event {
        case .pageLoaded(let e, let u): note("page \(Self.ranges(e.map(\.sequence))) + \(u.count) unreadable")
        case .olderLoaded(let e, let u, let b, _, let g):
            note("older \(Self.ranges(e.map(\.sequence))) + \(u.count) unreadable, now from \(b.map(String.init(describing:)) ?? "the start") (jump \(g))")
        case .input, .progress, .tick, .fetchStarted: break
        default: note(String(describing: event))
        }
        for effect in update(&state, event) {
            note("→ \(effect)")
            func fetcher(from start: FeedCursor.Start) -> Fetcher {
                var fetcher = config.fetcher(client: client, tokens: AnyToken(), from: start)
                fetcher.backoffBase = 0.001
                fetcher.backoffCap = 0.005
                fetcher.includeMetadata = state.metadataWithPages
                return fetcher
            }
            func problem(_ error: any Error) -> Problem {
                AppRunner.problem(error as? ChangeFeedError ?? .network(String(describing: error)))
            }
            switch effect {
            case .startFetching(let start), .fetchNeighbourhood(let start, _):
                var f = fetcher(from: start)
                if case .fetchNeighbourhood(_, let rows) = effect { f.maxRows = rows }
                let events = Mutex<[AppEvent]>([])
                await f.run { e in events.withLock { $0.append(AppRunner.appEvent(e)) } }
                for e in events.withLock({ $0 }) { await apply(e) }
            case .probeLatest(let generation):
                do {
                    let latest = try await fetcher(from: .beginning).latest()
                    await apply(.latestProbed(sequence: latest?.sequence, timestamp: latest?.timestamp, generation: generation))
                } catch {
                    await apply(.locateFailed(problem(error), generation: generation))
                }
            case .loadOlder(let before, let spanHint, let generation):
                do {
                    let older = try await fetcher(from: before).older(before: before, spanHint: spanHint)
                    await apply(.olderLoaded(entries: older.entries, unreadable: older.unreadable, boundary: older.boundary,
                                             nextSpan: older.nextSpan, generation: generation))
                } catch {
                    await apply(.olderFailed(problem(error), generation: generation))
                }
            default:
                continue
            }
        }
    }
}

/// `dicomtui feed` in process: the same `FeedSession` as the command, its records captured.
final class FeedDriver: Sendable {
    let session: FeedSession
    private let out = Locked("")
    private let err = Locked<[String]>([])

    init(_ scenario: Scenario, client: ChangeFeedClient) {
        var o = FeedOptions(settings: scenario.settings(follow: true))
        o.giveUpAfter = nil   // as `feed --follow` resolves it: transient faults are outlasted, never given up on
        o.backoff = (0.001, 0.005)
        let out = self.out, err = self.err
        session = FeedSession(options: o, client: client, auth: AnyToken(), progress: false, terminal: false,
                              output: { bytes in out.with { $0 += String(decoding: bytes, as: UTF8.self) }; return true },
                              note: { line in err.with { $0.append(line) } })
    }

    /// Writes the head of the output and runs the first read; nil when it went through.
    func start() async -> FeedSession.Outcome? {
        _ = session.start()
        return await session.poll()
    }

    func poll() async -> FeedSession.Outcome? { await session.poll() }

    var records: [[String: Any]] {
        out.value.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }

    var notes: [String] { err.value }
}

extension Scenario {
    /// The settings the UI and `feed` run the scenario with.
    func settings(follow: Bool) -> Settings {
        var s = Settings()
        s.apiVersion = version
        s.pageSize = pageSize
        s.parallel = parallel
        s.includeMetadata = metadata
        s.lateWindow = lateWindow
        s.maxOffset = maxOffset
        s.follow = follow
        s.followInterval = 5
        return s
    }
}
