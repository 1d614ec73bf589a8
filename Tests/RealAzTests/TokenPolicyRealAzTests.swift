import Authorization
import Emulator
import Foundation
import Synchronization
import TestSupport
import Testing

@testable import TokenSource

extension RealAzSuite {
    /// Issue 11, defect 1, with the real az (signed in as a managed identity whose endpoint is the
    /// stand-in, so every az run asks the endpoint, which issues tokens of the lifetime set):
    /// short-lived tokens are used without calling az again at once; an expired one is never
    /// handed out, and az is not run again before the pause is over.
    @Suite(.enabled(if: RealAz.isConfigured, RealAz.skipReason))
    struct TokenPolicyRealAzTests {
        static func lab(lifetime: Int) async throws -> Lab {
            try await ManagedIdentityTests.managedIdentityLab(tokenLifetime: lifetime)
        }

        @Test func aShortLivedTokenIsUsedAndAzIsNotRunAgainAtOnce() async throws {
            let lab = try await Self.lab(lifetime: 240)
            defer { lab.close() }
            let notices = Mutex<[String]>([])
            let keeper = TokenKeeper(issuer: AzTokenIssuer(cli: lab.cli), observe: { change in
                if case .acquired(_, _, let notice?) = change { notices.withLock { $0.append(notice) } }
            })
            await keeper.refresh()
            #expect(notices.withLock { $0.first?.contains("within --refresh-before (5 min)") } == true, "\(notices.withLock { $0 })")
            for _ in 0..<5 { _ = try await keeper.authorization() }
            #expect(lab.runner.count == 1, "az ran \(lab.runner.count) times")
            #expect(lab.requests().filter { $0.path == "/msi/token" }.count == 1, "the endpoint issued the token az printed")
        }

        /// The binary in tmux with the real az: an expired token is shown as such, never sent,
        /// and az is not run again within 12 s; a short-lived one is used, with a notice.
        @Test(.enabled(if: Build.tmuxAvailable, "needs tmux"), arguments: [-120, 240])
        func theUIWithTheRealAz(lifetime: Int) async throws {
            let az = try #require(RealAz.path)
            let lab = try await Self.lab(lifetime: lifetime)
            defer { lab.close() }
            let (server, url) = try await startEmulator(entries: 60, seed: 5)
            defer { Task { await server.stop() } }
            var env: [String: String] = [:]
            for (key, value) in lab.environment { if let value { env[key] = value } }
            let tmux = try Tmux(cols: 200, rows: 30, environment: env)
            try tmux.run("\(Build.dicomtui) --url \(url) --az \(az); echo EXIT=$?")
            if lifetime < 0 {
                try await tmux.waitFor(text: "returned a token that expired 2 min ago", timeout: 30)
            } else {
                try await tmux.waitFor(text: "within --refresh-before (5 min)", timeout: 30)
                try await tmux.waitFor(text: "60 loaded", timeout: 30)
            }
            try await Task.sleep(for: .seconds(12))
            #expect(lab.requests().filter { $0.path == "/msi/token" }.count == 1, "az asked the endpoint once")
            if lifetime < 0 {
                #expect(server.requestLog.count == 0, "no request with the expired token")
            } else {
                #expect(server.requestLog.requests.allSatisfy { $0.status == 200 })
            }
            try tmux.keys("q")
            try await tmux.waitFor(text: "EXIT=0")
        }

        @Test func anExpiredTokenFromAzIsNotHandedOut() async throws {
            let lab = try await Self.lab(lifetime: -120)
            defer { lab.close() }
            let keeper = TokenKeeper(issuer: AzTokenIssuer(cli: lab.cli))
            do {
                let header = try await keeper.authorization()
                Issue.record("an expired token was handed out (\(header.count) characters)")
            } catch let e as TokenError {
                guard case .staleToken(let left) = e else {
                    Issue.record("az's answer: \(e.message)")
                    return
                }
                #expect(left <= -110, "\(left) s")
            }
            await #expect(throws: TokenError.self) { try await keeper.authorization() }
            #expect(lab.runner.count == 1, "az is not run again during the pause (\(lab.runner.count) runs)")
        }
    }
}
