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
    /// v2 only: inclusive start and exclusive end of the time window.
    public var startTime: Date?
    public var endTime: Date?

    public init(offset: Int64, limit: Int, includeMetadata: Bool = false, startTime: Date? = nil, endTime: Date? = nil) {
        self.offset = offset; self.limit = limit; self.includeMetadata = includeMetadata
        self.startTime = startTime; self.endTime = endTime
    }
}

/// Reads the change feed over HTTP. Sends the bearer token to the configured service only,
/// follows no redirects, and decodes each entry on its own so one bad entry never loses a page.
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

    /// An HTTP client that never follows a redirect (the Authorization header must not go to another host).
    public static func makeHTTPClient() -> HTTPClient {
        var config = HTTPClient.Configuration(redirectConfiguration: .disallow)
        config.timeout = .init(connect: .seconds(10), read: .seconds(60))
        config.httpVersion = .automatic
        // Fail a refused connection at once: the fetcher retries with its own backoff and
        // reports each attempt, instead of the pool retrying silently until the connect timeout.
        config.connectionPool.retryConnectionEstablishment = false
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
            if let s = q.startTime { items.append(URLQueryItem(name: "startTime", value: Timestamp.format(s))) }
            if let e = q.endTime { items.append(URLQueryItem(name: "endTime", value: Timestamp.format(e))) }
        }
        return "\(endpoint.baseURL)/\(apiVersion.rawValue)/changefeed?" + Self.encode(items)
    }

    public var latestURL: String {
        "\(endpoint.baseURL)/\(apiVersion.rawValue)/changefeed/latest?includeMetadata=false"
    }

    /// One page of entries, in the order the service sent them. `authorization` is the whole
    /// header value (`Bearer …`).
    public func page(_ query: PageQuery, authorization: String) async throws(ChangeFeedError) -> [EntryResult] {
        let body = try await get(pageURL(query), authorization: authorization)
        return try Self.decodePage(body)
    }

    /// The newest entry, or nil for an empty feed (204).
    public func latest(authorization: String) async throws(ChangeFeedError) -> ChangeFeedEntry? {
        let body = try await get(latestURL, authorization: authorization)
        if body.isEmpty { return nil }
        do {
            return try JSONDecoder().decode(ChangeFeedEntry.self, from: body)
        } catch let e as EntryDecodingError {
            throw .malformed(e.message)
        } catch {
            throw .malformed("the latest entry did not decode (\(Self.describe(error)))")
        }
    }

    /// Decodes a page; elements that do not decode come back as `.undecodable`.
    public static func decodePage(_ data: Data) throws(ChangeFeedError) -> [EntryResult] {
        let items: [Lossy]
        do {
            items = try JSONDecoder().decode([Lossy].self, from: data)
        } catch {
            throw .malformed("the page is not a JSON array of entries (\(describe(error)))")
        }
        return items.enumerated().map { i, item in
            switch item.result {
            case .success(let e): .entry(e)
            case .failure(let reason): .undecodable(index: i, reason: reason.message)
            }
        }
    }

    // MARK: - HTTP

    private func get(_ url: String, authorization: String) async throws(ChangeFeedError) -> Data {
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
            throw .network(Self.describe(error))
        }
        let data = Data(bytes.readableBytesView)
        let status = Int(response.status.code)
        switch status {
        case 200: return data
        case 204: return Data()
        default: break
        }
        let text = String(decoding: data.prefix(4096), as: UTF8.self)
        switch status {
        case 301, 302, 303, 307, 308: throw .redirect(status: status, location: response.headers.first(name: "Location"))
        case 400: throw .badRequest(text)
        case 401: throw .unauthorized(challenge: response.headers.first(name: "WWW-Authenticate"))
        case 403: throw .forbidden(text)
        case 404: throw .notFound(text)
        case 429: throw .throttled(retryAfter: Self.retryAfter(response.headers.first(name: "Retry-After")))
        case 408, 500...599: throw .server(status: status, body: text)
        default: throw .unexpectedStatus(status, text)
        }
    }

    /// Retry-After as seconds or an HTTP date.
    static func retryAfter(_ value: String?) -> TimeInterval? {
        guard let v = value?.trimmingCharacters(in: .whitespaces), !v.isEmpty else { return nil }
        if let s = Double(v) { return max(0, s) }
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        if let d = f.date(from: v) { return max(0, d.timeIntervalSinceNow) }
        return nil
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

    static func describe(_ error: Error) -> String {
        if let e = error as? DecodingError {
            switch e {
            case .dataCorrupted(let c): return c.debugDescription
            case .keyNotFound(let k, _): return "missing \(k.stringValue)"
            case .typeMismatch(_, let c), .valueNotFound(_, let c): return c.debugDescription
            @unknown default: return "\(e)"
            }
        }
        if let e = error as? HTTPClientError { return "\(e)" }
        return String(describing: error)
    }
}

/// One element of a page: an entry, or why it did not decode.
struct Lossy: Decodable {
    let result: Result<ChangeFeedEntry, EntryDecodingError>
    init(from decoder: Decoder) throws {
        do {
            result = .success(try ChangeFeedEntry(from: decoder))
        } catch let e as EntryDecodingError {
            result = .failure(e)
        } catch {
            result = .failure(EntryDecodingError(ChangeFeedClient.describe(error)))
        }
    }
}
