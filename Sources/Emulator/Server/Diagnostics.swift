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

/// Counts and remembers requests (the most recent `capacity`), for tests and the demo.
public final class RequestLog: @unchecked Sendable {
    private let lock = NSLock()
    private var total = 0
    private var recent: [LoggedRequest] = []
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

    public func reset() {
        lock.withLock {
            total = 0
            recent.removeAll()
        }
    }

    func record(_ r: LoggedRequest) {
        lock.withLock {
            total += 1
            if recent.count == capacity { recent.removeFirst(recent.count / 2) }
            recent.append(r)
        }
    }
}
