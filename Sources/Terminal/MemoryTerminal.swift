import Dispatch
import Synchronization
import TerminalKit

/// A terminal in memory for tests: scripted input, recorded frames.
///
/// Input is scripted in batches: each `feed` call is one batch, and `readInput()` returns one
/// batch per call, so a test can say "press j, let the app render, then press k".
/// `wait` returns `.terminate` for a scripted signal, `.input` while a batch is pending,
/// `.woken` after `waker.wake()`, and `.timeout` otherwise. By default it never blocks; a
/// `blocking` terminal waits like a real one (up to the timeout, until a batch is fed, the
/// waker wakes or a signal is sent), so that an app can run on a thread of its own while the
/// test feeds keys and reads frames from another: every member is safe to use from any thread.
public final class MemoryTerminal: TerminalDevice, Sendable {
    private struct State {
        var size: (rows: Int, cols: Int)
        var hasColor: Bool
        var frames: [Canvas] = []
        var suspendCount = 0
        var shutdownCount = 0
        var isSuspended = false
        var waitTimeouts: [Int?] = []
        var batches: [[InputEvent]] = []
        var pendingSignal: Int32?
        var clipboard: [String] = []
    }

    private let state: Mutex<State>
    private let blocking: Bool
    private let memoryWaker = MemoryWaker()

    public var size: (rows: Int, cols: Int) { state.withLock { $0.size } }
    public var hasColor: Bool {
        get { state.withLock { $0.hasColor } }
        set { state.withLock { $0.hasColor = newValue } }
    }
    /// Every canvas passed to `present`, oldest first.
    public var frames: [Canvas] { state.withLock { $0.frames } }
    public var lastFrame: Canvas? { state.withLock { $0.frames.last } }
    public var suspendCount: Int { state.withLock { $0.suspendCount } }
    public var shutdownCount: Int { state.withLock { $0.shutdownCount } }
    /// True while a `suspend` body runs.
    public var isSuspended: Bool { state.withLock { $0.isSuspended } }
    /// The timeout of every `wait` call, in order (nil = no timeout).
    public var waitTimeouts: [Int?] { state.withLock { $0.waitTimeouts } }
    public var isShutDown: Bool { shutdownCount > 0 }
    public var waker: any Waker { memoryWaker }

    public init(rows: Int = 24, cols: Int = 80, hasColor: Bool = true, blocking: Bool = false) {
        state = Mutex(State(size: (rows, cols), hasColor: hasColor))
        self.blocking = blocking
    }

    // MARK: Scripting

    /// Queues one batch of input events.
    public func feed(_ events: [InputEvent]) {
        guard !events.isEmpty else { return }
        state.withLock { $0.batches.append(events) }
        memoryWaker.signal()
    }

    public func feed(_ events: InputEvent...) { feed(events) }

    /// Queues one batch of key presses.
    public func feed(keys: Key...) { feed(keys.map { .key($0) }) }

    /// Queues one batch that types `text`, one `.char` per character.
    public func type(_ text: String) { feed(text.map { .key(.char($0)) }) }

    /// Changes the size and queues a `.resize` batch, as SIGWINCH would.
    public func resize(rows: Int, cols: Int) {
        state.withLock {
            $0.size = (rows, cols)
            $0.batches.append([.resize(rows: rows, cols: cols)])
        }
        memoryWaker.signal()
    }

    /// The next `wait` returns `.terminate(signal:)`, as SIGTERM would.
    public func sendTerminate(signal: Int32) {
        state.withLock { $0.pendingSignal = signal }
        memoryWaker.signal()
    }

    public var hasPendingInput: Bool { state.withLock { !$0.batches.isEmpty } }

    // MARK: TerminalDevice

    public func present(_ canvas: Canvas) { state.withLock { $0.frames.append(canvas) } }

    public func wait(timeoutMilliseconds: Int?) -> WakeReason {
        state.withLock { $0.waitTimeouts.append(timeoutMilliseconds) }
        if let reason = ready() { return reason }
        guard blocking else { return .timeout }
        let deadline = timeoutMilliseconds.map { DispatchTime.now() + .milliseconds($0) } ?? .distantFuture
        while true {
            let timedOut = memoryWaker.block(until: deadline)
            if let reason = ready() { return reason }
            if timedOut { return .timeout }
        }
    }

    /// What `wait` returns without waiting, if anything.
    private func ready() -> WakeReason? {
        let early: WakeReason? = state.withLock { s in
            if let sig = s.pendingSignal { s.pendingSignal = nil; return .terminate(signal: sig) }
            return s.batches.isEmpty ? nil : .input
        }
        if let early { return early }
        return memoryWaker.take() ? .woken : nil
    }

    public func readInput() -> [InputEvent] {
        state.withLock { $0.batches.isEmpty ? [] : $0.batches.removeFirst() }
    }

    public func suspend<T>(_ body: () throws -> T) rethrows -> T {
        state.withLock { $0.suspendCount += 1; $0.isSuspended = true }
        defer { state.withLock { $0.isSuspended = false } }
        return try body()
    }

    public func shutdown() { state.withLock { $0.shutdownCount += 1 } }

    /// What the app copied, in order.
    public var clipboard: [String] { state.withLock { $0.clipboard } }
    public func copyToClipboard(_ text: String) -> String? {
        state.withLock { $0.clipboard.append(text) }
        return nil
    }
}

/// The waker of a `MemoryTerminal`: counts wakes; `wait` consumes them. A blocking `wait`
/// sleeps on its semaphore, which wakes and scripted input signal.
final class MemoryWaker: Waker, Sendable {
    private let count = Atomic<Int>(0)
    private let semaphore = DispatchSemaphore(value: 0)
    func wake() {
        _ = count.add(1, ordering: .relaxed)
        semaphore.signal()
    }
    func take() -> Bool { count.exchange(0, ordering: .relaxed) > 0 }
    /// Lets a blocked `wait` look again.
    func signal() { semaphore.signal() }
    /// Sleeps until signalled or `deadline`; true when the deadline passed.
    func block(until deadline: DispatchTime) -> Bool { semaphore.wait(timeout: deadline) == .timedOut }
}
