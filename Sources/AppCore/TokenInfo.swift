import Foundation

/// What the UI may know of a token: its expiry and who it belongs to. Never the token itself,
/// only a masked form (first and last four characters).
public struct TokenInfo: Sendable, Equatable {
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

/// A failure to show the user: what happened and what to do about it.
public struct Problem: Sendable, Equatable {
    public var message: String
    public var hint: String?
    public init(_ message: String, hint: String? = nil) { self.message = message; self.hint = hint }
}

/// The token part of the app state.
public struct TokenState: Sendable, Equatable {
    /// The last token obtained (kept while a refresh runs, so the header keeps its identity).
    public var info: TokenInfo?
    /// True while a token request is running.
    public var acquiring = false
    /// The last failure, cleared by the next success.
    public var problem: Problem?
    /// Below this remaining lifetime the token counts as expiring soon (and a later issue refreshes it).
    public var refreshBefore: TimeInterval = 300

    public init() {}

    /// The status at `now`.
    public func status(at now: Date) -> TokenStatus {
        if acquiring { return .acquiring }
        if problem != nil { return .error }
        guard let info else { return .none }
        let left = info.expiresOn.timeIntervalSince(now)
        if left <= 0 { return .expired }
        if left < refreshBefore { return .expiringSoon }
        return .valid
    }
}
