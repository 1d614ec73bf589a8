import Foundation

/// Where an ``AccessToken``'s expiry came from, most trustworthy first.
public enum ExpirySource: String, Sendable, Equatable {
    /// `expires_on` from az (POSIX seconds, zone-free).
    case expiresOn
    /// `expiresOn` from az, read as the az process's local wall-clock time (az before 2.54).
    case localTime
    /// The `exp` claim of the JWT itself.
    case jwtClaim
    /// Nothing said when the token expires; az guarantees at least five minutes, so that is assumed.
    case assumed
    /// Set by whoever built the token (the demo issuer, tests).
    case explicit
}

/// A bearer token. The secret is kept private: every textual form (`description`,
/// `debugDescription`, `dump`, string interpolation) shows only ``masked``.
/// The raw value is reachable only through ``authorizationHeaderValue``.
public struct AccessToken: Sendable {
    private let secret: String
    /// When the token stops being accepted.
    public let expiresOn: Date
    /// How ``expiresOn`` was determined.
    public let expirySource: ExpirySource
    /// Tenant reported by az (or the `tid` claim), if any.
    public let tenant: String?
    /// Subscription reported by az (absent when `--tenant` was given).
    public let subscription: String?
    /// Claims decoded from the JWT payload, or nil when the token is not a readable JWT.
    public let claims: TokenClaims?

    public init(
        _ rawToken: String,
        expiresOn: Date,
        expirySource: ExpirySource = .explicit,
        tenant: String? = nil,
        subscription: String? = nil
    ) {
        self.secret = rawToken
        self.expiresOn = expiresOn
        self.expirySource = expirySource
        self.claims = TokenClaims(jwt: rawToken)
        self.tenant = tenant ?? claims?.tid
        self.subscription = subscription
    }

    /// The value of the HTTP `Authorization` header: `Bearer <token>`.
    /// This is the only way to reach the secret; don't log or store the result.
    public var authorizationHeaderValue: String { "Bearer " + secret }

    /// First four and last four characters, e.g. `eyJ0…s9Qw`. Short tokens show only `…`.
    public var masked: String { Self.mask(secret) }

    /// Number of characters in the secret (safe to show).
    public var length: Int { secret.count }

    /// Time left until expiry (negative once expired).
    public func remaining(at now: Date) -> TimeInterval { expiresOn.timeIntervalSince(now) }

    /// True while the token is valid for at least `margin` more seconds.
    public func isUsable(at now: Date, margin: TimeInterval = 0) -> Bool {
        remaining(at: now) > margin
    }

    static func mask(_ secret: String) -> String {
        // Showing 8 characters of a short string would reveal too much of it.
        guard secret.count >= 20 else { return "…" }
        return "\(secret.prefix(4))…\(secret.suffix(4))"
    }

    /// Same secret (compared without exposing it).
    public func hasSameSecret(as other: AccessToken) -> Bool { secret == other.secret }
}

extension AccessToken: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String {
        var parts = [masked, "expires \(Self.iso(expiresOn))"]
        if let tenant { parts.append("tenant \(tenant)") }
        if let identity = claims?.identity { parts.append(identity) }
        return "AccessToken(\(parts.joined(separator: ", ")))"
    }

    public var debugDescription: String {
        "AccessToken(\(masked), \(secret.count) chars, expires \(Self.iso(expiresOn)) [\(expirySource.rawValue)], "
            + "tenant \(tenant ?? "-"), subscription \(subscription ?? "-"))"
    }

    public var customMirror: Mirror {
        Mirror(self, children: [
            "masked": masked,
            "expiresOn": expiresOn,
            "expirySource": expirySource,
            "tenant": tenant as Any,
            "subscription": subscription as Any,
            "claims": claims as Any,
        ], displayStyle: .struct)
    }

    private static func iso(_ date: Date) -> String {
        date.formatted(.iso8601)
    }
}
