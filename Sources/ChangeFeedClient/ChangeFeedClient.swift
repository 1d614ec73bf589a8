import AsyncHTTPClient
import FeedModel
import Foundation
import NIOCore
import NIOHTTP1

/// One page request's parameters.
public struct PageQuery: Sendable, Equatable {
    /// v1: exclusive start sequence. v2: rows to skip inside the window.
    public var offset: Int64
    public var limit: Int
    public var includeMetadata: Bool
    /// v2 only: inclusive start and exclusive end of the time window (exact ticks).
    public var startTime: Timestamp?
    public var endTime: Timestamp?

    public init(offset: Int64, limit: Int, includeMetadata: Bool = false, startTime: Timestamp? = nil, endTime: Timestamp? = nil) {
        self.offset = offset; self.limit = limit; self.includeMetadata = includeMetadata
        self.startTime = startTime; self.endTime = endTime
    }
}

/// Reads the change feed over HTTP. Sends the bearer token to the configured service only,
/// follows redirects only to the same scheme, host and port, and decodes each entry on its own
/// so one bad entry never loses a page.
public final class ChangeFeedClient: Sendable {
    public let endpoint: ServiceEndpoint
    public let apiVersion: APIVersion
    private let http: HTTPClient
    private let timeout: TimeAmount
    private let userAgent: String

    /// `http` should be created with redirects disallowed (see `makeHTTPClient`) and shut down by the owner.
    public init(endpoint: ServiceEndpoint, apiVersion: APIVersion, http: HTTPClient,
                requestTimeout: TimeAmount = .seconds(60), userAgent: String = "dicomtui") {
        self.endpoint = endpoint; self.apiVersion = apiVersion; self.http = http
        self.timeout = requestTimeout; self.userAgent = userAgent
    }

    /// The same service through another API version (same host, token and HTTP client): the
    /// service serves v1 and v2 side by side on one feed, so a v2 reader can ask where a
    /// sequence is, and a v1 reader where a time is.
    public func sibling(_ version: APIVersion) -> ChangeFeedClient {
        version == apiVersion ? self
            : ChangeFeedClient(endpoint: endpoint, apiVersion: version, http: http, requestTimeout: timeout, userAgent: userAgent)
    }

    /// The same service through a sequence-mode route: itself when it is one, else v1 (the
    /// activity probes ask for sequence windows, which v2 cannot address).
    public var sequenceModeClient: ChangeFeedClient {
        apiVersion.isSequenceMode ? self : sibling(.v1)
    }

    /// An HTTP client that never follows a redirect by itself (the Authorization header must not
    /// go to another host); `ChangeFeedClient` follows same-origin redirects on its own.
    public static func makeHTTPClient(connectTimeout: Int64 = 10) -> HTTPClient {
        var config = HTTPClient.Configuration(redirectConfiguration: .disallow)
        config.timeout = .init(connect: .seconds(connectTimeout), read: .seconds(60))
        config.httpVersion = .automatic
        // Fail a refused connection at once: the fetcher retries with its own backoff and
        // reports each attempt, instead of the pool retrying silently until the connect timeout.
        config.connectionPool.retryConnectionEstablishment = false
        // Room for the fetcher's widest pipeline and a request or two beside it (the pool's
        // default, 8, queued every request past the eighth: adaptive concurrency stalled there).
        config.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = ConcurrencyController.maximum + 4
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: config)
    }

    /// The URL of a page request.
    public func pageURL(_ q: PageQuery) -> String {
        var items = [
            URLQueryItem(name: "offset", value: String(q.offset)),
            URLQueryItem(name: "limit", value: String(q.limit)),
            URLQueryItem(name: "includeMetadata", value: q.includeMetadata ? "true" : "false"),
        ]
        if apiVersion == .v2 {
            if let s = q.startTime { items.append(URLQueryItem(name: "startTime", value: s.iso)) }
            if let e = q.endTime { items.append(URLQueryItem(name: "endTime", value: e.iso)) }
        }
        return "\(endpoint.baseURL)/\(apiVersion.rawValue)/changefeed?" + Self.encode(items)
    }

    public var latestURL: String {
        "\(endpoint.baseURL)/\(apiVersion.rawValue)/changefeed/latest?includeMetadata=false"
    }

    /// One page of entries, in the order the service sent them. `authorization` is the whole
    /// header value (`Bearer …`).
    /// A 200 whose body is empty or not a JSON array is `.malformed` (retried: a proxy's error
    /// page or a cut answer is not an empty feed); a 204 is an empty page.
    public func page(_ query: PageQuery, authorization: String) async throws(ChangeFeedError) -> [EntryResult] {
        let (status, body) = try await get(pageURL(query), authorization: authorization)
        if status == 204 { return [] }
        if body.isEmpty { throw .malformed("an empty body with 200 OK instead of a JSON array") }
        return try Self.decodePage(body)
    }

    /// The newest entry, or nil for an empty feed. Only a 204 means an empty feed: a 200 with
    /// an empty body, or with anything but an entry, is `.malformed` (and retried).
    public func latest(authorization: String) async throws(ChangeFeedError) -> ChangeFeedEntry? {
        switch try await latestPosition(authorization: authorization) {
        case .entry(let e)?: return e
        case .undecodable(_, let bad)?: throw .malformed("the latest entry did not decode (\(bad.reason))")
        case nil: return nil
        }
    }

    /// Where the feed ends: the newest entry, or what could be read of it when it does not
    /// decode (the newest row can be one the service writes in a shape that does not read: its
    /// sequence and time are what a reader needs). Nil for an empty feed: a 204, or a 200 whose
    /// body is the JSON `null` the controller returns for it (changefeed-api.md 1.5); an empty
    /// or garbled 200 is not an empty feed.
    public func latestPosition(authorization: String) async throws(ChangeFeedError) -> EntryResult? {
        let (status, body) = try await get(latestURL, authorization: authorization)
        if status == 204 { return nil }
        return try Self.decodeLatest(body)
    }

    /// The body of a 200 from `/changefeed/latest`: see `latestPosition`.
    public static func decodeLatest(_ body: Data) throws(ChangeFeedError) -> EntryResult? {
        if body.isEmpty { throw .malformed("an empty body with 200 OK from /changefeed/latest (only 204 means an empty feed)") }
        // JSON null, with JSON's white space around it (any amount; nothing else): not the first
        // 16 bytes trimmed of Unicode white space, which took `null` + 12 spaces + junk for null
        // and `null` after 13 spaces for garbage.
        func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 }
        if let first = body.firstIndex(where: { !isSpace($0) }), let last = body.lastIndex(where: { !isSpace($0) }),
           body[first...last].elementsEqual("null".utf8) { return nil }
        switch PageDecoder.single(body) {
        case .failure(let e): throw .malformed("the latest entry is not a JSON object (\(e))")
        case .success(.entry(let e)): return .entry(e)
        case .success(.undecodable(_, let bad)) where bad.sequence != nil: return .undecodable(index: 0, bad)
        case .success(.undecodable(_, let bad)): throw .malformed("the latest entry did not decode (\(bad.reason))")
        }
    }

    /// Decodes a page (`PageDecoder`); elements that do not decode come back as `.undecodable`.
    public static func decodePage(_ data: Data) throws(ChangeFeedError) -> [EntryResult] {
        switch PageDecoder.page(data) {
        case .success(let results): return results
        case .failure(let e): throw .malformed("the page is not a JSON array of entries (\(e))")
        }
    }

    // MARK: - One entry

    /// The URL `entry(sequence:authorization:)` asks. Always a sequence-mode route: v1 for a
    /// v2 client (see there), the client's own version otherwise.
    public func entryURL(sequence: Int64) -> String {
        let version: APIVersion = apiVersion.isSequenceMode ? apiVersion : .v1
        return "\(endpoint.baseURL)/\(version.rawValue)/changefeed?" + Self.encode([
            URLQueryItem(name: "offset", value: String(max(0, sequence - 1))),
            URLQueryItem(name: "limit", value: "1"),
            URLQueryItem(name: "includeMetadata", value: "true"),
        ])
    }

    /// The entry with this sequence, with its metadata (the instance's current version; none
    /// for a deleted instance), for the detail view. Nil when no entry has this sequence
    /// (sequences can be skipped).
    ///
    /// Asks `?offset=sequence-1&limit=1&includeMetadata=true` on a sequence-mode route, which
    /// is exactly the rows with `Sequence BETWEEN sequence AND sequence`. v2 has no way to ask
    /// for a sequence (its `offset` counts rows inside a time window, and a window one tick wide
    /// around the entry's timestamp would depend on the timestamp surviving a round trip
    /// through `Date` to the 100 ns tick), so a v2 client asks the **v1 route of the same
    /// service**: the service serves v1.0-prerelease, v1 and v2 side by side on one feed (v1 is
    /// not deprecated), the rows are the same rows, and metadata is the current version on
    /// every version. The Authorization header goes to the same host as every other request.
    public func entry(sequence: Int64, authorization: String) async throws(ChangeFeedError) -> ChangeFeedEntry? {
        guard sequence >= 1 else { return nil }
        let (status, body) = try await get(entryURL(sequence: sequence), authorization: authorization)
        if status == 204 { return nil }
        if body.isEmpty { throw .malformed("an empty body with 200 OK instead of a JSON array") }
        let results = try Self.decodePage(body)
        for r in results {
            switch r {
            case .entry(let e) where e.sequence == sequence: return e
            case .entry: continue
            case .undecodable(_, let bad) where bad.sequence == nil || bad.sequence == sequence:
                throw .malformed("entry \(sequence) did not decode (\(bad.reason))")
            case .undecodable: continue
            }
        }
        return nil
    }

    // MARK: - HTTP

    /// At most this many redirects are followed per request.
    public static let maxRedirects = 3

    /// GET with the token. Follows a redirect only to the same scheme, host and port (at most
    /// `maxRedirects` hops), so the Authorization header never goes anywhere else; a redirect
    /// elsewhere is `.redirect` with the absolute location.
    private func get(_ url: String, authorization: String) async throws(ChangeFeedError) -> (status: Int, body: Data) {
        var current = url
        var hops = 0
        while true {
            let (status, headers, data) = try await send(current, authorization: authorization)
            switch status {
            case 200: return (200, data)
            case 204: return (204, Data())
            case 301, 302, 303, 307, 308:
                let location = headers.first(name: "Location")
                guard let location, let target = Self.redirectTarget(from: current, location: location) else {
                    throw .redirect(status: status, location: location.map { Self.absolute($0, base: current) })
                }
                guard target.sameOrigin, hops < Self.maxRedirects else {
                    throw .redirect(status: status, location: target.url)
                }
                hops += 1
                current = target.url
                continue
            default:
                break
            }
            let text = String(decoding: data.prefix(4096), as: UTF8.self)
            switch status {
            case 400: throw .badRequest(text)
            case 401: throw .unauthorized(challenge: headers.first(name: "WWW-Authenticate"))
            case 403: throw .forbidden(text)
            case 404: throw .notFound(text)
            case 429: throw .throttled(retryAfter: Self.retryAfter(headers.first(name: "Retry-After")))
            case 408, 500...599: throw .server(status: status, body: text)
            default: throw .unexpectedStatus(status, text)
            }
        }
    }

    private func send(_ url: String, authorization: String) async throws(ChangeFeedError) -> (Int, HTTPHeaders, Data) {
        var request = HTTPClientRequest(url: url)
        request.method = .GET
        request.headers.add(name: "Authorization", value: authorization)
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "User-Agent", value: userAgent)
        let response: HTTPClientResponse
        let bytes: ByteBuffer
        do {
            response = try await http.execute(request, timeout: timeout)
            bytes = try await response.body.collect(upTo: 256 << 20)
        } catch {
            throw .network(Self.networkProblem(error, host: endpoint.host))
        }
        return (Int(response.status.code), response.headers, Data(bytes.readableBytesView))
    }

    /// Where a redirect from `url` to `location` (absolute or relative) goes, and whether that
    /// is the same scheme, host and port. Nil when the location is not a usable http(s) URL.
    static func redirectTarget(from url: String, location: String) -> (url: String, sameOrigin: Bool)? {
        guard let base = URL(string: url),
              let target = URL(string: location.trimmingCharacters(in: .whitespaces), relativeTo: base)?.absoluteURL,
              let scheme = target.scheme?.lowercased(), scheme == "http" || scheme == "https",
              let host = target.host, !host.isEmpty else { return nil }
        func origin(_ u: URL) -> (String, String, Int)? {
            guard let s = u.scheme?.lowercased(), let h = u.host?.lowercased() else { return nil }
            return (s, h, u.port ?? (s == "https" ? 443 : 80))
        }
        guard let a = origin(base), let b = origin(target) else { return nil }
        return (target.absoluteString, a == b)
    }

    static func absolute(_ location: String, base: String) -> String {
        guard let b = URL(string: base), let u = URL(string: location, relativeTo: b)?.absoluteURL else { return location }
        return u.absoluteString
    }

    /// The longest wait a Retry-After can ask for. The fetcher sleeps in nanoseconds as a UInt64
    /// (about 584 years at most): `Retry-After: 1e20`, `inf` or a date in the year 9999 crashed it.
    public static let maxRetryAfter: TimeInterval = 30 * 86_400

    /// Retry-After as seconds or an HTTP date, at most `maxRetryAfter`; nil when it is neither
    /// (or not a number: `nan`).
    static func retryAfter(_ value: String?) -> TimeInterval? {
        guard let v = value?.trimmingCharacters(in: .whitespaces), !v.isEmpty else { return nil }
        func bounded(_ s: TimeInterval) -> TimeInterval? { s.isNaN ? nil : min(maxRetryAfter, max(0, s)) }
        if let s = Double(v) { return bounded(s) }
        if let d = httpDate(v) { return bounded(d.timeIntervalSinceNow) }
        return nil
    }

    /// An HTTP date as servers send it, the IMF-fixdate of RFC 9110 5.6.7:
    /// `Sun, 06 Nov 1994 08:49:37 GMT` (names in any case; `UTC` taken for `GMT`). Read by hand:
    /// Foundation's DateFormatter on Linux traps on text such as "M" + a combining mark.
    static func httpDate(_ text: String) -> Date? {
        let parts = text.split(separator: " ")
        guard parts.count == 6, parts[0].hasSuffix(","),
              ["mon", "tue", "wed", "thu", "fri", "sat", "sun"].contains(parts[0].dropLast().lowercased()),
              let month = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
                .firstIndex(of: parts[2].lowercased()),
              ["gmt", "utc"].contains(parts[5].lowercased()) else { return nil }
        var day = ISOScanner(String(parts[1])), year = ISOScanner(String(parts[3])), time = ISOScanner(String(parts[4]))
        guard let d = day.digits(2), day.atEnd, let y = year.digits(4), year.atEnd,
              let h = time.digits(2), time.accept(58), let m = time.digits(2), time.accept(58), let s = time.digits(2), time.atEnd,
              (1...Timestamp.daysIn(month: month + 1, year: y)).contains(d), h < 24, m < 60, s < 61 else { return nil }
        return Timestamp(year: y, month: month + 1, day: d, hour: h, minute: m, second: s).date
    }

    static func encode(_ items: [URLQueryItem]) -> String {
        // Query values carry '+' in time zones: encode everything but unreserved characters.
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~:")
        return items.map { item in
            let v = (item.value ?? "").addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
            return "\(item.name)=\(v)"
        }.joined(separator: "&")
    }

    /// A network failure in words a user can act on; the library's own text in brackets.
    static func networkProblem(_ error: Error, host: String) -> String {
        let raw = describe(error)
        let text = raw.lowercased()
        let plain: String
        if text.contains("connection refused") || text.contains("errno: 111") {
            plain = "\(host) refused the connection (nothing listening there?)"
        } else if text.contains("name or service not known") || text.contains("no address") || text.contains("nxdomain")
                    || text.contains("temporary failure in name resolution") || text.contains("dns") {
            plain = "the name \(host) could not be resolved"
        } else if text.contains("certificate") || text.contains("tls") || text.contains("ssl") || text.contains("handshake") {
            plain = "the TLS connection to \(host) failed (certificate or handshake)"
        } else if text.contains("timeout") || text.contains("timed out") || text.contains("deadline") {
            plain = "\(host) did not answer in time"
        } else if text.contains("reset") || text.contains("errno: 104") || text.contains("broken pipe") {
            plain = "the connection to \(host) was reset"
        } else if text.contains("remoteconnectionclosed") || text.contains("closed") || text.contains("ended at an unexpected time") {
            plain = "\(host) closed the connection before the answer was complete"
        } else {
            return raw
        }
        return "\(plain) [\(raw.count > 120 ? String(raw.prefix(120)) + "…" : raw)]"
    }

    /// The library's own text of a network error.
    static func describe(_ error: Error) -> String {
        if let e = error as? HTTPClientError { return "\(e)" }
        return String(describing: error)
    }
}
