import AppCore
import Authorization
import ChangeFeedClient
import Config
import FeedModel
import Foundation
import Startup
import TerminalKit
import TokenSource
import Views

/// What the UI runs against: the resolved settings, the endpoint and what the UI adds.
public struct RunConfiguration: SettingsCarrier, Sendable {
    public var settings: Settings
    public var endpoint: ServiceEndpoint
    public var isDemo: Bool
    public var color: Bool
    public var timeZone: TimeZone
    /// Where to start (a saved position, or the window's start).
    public var origin: FeedCursor.Start = .beginning
    public var originNote: String?
    /// Where the last run on this service stopped, and when (`'` goes there).
    public var saved: SavedPosition?
    /// Open at the newest entries (the default) instead of reading from `origin` on.
    public var tailFirst = false
    /// About how much memory the list may take (`--memory`).
    public var memoryMegabytes = 100

    public init(endpoint: ServiceEndpoint, settings: Settings, isDemo: Bool = false, color: Bool = true,
                timeZone: TimeZone = .current) {
        self.endpoint = endpoint; self.settings = settings; self.isDemo = isDemo; self.color = color; self.timeZone = timeZone
    }

    /// The UI's token keeper for this service, its changes posted as events.
    func tokenBridge(_ issuer: any TokenIssuer, events: EventQueue) -> TokenEventBridge {
        TokenEventBridge(issuer: issuer, events: events, policy: TokenKeeper.Policy(refreshBefore: settings.refreshBefore),
                         audience: settings.resource, tenant: settings.tenant)
    }

    /// The fetcher of one run of the UI's, from `start` (what `.startFetching` asks for).
    func fetcher(client: ChangeFeedClient, tokens: any AuthorizationSource, from start: FeedCursor.Start) -> Fetcher {
        settings.fetcher(client: client, tokens: tokens, from: start)
    }
}

/// The run loop: the only place where the pure core, the terminal, the token source and the
/// fetcher meet. Runs on the thread that owns the terminal; background work posts events.
final class AppRunner {
    /// Turns a profile name into a new session (or says why it cannot).
    typealias Switcher = (String) -> Result<Session, Problem>

    private var session: Session
    private var config: RunConfiguration { session.config }
    private var client: ChangeFeedClient { session.client }
    private var issuer: any TokenIssuer { session.issuer }
    private let terminal: any TerminalDevice
    private let switcher: Switcher?
    /// One queue per session: events still in flight from a session switched away from land in
    /// its old queue, which nobody drains.
    private var events: EventQueue
    private var tokens: TokenEventBridge
    private var state: AppState
    private var fetchTask: Task<Void, Never>?
    /// Counts fetcher runs: events of a run that was replaced are dropped.
    private var fetchRun = 0
    /// A look-up for a jump (`/latest`, a sequence's time) or a read of older rows.
    private var reachTask: Task<Void, Never>?
    private var tokenTask: Task<Void, Never>?
    private var signInTask: Task<Void, Never>?
    private var entryTask: Task<Void, Never>?
    private var probeTask: Task<Void, Never>?
    private let clock: @Sendable () -> Date
    /// The lists of services switched away from in this run, by profile name.
    private var parked: [String: AppState] = [:]
    /// Positions that could not be saved (printed once the terminal is restored).
    private(set) var positionProblems: [String] = []

    init(session: Session, terminal: any TerminalDevice, switcher: Switcher? = nil,
         clock: @escaping @Sendable () -> Date = { Date() }) {
        self.session = session
        self.terminal = terminal
        self.switcher = switcher
        self.clock = clock
        self.events = EventQueue(waker: terminal.waker)
        self.tokens = session.config.tokenBridge(session.issuer, events: events)
        let size = terminal.size
        state = Self.initialState(session.config, rows: size.rows, cols: size.cols, now: clock())
    }

    static func initialState(_ config: RunConfiguration, rows: Int, cols: Int, now: Date) -> AppState {
        var state = AppState(serviceURL: config.endpoint.baseURL, apiVersion: config.apiVersion, isDemo: config.isDemo,
                             screenRows: rows, screenCols: cols, now: now, timeZone: config.timeZone)
        state.token.refreshBefore = config.refreshBefore
        state.startReading(from: config.origin, lateWindow: config.lateWindow)
        state.reach.tailFirst = config.tailFirst
        state.reach.maxRows = Reach.rows(forMegabytes: config.memoryMegabytes)
        state.flash = config.originNote
        state.reach.saved = config.saved
        state.metadataWithPages = config.includeMetadata
        state.follow.interval = config.followInterval
        state.follow.on = config.follow
        state.endTime = config.endTime
        state.localZone = .current
        state.profileName = config.profileName
        state.production = config.production
        state.profiles = config.profiles
        return state
    }

    /// Saves where this session's feed was read to (never a token).
    private func savePosition() {
        guard let positions = session.positions, let point = state.savePoint else { return }
        do {
            try positions.save(point, for: config.endpoint.baseURL, config.apiVersion)
        } catch {
            positionProblems.append("dicomtui: could not save the feed position to \(positions.file.path): \(error.localizedDescription)")
        }
    }

    /// `p`: leave this service for another profile's. Background work of the old session is
    /// cancelled and its late results are ignored; the new one starts from its saved position.
    private func switchProfile(to name: String) {
        guard let switcher else { return }
        switch switcher(name) {
        case .failure(let problem):
            apply(.profileSwitchFailed(problem))
        case .success(let next):
            savePosition()
            fetchTask?.cancel()
            reachTask?.cancel()
            searchTask?.cancel()
            tokenTask?.cancel()
            signInTask?.cancel()
            entryTask?.cancel()
            probeTask?.cancel()
            session = next
            events = EventQueue(waker: terminal.waker)
            tokens = next.config.tokenBridge(next.issuer, events: events)
            let old = state
            parked[old.profileName ?? old.serviceURL] = old
            if let back = parked.removeValue(forKey: name) {
                // Back to a service seen in this run: its list as it was; loading goes on from there.
                state = back.resumed(rows: old.screenRows, cols: old.screenCols, now: clock())
                state.flash = "Profile \(name): \(next.config.endpoint.baseURL)" + (next.config.production ? " (production)" : "")
                    + " · \(Format.count(state.entries.count)) entries as you left them; loading goes on."
            } else {
                state = Self.initialState(next.config, rows: old.screenRows, cols: old.screenCols, now: clock())
                state.flash = "Profile \(name): \(next.config.endpoint.baseURL)" + (next.config.production ? " (production)" : "")
                    + (next.config.originNote.map { ". " + $0 } ?? "")
            }
            state.timeZone = old.timeZone
            apply(.started)
        }
    }

    /// Runs until the user quits or a terminating signal arrives. Returns the exit status.
    func run() -> Int32 {
        var status: Int32 = 0
        apply(.started)
        present()
        var framePending = false
        while !state.shouldQuit {
            // A filter with rows left to examine works between keys: do not sleep.
            let timeout = state.filterPending ? 0 : framePending ? frameWait() : nextTimeout()
            if case .terminate(let signal) = terminal.wait(timeoutMilliseconds: timeout) {
                status = 128 + signal
                state.shouldQuit = true
                break
            }
            // Wakes coalesce and a resize may come without a key: always drain both sources.
            let inputs = terminal.readInput()
            #if DEBUG
            if Self.debugCrash, inputs.contains(where: { if case .key = $0 { true } else { false } }) {
                fatalError("DICOMTUI_DEBUG_CRASH: a deliberate crash on the first key")
            }
            #endif
            for input in inputs { apply(.input(input)) }
            apply(.tick(clock()))
            // A run replaced by another (a jump, a restart) may have queued pages before it
            // stopped: they belong to another stretch of the feed.
            for (event, run) in events.drain() where run == nil || run == fetchRun { apply(event) }
            if state.shouldQuit { break }
            if state.filterPending { apply(.filterStep) }
            // Keys draw at once; background results (hundreds of pages a second while loading)
            // at most once a frame interval.
            if inputs.isEmpty, let last = lastPresent, clock().timeIntervalSince(last) * 1000 < Double(Self.frameInterval) {
                framePending = true
            } else {
                present()
                framePending = false
            }
        }
        reachTask?.cancel()
        searchTask?.cancel()
        fetchTask?.cancel()
        tokenTask?.cancel()
        signInTask?.cancel()
        entryTask?.cancel()
        probeTask?.cancel()
        savePosition()
        return status
    }

    #if DEBUG
    /// `DICOMTUI_DEBUG_CRASH=1` (debug builds only): trap on the first key, so that a test can
    /// check that a crash gives the shell its terminal back.
    static let debugCrash = ProcessInfo.processInfo.environment["DICOMTUI_DEBUG_CRASH"] == "1"
    #endif

    /// Milliseconds between frames drawn for background work alone.
    static let frameInterval = 33
    private var lastPresent: Date?

    /// Milliseconds until a frame held back may be drawn: what is left of the frame interval
    /// since the last frame (a filter that finished just after a frame is drawn when the
    /// interval ends, not a whole interval later).
    private func frameWait() -> Int {
        guard let last = lastPresent else { return 0 }
        return Self.frameWait(sinceLastFrame: clock().timeIntervalSince(last) * 1000)
    }

    static func frameWait(sinceLastFrame milliseconds: Double) -> Int {
        max(0, Int((Double(frameInterval) - milliseconds).rounded(.up)))
    }

    private func present() {
        lastPresent = clock()
        terminal.present(MainScreen.render(state, theme: Theme(color: config.color && terminal.hasColor)))
    }

    /// Sleep until something on screen changes by itself: the sign-in spinner (5 frames a
    /// second), else the countdown text; with neither there is nothing to wait for.
    private func nextTimeout() -> Int? {
        if state.signIn?.isRunning == true { return 200 }
        var wait: Int?
        if let info = state.token.info {
            wait = Format.millisecondsUntilCountdownChanges(info.expiresOn.timeIntervalSince(clock()))
        }
        if let due = state.follow.nextPoll(after: state.fetch.caughtUpAt, phase: state.fetch.phase) {
            let left = Int((due.timeIntervalSince(clock()) * 1000).rounded(.up)) + 1
            wait = min(wait ?? Int.max, max(1, left))
        }
        if let since = state.flashSince {
            let left = Int(((Layout.flashSeconds - clock().timeIntervalSince(since)) * 1000).rounded(.up)) + 1
            wait = min(wait ?? Int.max, max(1, left))
        }
        return wait
    }

    private func apply(_ event: AppEvent) {
        for effect in update(&state, event) { execute(effect) }
        switch event {
        case .pageLoaded: pagesSinceTrim += 1
        case .caughtUp: releaseFreeMemory()
        default: break
        }
    }

    /// Pages loaded since the allocator last gave free memory back.
    private var pagesSinceTrim = 0

    /// At the end of the feed after a burst of pages: the decoder's garbage is freed by now, but
    /// glibc keeps free memory in its arenas (one per thread that allocated); `malloc_trim(0)`
    /// gives their whole free pages back to the system. Once per 100 pages or more.
    private func releaseFreeMemory() {
        guard pagesSinceTrim >= 100 else { return }
        pagesSinceTrim = 0
        _ = Self.mallocTrim?(0)
    }

    /// glibc's `malloc_trim`, looked up at run time (the Glibc module does not export malloc.h;
    /// nil on a C library without it).
    private static let mallocTrim: (@convention(c) (Int) -> Int32)? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (Int) -> Int32).self)
    }()

    private func execute(_ effect: Effect) {
        switch effect {
        case .acquireToken:
            let tokens = self.tokens
            tokenTask = Task.detached { await tokens.refresh() }
        case .startFetching(let resume):
            startFetcher(from: resume, maxRows: nil)
        case .fetchNeighbourhood(let point, let rows):
            startFetcher(from: point, maxRows: rows)
        case .probeLatest(let generation):
            reachTask?.cancel()
            reachTask = background(stoppingRun: true, failed: { .locateFailed($0, generation: generation) }) { fetcher, onRetry in
                let latest = try await fetcher.latest(onRetry: onRetry)
                return .latestProbed(sequence: latest?.sequence, timestamp: latest?.timestamp, generation: generation)
            }
        case .locate(let target, let generation):
            reachTask?.cancel()
            reachTask = background(stoppingRun: true, failed: { .locateFailed($0, generation: generation) }) { fetcher, onRetry in
                switch target {
                case .sequence(let s): .located(try await fetcher.locate(sequence: s, onRetry: onRetry), generation: generation)
                case .time(let t): .located(try await fetcher.locate(time: t, onRetry: onRetry), generation: generation)
                case .first: .located(.beginning, generation: generation)
                case .newest: .located(nil, generation: generation)
                }
            }
        case .searchOlder(let boundary, let spanHint, let generation):
            searchTask?.cancel()
            // The search streams the feed past: many pages a read, several in flight.
            searchTask = background(failed: { .searchFailed($0, generation: generation) }) { fetcher, _ in
                let older = try await fetcher.olderBatch(before: boundary, spanHint: spanHint,
                                                         pages: Fetcher.searchBatchPages(metadata: fetcher.includeMetadata))
                return .searchRead(entries: older.entries, unreadable: older.unreadable, boundary: older.boundary,
                                   nextSpan: older.nextSpan, generation: generation)
            }
        case .loadOlder(let boundary, let spanHint, let generation):
            reachTask?.cancel()
            reachTask = background(failed: { .olderFailed($0, generation: generation) }) { fetcher, _ in
                let older = try await fetcher.older(before: boundary, spanHint: spanHint)
                return .olderLoaded(entries: older.entries, unreadable: older.unreadable, boundary: older.boundary,
                                    nextSpan: older.nextSpan, generation: generation)
            }
        case .startSignIn:
            startSignIn()
        case .cancelSignIn:
            signInTask?.cancel()
            signInTask = nil
        case .handOverSignIn:
            handOverSignIn()
        case .copy(let text, let label):
            if let why = terminal.copyToClipboard(text) {
                apply(.copyFailed(why))
            } else {
                apply(.copied(label))
            }
        case .loadEntry(let sequence):
            let fetcher = Fetcher(client: client, tokens: tokens)
            let events = self.events
            entryTask?.cancel()
            entryTask = Task.detached {
                do {
                    let entry = try await fetcher.entry(sequence: sequence)
                    events.post(.entryLoaded(sequence: sequence, entry))
                } catch let e as ChangeFeedError {
                    events.post(.entryFailed(sequence: sequence, Problem(e.message, hint: e.hint, needsToken: e.needsToken)))
                } catch {
                    // Cancelled: the user went elsewhere.
                }
            }
        case .probeActivity:
            // The timeline's probes: about 65 small requests, off the UI thread.
            let probe = ActivityProbe(client: client, tokens: tokens)
            let events = self.events
            probeTask?.cancel()
            probeTask = Task.detached {
                let outcome = await probe.run()
                if !Task.isCancelled { events.post(.activityProbed(outcome)) }
            }
        case .switchProfile(let name):
            switchProfile(to: name)
        case .quit:
            break
        }
    }

    /// The whole-feed search's read (`F`), beside the list's own.
    private var searchTask: Task<Void, Never>?

    /// A look-up or a read beside the fetcher run (`/latest`, where a jump lands, older rows,
    /// the whole-feed search) on a task of its own; its answer comes back as an event, a
    /// failure as `failed`. A jump also stops the fetcher run: its pages belong to the list it
    /// leaves.
    private func background(stoppingRun: Bool = false, failed: @escaping @Sendable (Problem) -> AppEvent,
                            _ work: @escaping @Sendable (Fetcher, _ onRetry: @escaping @Sendable (ChangeFeedError, Int) -> Void)
                                async throws -> AppEvent) -> Task<Void, Never> {
        var fetcher = config.fetcher(client: client, tokens: tokens, from: .beginning)
        fetcher.includeMetadata = state.metadataWithPages
        let events = self.events
        let tokens = self.tokens
        if stoppingRun {
            fetchTask?.cancel()
            fetchRun += 1
        }
        // Work that stands in for the fetcher run (finding where a jump lands) says its retries
        // as the run would, and they are dropped with it once another replaces it.
        let run = stoppingRun ? fetchRun : nil
        let onRetry: @Sendable (ChangeFeedError, Int) -> Void = { e, attempt in
            guard run != nil else { return }
            events.post(.fetchRetrying(AppRunner.problem(e, explain: tokens.explain), attempt: attempt), run: run)
        }
        return Task.detached { [fetcher] in
            do {
                events.post(try await work(fetcher, onRetry))
            } catch let e as ChangeFeedError {
                events.post(failed(AppRunner.problem(e, explain: tokens.explain)))
            } catch {
                // Cancelled: replaced by another.
            }
        }
    }

    /// A fetcher run from `start` (to the end of the feed, or `maxRows` rows), replacing the one
    /// before: what that one still queued is dropped.
    private func startFetcher(from start: FeedCursor.Start, maxRows: Int?) {
        fetchTask?.cancel()
        fetchRun += 1
        let run = fetchRun
        var fetcher = config.fetcher(client: client, tokens: tokens, from: start)
        fetcher.includeMetadata = state.metadataWithPages   // `M` turns it on during a run
        fetcher.maxRows = maxRows
        let events = self.events
        fetcher.onProgress = { p in
            events.post(.progress(FetchRate(pagesPerSecond: p.pagesPerSecond, entriesPerSecond: p.entriesPerSecond,
                                            fraction: p.fraction, fractionIsEstimate: p.fractionIsEstimate,
                                            inFlight: p.inFlight, width: p.width)), run: run)
        }
        let tokens = self.tokens
        fetchTask = Task.detached { [fetcher] in
            await fetcher.run { event in events.post(AppRunner.appEvent(event, explain: tokens.explain), run: run) }
        }
    }

    /// `l`: a device-code sign-in in the background; the dialog follows its events.
    private func startSignIn() {
        signInTask?.cancel()
        guard let source = issuer as? any SignInCapable else {
            apply(.signInFailed(Problem("This token source cannot sign in.")))
            return
        }
        let events = self.events
        let tokens = self.tokens
        signInTask = Task.detached {
            do throws(TokenError) {
                try await source.signInWithDeviceCode { prompt in
                    events.post(.signInPrompt(url: prompt.url, code: prompt.code, message: prompt.message))
                }
                await tokens.rejected()
                events.post(.signInSucceeded)
            } catch .cancelled {
                // Esc: the dialog is already closed.
            } catch {
                events.post(.signInFailed(Problem(error.message, hint: error.hint)))
            }
        }
    }

    /// `L`: hand the terminal to a plain `az login` (browser or its own device-code text and
    /// subscription picker), then take it back and redraw.
    private func handOverSignIn() {
        guard let source = issuer as? any SignInCapable else {
            apply(.handOverFinished(status: 127))
            return
        }
        let command: (path: String, arguments: [String])
        do {
            command = try source.interactiveSignInCommand()
        } catch {
            apply(.handOverFailed(Problem(error.message, hint: error.hint)))
            return
        }
        let status = terminal.suspend { () -> Int32 in
            let banner = "dicomtui: running \(([command.path] + command.arguments).joined(separator: " ")); the UI comes back when it ends.\n"
            FileHandle.standardError.write(Data(banner.utf8))
            return ForegroundProcess.run(path: command.path, arguments: command.arguments)
        }
        let tokens = self.tokens
        blockingVoid { await tokens.rejected() }
        apply(.handOverFinished(status: status))
    }

    /// A fetcher event as the core's event. `explain` tells why the service refused a token,
    /// when its claims show it (wrong audience or tenant).
    static func appEvent(_ event: FetchEvent, explain: (ChangeFeedError) -> TokenError? = { _ in nil }) -> AppEvent {
        switch event {
        case .started: .fetchStarted
        case .latest(let sequence, let timestamp): .latest(sequence: sequence, timestamp: timestamp)
        case .page(let entries, let bad): .pageLoaded(entries: entries, unreadable: bad)
        case .readThrough(let sequence): .readThrough(sequence)
        case .caughtUp: .caughtUp
        case .paused: .paused
        case .retrying(let e, let attempt, let delay):
            if case .entryUnreadable = e {
                .fetchRetrying(Problem(e.message, hint: e.hint), attempt: attempt)
            } else {
                .fetchRetrying(Problem(e.message + " (next try in \(Int(delay.rounded(.up))) s)", hint: e.hint), attempt: attempt)
            }
        case .stopped(let e):
            .fetchStopped(problem(e, explain: explain), needsToken: e.needsToken || explain(e) != nil)
        }
    }

    /// What the user is told of an error that stopped a request for good; `explain` tells why
    /// the service refused a token, when its claims show it (wrong audience or tenant).
    static func problem(_ e: ChangeFeedError, explain: (ChangeFeedError) -> TokenError? = { _ in nil }) -> Problem {
        if let why = explain(e) {
            return Problem("401 Unauthorized: " + why.message, hint: why.hint, needsToken: true, signInHelps: why.needsLogin)
        }
        return Problem(e.message, hint: e.hint, needsToken: e.needsToken)
    }
}
