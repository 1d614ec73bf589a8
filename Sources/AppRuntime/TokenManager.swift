import AppCore
import ChangeFeedClient
import Foundation
import TokenSource

/// The one place in the app that holds the token. Gets a token when the user asks or the
/// fetcher needs one, lets concurrent callers share one request, and tells the UI what
/// happens as events. The secret leaves this actor only as the Authorization header value.
actor TokenManager: AuthorizationSource {
    private let source: any TokenProvider
    private let events: EventQueue
    private var current: AccessToken?
    /// Set by a 401: the next token must be a new one, not the source's cached one.
    private var mustRefresh = false
    private var inflight: Task<AccessToken, Error>?
    /// The identity whose account was last described (`az account show` runs once per identity).
    private var describedIdentity: String?
    /// A token this close to expiry is not handed out; a fresh one is fetched.
    private let minimumLifetime: TimeInterval = 30

    init(source: any TokenProvider, events: EventQueue) {
        self.source = source
        self.events = events
    }

    /// Gets a new token now (startup, the `r` key). The outcome arrives as events.
    func refresh() async {
        if (try? await acquire(force: true)) != nil { mustRefresh = false }
    }

    // MARK: AuthorizationSource

    func authorization() async throws -> String {
        if let t = current, !mustRefresh, t.isUsable(at: Date(), margin: minimumLifetime) { return t.authorizationHeaderValue }
        // After a 401 the source's cache must be skipped: the same token would fail again.
        let token = try await acquire(force: mustRefresh || current != nil)
        mustRefresh = false
        return token.authorizationHeaderValue
    }

    func rejected() async {
        current = nil
        mustRefresh = true
    }

    // MARK: -

    private func acquire(force: Bool) async throws -> AccessToken {
        if let running = inflight { return try await running.value }
        events.post(.tokenAcquiring)
        let source = self.source
        let task = Task<AccessToken, Error> { try await source.token(forceRefresh: force) }
        inflight = task
        defer { inflight = nil }
        do {
            let token = try await task.value
            current = token
            let info = Self.info(token, source: source.description)
            events.post(.tokenAcquired(info))
            describeAccount(for: info.identity)
            return token
        } catch let e as TokenError {
            events.post(.tokenFailed(Problem(e.message, hint: e.hint)))
            throw e
        } catch {
            events.post(.tokenFailed(Problem("Getting a token failed: \(error)")))
            throw error
        }
    }

    /// Best effort, in the background: the account's subscription and user for the header.
    private func describeAccount(for identity: String) {
        guard describedIdentity != identity else { return }
        describedIdentity = identity
        let source = self.source
        let events = self.events
        Task.detached {
            if let account = try? await source.account(),
               let subscription = account.subscriptionName ?? account.subscriptionId {
                events.post(.accountLoaded("subscription \(subscription)"))
            }
        }
    }

    /// What the UI may know of a token: claims and expiry, and the masked form.
    static func info(_ token: AccessToken, source: String) -> TokenInfo {
        let claims = token.claims
        return TokenInfo(expiresOn: token.expiresOn,
                         identity: claims?.identity ?? "unknown identity",
                         tenant: token.tenant ?? claims?.tid,
                         objectId: claims?.oid,
                         audience: claims?.aud,
                         masked: token.masked,
                         source: source)
    }
}
