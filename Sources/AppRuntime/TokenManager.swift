import AppCore
import Authorization
import ChangeFeedClient
import Foundation
import Synchronization
import TokenSource

/// The UI's side of the token: a `TokenKeeper` (the only holder of the token) whose changes
/// become events, plus the account description for the header (`az account show`, once per
/// identity). The fetcher asks it for the Authorization header.
final class TokenManager: AuthorizationSource, Sendable {
    private let keeper: TokenKeeper

    init(source: any TokenProvider, events: EventQueue, policy: TokenKeeper.Policy = TokenKeeper.Policy(),
         audience: String = AzCLI.dicomResource, tenant: String? = nil) {
        let described = Mutex<String?>(nil)
        let name = source.description
        keeper = TokenKeeper(source: source, policy: policy, audience: audience, tenant: tenant, observe: { change in
            switch change {
            case .acquiring:
                events.post(.tokenAcquiring)
            case .acquired(let token, let refreshAt, let notice):
                let info = Self.info(token, source: name)
                events.post(.tokenAcquired(info, refreshAt: refreshAt, notice: notice))
                // Best effort, in the background: the account's subscription for the header.
                let first = described.withLock { seen in
                    defer { seen = info.identity }
                    return seen != info.identity
                }
                if first {
                    Task.detached {
                        if let account = try? await source.account(),
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
