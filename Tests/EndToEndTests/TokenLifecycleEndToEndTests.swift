import Emulator
import FeedModel
import Foundation
import TestSupport
import Testing

/// The token lifecycle as a user meets it, in tmux, with the fake az of `FakeAz.azureCLI`.
@Suite(.serialized, .enabled(if: Build.tmuxAvailable, "needs tmux"))
struct TokenLifecycleEndToEndTests {
    /// Tokens live 10 s and are renewed 6 s before they expire; 1,500 entries come 20 at a
    /// time, slowly, so the load spans several tokens. The user only scrolls.
    @Test func tokenExpiresWhileBrowsingAndIsRenewedWithoutTheUser() async throws {
        let (server, url) = try await startEmulator(entries: 1_500)
        defer { Task { await server.stop() } }
        server.faults.addedLatencyMilliseconds = 150
        let tmux = try Tmux(cols: 120, rows: 30)
        let az = try FakeAz.azureCLI(in: tmux.workDir, signedIn: true, lifetime: 10)
        try tmux.run("\(Build.dicomtui) --url \(url) --az \(az.path) --page-size 20 --parallel 1 --refresh-before 6s; echo EXIT=$?")
        try await tmux.waitFor(text: "● valid")
        for _ in 0..<5 {
            try tmux.keys("j", "j", "NPage", "k")
            try await Task.sleep(for: .milliseconds(700))
        }
        let total = server.store.count
        try await tmux.waitFor(text: "idle, at the end of the feed", timeout: 90)
        try await tmux.waitFor(text: "\(formatted(total)) loaded")

        let tokenCalls = az.calls.filter { $0.contains("get-access-token") }
        #expect(tokenCalls.count >= 3, "the token was renewed during the load (\(tokenCalls.count) calls)")
        #expect(Set(az.issuedTokens).count == az.issuedTokens.count)
        // Nothing fetched twice: the settled part of the feed (older than the late window before
        // /latest) is read in small time windows, each paged by offset; no successful request
        // asked for the same window and offset twice, and none skipped more than the bound
        // (1,000, `Fetcher.defaultMaxOffset`). (The whole feed is listed: checked above.)
        let pages = server.requestLog.requests.filter {
            $0.status == 200 && $0.path.hasSuffix("/changefeed") && ($0.query ?? "").contains("endTime=")
        }
        let asked = pages.map { request in
            (request.query ?? "").split(separator: "&").filter { $0.hasPrefix("startTime=") || $0.hasPrefix("endTime=") || $0.hasPrefix("offset=") }.sorted()
        }
        #expect(!asked.isEmpty)
        #expect(asked.count == Set(asked).count, "no page was fetched twice")
        #expect(pages.allSatisfy { (Self.offset(in: $0.query) ?? .max) <= 1_000 })
        // Every request carried a token that az issued.
        let issued = Set(az.issuedTokens.map { "Bearer " + $0 })
        #expect(server.requestLog.requests.allSatisfy { $0.authorization.map(issued.contains) ?? false })
        try tmux.keys("q")
        try await tmux.waitFor(text: "EXIT=0")
    }

    /// Not signed in; `l` shows the device code, `y` copies it, approval gets a token and the
    /// entries load.
    @Test func signInWithADeviceCodeFromInsideTheUI() async throws {
        let (server, tmux, az) = try await Self.startSignedOut(entries: 300, cols: 150)
        defer { Task { await server.stop() } }
        try tmux.keys("l")
        try await tmux.waitFor(text: "E 2 E C O D E 1")
        try await tmux.waitFor(text: "https://microsoft.com/devicelogin")
        try await tmux.waitFor(text: "waiting for you to sign in")
        #expect(az.calls.contains { $0.hasPrefix("login --use-device-code") })
        try tmux.keys("y")
        try await tmux.waitFor(text: "Copied the sign-in code")
        #expect(try tmux.buffer() == "E2ECODE1")
        try az.approve()
        try await tmux.waitFor(text: "● valid")
        try await tmux.waitFor(text: "e2e.tester@contoso.example")
        try await tmux.waitFor(text: "idle, at the end of the feed")
        try await tmux.waitFor(text: "\(formatted(server.store.count)) loaded")
        try await tmux.waitFor(text: "subscription E2E Subscription")   // from az account show
        try tmux.keys("q")
        try await tmux.waitFor(text: "EXIT=0")
    }

    @Test func aDeclinedSignInShowsAzsMessage() async throws {
        let (server, tmux, az) = try await Self.startSignedOut(entries: 10, cols: 100)
        defer { Task { await server.stop() } }
        try tmux.keys("l")
        try await tmux.waitFor(text: "E 2 E C O D E 1")
        try az.decline()
        try await tmux.waitFor(text: "Sign-in failed")
        try await tmux.waitFor(text: "AADSTS70000")
        try tmux.keys("Escape")
        try await tmux.waitFor("the dialog to close") { !$0.contains { $0.contains("Sign-in failed") } }
        try tmux.keys("q")
        try await tmux.waitFor(text: "EXIT=0")
    }

    @Test func escCancelsTheSignInAndStopsAz() async throws {
        let (server, tmux, az) = try await Self.startSignedOut(entries: 10, cols: 100)
        defer { Task { await server.stop() } }
        try tmux.keys("l")
        try await tmux.waitFor(text: "E 2 E C O D E 1")
        try tmux.keys("Escape")
        try await tmux.waitFor(text: "Sign-in cancelled.")
        try await tmux.waitFor("az to get SIGTERM") { _ in az.signals.contains("TERM") }
        try tmux.keys("q")
        try await tmux.waitFor(text: "EXIT=0")
    }

    /// `L` hands the terminal to `az login` and takes it back, redrawn, with a token.
    @Test func handingTheTerminalToAzLogin() async throws {
        let (server, tmux, az) = try await Self.startSignedOut(entries: 50, cols: 100)
        defer { Task { await server.stop() } }
        try tmux.keys("L")
        try await tmux.waitFor(text: "● valid")
        try await tmux.waitFor(text: "idle, at the end of the feed")
        #expect(az.calls.contains("login"))
        #expect(try tmux.display("#{alternate_on}") == "1", "the UI is back on the alternate screen")
        try tmux.keys("q")
        try await tmux.waitFor(text: "EXIT=0")
        let normal = try tmux.screen().joined(separator: "\n")
        #expect(normal.contains("fake az login: you are signed in"), "az's own output stayed on the normal screen")
    }

    /// The app in tmux against an emulator of `entries`, nobody signed in to az: az's own
    /// words are on screen.
    static func startSignedOut(entries: Int, cols: Int) async throws -> (EmulatorServer, Tmux, FakeAz) {
        let (server, url) = try await startEmulator(entries: entries)
        do {
            let tmux = try Tmux(cols: cols, rows: 30)
            let az = try FakeAz.azureCLI(in: tmux.workDir, signedIn: false)
            try tmux.run("\(Build.dicomtui) --url \(url) --az \(az.path); echo EXIT=$?")
            try await tmux.waitFor(text: "Please run 'az login'")
            return (server, tmux, az)
        } catch {
            await server.stop()
            throw error
        }
    }

    static func offset(in query: String?) -> Int64? {
        guard let query else { return nil }
        for part in query.split(separator: "&") where part.hasPrefix("offset=") {
            return Int64(part.dropFirst("offset=".count))
        }
        return nil
    }
}
