import Foundation
import FeedModel
import TerminalKit

/// Everything that can happen to the app: input from the user, time passing, and results of
/// background work (token requests, sign-in, change-feed pages).
public enum AppEvent: Sendable, Equatable {
    /// The app has started: ask for a token.
    case started
    case input(InputEvent)
    /// The clock moved (for the countdown, automatic refresh and the sign-in spinner).
    case tick(Date)

    case tokenAcquiring
    /// A token to use; `refreshAt`: when to renew it (the token keeper's schedule; by default
    /// `refreshBefore` ahead of expiry); `notice`: something to say about az's answer.
    case tokenAcquired(TokenSummary, refreshAt: Date? = nil, notice: String? = nil)
    /// No token; `retryAt`: when to try again on its own (by default 30 s later).
    case tokenFailed(Problem, retryAt: Date? = nil)
    /// `az account show` (or the demo source) described the signed-in account.
    case accountLoaded(String)

    /// The device-code sign-in printed its code.
    case signInPrompt(url: String, code: String, message: String)
    case signInSucceeded
    case signInFailed(Problem)
    /// The terminal came back from `az login` (`L`) with this exit status.
    case handOverFinished(status: Int32)
    /// `L` could not start az (not installed, the demo): shown in the sign-in dialog.
    case handOverFailed(Problem)

    /// A value was copied (or could not be).
    case copied(String)
    case copyFailed(String)

    case fetchStarted
    /// A page arrived: its entries in feed order and the elements that did not decode.
    case pageLoaded(entries: [ChangeFeedEntry], unreadable: [UnreadableEntry])
    /// A run began with `/changefeed/latest`'s answer (nils: the feed is empty).
    case latest(sequence: Int64?, timestamp: Timestamp?)
    /// v1: every sequence window up to this one has been read (gaps included).
    case readThrough(Int64)
    /// How fast pages come, and how far along the load is when that can be known.
    case progress(FetchRate)
    /// The fetcher reached the end of the feed.
    case caughtUp
    /// The fetcher read the rows a jump asked for and stopped before the end of the feed.
    case paused
    /// `/changefeed/latest` answered a jump to the newest entries (nils: the feed is empty).
    case latestProbed(sequence: Int64?, timestamp: Timestamp?, generation: Int)
    /// Where a jump by sequence (v2) or by time (v1) lands: the list starts there (nil: past
    /// the newest entry).
    case located(FeedCursor.Start?, generation: Int)
    case locateFailed(Problem, generation: Int)
    /// Rows just before the list's first, and where the list then begins (nil: the feed's
    /// first entry); v2: the time span the next read should try.
    case olderLoaded(entries: [ChangeFeedEntry], unreadable: [UnreadableEntry], boundary: FeedCursor.Start?,
                     nextSpan: Int64?, generation: Int)
    case olderFailed(Problem, generation: Int)
    /// Rows the whole-feed search read before where it was, and where they begin (nil: the
    /// feed's first entry).
    case searchRead(entries: [ChangeFeedEntry], unreadable: [UnreadableEntry], boundary: FeedCursor.Start?,
                    nextSpan: Int64?, generation: Int)
    case searchFailed(Problem, generation: Int)
    /// A request failed and is being retried (attempt counts from 1).
    case fetchRetrying(Problem, attempt: Int)
    /// The fetcher stopped on an error that retrying will not fix. `needsToken`: it was the
    /// token (none could be had, or the service rejected a fresh one); a new token restarts it.
    case fetchStopped(Problem, needsToken: Bool)

    /// The entry the detail view asked for, as the service has it now (nil: no such entry).
    case entryLoaded(sequence: Int64, ChangeFeedEntry?)
    case entryFailed(sequence: Int64, Problem)
    /// The run loop has a moment: the filter examines its next rows.
    case filterStep
    /// The profile picked with `p` could not be used.
    case profileSwitchFailed(Problem)
    /// The activity probes answered (the timeline).
    case activityProbed(ActivityOutcome)
}

/// Work `update` asks the runtime to do. The core never does I/O itself.
public enum Effect: Sendable, Equatable {
    case acquireToken
    /// Run the fetcher from this point (v1: after a sequence; v2: from a time).
    case startFetching(FeedCursor.Start)
    /// Run the fetcher from this point until about `rows` rows are read (`.paused`), or the end.
    case fetchNeighbourhood(FeedCursor.Start, rows: Int)
    /// Ask `/changefeed/latest` where the feed ends (a jump to the newest entries).
    case probeLatest(generation: Int)
    /// Find where a jump lands: a sequence's time (v2), or the first sequence at a time (v1).
    case locate(SeekTarget, generation: Int)
    /// Read the rows just before `before` (the list's first).
    case loadOlder(before: FeedCursor.Start, spanHint: Int64?, generation: Int)
    /// Read the rows just before `before` for the whole-feed search.
    case searchOlder(before: FeedCursor.Start, spanHint: Int64?, generation: Int)
    /// Run `az login --use-device-code` in the background and report through events.
    case startSignIn
    case cancelSignIn
    /// Suspend the UI and hand the terminal to `az login`.
    case handOverSignIn
    /// Put `text` on the clipboard (OSC 52, and the tmux buffer inside tmux).
    case copy(String, label: String)
    /// Fetch one entry with its metadata (the detail view).
    case loadEntry(sequence: Int64)
    /// `p`: show another profile's service (a new token, a new feed).
    case switchProfile(String)
    /// Probe the feed's shape for the activity timeline (`ActivityProbe`), in the background.
    case probeActivity
    case quit
}
