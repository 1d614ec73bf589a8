import Foundation
import FeedModel
import TerminalKit

/// Everything that can happen to the app: input from the user, time passing, and results of
/// background work (token requests, change-feed pages).
public enum AppEvent: Sendable, Equatable {
    /// The app has started: ask for a token.
    case started
    case input(InputEvent)
    /// The clock moved (for the countdown).
    case tick(Date)

    case tokenAcquiring
    case tokenAcquired(TokenInfo)
    case tokenFailed(Problem)

    case fetchStarted
    /// A page arrived: its entries in feed order and how many elements did not decode.
    case pageLoaded(entries: [ChangeFeedEntry], undecodable: Int)
    case latestSequence(Int64?)
    /// The fetcher reached the end of the feed.
    case caughtUp
    /// A request failed and is being retried (attempt counts from 1).
    case fetchRetrying(Problem, attempt: Int)
    /// The fetcher stopped on an error that retrying will not fix.
    case fetchStopped(Problem)
}

/// Work `update` asks the runtime to do. The core never does I/O itself.
public enum Effect: Sendable, Equatable {
    case acquireToken
    case startFetching
    case quit
}
