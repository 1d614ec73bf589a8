import FeedModel
import Foundation
import TerminalKit
import TokenSource

/// What `dicomtui token` says about a token: state, expiry, identity and audience from the
/// claims, the masked form. Never the token itself.
public struct TokenReport: Sendable, Equatable {
    public enum State: String, Sendable {
        /// Valid for at least the refresh threshold.
        case valid
        /// Valid, but for less than the refresh threshold.
        case expiring
        case expired
    }

    public var state: State
    public var expiresOn: Date
    public var secondsLeft: Int
    public var refreshBefore: Int
    /// User principal name, else preferred or unique name, else `app <id>`.
    public var identity: String?
    public var upn: String?
    public var appId: String?
    public var tenant: String?
    public var objectId: String?
    public var audience: String?
    public var subscription: String?
    /// `eyJ0…Q1xw`: the first and last four characters.
    public var masked: String
    public var length: Int
    /// Where the token came from (`Azure CLI token for …`).
    public var source: String

    /// Set when the claims show the token cannot be used for the service: another audience than
    /// the DICOM service's, or another tenant than `--tenant`.
    public var wrongToken: TokenError?

    public init(token: AccessToken, source: String, refreshBefore: TimeInterval, now: Date,
                audience expected: String = DicomService.audience, tenant expectedTenant: String? = nil) {
        wrongToken = Audience.problem(claims: token.claims, expected: Audience.expected(forResource: expected), tenant: expectedTenant)
        let left = token.remaining(at: now)
        state = left <= 0 ? .expired : (left < refreshBefore ? .expiring : .valid)
        expiresOn = token.expiresOn
        secondsLeft = Int(left.rounded(.down))
        self.refreshBefore = Int(refreshBefore.rounded())
        let c = token.claims
        identity = c?.identity
        upn = c?.upn ?? c?.preferredUsername ?? c?.uniqueName
        appId = c?.appid ?? c?.azp
        tenant = token.tenant ?? c?.tid
        objectId = c?.oid
        audience = c?.aud
        subscription = token.subscription
        masked = token.masked
        length = token.length
        self.source = source
    }

    /// `valid`, `expiring`, `expired`; or `wrong-audience`, `wrong-tenant` when the token is not for this service.
    public var stateLabel: String {
        switch wrongToken {
        case .wrongAudience?: "wrong-audience"
        case .wrongTenant?: "wrong-tenant"
        default: state.rawValue
        }
    }

    /// True when the exit status is 0: valid for at least the threshold, and for this service.
    public var isUsable: Bool { state == .valid && wrongToken == nil }

    /// Why the token is not good enough, for stderr (nil when it is).
    public var problem: String? {
        switch state {
        case .valid: return nil
        case .expiring:
            return "the token expires in \(secondsLeft) s, less than the refresh threshold of \(refreshBefore) s "
                + "(--refresh-before). Run `az account get-access-token` again later, or lower --refresh-before."
        case .expired:
            let e = TokenError.staleToken(secondsLeft: secondsLeft)
            return e.message + " " + e.hint(.shell)
        }
    }

    /// `2026-05-01T14:03:12+02:00` in `zone`.
    public static func localTime(_ date: Date, in zone: TimeZone) -> String {
        date.formatted(Date.ISO8601FormatStyle(timeZoneSeparator: .colon, timeZone: zone))
    }

    /// Lines for people: `name  value`.
    public func text(in zone: TimeZone) -> String {
        var rows: [(String, String)] = [
            ("state", stateLabel),
            ("expires", "\(Self.localTime(expiresOn, in: zone)) (\(secondsLeft) s left; threshold \(refreshBefore) s)"),
        ]
        if let identity { rows.append(("identity", identity)) }
        if let appId { rows.append(("app id", appId)) }
        if let tenant { rows.append(("tenant", tenant)) }
        if let objectId { rows.append(("object id", objectId)) }
        if let audience {
            if case .wrongAudience(_, let expected)? = wrongToken {
                rows.append(("audience", "\(audience) (not the DICOM service's: \(expected))"))
            } else {
                rows.append(("audience", audience))
            }
        }
        if let subscription { rows.append(("subscription", subscription)) }
        rows.append(("token", "\(masked) (\(length) characters, never shown in full)"))
        rows.append(("source", source))
        let width = rows.map(\.0.count).max() ?? 0
        // Claims and az's account text, made safe to show on a terminal.
        return rows.map { $0.0.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + SafeText.sanitize($0.1) }
            .joined(separator: "\n") + "\n"
    }

    /// One JSON object (pretty when `pretty`), keys sorted.
    public func json(in zone: TimeZone, pretty: Bool = true) -> String {
        let body = JSONBody(state: stateLabel, expiresOn: Self.localTime(expiresOn, in: zone),
                            expiresOnUTC: Self.localTime(expiresOn, in: TimeZone(identifier: "UTC")!),
                            secondsLeft: secondsLeft, refreshBefore: refreshBefore, identity: identity, upn: upn,
                            appId: appId, tenant: tenant, objectId: objectId, audience: audience,
                            subscription: subscription, masked: masked, source: source,
                            error: wrongToken?.message, hint: wrongToken?.hint(.shell))
        return Self.encode(body, pretty: pretty)
    }

    /// The JSON `dicomtui token --json` prints when no token could be had.
    public static func failureJSON(_ error: TokenError, pretty: Bool = true) -> String {
        let body = JSONBody(state: "error", expiresOn: nil, expiresOnUTC: nil, secondsLeft: nil, refreshBefore: nil,
                            identity: nil, upn: nil, appId: nil, tenant: nil, objectId: nil, audience: nil,
                            subscription: nil, masked: nil, source: nil, error: error.message, hint: error.hint(.shell))
        return encode(body, pretty: pretty)
    }

    struct JSONBody: Encodable {
        var state: String
        var expiresOn: String?
        var expiresOnUTC: String?
        var secondsLeft: Int?
        var refreshBefore: Int?
        var identity: String?
        var upn: String?
        var appId: String?
        var tenant: String?
        var objectId: String?
        var audience: String?
        var subscription: String?
        var masked: String?
        var source: String?
        var error: String?
        var hint: String?
    }

    static func encode(_ body: JSONBody, pretty: Bool) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(body) else { return "{}\n" }
        return String(decoding: data, as: UTF8.self) + "\n"
    }
}
