import Foundation

/// Where the app gets its bearer tokens. Implemented by ``AzTokenSource`` and ``DemoTokenSource``.
/// A provider caches nothing: each call asks once (runs az, or mints a demo token) and returns
/// what it got. Reuse, one call shared by concurrent callers, renewal ahead of expiry and a new
/// token after a 401 are `TokenKeeper`'s (Authorization).
public protocol TokenProvider: Sendable, CustomStringConvertible {
    /// A token, asked for now.
    func token() async throws(TokenError) -> AccessToken
    /// The signed-in account, if the source knows one.
    func account() async throws(TokenError) -> AccountInfo?
    /// What the source is, for the status line (never contains a token).
    var description: String { get }
}
