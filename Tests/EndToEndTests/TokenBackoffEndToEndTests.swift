import Emulator
import Foundation
import TestSupport
import Testing

/// Issue 11, defect 1: az answering with tokens that have expired, or that expire within
/// --refresh-before, made the UI call az every few seconds and send requests with a token it
/// knew had expired. Now no such request is sent and az is asked again only after a pause.
@Suite(.serialized, .enabled(if: Build.tmuxAvailable, "needs tmux"))
struct TokenBackoffEndToEndTests {
    @Test func anExpiredTokenFromAzIsNotSentAndAzIsNotCalledInALoop() async throws {
        let (server, url) = try await startEmulator(entries: 50)
        defer { Task { await server.stop() } }
        let tmux = try Tmux(cols: 160, rows: 24)
        let az = try FakeAz.azureCLI(in: tmux.workDir, signedIn: true, lifetime: -120)
        try tmux.run("\(Build.dicomtui) --url \(url) --az \(az.path); echo EXIT=$?")
        try await tmux.waitFor(text: "returned a token that expired 2 min ago")
        try await tmux.waitFor(text: "az logout")
        try await Task.sleep(for: .seconds(12))
        let calls = az.calls.filter { $0.contains("get-access-token") }.count
        // Before the fix: 3 calls every 5.5 s, and requests with the expired token.
        #expect(calls == 1, "az is asked again after 30 s, not before (\(calls) calls in 12 s)")
        #expect(server.requestLog.count == 0, "no request carried the expired token")
        try tmux.keys("q")
        try await tmux.waitFor(text: "EXIT=0")
    }

    @Test func aShortLivedTokenIsUsedAndAzIsAskedAgainAfterAPause() async throws {
        let (server, url) = try await startEmulator(entries: 50)
        defer { Task { await server.stop() } }
        let tmux = try Tmux(cols: 200, rows: 24)
        let az = try FakeAz.azureCLI(in: tmux.workDir, signedIn: true, lifetime: 240)
        try tmux.run("\(Build.dicomtui) --url \(url) --az \(az.path); echo EXIT=$?")
        try await tmux.waitFor(text: "within --refresh-before (5 min)")
        try await tmux.waitFor(text: "50 loaded")
        try await Task.sleep(for: .seconds(12))
        let calls = az.calls.filter { $0.contains("get-access-token") }.count
        #expect(calls == 1, "the token is used; az is asked again in 30 s (\(calls) calls in 12 s)")
        #expect(server.requestLog.requests.allSatisfy { $0.status == 200 })
        try tmux.keys("q")
        try await tmux.waitFor(text: "EXIT=0")
    }
}
