import ChangeFeedClient
import Foundation
import Synchronization
import TokenSource

/// The `AuthorizationSource` of script mode: the same rules as the UI's token manager (reuse a
/// token while it has more than 30 s left, share one request among concurrent callers, after a
/// 401 skip the source's cache once), without the UI's events. The token stays in this actor and
/// leaves only as the header value.
public actor ScriptAuthorization: AuthorizationSource {
    private let source: any TokenProvider
    private var current: AccessToken?
    private var mustRefresh = false
    private var inflight: Task<AccessToken, Error>?
    private let minimumLifetime: TimeInterval = 30
    private let failure = Mutex<TokenError?>(nil)

    public init(source: any TokenProvider) {
        self.source = source
    }

    /// The last reason a token could not be had (with az's message and a hint), if any.
    public nonisolated var lastFailure: TokenError? { failure.withLock { $0 } }

    public func authorization() async throws -> String {
        if let t = current, !mustRefresh, t.isUsable(at: Date(), margin: minimumLifetime) { return t.authorizationHeaderValue }
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
        let source = self.source
        let task = Task<AccessToken, Error> { try await source.token(forceRefresh: force) }
        inflight = task
        defer { inflight = nil }
        do {
            let token = try await task.value
            current = token
            failure.withLock { $0 = nil }
            return token
        } catch let e as TokenError {
            failure.withLock { $0 = e }
            throw e
        }
    }
}
