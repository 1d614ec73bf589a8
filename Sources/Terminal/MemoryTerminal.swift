import Synchronization
import TerminalKit

/// A terminal in memory for tests: scripted input, recorded frames, never blocks.
///
/// Input is scripted in batches: each `feed` call is one batch, and `readInput()` returns one
/// batch per call, so a test can say "press j, let the app render, then press k".
/// `wait` returns `.terminate` for a scripted signal, `.input` while a batch is pending,
/// `.woken` after `waker.wake()`, and `.timeout` otherwise, all immediately.
public final class MemoryTerminal: TerminalDevice {
    public private(set) var size: (rows: Int, cols: Int)
    public var hasColor: Bool
    /// Every canvas passed to `present`, oldest first.
    public private(set) var frames: [Canvas] = []
    public var lastFrame: Canvas? { frames.last }
    public private(set) var suspendCount = 0
    public private(set) var shutdownCount = 0
    /// True while a `suspend` body runs.
    public private(set) var isSuspended = false
    /// The timeout of every `wait` call, in order (nil = no timeout).
    public private(set) var waitTimeouts: [Int?] = []
    public var isShutDown: Bool { shutdownCount > 0 }

    private var batches: [[InputEvent]] = []
    private var pendingSignal: Int32?
    private let memoryWaker = MemoryWaker()
    public var waker: any Waker { memoryWaker }

    public init(rows: Int = 24, cols: Int = 80, hasColor: Bool = true) {
        self.size = (rows, cols)
        self.hasColor = hasColor
    }

    // MARK: Scripting

    /// Queues one batch of input events.
    public func feed(_ events: [InputEvent]) {
        guard !events.isEmpty else { return }
        batches.append(events)
    }

    public func feed(_ events: InputEvent...) { feed(events) }

    /// Queues one batch of key presses.
    public func feed(keys: Key...) { feed(keys.map { .key($0) }) }

    /// Queues one batch that types `text`, one `.char` per character.
    public func type(_ text: String) { feed(text.map { .key(.char($0)) }) }

    /// Changes the size and queues a `.resize` batch, as SIGWINCH would.
    public func resize(rows: Int, cols: Int) {
        size = (rows, cols)
        batches.append([.resize(rows: rows, cols: cols)])
    }

    /// The next `wait` returns `.terminate(signal:)`, as SIGTERM would.
    public func sendTerminate(signal: Int32) { pendingSignal = signal }

    public var hasPendingInput: Bool { !batches.isEmpty }

    // MARK: TerminalDevice

    public func present(_ canvas: Canvas) { frames.append(canvas) }

    public func wait(timeoutMilliseconds: Int?) -> WakeReason {
        waitTimeouts.append(timeoutMilliseconds)
        if let sig = pendingSignal { pendingSignal = nil; return .terminate(signal: sig) }
        if !batches.isEmpty { return .input }
        if memoryWaker.take() { return .woken }
        return .timeout
    }

    public func readInput() -> [InputEvent] {
        batches.isEmpty ? [] : batches.removeFirst()
    }

    public func suspend<T>(_ body: () throws -> T) rethrows -> T {
        suspendCount += 1
        isSuspended = true
        defer { isSuspended = false }
        return try body()
    }

    public func shutdown() { shutdownCount += 1 }

    /// What the app copied, in order.
    public private(set) var clipboard: [String] = []
    public func copyToClipboard(_ text: String) -> String? {
        clipboard.append(text)
        return nil
    }
}

/// The waker of a `MemoryTerminal`: counts wakes; `wait` consumes them.
final class MemoryWaker: Waker, Sendable {
    private let count = Atomic<Int>(0)
    func wake() { _ = count.add(1, ordering: .relaxed) }
    func take() -> Bool { count.exchange(0, ordering: .relaxed) > 0 }
}
