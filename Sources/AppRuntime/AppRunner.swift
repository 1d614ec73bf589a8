import AppCore
import ChangeFeedClient
import FeedModel
import Foundation
import TerminalKit
import TokenSource
import Views

/// What the UI runs against, resolved from options.
public struct RunConfiguration: Sendable {
    public var endpoint: ServiceEndpoint
    public var apiVersion: APIVersion
    public var pageSize: Int?
    public var isDemo: Bool
    public var color: Bool
    public var refreshBefore: TimeInterval
    public var timeZone: TimeZone

    public init(endpoint: ServiceEndpoint, apiVersion: APIVersion, pageSize: Int? = nil, isDemo: Bool = false,
                color: Bool = true, refreshBefore: TimeInterval = 300, timeZone: TimeZone = .current) {
        self.endpoint = endpoint; self.apiVersion = apiVersion; self.pageSize = pageSize; self.isDemo = isDemo
        self.color = color; self.refreshBefore = refreshBefore; self.timeZone = timeZone
    }
}

/// The run loop: the only place where the pure core, the terminal, the token source and the
/// fetcher meet. Runs on the thread that owns the terminal; background work posts events.
final class AppRunner {
    private let config: RunConfiguration
    private let terminal: any TerminalDevice
    private let events: EventQueue
    private let tokens: TokenManager
    private let client: ChangeFeedClient
    private var state: AppState
    private var fetchTask: Task<Void, Never>?
    private var tokenTask: Task<Void, Never>?
    private let clock: @Sendable () -> Date

    init(config: RunConfiguration, terminal: any TerminalDevice, tokenSource: any TokenProvider,
         client: ChangeFeedClient, clock: @escaping @Sendable () -> Date = { Date() }) {
        self.config = config
        self.terminal = terminal
        self.events = EventQueue(waker: terminal.waker)
        self.tokens = TokenManager(source: tokenSource, events: events)
        self.client = client
        self.clock = clock
        let size = terminal.size
        state = AppState(serviceURL: config.endpoint.baseURL, apiVersion: config.apiVersion, isDemo: config.isDemo,
                         screenRows: size.rows, screenCols: size.cols, now: clock(), timeZone: config.timeZone)
        state.token.refreshBefore = config.refreshBefore
    }

    /// Runs until the user quits or a terminating signal arrives. Returns the exit status.
    func run() -> Int32 {
        var status: Int32 = 0
        apply(.started)
        present()
        while !state.shouldQuit {
            if case .terminate(let signal) = terminal.wait(timeoutMilliseconds: nextTimeout()) {
                status = 128 + signal
                state.shouldQuit = true
                break
            }
            // Wakes coalesce and a resize may come without a key: always drain both sources.
            for input in terminal.readInput() { apply(.input(input)) }
            apply(.tick(clock()))
            for event in events.drain() { apply(event) }
            if !state.shouldQuit { present() }
        }
        fetchTask?.cancel()
        tokenTask?.cancel()
        return status
    }

    private func present() {
        terminal.present(MainScreen.render(state, theme: Theme(color: config.color && terminal.hasColor)))
    }

    /// Sleep until the countdown text changes; with no token there is nothing to wait for.
    private func nextTimeout() -> Int? {
        guard let info = state.token.info else { return nil }
        return Format.millisecondsUntilCountdownChanges(info.expiresOn.timeIntervalSince(clock()))
    }

    private func apply(_ event: AppEvent) {
        for effect in update(&state, event) { execute(effect) }
    }

    private func execute(_ effect: Effect) {
        switch effect {
        case .acquireToken:
            let tokens = self.tokens
            tokenTask = Task.detached { await tokens.refresh() }
        case .startFetching:
            fetchTask?.cancel()
            let fetcher = Fetcher(client: client, tokens: tokens, pageSize: config.pageSize)
            let events = self.events
            fetchTask = Task.detached {
                await fetcher.run { event in events.post(AppRunner.appEvent(event)) }
            }
        case .quit:
            break
        }
    }

    static func appEvent(_ event: FetchEvent) -> AppEvent {
        switch event {
        case .started: .fetchStarted
        case .latest(let seq): .latestSequence(seq)
        case .page(let entries, let bad): .pageLoaded(entries: entries, undecodable: bad)
        case .caughtUp: .caughtUp
        case .retrying(let e, let attempt, let delay):
            .fetchRetrying(Problem(e.message + " (next try in \(Int(delay.rounded(.up))) s)", hint: e.hint), attempt: attempt)
        case .stopped(let e): .fetchStopped(Problem(e.message, hint: e.hint))
        }
    }
}
