import AsyncHTTPClient
import ChangeFeedClient
import Emulator
import FeedModel
import Foundation
import Synchronization

/// The service side of a case: an emulator, the feed's clock, and the changes a scenario makes.
/// The truth the oracle compares against is what the emulator shows once every change has
/// committed.
final class World: Sendable {
    let server: EmulatorServer
    let client: ChangeFeedClient
    let scenario: Scenario
    private let state: Mutex<State>

    struct State {
        var random: SplitMix64
        /// The feed's clock: every change is stamped at or after it (past-stamped ones before).
        var clock: Timestamp
        var made = 0
        /// Sequences appended invisible, to commit after the next read.
        var pending: [Int64] = []
    }

    private init(server: EmulatorServer, client: ChangeFeedClient, scenario: Scenario, clock: Timestamp) {
        self.server = server
        self.client = client
        self.scenario = scenario
        state = Mutex(State(random: SplitMix64(seed: scenario.seed ^ 0xC0FFEE), clock: clock))
    }

    static func start(_ scenario: Scenario, http: HTTPClient) async throws -> World {
        var options = EmulatorOptions(port: 0, entries: scenario.entries, seed: scenario.seed, auth: .none, wireFormat: .realistic)
        options.dataset.shape = .realistic
        options.dataset.unreadableShare = scenario.unreadableShare
        let server = EmulatorServer(options: options)
        let base = try await server.start()
        let client = ChangeFeedClient(endpoint: try ServiceEndpoint(base.absoluteString), apiVersion: scenario.version,
                                      http: http, requestTimeout: .milliseconds(1_000))
        let newest = server.store.allEntries().map(\.timestamp).max() ?? Timestamp(year: 2026, month: 12, day: 1)
        return World(server: server, client: client, scenario: scenario, clock: newest.adding(seconds: 1))
    }

    func stop() async { await server.stop() }

    /// Queues faults: each after `after` requests that take none.
    func queue(_ faults: [Scenario.Fault]) {
        for f in faults {
            if f.after > 0 { server.faults.enqueue(.delay(milliseconds: 0), times: f.after, target: .any) }
            switch f.rule.repeat {
            case .next(let n): server.faults.enqueue(f.rule.fault, times: n, target: f.rule.target)
            case .every(let n): server.faults.every(n, f.rule.fault, target: f.rule.target)
            }
        }
    }

    /// Forgets the faults not used yet (before the final reads, which must go through).
    func clearFaults() { server.faults.reset() }

    /// Makes one change to the feed, keeping the late-window contract.
    func apply(_ change: Scenario.Change) {
        state.withLock { s in
            let store = server.store
            s.clock = s.clock.adding(ticks: Int64.random(in: 1...4 * Timestamp.ticksPerSecond, using: &s.random))
            s.made += 1
            let uid = "1.2.826.0.1.3680043.8.498.77.\(scenario.seed % 1_000_000).\(s.made)"
            switch change {
            case .generated:
                store.appendGeneratedChanges(count: 1, at: s.clock.date)
            case .lateCreate:
                if let e = try? store.appendCreate(studyInstanceUid: uid, seriesInstanceUid: uid + ".1", sopInstanceUid: uid + ".1.1",
                                                   at: s.clock.date, visible: false) {
                    s.pending.append(e.sequence)
                }
            case .pastCreate(let seconds):
                _ = try? store.appendCreate(studyInstanceUid: uid, seriesInstanceUid: uid + ".1", sopInstanceUid: uid + ".1.1",
                                            at: s.clock.adding(seconds: -Double(seconds)).date)
            case .gapCreate(let skip):
                _ = try? store.appendCreate(studyInstanceUid: uid, seriesInstanceUid: uid + ".1", sopInstanceUid: uid + ".1.1",
                                            at: s.clock.date, skippingSequences: Int64(skip))
            }
        }
    }

    /// A writer that makes `changes` while a read runs, a few milliseconds apart.
    func write(_ changes: [Scenario.Change]) -> Task<Void, Never> {
        Task {
            for change in changes {
                try? await Task.sleep(for: .milliseconds(3))
                apply(change)
            }
        }
    }

    /// Commits what was held invisible (its transaction ends).
    func commitPending() {
        let pending = state.withLock { s in
            defer { s.pending = [] }
            return s.pending
        }
        for seq in pending { _ = server.store.commit(sequence: seq) }
    }

    /// What the service shows now, in feed order: v1 by sequence, v2 by (timestamp, sequence).
    func truth() -> [EmulatedEntry] {
        let store = server.store
        return scenario.version.isSequenceMode ? store.allEntries() : store.entriesV2(limit: max(1, store.count))
    }
}
