import Foundation

/// A DICOM service base URL, checked: `https://` always, plain `http://` only for loopback hosts,
/// so a token is never sent in clear text over a network.
public struct ServiceEndpoint: Sendable, Equatable, CustomStringConvertible {
    /// `https://ws-svc.dicom.azurehealthcareapis.com` (no trailing slash, no version).
    public let baseURL: String
    public let host: String
    public let isLoopback: Bool

    public enum Invalid: Error, Equatable, CustomStringConvertible {
        case notAURL(String)
        case plainHTTPToRemoteHost(String)
        case unsupportedScheme(String)
        /// `https://user:password@host`: the host named.
        case credentials(String)
        public var description: String {
            switch self {
            case .notAURL(let s): "'\(s)' is not a URL. Give the service URL, for example https://myws-mydicom.dicom.azurehealthcareapis.com"
            case .plainHTTPToRemoteHost(let h): "plain http:// is allowed only for loopback hosts (127.0.0.1, localhost, [::1]); use https:// for \(h)"
            case .unsupportedScheme(let s): "the URL scheme '\(s)' is not supported; use https://"
            case .credentials(let h): "the URL for \(h) carries a user name or password; credentials never belong in a URL "
                + "(they end up in shell history, logs and process lists) and dicomtui would not send them: remove them, "
                + "the token comes from az. If that was a real password, change it"
            }
        }
    }

    public init(_ text: String) throws(Invalid) {
        var trimmed = text
        // A pasted URL with a version or /changefeed on it still means the service. Until nothing
        // changes: what is left after a suffix can end in "/" or white space again (`https://h:/v1`
        // left `https://h:/`, a base URL that does not give itself back).
        var before: String
        repeat {
            before = trimmed
            trimmed = trimmed.trimmingCharacters(in: .whitespaces)
            while trimmed.hasSuffix("/") { trimmed.removeLast() }
            for suffix in ["/changefeed/latest", "/changefeed"] where trimmed.lowercased().hasSuffix(suffix) {
                trimmed.removeLast(suffix.count)
            }
            if let r = trimmed.range(of: #"/v[0-9][0-9.]*(-prerelease)?$"#, options: [.regularExpression, .caseInsensitive]) {
                trimmed.removeSubrange(r)
            }
        } while trimmed != before
        guard let comps = URLComponents(string: trimmed), let scheme = comps.scheme?.lowercased(),
              let host = comps.host, !host.isEmpty else {
            // Never repeat a password back: say only that it is not a URL.
            if text.contains("@") { throw .notAURL("(the text given)") }
            throw .notAURL(text)
        }
        if comps.user != nil || comps.password != nil { throw .credentials(host) }
        let loopback = ServiceEndpoint.isLoopbackHost(host)
        switch scheme {
        case "https": break
        case "http": guard loopback else { throw .plainHTTPToRemoteHost(host) }
        default: throw .unsupportedScheme(scheme)
        }
        self.baseURL = trimmed
        self.host = host
        self.isLoopback = loopback
    }

    public var description: String { baseURL }

    static func isLoopbackHost(_ host: String) -> Bool {
        let h = host.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        if h == "localhost" || h == "::1" { return true }
        // 127.0.0.0/8 as a dotted quad of numbers only: `127.evil.example.com` is a DNS name
        // that can resolve anywhere.
        let parts = h.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { p in
            (1...3).contains(p.count) && p.allSatisfy { $0.isASCII && $0.isNumber } && Int(p)! <= 255
        }
    }
}
