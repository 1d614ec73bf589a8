import AppCore
import Synchronization
import TerminalKit

/// Background work posts events here; the UI thread drains them. Unbounded on purpose: while
/// the terminal is handed to a child process, producers keep queueing and nothing is dropped.
final class EventQueue: Sendable {
    private let pending = Mutex<[AppEvent]>([])
    private let waker: any Waker

    init(waker: any Waker) { self.waker = waker }

    func post(_ event: AppEvent) {
        pending.withLock { $0.append(event) }
        waker.wake()
    }

    func drain() -> [AppEvent] {
        pending.withLock { queue in
            defer { queue.removeAll(keepingCapacity: true) }
            return queue
        }
    }
}
