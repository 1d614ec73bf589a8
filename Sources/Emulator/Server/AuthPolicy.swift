import FeedModel
import Foundation

/// Who may read the emulated feed.
public enum AuthPolicy: Sendable, Equatable {
    /// Everyone.
    case none
    /// Exactly `Authorization: Bearer <token>`.
    case bearerToken(String)
    /// A JWT whose payload (signature not checked) has `aud` equal to `audience` (a string, or
    /// an array containing it) and an `exp` later than now minus `clockSkew` seconds.
    case jwt(JWTRequirements)

    public static let defaultAudience = DicomService.audience
}

public struct JWTRequirements: Sendable, Equatable {
    public var audience: String
    /// Tenant in the challenge's `authorization_uri`.
    public var tenant: String
    /// Seconds of tolerance after `exp` (ASP.NET's default is 300; the emulator defaults to 0
    /// so that expiry is testable to the second).
    public var clockSkew: TimeInterval

    public init(audience: String = AuthPolicy.defaultAudience, tenant: String = "common", clockSkew: TimeInterval = 0) {
        self.audience = audience
        self.tenant = tenant
        self.clockSkew = clockSkew
    }
}

/// The result of checking a request's `Authorization` header.
enum AuthOutcome: Equatable {
    case allowed
    /// 401 with this `WWW-Authenticate` value.
    case challenge(String)
}

struct Authenticator: Sendable {
    var policy: AuthPolicy
    var now: @Sendable () -> Date = { Date() }

    var audience: String {
        if case .jwt(let r) = policy { return r.audience }
        return AuthPolicy.defaultAudience
    }

    var tenant: String {
        if case .jwt(let r) = policy { return r.tenant }
        return "common"
    }

    /// `Bearer authorization_uri="…", resource_id="…", realm="…"`, plus `error` and
    /// `error_description` when a token was presented and refused.
    func challenge(error: String? = nil, description: String? = nil) -> String {
        var value = "Bearer authorization_uri=\"https://login.microsoftonline.com/\(tenant)\", resource_id=\"\(audience)\", realm=\"\(audience)\""
        if let error {
            value += ", error=\"\(error)\""
            if let description, !description.isEmpty { value += ", error_description=\"\(description)\"" }
        }
        return value
    }

    func check(authorization: String?) -> AuthOutcome {
        if case .none = policy { return .allowed }
        guard let authorization, let token = Self.bearerToken(authorization) else { return .challenge(challenge()) }
        switch policy {
        case .none:
            return .allowed
        case .bearerToken(let expected):
            return token == expected ? .allowed : .challenge(challenge(error: "invalid_token"))
        case .jwt(let r):
            guard let claims = Self.claims(token) else { return .challenge(challenge(error: "invalid_token")) }
            guard let exp = (claims["exp"] as? NSNumber)?.doubleValue else {
                return .challenge(challenge(error: "invalid_token", description: "The token has no expiration"))
            }
            if exp + r.clockSkew <= now().timeIntervalSince1970 {
                return .challenge(challenge(error: "invalid_token",
                                            description: "The token expired at '\(Self.dotNetDate(exp))'"))
            }
            let audiences: [String]
            if let a = claims["aud"] as? String { audiences = [a] } else { audiences = claims["aud"] as? [String] ?? [] }
            guard audiences.contains(r.audience) else {
                let shown = audiences.isEmpty ? "(null)" : audiences.joined(separator: ", ")
                return .challenge(challenge(error: "invalid_token", description: "The audience '\(shown)' is invalid"))
            }
            return .allowed
        }
    }

    /// The token of a `Bearer` header (scheme case-insensitive), nil otherwise.
    static func bearerToken(_ header: String) -> String? {
        let trimmed = header.trimmingASCIIWhitespace()
        guard trimmed.count > 7, trimmed.prefix(7).lowercased() == "bearer " else { return nil }
        let token = String(trimmed.dropFirst(7)).trimmingASCIIWhitespace()
        return token.isEmpty ? nil : token
    }

    /// The decoded payload of a compact JWS (`header.payload.signature`), nil when malformed.
    static func claims(_ token: String) -> [String: Any]? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let payload = base64URLDecode(parts[1]),
              let object = try? JSONSerialization.jsonObject(with: payload) as? [String: Any] else { return nil }
        return object
    }

    static func base64URLDecode(_ s: Substring) -> Data? {
        var b64 = s.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while b64.count % 4 != 0 { b64 += "=" }
        return Data(base64Encoded: b64)
    }

    /// `MM/dd/yyyy HH:mm:ss` (invariant culture, UTC), as ASP.NET formats an expiry.
    static func dotNetDate(_ epochSeconds: Double) -> String {
        let ticks = Int64(epochSeconds.rounded(.down)) * FeedTime.ticksPerSecond
        let iso = FeedTime.format(ticks)   // 2024-03-04T08:00:00.0000000+00:00
        let c = Array(iso)
        return String(c[5...6]) + "/" + String(c[8...9]) + "/" + String(c[0...3]) + " " + String(c[11...18])
    }
}
