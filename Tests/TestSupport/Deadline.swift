/// What `body` returns, or nil when it has not returned within `timeout` (then it is cancelled).
public func within<T: Sendable>(_ timeout: Duration, _ body: @escaping @Sendable () async -> T?) async throws -> T? {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { await body() }
        group.addTask {
            try await Task.sleep(for: timeout)
            return nil
        }
        let first = try await group.next() ?? nil
        group.cancelAll()
        return first
    }
}
