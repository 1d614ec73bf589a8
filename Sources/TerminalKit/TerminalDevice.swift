/// Why `TerminalDevice.wait` returned.
public enum WakeReason: Hashable, Sendable {
    /// Input (keys, mouse, resize) is ready to be read with `readInput()`.
    case input
    /// A background task called `Waker.wake()`: new events are queued for the app.
    case woken
    /// The timeout passed with nothing to do.
    case timeout
    /// SIGINT, SIGTERM or SIGHUP arrived: the app should shut down cleanly.
    case terminate(signal: Int32)
}

/// Wakes the UI thread from any thread. Safe to call often; wakes coalesce.
public protocol Waker: Sendable {
    func wake()
}

/// What the run loop needs from a terminal. `CursesTerminal` is the real one; `MemoryTerminal`
/// (scripted input, recorded frames) stands in for it in tests.
public protocol TerminalDevice: AnyObject {
    /// Rows and columns right now.
    var size: (rows: Int, cols: Int) { get }
    /// False when colour is off (NO_COLOR, --no-color, or a terminal without colours).
    var hasColor: Bool { get }
    /// Draws the canvas and makes it visible.
    func present(_ canvas: Canvas)
    /// Blocks until input, a wake-up, a terminating signal or the timeout (nil: no timeout).
    func wait(timeoutMilliseconds: Int?) -> WakeReason
    /// Everything the user typed (and resizes) since the last call; never blocks.
    func readInput() -> [InputEvent]
    /// A waker that background tasks call after queueing events for the app.
    var waker: any Waker { get }
    /// Leaves the UI, runs `body` on the plain terminal (for `az login`), then restores the UI
    /// and forces a full redraw on the next `present`.
    func suspend<T>(_ body: () throws -> T) rethrows -> T
    /// Restores the terminal as it was before the UI started. Safe to call twice.
    func shutdown()
    /// Puts `text` on the user's clipboard: OSC 52 (works over SSH in most terminals) and,
    /// inside tmux, the tmux buffer. Returns a reason when it could not.
    func copyToClipboard(_ text: String) -> String?
}
