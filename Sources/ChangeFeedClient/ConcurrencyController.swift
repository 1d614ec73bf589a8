/// How many page requests the fetcher's pipeline keeps in flight: a fixed number (`--parallel N`)
/// or, by default, a number that follows what the service and the network allow.
///
/// A pure value: the pipeline tells it what each response was, and reads `width`. No clock, no
/// HTTP; the rule is in the counts below.
///
/// **Adaptive** (a quick start, then additive increase and multiplicative decrease):
/// - It starts at `initial` (4) and stays within `minimum...maximum` (1...32).
/// - **Latency-bound.** A *clean* response (a page answered) counts towards growth only when the
///   fetch was latency-bound as it arrived: every slot of the window was a request still out
///   (none of them a finished page held in the reorder buffer behind a slower one, and not the
///   last few pages of the run), and the answer took at most twice the fastest round trip of
///   the run. An answer that took longer queued somewhere (for the CPU here, with the page
///   decoded, or at the service): more requests would only queue longer. Responses that are not
///   latency-bound neither count nor reset the count.
/// - **Start.** Until the first congestion answer, each counted response adds one (the width
///   about doubles each round trip, as TCP's slow start does), up to the cap.
/// - **Growth.** After the first cut, once `width` counted responses have come in since the
///   width last changed (about one round trip at the current width), it grows by one.
/// - **Cut.** A *congestion* answer (429, 503, a timeout or a reset connection) halves the width
///   (rounding down, never below 1) and starts a *hold*: the answers still due from the requests
///   that were in flight at the cut were sent at the old width, so they tell nothing about the
///   new one. During the hold a congestion answer is the same event (no second cut) and a clean
///   one does not count towards growth. The service's Retry-After is the fetcher's `RequestGate`
///   business: the same 429 that cuts here holds every request back for as long as it asked.
/// - **Probing again.** The width that was refused becomes the `ceiling`. Growing back below it
///   takes the usual `width` clean responses a step; the step that reaches it again takes
///   `probeWait` clean responses (32 at first). Refused there again, the ceiling is confirmed
///   and `probeWait` doubles (up to 1,024); a probe that stays clean for `width` responses at the
///   ceiling or above lifts it (the limit has moved) and growth goes on as before. Under a
///   fixed limit of N requests the width thus settles between N/2 and N + 1, and tries N + 1
///   less and less often.
/// - **Alone.** A congestion answer to a request that was alone in flight (the first page, the
///   last one, a width of 1) says nothing about concurrency: nothing moves.
/// - **Absorbed.** `congested` says whether the answer was absorbed (the width was cut for it,
///   or it was part of the last cut's window): the fetcher retries those quietly. An answer to a
///   request alone in flight is not absorbed: it is the user's news.
///
/// **Pinned** (`--parallel N`): the width is N and nothing moves it.
public struct ConcurrencyController: Sendable, Equatable {
    public enum Mode: Sendable, Equatable {
        case adaptive
        case pinned(Int)
    }

    public static let initial = 4
    public static let minimum = 1
    public static let maximum = 32
    public static let firstProbeWait = 32
    public static let maxProbeWait = 1_024

    public let mode: Mode
    /// Requests to keep in flight now.
    public private(set) var width: Int
    /// The width at which the service last refused, while it stands.
    public private(set) var ceiling: Int?
    /// Clean responses the step up to `ceiling` takes.
    public private(set) var probeWait = ConcurrencyController.firstProbeWait
    /// How many times the width was cut.
    public private(set) var cuts = 0
    /// Clean, latency-bound responses since the width last changed (outside holds).
    private(set) var streak = 0
    /// Responses of any kind so far.
    private(set) var responses = 0
    /// Responses up to this count belong to the window of the last cut.
    private(set) var holdUntil = 0
    /// No congestion answer yet: each counted response adds one.
    public private(set) var startingUp = true
    /// The fastest round trip of a clean answer so far.
    public private(set) var fastest: Duration?

    /// `pinned` nil: adaptive. A pinned width is clamped to `minimum...maximum`.
    public init(pinned: Int? = nil) {
        if let n = pinned {
            let n = min(max(n, Self.minimum), Self.maximum)
            mode = .pinned(n)
            width = n
        } else {
            mode = .adaptive
            width = Self.initial
        }
    }

    public var isAdaptive: Bool { mode == .adaptive }

    /// True while the answers of the last cut's window are still coming in.
    public var holding: Bool { responses < holdUntil }

    /// A page came back. `latencyBound`: every slot of the window was a request still out.
    /// `roundTrip`: how long its request took, from sending to the page decoded (nil: unknown,
    /// e.g. it was retried); one more than twice the fastest makes it not latency-bound.
    public mutating func clean(latencyBound: Bool, roundTrip: Duration? = nil) {
        responses += 1
        guard isAdaptive else { return }
        if let roundTrip, fastest.map({ roundTrip < $0 }) ?? true { fastest = roundTrip }
        guard responses > holdUntil, latencyBound else { return }
        if let roundTrip, let fastest, roundTrip > fastest * 2 { return }
        if startingUp {
            width = min(width + 1, Self.maximum)
            return
        }
        streak += 1
        if let c = ceiling, width >= c {
            // Probing at the width refused last: a clean window there means the limit moved.
            guard streak >= width else { return }
            ceiling = nil
            probeWait = Self.firstProbeWait
        }
        let needed = ceiling.map { width + 1 >= $0 ? probeWait : width } ?? width
        guard streak >= needed, width < Self.maximum else { return }
        width += 1
        streak = 0
    }

    /// The service or the network pushed back (429, 503, a timeout, a reset) on one of
    /// `inFlight` requests outstanding (itself included). Returns true when the answer is
    /// absorbed: the width was cut for it, or it belongs to the window of the last cut. Pinned:
    /// nothing moves and nothing is absorbed.
    @discardableResult
    public mutating func congested(inFlight: Int) -> Bool {
        responses += 1
        guard isAdaptive else { return false }
        if responses <= holdUntil { return true }
        guard inFlight > 1 else { return false }
        let refusedAt = width
        if let c = ceiling, refusedAt <= c {
            probeWait = min(probeWait * 2, Self.maxProbeWait)
        } else {
            probeWait = Self.firstProbeWait
        }
        ceiling = max(refusedAt, Self.minimum + 1)
        width = max(Self.minimum, refusedAt / 2)
        streak = 0
        holdUntil = responses + max(0, inFlight - 1)
        startingUp = false
        cuts += 1
        return true
    }
}
