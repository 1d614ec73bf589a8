import Foundation

/// A misbehaviour the emulator applies to one request instead of (or on top of) answering it.
///
/// Faults that answer by themselves (`status`, `statusRetryAfter`, `malformedJSON`, `emptyBody`,
/// `reset`, `hang`) act before routing and auth, like a proxy or load balancer in front of the service
/// would. The others (`delay`, `slowBody`, `truncatedBody`, `badEntry`) change the answer the
/// emulator would have sent anyway (a 400, 401 or 404 included).
public enum InjectedFault: Sendable, Equatable {
    /// Answer with this status and plain-text body; `retryAfter` adds `Retry-After: <seconds>`.
    case status(Int, body: String = "", retryAfter: Int? = nil)
    /// Answer with this status and plain-text body and a `Retry-After` header in either form.
    case statusRetryAfter(Int, body: String = "", retryAfter: RetryAfter)
    /// Wait, then answer normally.
    case delay(milliseconds: Int)
    /// Read the request, then drop the connection without any response (an RST: `SO_LINGER` 0).
    case reset
    /// Read the request and answer nothing: after `milliseconds` (nil: never, until the client
    /// closes the connection or the emulator stops) the connection is dropped as for `reset`.
    case hang(milliseconds: Int?)
    /// The correct answer, with its real `Content-Length`, but the body goes out
    /// `bytesPerChunk` bytes at a time with `delayMilliseconds` before every chunk but the first.
    case slowBody(bytesPerChunk: Int, delayMilliseconds: Int)
    /// 200 with `Content-Type: application/json` and `InjectedFault.malformedJSONBody`, which is not JSON.
    case malformedJSON
    /// 200 with `Content-Type: application/json` and an empty body (`Content-Length: 0`): not
    /// an empty page (that is `[]`) and not an empty feed (`/latest` answers 204 for that).
    case emptyBody
    /// The correct head with the full `Content-Length`, then only the first half of the body
    /// (`count / 2` bytes), then the connection is closed. The client sees a premature end of body.
    case truncatedBody
    /// A real page (or `/latest` object) in which the entry at `index` (clamped to the last one)
    /// is replaced by an object the client cannot decode: the same fields, except that
    /// `sequence` is a JSON string (`"sequence":"42"`) and `studyInstanceUid` and `metadata`
    /// are missing. The other entries are byte-for-byte what the emulator would have sent.
    /// An empty page, or an answer that is not 200 JSON, is sent unchanged.
    case badEntry(index: Int)

    /// The body of `.malformedJSON`: what a proxy's error page might look like.
    public static let malformedJSONBody = "<html><head><title>Gateway</title></head><body>upstream sent garbage</body></html>"

    /// Faults that send no HTTP response at all.
    var dropsConnection: Bool {
        switch self {
        case .reset, .hang: return true
        default: return false
        }
    }
}

/// The two forms of a `Retry-After` header (RFC 9110 §10.2.3).
public enum RetryAfter: Sendable, Equatable {
    /// `Retry-After: 3`
    case seconds(Int)
    /// `Retry-After: Wed, 21 Oct 2015 07:28:00 GMT`
    case httpDate(Date)
    /// The HTTP date `seconds` after the response is sent (HTTP dates have whole seconds, so
    /// the client may see up to one second less).
    case httpDateIn(seconds: Int)

    /// The header value, with `now` as the time of sending.
    public func headerValue(now: Date = Date()) -> String {
        switch self {
        case .seconds(let s): return String(s)
        case .httpDate(let d): return Self.httpDate(d)
        case .httpDateIn(let s): return Self.httpDate(now.addingTimeInterval(TimeInterval(s)))
        }
    }

    /// IMF-fixdate, e.g. `Sun, 06 Nov 1994 08:49:37 GMT`.
    public static func httpDate(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "GMT")!
        // Whole seconds, rounded down (Foundation's components may round up a fraction).
        let whole = Date(timeIntervalSince1970: date.timeIntervalSince1970.rounded(.down))
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second, .weekday], from: whole)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ v: Int?) -> String { let v = v ?? 0; return v < 10 ? "0\(v)" : String(v) }
        return "\(days[(c.weekday ?? 1) - 1]), \(two(c.day)) \(months[(c.month ?? 1) - 1]) \(c.year ?? 1970) "
            + "\(two(c.hour)):\(two(c.minute)):\(two(c.second)) GMT"
    }
}

/// Which requests a fault may hit.
public enum FaultTarget: String, Sendable, Equatable, CaseIterable {
    /// Every request, whatever its path (unknown paths included).
    case any
    /// Page requests: `/v{ver}/changefeed`.
    case page
    /// `/v{ver}/changefeed/latest`.
    case latest

    func matches(_ kind: RequestKind) -> Bool {
        switch self {
        case .any: return true
        case .page: return kind == .page
        case .latest: return kind == .latest
        }
    }
}

/// What a request asked for, as far as fault targeting is concerned.
enum RequestKind: Sendable { case page, latest, other }

/// Faults queued for the next requests, periodic faults, and a latency added to every request.
///
/// Queued faults are used in order: a request takes the first queued fault whose target it
/// matches (faults for other targets stay queued). When none is queued, a periodic fault whose
/// count comes up applies. Every request also waits `addedLatencyMilliseconds` first.
public final class FaultInjector: @unchecked Sendable {
    private struct Queued { var fault: InjectedFault; var target: FaultTarget }
    private struct Periodic { var fault: InjectedFault; var target: FaultTarget; var every: Int; var seen = 0 }

    private let lock = NSLock()
    private var queue: [Queued] = []
    private var periodic: [Periodic] = []
    private var latency = 0
    private var limit: Int?
    private var inFlight = 0
    private var applied = 0
    private var hangGeneration = 0

    public init() {}

    /// The next `times` requests matching `target` get `fault` (after any already queued).
    public func enqueue(_ fault: InjectedFault, times: Int = 1, target: FaultTarget = .any) {
        lock.withLock {
            queue.append(contentsOf: repeatElement(Queued(fault: fault, target: target), count: max(0, times)))
        }
    }

    /// The next `count` requests matching `target` answer `status` (e.g. 503, or 429 with `retryAfter` seconds).
    public func failNext(_ count: Int, status: Int, body: String = "", retryAfter: Int? = nil,
                         target: FaultTarget = .any) {
        enqueue(.status(status, body: body, retryAfter: retryAfter), times: count, target: target)
    }

    /// The next `count` requests matching `target` answer `status` with a `Retry-After` in either form.
    public func failNext(_ count: Int, status: Int, body: String = "", retryAfter: RetryAfter,
                         target: FaultTarget = .any) {
        enqueue(.statusRetryAfter(status, body: body, retryAfter: retryAfter), times: count, target: target)
    }

    /// Every `n`th request matching `target` (counted from now: the `n`th, `2n`th, …) gets
    /// `fault`, until `reset()`. Requests that took a queued fault still count.
    public func every(_ n: Int, _ fault: InjectedFault, target: FaultTarget = .any) {
        guard n > 0 else { return }
        lock.withLock { periodic.append(Periodic(fault: fault, target: target, every: n)) }
    }

    /// Queues the rules of a parsed spec (see `FaultPlan`) and sets its latency, if it has one.
    public func apply(_ plan: FaultPlan) {
        for rule in plan.rules {
            switch rule.repeat {
            case .next(let n): enqueue(rule.fault, times: n, target: rule.target)
            case .every(let n): every(n, rule.fault, target: rule.target)
            }
        }
        if let ms = plan.latencyMilliseconds { addedLatencyMilliseconds = ms }
        if let n = plan.concurrencyLimit { concurrencyLimit = n }
    }

    /// At most this many requests are answered at once; one more is refused with 429 "too many
    /// concurrent requests" and `Retry-After: 1`, as a service throttling a client does. Nil: no limit.
    public var concurrencyLimit: Int? {
        get { lock.withLock { limit } }
        set { lock.withLock { limit = newValue.map { max(1, $0) } } }
    }

    /// A request begins: false when the concurrency limit is reached (answer 429 then, and do
    /// not call `leave`).
    func enter() -> Bool {
        lock.withLock {
            if let limit, inFlight >= limit { return false }
            inFlight += 1
            return true
        }
    }

    /// A request that `enter` let in has been answered.
    func leave() {
        lock.withLock { inFlight -= 1 }
    }

    /// The answer to a request over the concurrency limit.
    public static let overLimit = InjectedFault.status(429, body: "too many concurrent requests", retryAfter: 1)

    /// Milliseconds added to every request.
    public var addedLatencyMilliseconds: Int {
        get { lock.withLock { latency } }
        set { lock.withLock { latency = max(0, newValue) } }
    }

    /// Number of queued faults not yet used (periodic faults not included).
    public var pendingCount: Int { lock.withLock { queue.count } }

    /// Number of faults applied so far (queued and periodic).
    public var appliedCount: Int { lock.withLock { applied } }

    /// Forgets queued and periodic faults, the latency and the concurrency limit, and ends any
    /// hang in progress.
    public func reset() {
        lock.withLock {
            queue.removeAll()
            periodic.removeAll()
            latency = 0
            limit = nil
            hangGeneration += 1
        }
    }

    /// Ends every hang in progress (their connections are dropped); used when the server stops.
    func releaseHangs() {
        lock.withLock { hangGeneration += 1 }
    }

    var currentHangGeneration: Int { lock.withLock { hangGeneration } }

    /// The fault for a request of this kind (nil: answer normally), and the added latency.
    func take(for kind: RequestKind = .other) -> (fault: InjectedFault?, latency: Int) {
        lock.withLock {
            var due: InjectedFault?
            for i in periodic.indices where periodic[i].target.matches(kind) {
                periodic[i].seen += 1
                if due == nil && periodic[i].seen % periodic[i].every == 0 { due = periodic[i].fault }
            }
            if let i = queue.firstIndex(where: { $0.target.matches(kind) }) {
                due = queue.remove(at: i).fault
            }
            if due != nil { applied += 1 }
            return (due, latency)
        }
    }
}

// MARK: - Fault specs (for `--faults` and `--demo-faults`)

/// A list of faults parsed from a compact spec, e.g.
/// `"503x2,429:retry=3,reset,hang=5000,slow,malformed,empty,truncated,bad-entry=5,latency=50"`.
///
/// Grammar (case-insensitive; spaces around items are ignored; an empty spec means no faults):
/// ```
/// spec    = item *( "," item )
/// item    = "latency=" MS                  ; added to every request
///         | "offsetcost=" MICROSECONDS      ; a v2 page waits this long per row its offset skips
///         | "limit=" N                      ; at most N requests at once; one more gets 429, Retry-After: 1
///         | fault [ repeat ] [ "@" target ]
/// repeat  = "x" N                           ; the next N matching requests (default: x1)
///         | "%" N                           ; every Nth matching request, for as long as it runs
/// target  = "any" | "page" | "latest"       ; default any; page = /changefeed, latest = /changefeed/latest
/// fault   = CODE [ ":retry=" SECONDS ]      ; status 200–599, plain-text empty body; Retry-After: SECONDS
///         | CODE ":retry-date=" SECONDS      ;   … or Retry-After as the HTTP date SECONDS from the response
///         | "delay=" MS                     ; wait, then answer normally
///         | "reset"                         ; drop the connection, no response
///         | "hang" [ "=" MS ]               ; no answer; drop after MS (default: never)
///         | "slow" [ "=" BYTES "/" MS ]     ; body in BYTES-sized chunks, MS apart (default 4096/50)
///         | "malformed"                     ; 200 with a body that is not JSON
///         | "empty"                         ; 200 with an empty body
///         | "truncated"                     ; full Content-Length, half the body, then close
///         | "bad-entry" [ "=" INDEX ]       ; entry INDEX (default 0) of the page undecodable
/// ```
/// Queued items are used in the order written. Examples: `503x2,429:retry=3@page` (two 503s,
/// then a 429 on the next page request); `503%20@page,latency=50` (every 20th page request
/// fails; 50 ms on every request).
public struct FaultPlan: Sendable, Equatable, CustomStringConvertible {
    public enum Repeat: Sendable, Equatable {
        /// The next N matching requests.
        case next(Int)
        /// Every Nth matching request.
        case every(Int)
    }

    public struct Rule: Sendable, Equatable {
        public var fault: InjectedFault
        public var target: FaultTarget
        public var `repeat`: Repeat

        public init(_ fault: InjectedFault, target: FaultTarget = .any, repeat: Repeat = .next(1)) {
            self.fault = fault
            self.target = target
            self.repeat = `repeat`
        }
    }

    public var rules: [Rule]
    /// Milliseconds added to every request, when the spec sets it.
    public var latencyMilliseconds: Int?
    /// At most this many requests at once (`limit=N`), when the spec sets it.
    public var concurrencyLimit: Int?
    /// Microseconds a v2 page answer waits per row its `offset` skips (`offsetcost=US`), when
    /// the spec sets it. Read when the server is created (`EmulatorServer.offsetCostMicroseconds`).
    public var offsetCostMicroseconds: Double?

    public init(rules: [Rule] = [], latencyMilliseconds: Int? = nil) {
        self.rules = rules
        self.latencyMilliseconds = latencyMilliseconds
    }

    /// Parses a spec; throws `FaultSpecError` naming the bad item and what was expected.
    public init(spec: String) throws(FaultSpecError) {
        self = try Self.parse(spec)
    }

    public var isEmpty: Bool {
        rules.isEmpty && latencyMilliseconds == nil && concurrencyLimit == nil && offsetCostMicroseconds == nil
    }

    /// The default chunking of `slow`.
    public static let defaultSlowBytes = 4096
    public static let defaultSlowDelayMilliseconds = 50

    /// Parses a spec (grammar above).
    public static func parse(_ spec: String) throws(FaultSpecError) -> FaultPlan {
        var plan = FaultPlan()
        let trimmed = spec.trimmingCharacters(in: .whitespaces)
        if trimmed.isEmpty { return plan }
        for raw in trimmed.split(separator: ",", omittingEmptySubsequences: false) {
            let item = raw.trimmingCharacters(in: .whitespaces).lowercased()
            guard !item.isEmpty else {
                throw FaultSpecError(spec: spec, item: "", reason: "empty item (two commas in a row, or a trailing comma)")
            }
            if item.hasPrefix("latency=") {
                plan.latencyMilliseconds = try milliseconds(String(item.dropFirst(8)), spec: spec, item: item, what: "latency")
                continue
            }
            if item.hasPrefix("offsetcost=") {
                guard let us = Double(item.dropFirst(11)), us >= 0, us <= 1_000_000, us.isFinite else {
                    throw FaultSpecError(spec: spec, item: item, reason: "offsetcost= takes microseconds per skipped row, from 0 to 1000000 (e.g. 5 or 0.5)")
                }
                plan.offsetCostMicroseconds = us
                continue
            }
            if item.hasPrefix("limit=") {
                guard let n = Int(item.dropFirst(6)), n >= 1 else {
                    throw FaultSpecError(spec: spec, item: item, reason: "limit= takes the number of requests answered at once, 1 or more")
                }
                plan.concurrencyLimit = n
                continue
            }
            var rest = Substring(item)
            var target = FaultTarget.any
            if let at = rest.lastIndex(of: "@") {
                let name = rest[rest.index(after: at)...].trimmingCharacters(in: .whitespaces)
                guard let t = FaultTarget(rawValue: name) else {
                    throw FaultSpecError(spec: spec, item: item, reason: "unknown target '\(name)' (expected any, page or latest)")
                }
                target = t
                rest = Substring(rest[..<at].trimmingCharacters(in: .whitespaces))
            }
            var repetition = Repeat.next(1)
            if let mark = rest.lastIndex(where: { $0 == "x" || $0 == "%" }) {
                let digits = rest[rest.index(after: mark)...]
                if !digits.isEmpty, digits.allSatisfy(\.isASCIIDigit) {
                    guard let n = Int(digits), n > 0 else {
                        throw FaultSpecError(spec: spec, item: item, reason: "the count after '\(rest[mark])' must be at least 1")
                    }
                    repetition = rest[mark] == "x" ? .next(n) : .every(n)
                    rest = Substring(rest[..<mark].trimmingCharacters(in: .whitespaces))
                } else if rest[mark] == "%" {
                    throw FaultSpecError(spec: spec, item: item, reason: "'%' must be followed by a count, e.g. 503%20")
                }
            }
            let fault = try parseFault(String(rest), spec: spec, item: item)
            plan.rules.append(Rule(fault, target: target, repeat: repetition))
        }
        return plan
    }

    private static func parseFault(_ text: String, spec: String, item: String) throws(FaultSpecError) -> InjectedFault {
        func fail(_ reason: String) -> FaultSpecError { FaultSpecError(spec: spec, item: item, reason: reason) }
        let (name, value): (String, String?) = {
            guard let eq = text.firstIndex(of: "=") else { return (text, nil) }
            return (String(text[..<eq]), String(text[text.index(after: eq)...]))
        }()
        if let first = text.first, first.isASCIIDigit {
            // CODE[:retry=S | :retry-date=S]
            let parts = text.split(separator: ":", omittingEmptySubsequences: false)
            guard let code = Int(parts[0]), (200...599).contains(code) else {
                throw fail("'\(parts[0])' is not an HTTP status from 200 to 599")
            }
            switch parts.count {
            case 1:
                return .status(code)
            case 2:
                let option = parts[1]
                if option.hasPrefix("retry=") {
                    let s = try seconds(String(option.dropFirst(6)), fail)
                    return .status(code, retryAfter: s)
                }
                if option.hasPrefix("retry-date=") {
                    let s = try seconds(String(option.dropFirst(11)), fail)
                    return .statusRetryAfter(code, retryAfter: .httpDateIn(seconds: s))
                }
                throw fail("unknown status option '\(option)' (expected retry=SECONDS or retry-date=SECONDS)")
            default:
                throw fail("a status takes at most one option, retry=SECONDS or retry-date=SECONDS")
            }
        }
        switch name {
        case "reset", "malformed", "empty", "truncated":
            guard value == nil else { throw fail("'\(name)' takes no value") }
            switch name {
            case "reset": return .reset
            case "malformed": return .malformedJSON
            case "empty": return .emptyBody
            default: return .truncatedBody
            }
        case "delay":
            guard let value else { throw fail("'delay' needs milliseconds, e.g. delay=500") }
            return .delay(milliseconds: try milliseconds(value, spec: spec, item: item, what: "delay"))
        case "hang":
            guard let value else { return .hang(milliseconds: nil) }
            return .hang(milliseconds: try milliseconds(value, spec: spec, item: item, what: "hang"))
        case "slow":
            guard let value else {
                return .slowBody(bytesPerChunk: defaultSlowBytes, delayMilliseconds: defaultSlowDelayMilliseconds)
            }
            let parts = value.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count == 2, let bytes = Int(parts[0]), bytes > 0, parts[0].allSatisfy(\.isASCIIDigit) else {
                throw fail("'slow' takes BYTES/MS with BYTES at least 1, e.g. slow=512/100")
            }
            return .slowBody(bytesPerChunk: bytes,
                             delayMilliseconds: try milliseconds(String(parts[1]), spec: spec, item: item, what: "slow"))
        case "bad-entry":
            guard let value else { return .badEntry(index: 0) }
            guard !value.isEmpty, value.allSatisfy(\.isASCIIDigit), let index = Int(value) else {
                throw fail("'bad-entry' takes an entry index (0 or more), e.g. bad-entry=5")
            }
            return .badEntry(index: index)
        default:
            throw fail("unknown fault '\(name)' (expected a status code, reset, hang, delay, slow, malformed, empty, truncated or bad-entry)")
        }
    }

    private static func seconds(_ text: String, _ fail: (String) -> FaultSpecError) throws(FaultSpecError) -> Int {
        guard !text.isEmpty, text.allSatisfy(\.isASCIIDigit), let s = Int(text), s <= 86_400 else {
            throw fail("'\(text)' is not a number of seconds from 0 to 86400")
        }
        return s
    }

    private static func milliseconds(_ text: String, spec: String, item: String, what: String) throws(FaultSpecError) -> Int {
        guard !text.isEmpty, text.allSatisfy(\.isASCIIDigit), let ms = Int(text), ms <= 3_600_000 else {
            throw FaultSpecError(spec: spec, item: item,
                                 reason: "\(what): '\(text)' is not a number of milliseconds from 0 to 3600000")
        }
        return ms
    }

    /// The spec form, e.g. for a demo banner. It parses back to an equal plan, except for what
    /// the grammar cannot say: status bodies are left out, `statusRetryAfter` with `.seconds`
    /// comes back as `.status(code, retryAfter:)`, and with a fixed `.httpDate` as a bare code.
    public var description: String {
        var items: [String] = rules.map { rule in
            var s: String
            switch rule.fault {
            case .status(let code, _, let retry): s = String(code) + (retry.map { ":retry=\($0)" } ?? "")
            case .statusRetryAfter(let code, _, let retry):
                switch retry {
                case .seconds(let n): s = "\(code):retry=\(n)"
                case .httpDateIn(let n): s = "\(code):retry-date=\(n)"
                case .httpDate: s = String(code)
                }
            case .delay(let ms): s = "delay=\(ms)"
            case .reset: s = "reset"
            case .hang(let ms): s = ms.map { "hang=\($0)" } ?? "hang"
            case .slowBody(let b, let ms): s = "slow=\(b)/\(ms)"
            case .malformedJSON: s = "malformed"
            case .emptyBody: s = "empty"
            case .truncatedBody: s = "truncated"
            case .badEntry(let i): s = "bad-entry=\(i)"
            }
            switch rule.repeat {
            case .next(1): break
            case .next(let n): s += "x\(n)"
            case .every(let n): s += "%\(n)"
            }
            if rule.target != .any { s += "@" + rule.target.rawValue }
            return s
        }
        if let ms = latencyMilliseconds { items.append("latency=\(ms)") }
        if let n = concurrencyLimit { items.append("limit=\(n)") }
        if let us = offsetCostMicroseconds {
            items.append("offsetcost=" + (us == us.rounded() ? String(Int(us)) : String(us)))
        }
        return items.joined(separator: ",")
    }
}

/// A fault spec that does not parse; `description` is a message for the user.
public struct FaultSpecError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The whole spec.
    public var spec: String
    /// The item at fault (lower-cased, trimmed).
    public var item: String
    public var reason: String

    public var description: String {
        "bad fault spec '\(spec)': item '\(item)': \(reason). "
            + "Items are separated by commas, e.g. 503x2,429:retry=3,reset,hang=5000,slow=512/100,"
            + "malformed,empty,truncated,bad-entry=5,503%20@page,latency=50,limit=8,offsetcost=5"
    }
}

private extension Character {
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
