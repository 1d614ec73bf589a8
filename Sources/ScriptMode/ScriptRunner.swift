import Authorization
import ChangeFeedClient
import Config
import FeedModel
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Startup
import Synchronization
import TerminalKit
import TokenSource

/// What `dicomtui token` runs with: the resolved settings, and its output form.
public struct TokenOptions: SettingsCarrier, Sendable {
    public var settings: Settings
    public var json = false
    public init(settings: Settings) { self.settings = settings }
}

/// What `dicomtui feed` runs with: the resolved settings, and what only `feed` has.
public struct FeedOptions: SettingsCarrier, Sendable {
    public var settings: Settings
    /// Leave out elements that do not decode (still named on stderr; exit 0).
    public var skipUnreadable = false
    /// v1: start after this sequence.
    public var fromSequence: Int64?
    /// Stop after this many entries.
    public var limit: Int?
    public var format: EntryFormat = .ndjson
    /// Retry backoff (base, cap) in seconds; nil keeps the fetcher's (1 s, 30 s). Tests shorten it.
    public var backoff: (TimeInterval, TimeInterval)?
    /// A request failing this long in a row (network down, host unknown, 5xx, …) ends the run
    /// with status 1 (`--give-up-after`); nil: keep trying (the default with --follow).
    public var giveUpAfter: TimeInterval? = FeedOptions.defaultGiveUpAfter
    public static let defaultGiveUpAfter: TimeInterval = 120
    public init(settings: Settings) { self.settings = settings }
}

/// `dicomtui token` and `dicomtui feed`: what the executable calls.
public enum ScriptRunner {
    // MARK: - dicomtui token

    /// Prints the token's state, expiry, identity and audience; never the token.
    public static func runToken(_ o: TokenOptions) -> Int32 {
        let source = Connection.tokenIssuer(o.settings)
        let result: Result<AccessToken, TokenError>
        do {
            result = .success(try blocking { () async throws -> AccessToken in try await source.token() })
        } catch let e as TokenError {
            result = .failure(e)
        } catch {
            result = .failure(.failed(exitCode: -1, stderrSummary: String(describing: error)))
        }
        switch result {
        case .failure(let e):
            if o.json { writeOut(TokenReport.failureJSON(e)) }
            printError("dicomtui token: \(e.message)\n\(e.hint(.shell))")
            return ScriptExit.failed
        case .success(let token):
            let report = TokenReport(token: token, source: source.description, refreshBefore: o.refreshBefore, now: Date(),
                                     audience: o.resource, tenant: o.tenant)
            writeOut(o.json ? report.json(in: .current) : report.text(in: .current))
            if let wrong = report.wrongToken {
                printError("dicomtui token: \(wrong.message)\n\(wrong.hint(.shell))")
                return ScriptExit.failed
            }
            if let problem = report.problem {
                printError("dicomtui token: \(problem)")
                return ScriptExit.expiring
            }
            return ScriptExit.ok
        }
    }

    // MARK: - dicomtui feed

    /// Streams the change feed to stdout. Returns the exit status.
    public static func runFeed(_ o: FeedOptions) -> Int32 {
        // A closed stdout (`| head`) must show up as EPIPE from write, not kill the process.
        signal(SIGPIPE, SIG_IGN)
        let connection: Connection
        do {
            connection = try Connection.open(o.settings, liveChanges: o.follow, command: "dicomtui feed")
        } catch {
            printError("dicomtui feed: \(error)")
            return error.status
        }
        defer { connection.close() }

        let auth = TokenKeeper(issuer: connection.service.issuer, policy: TokenKeeper.Policy(refreshBefore: o.refreshBefore),
                               audience: o.resource, tenant: o.tenant)
        let session = FeedSession(options: o, client: connection.service.client, auth: auth, progress: isatty(2) == 1)
        let work = Task.detached { await session.run() }

        // SIGINT and SIGTERM end the run cleanly: the JSON array is closed, the emulator stopped.
        let caught = CaughtSignal()
        var sources: [DispatchSourceSignal] = []
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let s = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            s.setEventHandler {
                caught.record(sig)
                work.cancel()
            }
            s.resume()
            sources.append(s)
        }
        let outcome = (try? blocking { await work.value }) ?? .done
        for s in sources { s.cancel() }

        switch outcome {
        case .done, .pipeClosed:
            if let sig = caught.signal, !o.follow { return 128 + sig }
            if session.unreadableCount > 0 && !o.skipUnreadable { return ScriptExit.unreadable }
            return ScriptExit.ok
        case .failed(let e):
            printError("dicomtui feed: " + ScriptMessages.failure(e, token: auth.lastFailure ?? auth.explain(e)))
            return ScriptExit.failed
        }
    }

    static func writeOut(_ text: String) {
        _ = StandardOutput.write(Array(text.utf8))
    }
}

/// The first SIGINT or SIGTERM that arrived.
final class CaughtSignal: Sendable {
    private let value = Mutex<Int32?>(nil)
    func record(_ sig: Int32) { value.withLock { $0 = $0 ?? sig } }
    var signal: Int32? { value.withLock { $0 } }
}

/// Writes to file descriptor 1 directly: no buffering to lose, and EPIPE seen as such.
enum StandardOutput {
    /// False when the reader has gone (EPIPE) or stdout cannot be written.
    static func write(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(1, $0.baseAddress! + offset, $0.count - offset) }
            if n > 0 {
                offset += n
            } else if n < 0 && errno == EINTR {
                continue
            } else {
                return false
            }
        }
        return true
    }
}

/// One `dicomtui feed` run: fetcher runs (one, or one per poll with --follow), records written
/// in feed order as pages arrive. A `FeedCursor` says where each poll starts (it reads the
/// unsettled tail again, so rows that commit late are not missed) and which rows are repeats,
/// so that nothing is written twice.
final class FeedSession: Sendable {
    enum Outcome: Sendable {
        case done
        case pipeClosed
        case failed(ChangeFeedError)
    }

    let options: FeedOptions
    let client: ChangeFeedClient
    let auth: any AuthorizationSource
    let progress: ProgressLine?
    /// Where records go (stdout), a page's bytes at a time; false when the reader has gone.
    let output: @Sendable ([UInt8]) -> Bool
    /// Where notes go (stderr).
    let note: @Sendable (String) -> Void

    /// What the emit callback changes (it is called on the run's own task, one event at a time).
    struct State {
        var writer: EntryWriter
        /// The buffer a page's records are written into, lent out for the write and given back
        /// (its capacity is kept from page to page).
        var spare: [UInt8] = []
        /// Records written (entries, and unreadable elements unless skipped).
        var written = 0
        var unreadableCount = 0
        var cursor: FeedCursor
        var runStart: FeedCursor.Start = .beginning
        /// Unreadable elements without a sequence already written (a re-read meets them again).
        var seenWithoutSequence: Set<String> = []
        var stop: Outcome?

        /// The records of a page not written before, in page order, up to `limit` records in
        /// all; the unreadable elements among them (written or left out); whether the limit is reached.
        mutating func take(_ entries: [ChangeFeedEntry], unreadable: [UnreadableEntry], limit: Int?,
                           skipUnreadable: Bool) -> ([UInt8], [UnreadableEntry], Bool) {
            var out = spare
            spare = []
            out.removeAll(keepingCapacity: true)
            var fresh: [UnreadableEntry] = []
            let room = { (written: Int) in limit.map { written < $0 } ?? true }
            walkPage(entries, unreadable, entry: { _, e in
                // A row read before (the tail read again) is not written again.
                guard cursor.read(sequence: e.sequence, timestamp: e.timestamp), room(written) else { return }
                writer.entry(e, into: &out)
                written += 1
            }, unreadable: { u, _ in
                let new: Bool
                if let seq = u.sequence {
                    new = cursor.read(sequence: seq, timestamp: u.timestamp)
                } else {
                    if seenWithoutSequence.count > 10_000 { seenWithoutSequence.removeAll() }
                    new = seenWithoutSequence.insert(u.raw ?? "\(u.reason) \(u.sopInstanceUid ?? "")").inserted
                }
                guard new, room(written) else { return }
                unreadableCount += 1
                fresh.append(u)
                if !skipUnreadable {
                    writer.unreadable(u, into: &out)
                    written += 1
                }
            })
            return (out, fresh, !room(written))
        }
    }
    let state: Mutex<State>

    init(options: FeedOptions, client: ChangeFeedClient, auth: any AuthorizationSource, progress: Bool,
         terminal: Bool = isatty(STDOUT_FILENO) == 1,
         output: @escaping @Sendable ([UInt8]) -> Bool = { StandardOutput.write($0) },
         note: @escaping @Sendable (String) -> Void = { printError($0) }) {
        self.options = options
        self.client = client
        self.auth = auth
        self.progress = progress ? ProgressLine() : nil
        self.output = output
        self.note = note
        let floor = FeedCursor.Start(afterSequence: options.fromSequence ?? 0, startTime: options.startTime)
        let cursor = FeedCursor(order: options.apiVersion.isSequenceMode ? .sequence : .time, floor: floor,
                                lateWindow: options.lateWindow)
        state = Mutex(State(writer: EntryWriter(format: options.format, includeMetadata: options.includeMetadata,
                                                terminal: terminal),
                            cursor: cursor))
    }

    /// Elements that did not decode, written or skipped.
    var unreadableCount: Int { state.withLock { $0.unreadableCount } }

    func run() async -> Outcome {
        guard start() else { return .pipeClosed }
        var outcome = Outcome.done
        while true {
            if options.limit == 0 { break }
            if let stop = await poll() {
                outcome = stop
                break
            }
            if !options.follow || Task.isCancelled { break }
            do { try await Task.sleep(for: .milliseconds(Int64(options.followInterval * 1000))) } catch { break }
        }
        if case .pipeClosed = outcome { return outcome }
        return finish() ? outcome : .pipeClosed
    }

    /// Writes what comes before the first record; false when the reader has gone.
    func start() -> Bool {
        output(state.withLock { s in
            var out: [UInt8] = []
            s.writer.begin(into: &out)
            return out
        })
    }

    /// One fetcher run, from where the cursor says (the first run: the start asked for; a poll:
    /// the unsettled tail again). Returns why to stop, or nil to go on.
    func poll() async -> Outcome? {
        var fetcher = options.settings.fetcher(client: client, tokens: auth, from: .beginning)
        if let backoff = options.backoff { (fetcher.backoffBase, fetcher.backoffCap) = backoff }
        fetcher.giveUpAfter = options.giveUpAfter
        fetcher.start = state.withLock { s in
            s.runStart = s.cursor.nextStart
            return s.runStart
        }
        if let progress { fetcher.onProgress = { p in progress.show(p) } }
        await fetcher.run { event in self.handle(event) }
        progress?.clear()
        return state.withLock { $0.stop }
    }

    /// Writes what comes after the last record; false when the reader has gone.
    func finish() -> Bool {
        output(state.withLock { s in
            var out: [UInt8] = []
            s.writer.end(into: &out)
            return out
        })
    }

    private func handle(_ event: FetchEvent) {
        switch event {
        case .started:
            break
        case .latest(_, let timestamp):
            state.withLock { s in s.cursor.runStarted(at: s.runStart, latest: timestamp) }
        case .readThrough(let sequence):
            state.withLock { s in s.cursor.readThrough(sequence: sequence) }
        case .caughtUp:
            state.withLock { s in s.cursor.runFinished() }
        case .paused:
            break   // `feed` never bounds a run
        case .page(let entries, let unreadable):
            let (bytes, fresh, done) = state.withLock { s in
                s.take(entries, unreadable: unreadable, limit: options.limit, skipUnreadable: options.skipUnreadable)
            }
            if !fresh.isEmpty {
                progress?.clear()
                for u in fresh {
                    let which = u.sequence.map { "entry \($0)" } ?? "an element after \(u.afterEntries) readable one\(u.afterEntries == 1 ? "" : "s") of its page"
                    let what = options.skipUnreadable ? "was left out (--skip-unreadable)" : "was written as an unreadable record"
                    note("dicomtui feed: \(which) could not be read and \(what): \(SafeText.sanitize(u.reason))")
                }
            }
            let closed = !bytes.isEmpty && !output(bytes)
            state.withLock { $0.spare = bytes }
            if closed {
                stop(.pipeClosed)
            } else if done {
                stop(.done)
            }
        case .retrying(let e, let attempt, let delay):
            progress?.clear()
            if case .entryUnreadable = e {
                note("dicomtui feed: \(e.message)")
            } else {
                note("dicomtui feed: \(e.message); try \(attempt + 1) in \(Int(delay.rounded(.up))) s")
            }
        case .stopped(let e):
            state.withLock { s in s.stop = s.stop ?? .failed(e) }
        }
    }

    /// Ends the run from inside `emit`: the fetcher hands over nothing more once its task is cancelled.
    private func stop(_ outcome: Outcome) {
        state.withLock { s in s.stop = s.stop ?? outcome }
        withUnsafeCurrentTask { $0?.cancel() }
    }
}

/// `  1,234 entries, 2,000/s, 8 in flight` on stderr, rewritten in place (only when stderr is a terminal).
final class ProgressLine: Sendable {
    private let last = Mutex<ContinuousClock.Instant?>(nil)

    func show(_ p: FetchProgress) {
        let now = ContinuousClock.now
        let due = last.withLock { l -> Bool in
            if let l, now - l < .milliseconds(100) { return false }
            l = now
            return true
        }
        guard due else { return }
        var text = "\r\u{1B}[K\(p.entries) entries, \(Int(p.entriesPerSecond))/s"
        if let f = p.fraction { text += String(format: ", %.0f %%%@", f * 100, p.fractionIsEstimate ? " (estimate)" : "") }
        if p.inFlight > 0 { text += ", \(p.inFlight) in flight" }
        FileHandle.standardError.write(Data(text.utf8))
    }

    func clear() {
        guard last.withLock({ $0 }) != nil else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }
}
