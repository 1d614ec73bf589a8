#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

// Everything a signal handler touches lives here, in plain globals with constant initialisers
// (so no lazy initialisation can run inside a handler). The UI thread writes them only while
// the handlers that read them are not installed. Handlers only call async-signal-safe functions:
// write, read, pread, lseek, tcsetattr, dup2, sigaction, signal, raise.

typealias SigAction = sigaction

nonisolated(unsafe) var sigWakeFD: Int32 = -1
/// Old actions, indexed by signal number (65 entries), for chaining and restoring.
nonisolated(unsafe) var sigOldActions: UnsafeMutablePointer<SigAction>? = nil
let sigPendingTerminate = Atomic<Int32>(0)
let sigTerminateCount = Atomic<Int32>(0)

nonisolated(unsafe) var crashRestoreBytes: UnsafeMutablePointer<UInt8>? = nil
nonisolated(unsafe) var crashRestoreCount: Int = 0
nonisolated(unsafe) var crashSavedTermios: UnsafeMutablePointer<termios>? = nil
nonisolated(unsafe) var crashTTYFD: Int32 = -1
nonisolated(unsafe) var crashRealStderrFD: Int32 = -1
nonisolated(unsafe) var crashLogReadFD: Int32 = -1
nonisolated(unsafe) var crashLogStart: Int = 0
nonisolated(unsafe) var crashCopyBuffer: UnsafeMutablePointer<UInt8>? = nil
let crashCopyBufferSize = 4096
let crashArmed = Atomic<Int32>(0)

let terminatingSignals: [Int32] = [SIGINT, SIGTERM, SIGHUP]
let crashSignals: [Int32] = [SIGILL, SIGTRAP, SIGABRT, SIGSEGV, SIGBUS, SIGFPE]

private func writeAll(_ fd: Int32, _ p: UnsafeRawPointer, _ count: Int) {
    var done = 0
    while done < count {
        let n = write(fd, p + done, count - done)
        if n > 0 { done += n } else if n < 0 && errno == EINTR { continue } else { return }
    }
}

private func writeStatic(_ fd: Int32, _ s: StaticString) {
    writeAll(fd, s.utf8Start, s.utf8CodeUnitCount)
}

func signalWriteTag(_ tag: UInt8) {
    guard sigWakeFD >= 0 else { return }
    var b = tag
    _ = write(sigWakeFD, &b, 1)
}

/// Puts the terminal back the way the shell had it, from a signal handler, and gives fd 2 back
/// to the terminal. Runs at most once per arming; returns false when it had already run.
@discardableResult
func crashRestoreTTY() -> Bool {
    guard crashArmed.exchange(0, ordering: .acquiringAndReleasing) != 0 else { return false }
    if let bytes = crashRestoreBytes, crashTTYFD >= 0 { writeAll(crashTTYFD, bytes, crashRestoreCount) }
    if let saved = crashSavedTermios { _ = tcsetattr(STDIN_FILENO, TCSAFLUSH, saved) }
    if crashRealStderrFD >= 0 { _ = dup2(crashRealStderrFD, STDERR_FILENO) }
    return true
}

/// Prints the tail of the stderr log (where a `Fatal error:` message went while curses owned
/// the screen) on the real stderr. Signal-safe.
func crashPrintLogTail() {
    guard crashRealStderrFD >= 0, crashLogReadFD >= 0, let buf = crashCopyBuffer else { return }
    let end = Int(lseek(crashLogReadFD, 0, SEEK_END))
    var offset = max(crashLogStart, end - crashCopyBufferSize)
    guard end > offset else { return }
    writeStatic(STDERR_FILENO, "\n[terminal restored; last lines of the stderr log follow]\n")
    while offset < end {
        let n = pread(crashLogReadFD, buf, min(crashCopyBufferSize, end - offset), off_t(offset))
        if n <= 0 { break }
        writeAll(STDERR_FILENO, buf, n)
        offset += n
    }
}

/// Both, for a signal that ends the process without a backtrace.
func crashRestoreTerminal() {
    if crashRestoreTTY() { crashPrintLogTail() }
}

/// Calls the handler `sig` had before ours, if it had one (not SIG_DFL or SIG_IGN). Returns
/// whether there was one to call.
@discardableResult
private func chain(_ sig: Int32, _ info: UnsafeMutablePointer<siginfo_t>?, _ context: UnsafeMutableRawPointer?) -> Bool {
    guard let olds = sigOldActions else { return false }
    let old = olds[Int(sig)]
    if old.sa_flags & Int32(truncatingIfNeeded: SA_SIGINFO) != 0 {
        guard let f = old.__sigaction_handler.sa_sigaction else { return false }
        f(sig, info, context)
        return true
    } else if let h = old.__sigaction_handler.sa_handler, unsafeBitCast(h, to: Int.self) > 1 {   // not SIG_DFL (0) / SIG_IGN (1)
        h(sig)
        return true
    }
    return false
}

private let terminateHandler: @convention(c) (Int32) -> Void = { sig in
    let savedErrno = errno
    if sigTerminateCount.add(1, ordering: .relaxed).newValue >= 2 {
        // The app did not stop after the first signal: restore the terminal and die now.
        crashRestoreTerminal()
        signal(sig, SIG_DFL)
        raise(sig)
    }
    sigPendingTerminate.store(sig, ordering: .sequentiallyConsistent)
    signalWriteTag(UInt8(truncatingIfNeeded: sig))
    errno = savedErrno
}

private let resizeHandler: @convention(c) (Int32, UnsafeMutablePointer<siginfo_t>?, UnsafeMutableRawPointer?) -> Void = { sig, info, context in
    let savedErrno = errno
    signalWriteTag(PipeWaker.Tag.resize)
    chain(sig, info, context)       // ncurses' SIGWINCH handler: it turns into KEY_RESIZE
    errno = savedErrno
}

private let resumeHandler: @convention(c) (Int32, UnsafeMutablePointer<siginfo_t>?, UnsafeMutableRawPointer?) -> Void = { sig, info, context in
    let savedErrno = errno
    signalWriteTag(PipeWaker.Tag.resume)
    chain(sig, info, context)
    errno = savedErrno
}

private let crashHandler: @convention(c) (Int32, UnsafeMutablePointer<siginfo_t>?, UnsafeMutableRawPointer?) -> Void = { sig, info, context in
    let restored = crashRestoreTTY()
    // Whoever had the signal before runs now, on the restored terminal: Swift's backtracer
    // prints its report (every thread, registers, images: a few hundred lines) and returns.
    // The message that explains the crash comes after it, just above the shell's prompt, where
    // it is read; printed first, it would scroll away.
    if chain(sig, info, context) {
        if restored { crashPrintLogTail() }
        signal(sig, SIG_DFL)
    } else {
        if restored { crashPrintLogTail() }
        if let olds = sigOldActions { _ = sigaction(sig, olds + Int(sig), nil) } else { signal(sig, SIG_DFL) }
    }
    // A fault raised by the kernel (ud2 from fatalError, a bad access) happens again when the
    // handler returns, now with the default action and the original context. Everything else
    // (abort, an explicit raise, int3) is raised again.
    let fromKernel = (info?.pointee.si_code ?? 0) > 0
    if fromKernel && sig != SIGTRAP && sig != SIGABRT { return }
    raise(sig)
}

enum SignalRouting {
    static func prepare() {
        if sigOldActions == nil {
            let p = UnsafeMutablePointer<SigAction>.allocate(capacity: 65)
            p.initialize(repeating: SigAction(), count: 65)
            sigOldActions = p
        }
        // A parent may have started us with signals blocked (a thread pool's mask is inherited
        // through fork and exec): unblock the ones the UI depends on on this thread.
        var wanted = sigset_t()
        sigemptyset(&wanted)
        for sig in [SIGINT, SIGTERM, SIGHUP, SIGWINCH, SIGCONT, SIGTSTP] { sigaddset(&wanted, sig) }
        _ = pthread_sigmask(SIG_UNBLOCK, &wanted, nil)
        // Touch the atomics so any lazy initialisation happens here, not in a handler.
        sigPendingTerminate.store(0, ordering: .sequentiallyConsistent)
        sigTerminateCount.store(0, ordering: .sequentiallyConsistent)
        _ = crashArmed.load(ordering: .relaxed)
    }

    private static func install(_ sig: Int32, saveOld: Bool = true, _ configure: (inout SigAction) -> Void) {
        var action = SigAction()
        sigemptyset(&action.sa_mask)
        configure(&action)
        var old = SigAction()
        _ = sigaction(sig, &action, &old)
        if saveOld, let olds = sigOldActions { olds[Int(sig)] = old }
    }

    static func restore(_ sig: Int32) {
        guard let olds = sigOldActions else { return }
        _ = sigaction(sig, olds + Int(sig), nil)
    }

    /// SIGINT/SIGTERM/SIGHUP → a tagged byte on the wake pipe. Before `newterm`, so ncurses
    /// (which only hooks signals still at SIG_DFL) leaves them alone. No SA_RESTART: a blocking
    /// read returns EINTR.
    static func installTerminate() {
        for sig in terminatingSignals {
            install(sig) { $0.__sigaction_handler.sa_handler = terminateHandler }
        }
    }

    /// After `newterm`: wrap ncurses' SIGWINCH handler (so a resize also wakes `poll`, without the
    /// race of a signal landing just before it) and watch SIGCONT (to repaint after Ctrl-Z/fg).
    static func installResizeAndResume() {
        for (sig, handler) in [(SIGWINCH, resizeHandler), (SIGCONT, resumeHandler)] {
            install(sig) {
                $0.__sigaction_handler.sa_sigaction = handler
                $0.sa_flags = Int32(truncatingIfNeeded: SA_SIGINFO) | Int32(truncatingIfNeeded: SA_RESTART)
            }
        }
    }

    static func installCrash() {
        for sig in crashSignals {
            install(sig) {
                $0.__sigaction_handler.sa_sigaction = crashHandler
                $0.sa_flags = Int32(truncatingIfNeeded: SA_SIGINFO) | Int32(truncatingIfNeeded: SA_NODEFER) | Int32(truncatingIfNeeded: SA_RESETHAND)
            }
        }
    }

    /// Temporarily sets `sig` to `handler` (SIG_IGN / SIG_DFL) and returns the action to put back.
    static func swap(_ sig: Int32, to handler: __sighandler_t?) -> SigAction {
        var action = SigAction()
        sigemptyset(&action.sa_mask)
        action.__sigaction_handler.sa_handler = handler
        var old = SigAction()
        _ = sigaction(sig, &action, &old)
        return old
    }

    static func put(_ sig: Int32, back action: SigAction) {
        var a = action
        _ = sigaction(sig, &a, nil)
    }
}
