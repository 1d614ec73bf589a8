import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Whether a process id is gone (reaped) or at least dead (a zombie awaiting its new parent).
func processIsGoneOrDead(_ pid: Int32) -> Bool {
    if kill(pid, 0) != 0 { return errno == ESRCH }
    // Still has an entry: acceptable only as a zombie.
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
        let close = stat.lastIndex(of: ")")
    else { return true }
    let state = stat[stat.index(close, offsetBy: 2)]
    return state == "Z" || state == "X"
}

/// Whether a process id has been reaped by its parent (no zombie left behind).
func processIsReaped(_ pid: Int32) -> Bool {
    kill(pid, 0) != 0 && errno == ESRCH
}
