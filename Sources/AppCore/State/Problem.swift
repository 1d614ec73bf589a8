import Foundation

/// A failure to show the user: what happened and what to do about it.
public struct Problem: Error, Sendable, Equatable {
    public var message: String
    public var hint: String?
    /// It was the token (none could be had, or the service refused it): a new token may fix it.
    public var needsToken = false
    /// Signing in (`l`, `L`) would fix it (az is there but nobody is signed in, or must sign in again).
    public var signInHelps = false
    public init(_ message: String, hint: String? = nil, needsToken: Bool = false, signInHelps: Bool = false) {
        self.message = message; self.hint = hint; self.needsToken = needsToken; self.signInHelps = signInHelps
    }
}
