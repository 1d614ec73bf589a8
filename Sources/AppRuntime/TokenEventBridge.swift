import AppCore
import Authorization
import ChangeFeedClient
import FeedModel
import Foundation
import Synchronization
import TokenSource

/// The UI's adapter to the token: it owns the session's `TokenKeeper` (the only holder and cache
/// of the token) and posts the keeper's changes as `AppEvent`s, with the account for the header
/// (`az account show`, once per identity). The fetcher asks it for the Authorization header;
/// it decides nothing about tokens itself.
final class TokenEventBridge: AuthorizationSource, Sendable {
    private let keeper: TokenKeeper

    init(issuer: any TokenIssuer, events: EventQueue, policy: TokenKeeper.Policy = TokenKeeper.Policy(),
         audience: String = DicomService.audience, tenant: String? = nil) {
        let described = Mutex<String?>(nil)
        let name = issuer.description
        keeper = TokenKeeper(issuer: issuer, policy: policy, audience: audience, tenant: tenant, observe: { change in
            switch change {
            case .acquiring:
                events.post(.tokenAcquiring)
            case .acquired(let token, let refreshAt, let notice):
                let info = Self.summary(token, source: name)
                events.post(.tokenAcquired(info, refreshAt: refreshAt, notice: notice))
                // Best effort, in the background: the account's subscription for the header.
                let first = described.withLock { seen in
                    defer { seen = info.identity }
                    return seen != info.identity
                }
                if first {
                    Task.detached {
                        if let account = try? await issuer.account(),
                           let subscription = account.subscriptionName ?? account.subscriptionId {
                            events.post(.accountLoaded("subscription \(subscription)"))
                        }
                    }
                }
            case .failed(let e, let retryAt):
                events.post(.tokenFailed(Problem(e.message, hint: e.hint, signInHelps: e.needsLogin), retryAt: retryAt))
            }
        })
    }

    /// Gets a new token now (startup, the `r` key). The outcome arrives as events.
    func refresh() async { await keeper.refresh() }

    func authorization() async throws -> String { try await keeper.authorization() }

    func rejected() async { await keeper.rejected() }

    /// Why the service refused the token, from its claims (wrong audience or tenant), if they tell.
    func explain(_ error: ChangeFeedError) -> TokenError? { keeper.explain(error) }

    /// What the UI may know of a token: claims and expiry, and the masked form.
    static func summary(_ token: AccessToken, source: String) -> TokenSummary {
        let claims = token.claims
        return TokenSummary(expiresOn: token.expiresOn,
                            identity: claims?.identity ?? "unknown identity",
                            tenant: token.tenant ?? claims?.tid,
                            objectId: claims?.oid,
                            audience: claims?.aud,
                            masked: token.masked,
                            source: source)
    }
}
