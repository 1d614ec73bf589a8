import Foundation

/// The sign-in dialog (`l`): a device-code sign-in running in the background.
public struct SignInState: Sendable, Equatable {
    public enum Phase: Sendable, Equatable {
        /// az is starting; no code yet.
        case starting
        /// The user must open `url` and enter `code`.
        case waiting(url: String, code: String, message: String)
        /// Signed in; a token is on its way.
        case succeeded
        /// az said no (declined, expired, failed): its message, and the dialog stays until closed.
        case failed(Problem)
    }
    public var phase: Phase
    public var startedAt: Date

    public init(phase: Phase = .starting, startedAt: Date) {
        self.phase = phase
        self.startedAt = startedAt
    }

    public var isRunning: Bool {
        switch phase {
        case .starting, .waiting: true
        case .succeeded, .failed: false
        }
    }
}
