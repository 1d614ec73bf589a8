import Authorization
import ChangeFeedClient
import FeedModel
import Foundation
import Synchronization
import Testing
import TokenSource

/// A clock the test moves.
final class ManualTime: Sendable {
    private let t = Mutex(Date(timeIntervalSince1970: 1_800_000_000))
    var now: Date { t.withLock { $0 } }
    func advance(_ seconds: TimeInterval) { t.withLock { $0 = $0.addingTimeInterval(seconds) } }
}

/// An az that answers as a script says: a token expiring at some time, or an error. Counts calls
/// and remembers each token's expiry, so a test can tell whether an expired token was sent.
final class ScriptedAz: TokenIssuer {
    typealias Answer = @Sendable (_ call: Int, _ now: Date) -> Result<Date, TokenError>
    let time: ManualTime
    let answer: Answer
    let calls = Mutex(0)
    let expiries = Mutex<[String: Date]>([:])
    init(time: ManualTime, answer: @escaping Answer) { self.time = time; self.answer = answer }

    func token() async throws(TokenError) -> AccessToken {
        let n = calls.withLock { $0 += 1; return $0 }
        switch answer(n, time.now) {
        case .failure(let e): throw e
        case .success(let expiry):
            let secret = "secret-of-token-expiring-\(Int(expiry.timeIntervalSince1970))"
            expiries.withLock { $0[secret] = expiry }
            return AccessToken(secret, expiresOn: expiry)
        }
    }
    func account() async throws(TokenError) -> AccountInfo? { nil }
    var description: String { "scripted az" }
}

/// What a run of the UI's token side did: az calls, requests sent, and requests sent with a
/// token that had expired (never allowed).
struct Outcome {
    var azCalls = 0
    var requests = 0
    var expiredSent = 0
    var lastFailure: TokenError?
    var notices: [String] = []
}

/// Plays the UI for `seconds`: once a second the fetcher wants a header (as a retrying fetcher
/// would), and the UI refreshes when the keeper's schedule (`refreshAt`/`retryAt`) says so.
func simulate(seconds: Int, refreshBefore: TimeInterval = 300,
              answer: @escaping ScriptedAz.Answer) async -> Outcome {
    let time = ManualTime()
    let az = ScriptedAz(time: time, answer: answer)
    let next = Mutex<Date?>(nil)
    let notices = Mutex<[String]>([])
    let keeper = TokenKeeper(issuer: az, policy: .init(refreshBefore: refreshBefore), observe: { change in
        switch change {
        case .acquiring: next.withLock { $0 = nil }
        case .acquired(_, let at, let notice):
            next.withLock { $0 = at }
            if let notice { notices.withLock { $0.append(notice) } }
        case .failed(_, let at): next.withLock { $0 = at }
        }
    }, clock: { time.now })
    var out = Outcome()
    await keeper.refresh()   // startup
    for _ in 0..<seconds {
        if let due = next.withLock({ $0 }), time.now >= due { await keeper.refresh() }
        if let header = try? await keeper.authorization() {
            out.requests += 1
            let secret = String(header.dropFirst("Bearer ".count))
            if let expiry = az.expiries.withLock({ $0[secret] }), expiry <= time.now { out.expiredSent += 1 }
        }
        time.advance(1)
    }
    out.azCalls = az.calls.withLock { $0 }
    out.lastFailure = keeper.lastFailure
    out.notices = notices.withLock { $0 }
    return out
}

@Suite struct TokenPolicyTests {
    /// Issue 11, defect 1: az answering with a token that expired two minutes ago was called
    /// 33 times in 60 s and 22 requests went out with that token.
    @Test func anExpiredTokenFromAzIsNeverSentAndAzIsNotHammered() async {
        let out = await simulate(seconds: 60) { _, now in .success(now.addingTimeInterval(-120)) }
        #expect(out.requests == 0)
        #expect(out.expiredSent == 0)
        #expect(out.azCalls <= 3, "startup, then after 30 s: \(out.azCalls) calls")
        #expect(out.lastFailure == .staleToken(secondsLeft: -120))
        #expect(out.lastFailure?.message == "The Azure CLI returned a token that expired 2 min ago; it was not used.")
        #expect(out.lastFailure?.hint(.shell).contains("az logout") == true)
        #expect(out.lastFailure?.needsLogin == true)

        let hour = await simulate(seconds: 3600) { _, now in .success(now.addingTimeInterval(-120)) }
        #expect(hour.azCalls <= 16, "pauses of 30 s, 1, 2, then 5 minutes: \(hour.azCalls) calls in an hour")
        #expect(hour.requests == 0)
    }

    /// Tokens shorter-lived than --refresh-before (60 s, or 240 s with the default 5 minutes)
    /// made the UI call az every 5.5 s.
    @Test func shortLivedTokensAreUsedAndAzIsAskedAHandfulOfTimesPerLifetime() async {
        for lifetime in [60.0, 240.0] {
            // Each call: a new token that lives `lifetime` seconds (a short token policy).
            let fresh = await simulate(seconds: 3600) { _, now in .success(now.addingTimeInterval(lifetime)) }
            #expect(fresh.expiredSent == 0)
            #expect(fresh.requests == 3600, "every request had a valid token")
            let perLifetime = Double(fresh.azCalls) / (3600 / lifetime)
            #expect(perLifetime <= 3, "\(fresh.azCalls) az calls in an hour of \(Int(lifetime)) s tokens")
            #expect(fresh.notices.first?.contains("within --refresh-before (5 min)") == true)

            // az's cache: the same token until it has expired, then the next one.
            let cached = await simulate(seconds: 3600) { _, now in
                let t0 = Date(timeIntervalSince1970: 1_800_000_000)
                let k = (now.timeIntervalSince(t0) / lifetime).rounded(.down)
                return .success(t0.addingTimeInterval((k + 1) * lifetime))
            }
            #expect(cached.expiredSent == 0)
            #expect(Double(cached.azCalls) / (3600 / lifetime) <= 5, "\(cached.azCalls) az calls with a cached \(Int(lifetime)) s token")
        }
    }

    @Test func goodTokensAreRenewedOnceRefreshBeforeAheadOfExpiry() async {
        let out = await simulate(seconds: 7200) { _, now in .success(now.addingTimeInterval(3600)) }
        #expect(out.azCalls == 3, "at 0, 55 and 110 minutes")
        #expect(out.requests == 7200)
        #expect(out.notices.isEmpty)
    }

    @Test func failuresBackOffAndAGoodAnswerEndsThePause() async {
        let out = await simulate(seconds: 900) { call, now in
            call <= 4 ? .failure(.failed(exitCode: 1, stderrSummary: "ERROR: network")) : .success(now.addingTimeInterval(3600))
        }
        // Calls at 0, 30, 90, 210 fail; the one at 510 succeeds; nothing more within 15 minutes.
        #expect(out.azCalls == 5)
        #expect(out.requests == 900 - 510)
        #expect(out.lastFailure == nil)
    }

    @Test func aValidTokenIsKeptWhenAzAnswersWithAStaleOne() async throws {
        let time = ManualTime()
        let az = ScriptedAz(time: time) { call, now in
            .success(call == 1 ? now.addingTimeInterval(3600) : now.addingTimeInterval(-5))
        }
        let keeper = TokenKeeper(issuer: az, clock: { time.now })
        let first = try await keeper.authorization()
        await keeper.refresh()   // the user pressed r; az answers with an expired token
        #expect(keeper.lastFailure == .staleToken(secondsLeft: -5))
        #expect(try await keeper.authorization() == first, "the good token is still used")
    }

    @Test func aRefusalIsExplainedFromTheClaims() async throws {
        let wrongAud = DemoTokenIssuer.mint(resource: "https://management.azure.com", issuedAt: Date(), lifetime: 3600)
        let keeper = TokenKeeper(issuer: FixedIssuer(wrongAud))
        _ = try await keeper.authorization()
        let challenge = #"Bearer authorization_uri="https://login.microsoftonline.com/72f988bf-0000-0000-0000-000000000000", resource_id="https://dicom.healthcareapis.azure.com", realm="https://dicom.healthcareapis.azure.com""#
        let why = keeper.explain(.unauthorized(challenge: challenge))
        #expect(why == .wrongAudience(audience: "https://management.azure.com", expected: "https://dicom.healthcareapis.azure.com"))
        #expect(why?.hint.contains("--resource https://dicom.healthcareapis.azure.com") == true)
        #expect(keeper.explain(.forbidden("Authorization failed.")) == nil)

        let right = DemoTokenIssuer.mint(resource: DicomService.audience, issuedAt: Date(), lifetime: 3600)
        let other = TokenKeeper(issuer: FixedIssuer(right))
        _ = try await other.authorization()
        let tid = right.claims?.tid ?? ""
        #expect(other.explain(.unauthorized(challenge: challenge)) == .wrongTenant(tenant: tid, expected: "72f988bf-0000-0000-0000-000000000000"))
        #expect(other.explain(.unauthorized(challenge: nil)) == nil, "nothing in the claims contradicts the configuration")
        #expect(other.explain(.unauthorized(challenge: #"Bearer authorization_uri="https://login.microsoftonline.com/\#(tid)""#)) == nil)
    }
}

struct FixedIssuer: TokenIssuer {
    let t: AccessToken
    init(_ t: AccessToken) { self.t = t }
    func token() async throws(TokenError) -> AccessToken { t }
    func account() async throws(TokenError) -> AccountInfo? { nil }
    var description: String { "fixed" }
}
