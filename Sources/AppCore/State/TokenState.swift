import FeedModel
import Foundation

/// What the UI may know of a token: its expiry and who it belongs to (made from an `AccessToken`
/// by the runtime's `TokenEventBridge`). Never the token itself, only a masked form (first and
/// last four characters).
public struct TokenSummary: Sendable, Equatable {
    public var expiresOn: Date
    /// User principal name, or `app <appid>` for a service principal.
    public var identity: String
    public var tenant: String?
    public var objectId: String?
    public var audience: String?
    /// For example `eyJ0…Q1xw`.
    public var masked: String
    /// Where the token came from: `az`, `demo`.
    public var source: String
    /// The signed-in account as `az account show` reports it (subscription, user), when known.
    public var account: String?

    public init(expiresOn: Date, identity: String, tenant: String? = nil, objectId: String? = nil,
                audience: String? = nil, masked: String, source: String) {
        self.expiresOn = expiresOn; self.identity = identity; self.tenant = tenant
        self.objectId = objectId; self.audience = audience; self.masked = masked; self.source = source
    }
}

/// The token as the header shows it.
public enum TokenStatus: Sendable, Equatable {
    case none
    case acquiring
    case valid
    case expiringSoon
    case expired
    case error

    public var label: String {
        switch self {
        case .none: "no token"
        case .acquiring: "acquiring"
        case .valid: "valid"
        case .expiringSoon: "expiring soon"
        case .expired: "expired"
        case .error: "error"
        }
    }
}

/// The token part of the app state.
public struct TokenState: Sendable, Equatable {
    /// The last token obtained (kept while a refresh runs, so the header keeps its identity).
    public var info: TokenSummary?
    /// True while a token request is running. Written only by the transitions below.
    public private(set) var acquiring = false
    /// The last failure, cleared by the next success.
    public var problem: Problem?
    /// Below this remaining lifetime the token counts as expiring soon (and a later issue refreshes it).
    public var refreshBefore: TimeInterval = TokenTiming.defaultRefreshBefore
    /// When to ask for a token without the user asking, as the token keeper scheduled it (it
    /// backs off when az keeps answering with stale or short-lived tokens, or failing).
    public var nextRefresh: Date?
    /// What az's last answer calls for saying, though the token is usable (short-lived, say).
    public var notice: String?
    /// The pause after a failure when the failure did not say when to try again.
    public static let retryAfterFailure: TimeInterval = 30

    public init() {}

    /// A token request is running: one the core asked for (the `acquireToken` effect) or one
    /// the token keeper began by itself for the fetcher (the `tokenAcquiring` event). The one
    /// writer of `acquiring = true`; the schedule waits for the answer.
    public mutating func beginAcquiring() {
        acquiring = true
        nextRefresh = nil
    }

    /// A token arrived: the header shows it (keeping the account already described), and the
    /// next refresh is the keeper's `refreshAt`, else `refreshBefore` ahead of its expiry.
    public mutating func acquired(_ token: TokenSummary, refreshAt: Date?, notice: String?) {
        let account = info?.account
        info = token
        if info?.account == nil { info?.account = account }
        acquiring = false
        problem = nil
        nextRefresh = refreshAt ?? token.expiresOn.addingTimeInterval(-refreshBefore)
        self.notice = notice
    }

    /// No token: the problem is shown, and the next try is the keeper's `retryAt`, else
    /// `retryAfterFailure` from `now`.
    public mutating func failed(_ problem: Problem, retryAt: Date?, now: Date) {
        acquiring = false
        self.problem = problem
        notice = nil
        nextRefresh = retryAt ?? now.addingTimeInterval(Self.retryAfterFailure)
    }

    /// The status at `now`. With a token in hand, its lifetime decides (a refresh running or
    /// failed is shown beside it); without one, the request does.
    public func status(at now: Date) -> TokenStatus {
        guard let info else {
            if acquiring { return .acquiring }
            return problem != nil ? .error : .none
        }
        let left = info.expiresOn.timeIntervalSince(now)
        if left <= 0 { return problem != nil ? .error : .expired }
        if left < refreshBefore { return .expiringSoon }
        return .valid
    }

    /// True when a token should be asked for without the user asking: no request is running
    /// and the scheduled time has come (set after a token, to renew it, and after a failure, to
    /// try again after the keeper's pause: someone may have signed in in another terminal).
    public func needsAutomaticRefresh(at now: Date) -> Bool {
        guard !acquiring, let next = nextRefresh else { return false }
        return now >= next
    }
}
