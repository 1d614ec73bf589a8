import Emulator
import Foundation
import TestSupport
import Testing

/// Issue 11, defect 1: az answering with tokens that have expired, or that expire within
/// --refresh-before, made the UI call az every few seconds and send requests with a token it
/// knew had expired. Now no such request is sent and az is asked again only after a pause.
@Suite(.serialized, .enabled(if: Build.tmuxAvailable, "needs tmux"))
struct TokenBackoffEndToEndTests {
    /// What az hands out: tokens of this lifetime (seconds; negative: expired that long ago),
    /// what the screen says about them, and whether the app sends them.
    struct ShortToken: Sendable, CustomTestStringConvertible {
        var testDescription: String
        var lifetime: Int
        var cols: Int
        var shows: [String]
        var sent: Bool
    }

    /// Before the fix: 3 az calls every 5.5 s, and requests with an expired token. Now az is
    /// asked again after 30 s, not before; an expired token is not sent, a short-lived one is used.
    @Test(arguments: [
        ShortToken(testDescription: "an expired token is not sent and az is not called in a loop", lifetime: -120, cols: 160,
                   shows: ["returned a token that expired 2 min ago", "az logout"], sent: false),
        ShortToken(testDescription: "a short-lived token is used and az is asked again after a pause", lifetime: 240, cols: 200,
                   shows: ["within --refresh-before (5 min)", "50 loaded"], sent: true),
    ])
    func azIsNotCalledInALoop(_ token: ShortToken) async throws {
        let (server, url) = try await startEmulator(entries: 50)
        defer { Task { await server.stop() } }
        let tmux = try Tmux(cols: token.cols, rows: 24)
        let az = try FakeAz.azureCLI(in: tmux.workDir, signedIn: true, lifetime: token.lifetime)
        try tmux.run("\(Build.dicomtui) --url \(url) --az \(az.path); echo EXIT=$?")
        for text in token.shows { try await tmux.waitFor(text: text) }
        try await Task.sleep(for: .seconds(12))
        let calls = az.calls.filter { $0.contains("get-access-token") }.count
        #expect(calls == 1, "az is asked again after 30 s, not before (\(calls) calls in 12 s)")
        #expect((server.requestLog.count > 0) == token.sent, "no request carries an expired token; a short-lived one is used")
        #expect(server.requestLog.requests.allSatisfy { $0.status == 200 })
        try tmux.keys("q")
        try await tmux.waitFor(text: "EXIT=0")
    }
}
