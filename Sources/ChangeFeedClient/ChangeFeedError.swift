import Foundation

/// What can go wrong reading the change feed, each with a message and a hint a user can act on.
/// Server text is kept as sent (trimmed); it is sanitized when drawn.
public enum ChangeFeedError: Error, Sendable, Equatable {
    /// 401: the token was missing, expired or for another audience. `challenge` is WWW-Authenticate.
    case unauthorized(challenge: String?)
    /// 403: the identity lacks a DICOM data role.
    case forbidden(String)
    /// 404: wrong URL or API version.
    case notFound(String)
    /// 400: the service rejected a parameter; its own text.
    case badRequest(String)
    /// 429: throttled; wait this long when the service says.
    case throttled(retryAfter: TimeInterval?)
    /// 408 and 5xx.
    case server(status: Int, body: String)
    case unexpectedStatus(Int, String)
    /// 3xx: not followed, so the token never goes to another host.
    case redirect(status: Int, location: String?)
    /// The connection failed (refused, reset, DNS, TLS, timeout).
    case network(String)
    /// The body was not the JSON expected.
    case malformed(String)
    /// An element of a page did not decode (the reason): its page is read again, to tell a
    /// garbled answer from an entry the service always sends broken. Only ever reported with
    /// `.retrying`, never a stop.
    case entryUnreadable(String)
    /// No token could be had.
    case noToken(String)
    /// A request kept failing with errors worth retrying (`last`) for `seconds`, over
    /// `attempts` tries, and the run was told to give up then (`Fetcher.giveUpAfter`).
    indirect case gaveUp(seconds: Int, attempts: Int, last: ChangeFeedError)

    /// The token was the problem: a new token (after signing in, say) may fix it.
    public var needsToken: Bool {
        switch self {
        case .unauthorized, .noToken: true
        default: false
        }
    }

    /// Worth trying again after a pause. A body that is not the JSON expected counts: a
    /// proxy's error page or a cut answer passes (the fetcher gives up when it persists).
    public var isRetryable: Bool {
        switch self {
        case .throttled, .server, .network, .malformed, .entryUnreadable: true
        default: false
        }
    }

    public var message: String {
        switch self {
        case .unauthorized(let challenge):
            var s = "401 Unauthorized: the service did not accept the token"
            if let d = challenge.flatMap(Self.errorDescription(inChallenge:)) { s += " (\(d))" }
            return s
        case .forbidden(let body): return "403 Forbidden" + Self.suffix(body)
        case .notFound(let body): return "404 Not Found" + Self.suffix(body)
        case .badRequest(let body): return "400 Bad Request" + Self.suffix(body)
        case .throttled(let after): return "429 Too Many Requests" + (after.map { ", retry after \(Int($0)) s" } ?? "")
        case .server(let status, let body): return "\(status) from the service" + Self.suffix(body)
        case .unexpectedStatus(let status, let body): return "unexpected HTTP \(status)" + Self.suffix(body)
        case .redirect(let status, let location): return "HTTP \(status) redirect to \(location ?? "?") not followed"
        case .network(let what): return "network error: \(what)"
        case .malformed(let what): return "the service sent something that is not a change-feed page: \(what)"
        case .entryUnreadable(let why): return "an entry did not decode (\(why)); reading its page again"
        case .noToken(let why): return "no token: \(why)"
        case .gaveUp(let seconds, let attempts, let last):
            return "gave up after \(attempts) attempt\(attempts == 1 ? "" : "s") in \(seconds) s; the last: \(last.message)"
        }
    }

    public var hint: String? {
        switch self {
        case .unauthorized: "A fresh token was refused too: check that --resource is the service's audience, that --tenant is the service's tenant, and that this identity may use the service. Press r to try again, l to sign in as someone else."
        case .forbidden: "The identity needs the DICOM Data Reader (or Data Owner) role on this DICOM service."
        case .notFound: "Check the service URL (https://<workspace>-<service>.dicom.azurehealthcareapis.com) and --api-version."
        case .badRequest: "The service rejected a parameter; check --api-version and the time options."
        case .throttled: "The service is throttling requests; dicomtui waits and retries."
        case .server: "The service had a problem; dicomtui retries with backoff."
        case .network: "Check the network and the service URL; dicomtui retries with backoff."
        case .redirect: "Use the service's final URL with --url."
        case .malformed: "The service kept answering with something that is not change-feed JSON: check that --url points at a DICOM service and not at a proxy or sign-in page."
        case .unexpectedStatus: "Check that --url points at a DICOM service."
        case .entryUnreadable: "If it stays unreadable it is kept, marked, in its place; the rest of the page loads."
        case .noToken: "Fix the token problem shown above, then press r (or l to sign in); loading resumes where it stopped."
        case .gaveUp(_, _, let last): last.hint
        }
    }

    static func suffix(_ body: String) -> String {
        let t = body.trimmingCharacters(in: .whitespacesAndNewlines)
        if t.isEmpty { return "" }
        return ": " + (t.count > 300 ? String(t.prefix(300)) + "…" : t)
    }

    /// `error_description="..."` out of a WWW-Authenticate header.
    static func errorDescription(inChallenge header: String) -> String? {
        challengeParameter("error_description", in: header)
    }

    /// A quoted parameter of a WWW-Authenticate header (`resource_id`, `authorization_uri`, …).
    public static func challengeParameter(_ name: String, in header: String) -> String? {
        var search = header[...]
        while let r = search.range(of: name + "=\"", options: .caseInsensitive) {
            // A whole parameter name: at the start or after a space or comma.
            let before = r.lowerBound == header.startIndex ? nil : header[header.index(before: r.lowerBound)]
            let rest = header[r.upperBound...]
            if before == nil || before == " " || before == "," {
                guard let end = rest.firstIndex(of: "\"") else { return nil }
                return String(rest[..<end])
            }
            search = rest
        }
        return nil
    }
}
