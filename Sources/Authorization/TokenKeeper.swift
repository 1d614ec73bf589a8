import ChangeFeedClient
import Foundation
import Synchronization
import TokenSource

/// The token in memory, for whoever sends requests (the UI's fetcher, `dicomtui feed`): reuses
/// a token while it has more than 30 s left, shares one request among concurrent callers, and
/// after a 401 skips the source's cache once. The token stays in this actor and leaves it only
/// as the Authorization header value (and, to `observe`, as the `AccessToken` whose every
/// description is masked).
public actor TokenKeeper: AuthorizationSource {
    /// What happens to the token, for the UI's events.
    public enum Change: Sendable {
        case acquiring
        case acquired(AccessToken)
        case failed(TokenError)
        case failedOther(String)
    }

    private let source: any TokenProvider
    private let observe: @Sendable (Change) -> Void
    private var current: AccessToken?
    /// Set by a 401: the next token must be a new one, not the source's cached one.
    private var mustRefresh = false
    private var inflight: Task<AccessToken, Error>?
    /// A token this close to expiry is not handed out; a fresh one is fetched.
    private let minimumLifetime: TimeInterval = 30
    private let failure = Mutex<TokenError?>(nil)

    public init(source: any TokenProvider, observe: @escaping @Sendable (Change) -> Void = { _ in }) {
        self.source = source
        self.observe = observe
    }

    /// The last reason a token could not be had (with az's message and a hint), if any.
    public nonisolated var lastFailure: TokenError? { failure.withLock { $0 } }

    /// Gets a new token now (startup, the `r` key), skipping the source's cache.
    public func refresh() async {
        if (try? await acquire(force: true)) != nil { mustRefresh = false }
    }

    public func authorization() async throws -> String {
        if let t = current, !mustRefresh, t.isUsable(at: Date(), margin: minimumLifetime) { return t.authorizationHeaderValue }
        // After a 401 the source's cache must be skipped: the same token would fail again.
        let token = try await acquire(force: mustRefresh || current != nil)
        mustRefresh = false
        return token.authorizationHeaderValue
    }

    public func rejected() async {
        current = nil
        mustRefresh = true
    }

    private func acquire(force: Bool) async throws -> AccessToken {
        if let running = inflight { return try await running.value }
        observe(.acquiring)
        let source = self.source
        let task = Task<AccessToken, Error> { try await source.token(forceRefresh: force) }
        inflight = task
        defer { inflight = nil }
        do {
            let token = try await task.value
            current = token
            failure.withLock { $0 = nil }
            observe(.acquired(token))
            return token
        } catch let e as TokenError {
            failure.withLock { $0 = e }
            observe(.failed(e))
            throw e
        } catch {
            observe(.failedOther(String(describing: error)))
            throw error
        }
    }
}
