import Foundation

/// Where the app gets its bearer tokens. Implemented by ``AzTokenSource`` and ``DemoTokenSource``.
public protocol TokenProvider: Sendable, CustomStringConvertible {
    /// A token valid for a while yet. Sources cache; `forceRefresh` skips the cache
    /// (use it after a 401).
    func token(forceRefresh: Bool) async throws(TokenError) -> AccessToken
    /// The signed-in account, if the source knows one.
    func account() async throws(TokenError) -> AccountInfo?
    /// What the source is, for the status line (never contains a token).
    var description: String { get }
}

extension TokenProvider {
    /// A token from the cache, or a fresh one.
    public func token() async throws(TokenError) -> AccessToken {
        try await token(forceRefresh: false)
    }
}
