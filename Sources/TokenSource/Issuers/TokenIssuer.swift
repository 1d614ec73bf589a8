import Foundation

/// Where the app gets its bearer tokens: one fresh token per call, nothing cached. Implemented
/// by ``AzTokenIssuer`` (runs az) and ``DemoTokenIssuer`` (mints a demo token). Reuse, one call
/// shared by concurrent callers, renewal ahead of expiry and a new token after a 401 are
/// `TokenKeeper`'s (Authorization).
///
/// The token types, one role each:
/// - `TokenIssuer` (this file): the protocol above.
/// - `AzTokenIssuer` (AzTokenIssuer.swift): `az account get-access-token` once: run, parse, return.
/// - `DemoTokenIssuer` (DemoTokenIssuer.swift): mints an unsigned demo JWT for the built-in emulator.
/// - `AzCLI` (AzCLI.swift): runs any az command (token, account, login) and classifies its errors.
/// - `AccessToken` (AccessToken.swift): the secret itself, masked in every description.
/// - `TokenKeeper` (Authorization): the one cache: reuse, single flight, refresh margin, 401, pauses.
/// - `TokenEventBridge` (AppRuntime): the UI's adapter: the keeper's changes as `AppEvent`s.
/// - `TokenSummary` (AppCore/TokenState.swift): what the UI may know of a token (claims, expiry, masked).
/// - `TokenState`, `TokenStatus` (AppCore/TokenState.swift): the token part of the app state, and
///   the word the header shows for it.
public protocol TokenIssuer: Sendable, CustomStringConvertible {
    /// A token, asked for now.
    func token() async throws(TokenError) -> AccessToken
    /// The signed-in account, if the issuer knows one.
    func account() async throws(TokenError) -> AccountInfo?
    /// What the issuer is, for the status line (never contains a token).
    var description: String { get }
}
