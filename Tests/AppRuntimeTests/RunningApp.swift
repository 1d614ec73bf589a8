@testable import AppRuntime
import AsyncHTTPClient
import ChangeFeedClient
import Config
import Emulator
import FeedModel
import Foundation
import Synchronization
import Terminal
import TerminalKit
import TestSupport
import Testing
import TokenSource

// The in-process harness of AppRuntimeTests: the real run loop (`AppRunner`), a real HTTP client
// and an in-process emulator, with a `MemoryTerminal` for a screen and a token source that needs
// no Azure. Keys go in, frames come out, and the effects run for real.

/// Where the app's tokens come from. The only place these tests build a token source.
enum Tokens {
    /// In memory: the demo's token source, minting tokens for the tester.
    case demo
    /// The Azure CLI's token source, running a fake az.
    case az(FakeAz)

    func source() -> any TokenIssuer {
        switch self {
        case .demo:
            DemoTokenIssuer(resource: DicomService.audience, identity: .tester)
        case .az(let fake):
            AzTokenIssuer(resource: DicomService.audience,
                          cli: AzCLI(locator: AzLocator(explicitPath: fake.path), timeout: .seconds(30)))
        }
    }

    /// How the header shows `raw` (never the token itself).
    static func masked(_ raw: String) -> String { AccessToken(raw, expiresOn: Date()).masked }
}

/// The session the app runs: the service at `url` (v2), its client on `http`, and where its
/// position is saved. The only place these tests build a `RunConfiguration` and a `Session`.
func makeSession(url: String, tokens: any TokenIssuer, http: HTTPClient, positions: URL? = nil) throws -> Session {
    let endpoint = try ServiceEndpoint(url)
    let config = RunConfiguration(endpoint: endpoint, settings: Settings(), timeZone: TimeZone(identifier: "UTC")!)
    let client = ChangeFeedClient(endpoint: endpoint, apiVersion: .v2, http: http)
    return Session(config: config, issuer: tokens, client: client, positions: positions.map(PositionStore.init(file:)))
}

/// Runs `body` with the app running against an emulator of `entries` rows (checking tokens like
/// the service), then stops both. The app runs on a thread of its own, as on the main thread of
/// the real one.
func withApp<T>(entries: Int = 300, tokens: Tokens = .demo, rows: Int = 30, cols: Int = 120, positions: URL? = nil,
                _ body: (RunningApp) async throws -> T) async throws -> T {
    let options = EmulatorOptions(entries: entries, seed: 7, auth: .jwt(JWTRequirements()))
    return try await withEmulatorServer(options, http: { ChangeFeedClient.makeHTTPClient() }) { server, base, http in
        let session = try makeSession(url: base.absoluteString, tokens: tokens.source(), http: http, positions: positions)
        let app = RunningApp(session: session, server: server, rows: rows, cols: cols)
        do {
            let result = try await body(app)
            await app.stop()
            return result
        } catch {
            await app.stop()
            throw error
        }
    }
}

/// The app's run loop on a thread of its own, drawing into a blocking `MemoryTerminal`.
final class RunningApp: ScreenReading, Sendable {
    let terminal: MemoryTerminal
    let server: EmulatorServer
    /// The exit status and the position problems, once `run()` has returned.
    private let outcome = Mutex<(status: Int32, positionProblems: [String])?>(nil)

    init(session: Session, server: EmulatorServer, rows: Int, cols: Int) {
        terminal = MemoryTerminal(rows: rows, cols: cols, blocking: true)
        self.server = server
        let thread = Thread { [self] in
            let runner = AppRunner(session: session, terminal: terminal)
            let status = runner.run()
            outcome.withLock { $0 = (status, runner.positionProblems) }
        }
        thread.start()
    }

    /// The last frame drawn, as text lines.
    func screen() -> [String] { terminal.lastFrame?.lines() ?? [] }

    func press(_ keys: Key...) { for key in keys { terminal.feed(keys: key) } }

    /// Types `text` (one batch), as into the filter prompt.
    func type(_ text: String) { terminal.type(text) }

    /// Waits for `run()` to return; its exit status.
    func exitStatus(timeout: TimeInterval = 20, sourceLocation: SourceLocation = #_sourceLocation) async throws -> Int32 {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let status = outcome.withLock({ $0?.status }) { return status }
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("the run loop did not return", sourceLocation: sourceLocation)
        throw ScreenTimeout(what: "the run loop to return")
    }

    var positionProblems: [String] { outcome.withLock { $0?.positionProblems ?? [] } }

    /// Ends the run loop if it still runs (as SIGTERM would) and waits for it.
    func stop() async {
        if outcome.withLock({ $0 == nil }) { terminal.sendTerminate(signal: 15) }
        _ = try? await exitStatus()
    }
}
