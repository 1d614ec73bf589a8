import Dispatch
import Foundation
import Synchronization
import TerminalKit

/// Runs async work from synchronous code on the main thread, which must not block the task pool.
public func blocking<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
    let result = Mutex<Result<T, Error>?>(nil)
    let done = DispatchSemaphore(value: 0)
    Task.detached {
        let r: Result<T, Error>
        do { r = .success(try await body()) } catch { r = .failure(error) }
        result.withLock { $0 = r }
        done.signal()
    }
    done.wait()
    return try result.withLock { $0! }.get()
}

public func blockingVoid(_ body: @escaping @Sendable () async -> Void) {
    _ = try? blocking { await body(); return true }
}

/// Writes a message to stderr, line by line through `SafeText`: messages quote the service
/// and az, and their text must not act on the terminal.
public func printError(_ text: String) {
    let safe = text.split(separator: "\n", omittingEmptySubsequences: false).map { SafeText.sanitize(String($0)) }
    FileHandle.standardError.write(Data((safe.joined(separator: "\n") + "\n").utf8))
}
