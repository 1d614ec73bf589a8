import FeedModel
import Foundation

/// The cheap probes behind the activity timeline: `/changefeed/latest`, then a few dozen v1
/// requests `?offset=S&limit=L` at sequence numbers spread over the whole feed, each taking the
/// rows of one small window. The first row of each window gives a point of the sequence-to-time
/// curve, whose slope is the rate of changes; nothing else of the feed is read.
///
/// The probes always use a sequence-mode route (v1 for a client configured for v2: the same
/// service serves both on one feed), with the fetcher's retry and token rules. Sequences have
/// gaps, so a window can come back empty: it is asked once more, wider, while the request
/// budget lasts, and otherwise that probe is simply missing.
public struct ActivityProbe: Sendable {
    /// Probes spread over the feed, and the sequences each one's window spans.
    public var probes = 64
    public var limit = 10
    /// The window of the second try of a probe that found no row (v1's largest).
    public var wideLimit = 100
    /// Requests for one sample, `/latest` included (retries come on top, up to `retryAllowance`).
    public var maxRequests = 100
    public var retryAllowance = 20
    /// Requests in flight at once.
    public var width = 12
    /// A probe that keeps failing is given up after this many seconds (then it is missing).
    public var giveUpAfter: TimeInterval = 15
    public var backoffBase: TimeInterval = 0.5
    public var backoffCap: TimeInterval = 4

    let client: ChangeFeedClient
    let tokens: AuthorizationSource

    public init(client: ChangeFeedClient, tokens: AuthorizationSource) {
        self.client = client.sequenceModeClient
        self.tokens = tokens
    }

    /// The exclusive start sequences (`offset`) of the probes for a feed whose latest sequence
    /// is `latest`: `probes` offsets evenly spread from 0, or, for a feed small enough, windows
    /// side by side that cover it all. Ascending, no offset twice.
    public static func plan(latest: Int64, probes: Int, limit: Int) -> [Int64] {
        guard latest > 0, probes > 0, limit > 0 else { return [] }
        if latest <= Int64(probes) * Int64(limit) {
            return Array(stride(from: Int64(0), to: latest, by: limit))
        }
        // k * latest / probes without overflow, exactly.
        let n = Int64(probes)
        let (q, r) = latest.quotientAndRemainder(dividingBy: n)
        var out: [Int64] = []
        for k in Int64(0)..<n {
            let offset = q * k + r * k / n
            if out.last != offset { out.append(offset) }
        }
        return out
    }

    /// Runs the probes. Never throws: what went wrong is in the outcome. Cancellation ends it early.
    public func run() async -> ActivityOutcome {
        let started = ContinuousClock.now
        var fetcher = Fetcher(client: client, tokens: tokens)
        fetcher.giveUpAfter = giveUpAfter
        fetcher.backoffBase = backoffBase
        fetcher.backoffCap = backoffCap
        let budget = RequestBudget(limit: maxRequests + retryAllowance)
        let gate = RequestGate(tokens: tokens)
        let client = self.client

        let latest: EntryResult?
        do {
            latest = try await fetcher.withRetries(gate, { _ in }) { token in
                try budget.take()
                return try await client.latestPosition(authorization: token)
            }
        } catch let e as ChangeFeedError {
            return Self.refusal(e)
        } catch {
            return .failed("cancelled")
        }
        let end: ProbePoint
        switch latest {
        case nil:
            return .empty
        case .entry(let e)?:
            end = ProbePoint(sequence: e.sequence, timestamp: e.timestamp, action: e.action)
        case .undecodable(_, let bad)?:
            guard let seq = bad.sequence, let time = bad.timestamp else {
                return .failed("the latest entry did not decode (\(bad.reason))")
            }
            end = ProbePoint(sequence: seq, timestamp: time)
        }

        let offsets = Self.plan(latest: end.sequence, probes: probes, limit: limit)
        var answers = await ask(offsets.map { ($0, limit) }, fetcher: fetcher, gate: gate, budget: budget)
        // Windows that fell into a gap: once more, wider, after the narrow window, while the budget lasts.
        let room = max(0, maxRequests - 1 - offsets.count)
        let empty = offsets.filter { answers[$0] == .rows([]) }
        let again = empty.prefix(room).map { ($0 + Int64(limit), wideLimit) }
        if !again.isEmpty {
            let wide = await ask(again, fetcher: fetcher, gate: gate, budget: budget)
            for (offset, rows) in wide { answers[offset - Int64(limit)] = rows }
        }
        if Task.isCancelled { return .failed("cancelled") }

        var points: [Int64: ProbePoint] = [end.sequence: end]
        var missing = 0
        for offset in offsets {
            switch answers[offset] {
            case .rows(let rows)? where !rows.isEmpty:
                var counts = ActionCounts()
                for r in rows { counts[r.action] += 1 }
                let first = rows.min { $0.sequence < $1.sequence }!
                if points[first.sequence] == nil {
                    points[first.sequence] = ProbePoint(sequence: first.sequence, timestamp: first.timestamp, actions: counts)
                }
            default:
                missing += 1
            }
        }
        // Not one probe answered: say why (the version refused, the network).
        if points.count == 1, !offsets.isEmpty, missing == offsets.count, let e = budget.errors.first {
            return Self.refusal(e)
        }
        let elapsed = (ContinuousClock.now - started) / .seconds(1)
        return .sample(ActivitySample(points: points.values.sorted { $0.sequence < $1.sequence }, latest: end,
                                      requests: budget.used, missing: missing, elapsed: elapsed))
    }

    /// A refusal in words: the version not served (404, 400) is said as such.
    static func refusal(_ e: ChangeFeedError) -> ActivityOutcome {
        switch e {
        case .notFound, .badRequest: .noV1("the service does not answer v1 probes (\(e.message))")
        default: .failed(e.message)
        }
    }

    /// What a probe's window gave: its rows (none: a gap), or nothing, having failed.
    enum Answer: Sendable, Equatable {
        case rows([ChangeFeedEntry])
        case failed
    }

    /// Asks each window (offset, limit), `width` at a time.
    private func ask(_ windows: [(Int64, Int)], fetcher: Fetcher, gate: RequestGate, budget: RequestBudget) async
        -> [Int64: Answer] {
        let client = self.client
        return await withTaskGroup(of: (Int64, Answer).self) { group in
            var answers: [Int64: Answer] = [:]
            var next = 0
            func add() {
                let (offset, limit) = windows[next]
                next += 1
                group.addTask {
                    do {
                        let results = try await fetcher.withRetries(gate, { _ in }) { token in
                            try budget.take()
                            return try await client.page(PageQuery(offset: offset, limit: limit), authorization: token)
                        }
                        return (offset, .rows(results.compactMap { if case .entry(let e) = $0 { e } else { nil } }))
                    } catch {
                        if let e = error as? ChangeFeedError { budget.note(e) }
                        return (offset, .failed)
                    }
                }
            }
            while next < windows.count && next < width { add() }
            for await (offset, answer) in group {
                answers[offset] = answer
                if next < windows.count && !Task.isCancelled { add() }
            }
            return answers
        }
    }
}

/// Counts the requests of one sample and refuses more than its limit; keeps the errors seen.
final class RequestBudget: @unchecked Sendable {
    private let lock = NSLock()
    private let limit: Int
    private var count = 0
    private var seen: [ChangeFeedError] = []

    init(limit: Int) { self.limit = limit }

    var used: Int { lock.withLock { count } }

    /// One more request, unless the budget is spent (then the probe is given up).
    func take() throws(ChangeFeedError) {
        let ok = lock.withLock { () -> Bool in
            guard count < limit else { return false }
            count += 1
            return true
        }
        if !ok { throw .gaveUp(seconds: 0, attempts: limit, last: .malformed("the probes' request budget is spent")) }
    }

    func note(_ e: ChangeFeedError) { lock.withLock { seen.append(e) } }

    var errors: [ChangeFeedError] { lock.withLock { seen } }
}
