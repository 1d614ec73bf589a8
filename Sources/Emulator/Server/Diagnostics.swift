import FeedModel
import Foundation

/// One request the emulator answered.
public struct LoggedRequest: Sendable, Equatable {
    public var method: String
    public var path: String
    /// The raw (still percent-encoded) query string, nil when there was none.
    public var query: String?
    public var authorization: String?
    /// The status sent; 0 when the connection was dropped without a response (`reset`, `hang`).
    public var status: Int
    /// The injected fault applied to this request, if any.
    public var fault: InjectedFault? = nil
}

/// What a change-feed request asked for, read from its path and query string as the emulator
/// binds them (names case-insensitive, the first value of a repeated name). A value that is
/// absent or does not parse is nil, so a test sees exactly what the client sent.
public struct ChangeFeedRequest: Sendable, Equatable {
    public var version: APIVersion
    /// `/changefeed/latest` rather than a page.
    public var isLatest: Bool
    public var offset: Int64?
    public var limit: Int?
    public var startTime: Timestamp?
    public var endTime: Timestamp?
    public var includeMetadata: Bool?
    /// The status sent (0: the connection was dropped).
    public var status: Int

    /// A v2 page request.
    public var isV2Page: Bool { version == .v2 && !isLatest }
}

extension LoggedRequest {
    /// The parameters of a change-feed request; nil for any other path.
    public var changeFeed: ChangeFeedRequest? {
        let route = EmulatorServer.route(path)
        let version: APIVersion, isLatest: Bool
        switch route {
        case .feed(let v): version = v; isLatest = false
        case .latest(let v): version = v; isLatest = true
        case nil: return nil
        }
        let q = QueryParameters(query)
        func time(_ name: String) -> Timestamp? {
            guard let raw = q.first(name), case .ticks(let t) = FeedTime.parseQueryTime(raw) else { return nil }
            return Timestamp(ticks: t)
        }
        return ChangeFeedRequest(
            version: version, isLatest: isLatest,
            offset: q.first("offset").flatMap { Int64($0.trimmingASCIIWhitespace()) },
            limit: q.first("limit").flatMap { Int($0.trimmingASCIIWhitespace()) },
            startTime: time("startTime"), endTime: time("endTime"),
            includeMetadata: q.first("includeMetadata").flatMap { Bool($0.trimmingASCIIWhitespace().lowercased()) },
            status: status)
    }
}

/// Counts and remembers requests (the most recent `capacity`), for tests and the demo.
public final class RequestLog: @unchecked Sendable {
    private let lock = NSLock()
    private var total = 0
    private var recent: [LoggedRequest] = []
    private var largestOffset: Int64 = 0
    public let capacity: Int

    public init(capacity: Int = 10_000) { self.capacity = max(1, capacity) }

    /// Requests answered since start (or `reset()`).
    public var count: Int { lock.withLock { total } }
    /// The most recent request.
    public var last: LoggedRequest? { lock.withLock { recent.last } }
    /// The raw query string of the most recent request.
    public var lastQuery: String? { last?.query }
    /// The most recent requests, oldest first.
    public var requests: [LoggedRequest] { lock.withLock { recent } }

    /// The change-feed requests among the most recent ones, parsed (oldest first).
    public var changeFeedRequests: [ChangeFeedRequest] { requests.compactMap(\.changeFeed) }

    /// The `offset` of each v2 page request among the most recent ones (0 when none was sent).
    public var v2Offsets: [Int64] { changeFeedRequests.filter(\.isV2Page).map { $0.offset ?? 0 } }

    /// The largest `offset` any v2 page request sent since start or `reset()`, including
    /// requests the log no longer keeps (0 when none sent one).
    public var largestV2Offset: Int64 { lock.withLock { largestOffset } }

    public func reset() {
        lock.withLock {
            total = 0
            recent.removeAll()
            largestOffset = 0
        }
    }

    func record(_ r: LoggedRequest) {
        // Parsed only when it may carry an offset (the log sits on every request's path).
        let feed = r.query.flatMap { $0.range(of: "offset", options: .caseInsensitive) } != nil ? r.changeFeed : nil
        lock.withLock {
            if let feed, feed.isV2Page, let offset = feed.offset { largestOffset = max(largestOffset, offset) }
            total += 1
            if recent.count == capacity { recent.removeFirst(recent.count / 2) }
            recent.append(r)
        }
    }
}
