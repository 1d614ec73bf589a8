import ChangeFeedClient
import FeedModel
import Foundation
import Synchronization
import TokenSource

/// The token in memory, for whoever sends requests (the UI's fetcher, `dicomtui feed`), and the
/// one home of the rules for asking az: the only token cache (a `TokenIssuer` caches nothing), the
/// only place that shares one call among concurrent callers, the refresh margin, and the new
/// token after a 401 or a sign-in.
///
/// - a token is used until it really expires (less than `minimumLifetime`, 5 s, left): a request
///   is never sent with a token known to be expired, and one about to expire is not asked for;
/// - it is renewed `refreshBefore` ahead of its expiry (by the UI's schedule, or by the next
///   request once that time has come); a failed renewal keeps the token in use;
/// - concurrent callers share one az call; after a 401 (or a sign-in) the token in hand is
///   dropped and the next caller asks az;
/// - az answers that are not a good token (an error, a token that has expired or is about to,
///   a token shorter-lived than `refreshBefore`) in a row make the next call wait 30 s, then 1,
///   2 and 5 minutes ("backing off"), so az is asked a handful of times per token lifetime
///   whatever it does. A still-valid token is kept and used until it really expires.
///
/// The token stays in this actor and leaves it only as the Authorization header value (and, to
/// `observe`, as the `AccessToken` whose every description is masked).
public actor TokenKeeper: AuthorizationSource {
    /// What happens to the token, for the UI's events.
    public enum Change: Sendable {
        case acquiring
        /// A token to use. `refreshAt`: when to ask az for the next one. `notice`: az answered
        /// with a token that expires within `refreshBefore` (said once per such answer).
        case acquired(AccessToken, refreshAt: Date, notice: String?)
        /// No usable token. az is not asked again on its own before `retryAt`.
        case failed(TokenError, retryAt: Date)
    }

    /// When to ask az.
    public struct Policy: Sendable {
        /// A token with less than this left is renewed ahead of time (`--refresh-before`).
        public var refreshBefore: TimeInterval
        /// A token this close to expiry is never sent (nor accepted from az).
        public var minimumLifetime: TimeInterval
        /// The pauses after 1, 2, 3, 4+ answers in a row that were not a good token.
        public var pauses: [TimeInterval]

        public init(refreshBefore: TimeInterval = TokenTiming.defaultRefreshBefore, minimumLifetime: TimeInterval = 5,
                    pauses: [TimeInterval] = [30, 60, 120, 300]) {
            self.refreshBefore = refreshBefore; self.minimumLifetime = minimumLifetime; self.pauses = pauses
        }

        /// The pause after `n` (≥ 1) poor answers in a row.
        public func pause(after n: Int) -> TimeInterval {
            pauses.isEmpty ? 0 : pauses[min(max(n, 1), pauses.count) - 1]
        }
    }

    private let issuer: any TokenIssuer
    private let observe: @Sendable (Change) -> Void
    private let policy: Policy
    private let clock: @Sendable () -> Date
    /// The audience the service wants and, when configured, its tenant: to explain a 401.
    private let audience: String
    private let tenant: String?
    private var current: AccessToken?
    /// Set by a 401 (or a sign-in): no token in hand is reused, not even one that a call already
    /// running brings back; the next caller asks the issuer.
    private var mustRefresh = false
    private var inflight: Task<AccessToken, Error>?
    /// Answers in a row that were not a good token (failures, stale or short-lived tokens).
    private var poorAnswers = 0
    /// After a failed or stale answer: `authorization()` does not ask az again before this.
    private var retryAt: Date?
    /// When the current token is due for renewal.
    private var refreshAt: Date?
    private let failure = Mutex<TokenError?>(nil)
    private let claims = Mutex<TokenClaims?>(nil)

    public init(issuer: any TokenIssuer, policy: Policy = Policy(), audience: String = DicomService.audience,
                tenant: String? = nil, observe: @escaping @Sendable (Change) -> Void = { _ in },
                clock: @escaping @Sendable () -> Date = { Date() }) {
        self.issuer = issuer
        self.policy = policy
        self.audience = audience
        self.tenant = tenant
        self.clock = clock
        self.observe = observe
    }

    /// The last reason a token could not be had (with az's message and a hint), if any.
    public nonisolated var lastFailure: TokenError? { failure.withLock { $0 } }

    /// Why the service refused the last token, read from its claims against the 401's challenge
    /// (`resource_id`, the tenant in `authorization_uri`) or the configured audience and tenant;
    /// nil when the claims show nothing wrong or `error` is not a 401.
    public nonisolated func explain(_ error: ChangeFeedError) -> TokenError? {
        guard case .unauthorized(let challenge) = error else { return nil }
        let expected = challenge.flatMap { ChangeFeedError.challengeParameter("resource_id", in: $0) }
            ?? Audience.expected(forResource: audience)
        let tenant = challenge.flatMap { ChangeFeedError.challengeParameter("authorization_uri", in: $0) }
            .flatMap(Audience.tenant(inAuthority:)) ?? self.tenant
        return Audience.problem(claims: claims.withLock { $0 }, expected: expected, tenant: tenant)
    }

    /// Gets a new token now (startup, the `r` key, the UI's scheduled refresh), whatever the
    /// token in hand. Not held back by a pause: the caller decided it is time.
    public func refresh() async {
        if (try? await acquire()) != nil { mustRefresh = false }
    }

    public func authorization() async throws -> String {
        let now = clock()
        let pausing = retryAt.map { now < $0 } ?? false
        if let t = current, !mustRefresh, t.isUsable(at: now, margin: policy.minimumLifetime) {
            // Due for renewal: ask az, but keep this token if that fails.
            if let due = refreshAt, now >= due, !pausing, let fresh = try? await acquire() {
                return fresh.authorizationHeaderValue
            }
            if let t = current, t.isUsable(at: clock(), margin: policy.minimumLifetime) { return t.authorizationHeaderValue }
        }
        // Backing off after a poor answer: az is not asked again before the pause is over.
        if pausing, let why = lastFailure { throw why }
        let token = try await acquire()
        mustRefresh = false
        return token.authorizationHeaderValue
    }

    public func rejected() async {
        current = nil
        mustRefresh = true
    }

    private func acquire() async throws -> AccessToken {
        if let running = inflight { return try await running.value }
        observe(.acquiring)
        let issuer = self.issuer
        let task = Task<AccessToken, Error> { try await issuer.token() }
        inflight = task
        defer { inflight = nil }
        let token: AccessToken
        do {
            token = try await task.value
        } catch is CancellationError {
            throw CancellationError()
        } catch let e as TokenError {
            throw failed(e)
        } catch {
            throw failed(.failed(exitCode: -1, stderrSummary: String(describing: error)))
        }
        let now = clock()
        let left = token.remaining(at: now)
        claims.withLock { $0 = token.claims }
        if left <= policy.minimumLifetime {
            // A token about to expire: az's cache gives a new one once it has, so try again then.
            throw failed(.staleToken(secondsLeft: Int(left.rounded(.down))),
                         notAfter: left > 0 ? token.expiresOn.addingTimeInterval(1) : nil)
        }
        current = token
        retryAt = nil
        failure.withLock { $0 = nil }
        var refreshAt = token.expiresOn.addingTimeInterval(-policy.refreshBefore)
        var notice: String?
        if left < policy.refreshBefore {
            // Usable, but az will likely give the same token again for a while: ask again after
            // a pause, and in any case before it expires.
            poorAnswers += 1
            let pause = policy.pause(after: poorAnswers)
            refreshAt = min(now.addingTimeInterval(pause), token.expiresOn.addingTimeInterval(-policy.minimumLifetime))
            notice = "az returned a token that expires in \(Self.duration(left)), within --refresh-before "
                + "(\(Self.duration(policy.refreshBefore))): using it, and asking az again in "
                + "\(Self.duration(max(0, refreshAt.timeIntervalSince(now)))). A --refresh-before below "
                + "\(Self.duration(left)) avoids this."
        } else {
            poorAnswers = 0
        }
        self.refreshAt = refreshAt
        observe(.acquired(token, refreshAt: refreshAt, notice: notice))
        return token
    }

    /// Records a poor answer: the pause grows (but ends by `notAfter`); a token that is still
    /// valid is kept.
    private func failed(_ e: TokenError, notAfter: Date? = nil) -> TokenError {
        let now = clock()
        poorAnswers += 1
        var until = now.addingTimeInterval(policy.pause(after: poorAnswers))
        if let notAfter { until = min(until, notAfter) }
        retryAt = until
        if let t = current, !t.isUsable(at: now, margin: policy.minimumLifetime) { current = nil }
        failure.withLock { $0 = e }
        observe(.failed(e, retryAt: until))
        return e
    }

    static func duration(_ seconds: TimeInterval) -> String { TokenError.formatDuration(Int(seconds.rounded())) }
}
