import AppCore
import ChangeFeedClient
import Foundation

/// A token as obtained: the secret, and what the UI may know of it.
struct ObtainedToken: Sendable {
    let secret: String
    let info: TokenInfo
}

/// Something that can get a token (az, the demo source). Throws `Problem` on failure.
protocol TokenObtaining: Sendable {
    func obtain() async throws(ProblemError) -> ObtainedToken
}

struct ProblemError: Error, Sendable {
    let problem: Problem
}

/// The one place that holds the token. Gets a token when asked or when the fetcher needs one,
/// lets concurrent callers share one request, and tells the UI what happens. The secret
/// never leaves this actor except as the value of the Authorization header.
actor TokenManager: BearerTokenSource {
    private let source: TokenObtaining
    private let events: EventQueue
    private var current: ObtainedToken?
    private var inflight: Task<ObtainedToken, Error>?
    /// A token this close to expiry is not handed out; a fresh one is fetched.
    private let minimumLifetime: TimeInterval = 30

    init(source: TokenObtaining, events: EventQueue) {
        self.source = source
        self.events = events
    }

    /// Gets a new token now (the `r` key, startup). Reports the outcome as events.
    func refresh() async {
        _ = try? await acquire()
    }

    // MARK: BearerTokenSource

    func token() async throws -> String {
        if let t = current, t.info.expiresOn.timeIntervalSinceNow > minimumLifetime { return t.secret }
        return try await acquire().secret
    }

    func rejected() async {
        current = nil
    }

    // MARK: -

    private func acquire() async throws -> ObtainedToken {
        if let running = inflight { return try await running.value }
        events.post(.tokenAcquiring)
        let source = self.source
        let task = Task<ObtainedToken, Error> {
            do {
                return try await source.obtain()
            } catch {
                throw error
            }
        }
        inflight = task
        defer { inflight = nil }
        do {
            let t = try await task.value
            current = t
            events.post(.tokenAcquired(t.info))
            return t
        } catch let e as ProblemError {
            events.post(.tokenFailed(e.problem))
            throw e
        } catch {
            events.post(.tokenFailed(Problem("Getting a token failed: \(error)")))
            throw error
        }
    }
}
