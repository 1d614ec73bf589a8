import Foundation

/// One request the emulator answered.
public struct LoggedRequest: Sendable, Equatable {
    public var method: String
    public var path: String
    /// The raw (still percent-encoded) query string, nil when there was none.
    public var query: String?
    public var authorization: String?
    public var status: Int
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

/// A misbehaviour the emulator applies to a request instead of (or before) answering it.
/// This is the seam for fault injection; more kinds (resets, hangs, truncated or malformed
/// bodies, a bad entry in a page) slot in here.
public enum InjectedFault: Sendable, Equatable {
    /// Answer with this status and plain-text body; `retryAfter` adds a `Retry-After` header (seconds).
    case status(Int, body: String = "", retryAfter: Int? = nil)
    /// Wait, then answer normally.
    case delay(milliseconds: Int)
}

/// Faults queued for the next requests, plus a latency added to every request.
public final class FaultInjector: @unchecked Sendable {
    private let lock = NSLock()
    private var queue: [InjectedFault] = []
    private var latency = 0

    public init() {}

    /// The next `times` requests get `fault` (after any already queued).
    public func enqueue(_ fault: InjectedFault, times: Int = 1) {
        lock.withLock { queue.append(contentsOf: repeatElement(fault, count: max(0, times))) }
    }

    /// The next `count` requests answer `status` (e.g. 503, or 429 with `retryAfter`).
    public func failNext(_ count: Int, status: Int, body: String = "", retryAfter: Int? = nil) {
        enqueue(.status(status, body: body, retryAfter: retryAfter), times: count)
    }

    /// Milliseconds added to every request.
    public var addedLatencyMilliseconds: Int {
        get { lock.withLock { latency } }
        set { lock.withLock { latency = max(0, newValue) } }
    }

    /// Number of queued faults not yet used.
    public var pendingCount: Int { lock.withLock { queue.count } }

    public func reset() {
        lock.withLock {
            queue.removeAll()
            latency = 0
        }
    }

    func take() -> (fault: InjectedFault?, latency: Int) {
        lock.withLock { (queue.isEmpty ? nil : queue.removeFirst(), latency) }
    }
}
