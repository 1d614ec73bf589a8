import Authorization
import Foundation
import Synchronization
import Testing
import TokenSource

/// A token source that counts its calls and can be made slow or failing.
final class CountingIssuer: TokenIssuer {
    let calls = Mutex(0)
    let lifetime: TimeInterval
    let delayMs: UInt64
    let failWith: TokenError?
    init(lifetime: TimeInterval = 3600, delayMs: UInt64 = 0, failWith: TokenError? = nil) {
        self.lifetime = lifetime; self.delayMs = delayMs; self.failWith = failWith
    }
    func token() async throws(TokenError) -> AccessToken {
        let n = calls.withLock { $0 += 1; return $0 }
        if delayMs > 0 { try? await Task.sleep(nanoseconds: delayMs * 1_000_000) }
        if let failWith { throw failWith }
        return AccessToken("token-\(n)", expiresOn: Date().addingTimeInterval(lifetime))
    }
    func account() async throws(TokenError) -> AccountInfo? { nil }
    var description: String { "counting source" }
}

@Suite struct TokenKeeperTests {
    @Test func aTokenIsReusedWhileItLasts() async throws {
        let source = CountingIssuer()
        let keeper = TokenKeeper(issuer: source)
        #expect(try await keeper.authorization() == "Bearer token-1")
        #expect(try await keeper.authorization() == "Bearer token-1")
        #expect(source.calls.withLock { $0 } == 1)
    }

    @Test func concurrentCallersShareOneRequest() async throws {
        let source = CountingIssuer(delayMs: 50)
        let keeper = TokenKeeper(issuer: source)
        let headers = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<8 { group.addTask { try await keeper.authorization() } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(Set(headers) == ["Bearer token-1"])
        #expect(source.calls.withLock { $0 } == 1)
    }

    @Test func afterARefusalTheNextTokenIsAskedFor() async throws {
        let source = CountingIssuer()
        let keeper = TokenKeeper(issuer: source)
        _ = try await keeper.authorization()
        await keeper.rejected()
        #expect(try await keeper.authorization() == "Bearer token-2")
        #expect(source.calls.withLock { $0 } == 2)
        #expect(try await keeper.authorization() == "Bearer token-2", "and then it is reused again")
    }

    @Test func aTokenAboutToExpireIsNeverHandedOut() async throws {
        let source = CountingIssuer(lifetime: 3)   // under the 5 s margin
        let keeper = TokenKeeper(issuer: source)
        // 2 s left when the keeper looks, or 1 or 0 when the machine is slow to get there.
        let error = await #expect(throws: TokenError.self) { try await keeper.authorization() }
        guard case .staleToken(let left)? = error else {
            Issue.record("expected a stale token, got \(String(describing: error))")
            return
        }
        #expect((0...2).contains(left))
        await #expect(throws: TokenError.self) { try await keeper.authorization() }
        #expect(source.calls.withLock { $0 } == 1, "the second call is held back by the pause")
    }

    @Test func changesAreObservedAndFailuresKept() async throws {
        let seen = Mutex<[String]>([])
        let failing = CountingIssuer(failWith: .notLoggedIn(azMessage: "ERROR: Please run 'az login' to setup account."))
        let keeper = TokenKeeper(issuer: failing) { change in
            let text = switch change {
            case .acquiring: "acquiring"
            case .acquired(let t, _, _): "acquired \(t.masked)"
            case .failed(let e, _): "failed \(e.message)"
            }
            seen.withLock { $0.append(text) }
        }
        await #expect(throws: TokenError.self) { try await keeper.authorization() }
        #expect(keeper.lastFailure?.needsLogin == true)
        #expect(seen.withLock { $0 } == ["acquiring", "failed The Azure CLI is not signed in: ERROR: Please run 'az login' to setup account."])

        let good = TokenKeeper(issuer: CountingIssuer()) { change in
            if case .acquired(let t, _, _) = change { seen.withLock { $0.append("acquired \(t.masked)") } }
        }
        await good.refresh()
        #expect(seen.withLock { $0.last?.hasPrefix("acquired") } == true)
        #expect(!(seen.withLock { $0.last } ?? "").contains("token-1"), "observers see the masked form")
    }
}
