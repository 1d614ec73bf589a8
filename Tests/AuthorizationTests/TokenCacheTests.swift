import Authorization
import Foundation
import Synchronization
import Testing
import TokenSource

/// The token cache: a token is reused until `refreshBefore` ahead of its expiry, then asked for
/// again; `refresh()` and a 401 ask at once. These were tests of the az and demo token sources'
/// own caches (with a 120 s margin) before the keeper became the only cache; the assertions are
/// theirs, made against the keeper with the same margin.
@Suite struct TokenCacheTests {
    @Test func cachesUntilTheMargin() async throws {
        let time = ManualTime()
        let az = ScriptedAz(time: time) { _, now in .success(now.addingTimeInterval(600)) }
        let keeper = TokenKeeper(issuer: az, policy: .init(refreshBefore: 120), clock: { time.now })
        let first = try await keeper.authorization()
        time.advance(400)
        #expect(try await keeper.authorization() == first)
        #expect(az.calls.withLock { $0 } == 1)
        time.advance(81)  // 119 s left
        let second = try await keeper.authorization()
        #expect(second != first)
        #expect(az.calls.withLock { $0 } == 2)
        await keeper.refresh()
        #expect(az.calls.withLock { $0 } == 3)
        await keeper.rejected()
        _ = try await keeper.authorization()
        #expect(az.calls.withLock { $0 } == 4)
    }

    @Test func cachesUntilTheRefreshMarginThenMintsAgain() async throws {
        let time = ManualTime()
        let start = time.now
        let issued = Mutex<[AccessToken]>([])
        let keeper = TokenKeeper(issuer: DemoTokenIssuer(lifetime: 600, now: { time.now }), policy: .init(refreshBefore: 120),
                                 observe: { if case .acquired(let token, _, _) = $0 { issued.withLock { $0.append(token) } } },
                                 clock: { time.now })
        let first = try await keeper.authorization()
        time.advance(479)
        let same = try await keeper.authorization()
        #expect(same == first)
        time.advance(2)  // 119 s left: inside the margin
        let renewed = try await keeper.authorization()
        #expect(renewed != first)
        #expect(issued.withLock { $0.last?.expiresOn } == start.addingTimeInterval(481 + 600))
        await keeper.refresh()
        let forced = try await keeper.authorization()
        #expect(forced != renewed)
    }
}
