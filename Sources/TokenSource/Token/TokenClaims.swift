import FeedModel
import Foundation

/// The claims dicomtui shows, read from a JWT payload. The signature is not checked:
/// this is for display and expiry only; the server does the real validation.
public struct TokenClaims: Sendable, Equatable {
    /// Audiences (`aud` may be a string or an array in a JWT).
    public var audiences: [String]
    public var exp: Date?
    public var iat: Date?
    public var tid: String?
    public var oid: String?
    public var upn: String?
    public var uniqueName: String?
    public var preferredUsername: String?
    public var appid: String?
    public var azp: String?
    public var name: String?
    public var idtyp: String?

    /// The first audience.
    public var aud: String? { audiences.first }

    public init(
        audiences: [String] = [], exp: Date? = nil, iat: Date? = nil, tid: String? = nil, oid: String? = nil,
        upn: String? = nil, uniqueName: String? = nil, preferredUsername: String? = nil,
        appid: String? = nil, azp: String? = nil, name: String? = nil, idtyp: String? = nil
    ) {
        self.audiences = audiences
        self.exp = exp
        self.iat = iat
        self.tid = tid
        self.oid = oid
        self.upn = upn
        self.uniqueName = uniqueName
        self.preferredUsername = preferredUsername
        self.appid = appid
        self.azp = azp
        self.name = name
        self.idtyp = idtyp
    }

    /// Who the token is for, for display: the user principal name, else
    /// `preferred_username`, else `unique_name`, else `app <appid>` (or `azp`).
    public var identity: String? {
        for candidate in [upn, preferredUsername, uniqueName] {
            if let candidate, !candidate.isEmpty { return candidate }
        }
        if let app = appid ?? azp, !app.isEmpty { return "app \(app)" }
        return nil
    }

    /// Largest token we are willing to look into.
    static let maximumTokenLength = 64 * 1024

    /// Decodes the payload (second segment) of a compact JWT. Returns nil for anything
    /// that is not `header.payload[.signature]` with a base64url JSON object as payload.
    public init?(jwt: String) {
        guard jwt.utf8.count <= Self.maximumTokenLength else { return nil }
        let segments = jwt.split(separator: ".", omittingEmptySubsequences: false)
        guard segments.count == 3 || segments.count == 2 else { return nil }
        guard let data = Base64URL.decode(segments[1]) else { return nil }
        self.init(payload: data)
    }

    /// Reads claims from a JSON object; fields of the wrong type are ignored.
    init?(payload: Data) {
        guard case .object(let dict)? = JSONValue(parsing: payload) else { return nil }
        var audiences: [String] = []
        switch dict["aud"] {
        case .string(let single)?: audiences = [single]
        case .array(let many)?: audiences = many.compactMap(\.stringValue)
        default: break
        }
        func date(_ key: String) -> Date? {
            guard case .number(let seconds)? = dict[key], abs(seconds) < 1e11 else { return nil }
            return Date(timeIntervalSince1970: seconds)
        }
        self.init(
            audiences: audiences, exp: date("exp"), iat: date("iat"),
            tid: dict["tid"]?.stringValue, oid: dict["oid"]?.stringValue, upn: dict["upn"]?.stringValue,
            uniqueName: dict["unique_name"]?.stringValue,
            preferredUsername: dict["preferred_username"]?.stringValue,
            appid: dict["appid"]?.stringValue, azp: dict["azp"]?.stringValue,
            name: dict["name"]?.stringValue, idtyp: dict["idtyp"]?.stringValue)
    }
}

enum Base64URL {
    /// Decodes base64url (or plain base64), with or without `=` padding. Nil on junk.
    static func decode(_ text: Substring) -> Data? {
        guard !text.isEmpty else { return nil }
        var s = String(text)
        s = s.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while s.hasSuffix("=") { s.removeLast() }
        switch s.utf8.count % 4 {
        case 1: return nil
        case 2: s += "=="
        case 3: s += "="
        default: break
        }
        return Data(base64Encoded: s)
    }

    static func encode(_ data: Data) -> String {
        data.base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
