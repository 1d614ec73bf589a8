#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization
import TerminalKit

/// A self-pipe that wakes the UI thread's `poll`. `wake()` is safe from any thread and cheap to
/// call often: while a wake is pending, further calls write nothing.
///
/// The pipe is non-blocking at both ends; it is closed only when the last reference goes away,
/// so a background task that outlives the terminal never writes into a reused descriptor.
public final class PipeWaker: Waker, Sendable {
    /// Byte values on the pipe. Signal handlers write the signal number (1...63) for a
    /// terminating signal, or one of these tags.
    enum Tag {
        static let wake: UInt8 = 0xFF
        static let resize: UInt8 = 0xFE
        static let resume: UInt8 = 0xFD
    }

    let readFD: Int32
    let writeFD: Int32
    private let pending = Atomic<Bool>(false)

    public init() throws(TerminalError) {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { throw .systemCall("pipe", errno) }
        for fd in fds {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        }
        readFD = fds[0]
        writeFD = fds[1]
    }

    deinit {
        close(readFD)
        close(writeFD)
    }

    public func wake() {
        if pending.exchange(true, ordering: .acquiringAndReleasing) { return }
        var b = Tag.wake
        _ = write(writeFD, &b, 1)     // EAGAIN: the pipe is full of wakes already, which is fine
    }

    /// Reads everything in the pipe, then clears the pending flag. In that order: a wake that
    /// comes between the two found the flag set and wrote nothing, but its work was queued
    /// before it, and the caller drains its queues after this returns. (The other order lost
    /// wakes: a wake between clearing the flag and reading wrote a byte the read then took, so
    /// the flag stayed set on an empty pipe and every later wake was swallowed; the UI slept
    /// until its next timer, up to a minute.)
    func drain() -> [UInt8] {
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 256)
        while true {
            let n = read(readFD, &buf, buf.count)
            if n > 0 { out.append(contentsOf: buf[0..<n]); continue }
            if n < 0 && errno == EINTR { continue }
            break
        }
        pending.store(false, ordering: .sequentiallyConsistent)
        return out
    }
}

/// Why a `CursesTerminal` could not start.
public enum TerminalError: Error, Equatable, CustomStringConvertible {
    /// stdin or stdout is not a terminal.
    case notATerminal
    /// `newterm` failed, typically an unknown `TERM`.
    case cannotInitialize(term: String)
    /// Only one `CursesTerminal` may be live in a process.
    case alreadyActive
    case systemCall(String, Int32)

    public var description: String {
        switch self {
        case .notATerminal: return "stdin and stdout must be a terminal"
        case .cannotInitialize(let term): return "cannot initialise the terminal (TERM=\(term))"
        case .alreadyActive: return "a terminal UI is already running"
        case .systemCall(let name, let err): return "\(name) failed: \(String(cString: strerror(err)))"
        }
    }
}
