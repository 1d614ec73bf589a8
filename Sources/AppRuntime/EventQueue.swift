import AppCore
import Synchronization
import TerminalKit

/// Background work posts events here; the UI thread drains them. Unbounded on purpose: while
/// the terminal is handed to a child process, producers keep queueing and nothing is dropped.
final class EventQueue: Sendable {
    private let pending = Mutex<[(event: AppEvent, run: Int?)]>([])
    private let waker: any Waker

    init(waker: any Waker) { self.waker = waker }

    /// `run`: the fetcher run that reports it (the UI drops what a replaced run still said).
    func post(_ event: AppEvent, run: Int? = nil) {
        pending.withLock { $0.append((event, run)) }
        waker.wake()
    }

    func drain() -> [(event: AppEvent, run: Int?)] {
        pending.withLock { queue in
            defer { queue.removeAll(keepingCapacity: true) }
            return queue
        }
    }
}
