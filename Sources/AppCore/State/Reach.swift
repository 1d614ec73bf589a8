import FeedModel
import Foundation

/// Where in the feed the user asked to go: `g`, `G`, or the `:` prompt.
public enum SeekTarget: Sendable, Equatable {
    /// The feed's first entry.
    case first
    /// The newest entries (where the list opens).
    case newest
    /// The entry with this sequence, or the first after it.
    case sequence(Int64)
    /// The first entry at or after this time.
    case time(Timestamp)

    /// What `:` was given: a sequence number (`123456`), a date or a time, in `zone` unless it
    /// says its own (`2026-11-20`, `2026-11-20 14:00`, `2026-11-20T14:00:00Z`), a time back from
    /// `now` (`-2h`, `-1d12h`), or `first` / `newest`.
    public static func parse(_ typed: String, now: Date, zone: TimeZone) -> Result<SeekTarget, TimeWindow.InputError> {
        let text = typed.trimmingCharacters(in: .whitespaces)
        let what = "a sequence number (123456), a time (2026-11-20 14:00), a time back from now (-2h), first, newest or saved"
        if text.isEmpty { return .failure(TimeWindow.InputError("Type \(what).")) }
        switch text.lowercased() {
        case "first", "start": return .success(.first)
        case "newest", "latest", "end", "now": return .success(.newest)
        default: break
        }
        // No digit at all: not a mistyped time but something else; say every form there is.
        if !text.contains(where: \.isNumber), !text.hasPrefix("-") {
            return .failure(TimeWindow.InputError("Go to '\(text)': type \(what)."))
        }
        if text.allSatisfy({ $0.isASCII && $0.isNumber }) {
            guard let n = Int64(text) else { return .failure(TimeWindow.InputError("'\(text)' is too large for a sequence number.")) }
            return .success(.sequence(max(1, n)))
        }
        do throws(TimeWindow.InputError) {
            if text.hasPrefix("-") {
                let back = try TimeWindow.duration(String(text.dropFirst()), option: "Go to")
                return .success(.time(Timestamp(now).adding(seconds: -back)))
            }
            // "2026-11-20 14:00": a space where ISO 8601 puts a T.
            var iso = text
            if let space = iso.firstIndex(of: " "), iso[..<space].count == 10 {
                iso.replaceSubrange(space...space, with: "T")
                iso = iso.replacingOccurrences(of: " ", with: "")
            }
            return .success(.time(try TimeWindow.time(iso, option: "Go to", zone: zone)))
        } catch {
            return .failure(error)
        }
    }
}

/// Where a run stopped reading, as saved for the next session (`PositionStore`).
public struct SavedPosition: Sendable, Equatable {
    public var point: FeedCursor.Start
    public var savedAt: Date
    public init(point: FeedCursor.Start, savedAt: Date) { self.point = point; self.savedAt = savedAt }

    /// The jump that lands there: v1 the first entry after the sequence, v2 the time.
    public var target: SeekTarget { point.startTime.map { .time($0) } ?? .sequence(point.afterSequence + 1) }
}

/// How much of the feed the list holds, and how it grows (issue 14). The list is one stretch of
/// the feed, in feed order, from `AppState.origin` on:
/// - it opens at the **newest entries** (`tailFirst`): `/latest` says where the feed ends, and the
///   first read starts a little before that (a small feed is read whole);
/// - **older entries** are loaded a page at a time when the view comes near the list's start
///   (`olderExists`), and the list's start moves back with them;
/// - a **jump** (`g`, `G`, `:`) starts the list again where it lands, reading only that
///   neighbourhood (`neighbourhood` rows); newer ones are read as the view comes near the end
///   (`newerExists`), and once the end of the feed is reached, follow mode works there.
public struct Reach: Sendable, Equatable {
    /// Open at the newest entries; false: read from `origin` on (a saved position, `--from-start`,
    /// a time window).
    public var tailFirst = false
    /// A feed with at most this many entries (by `/latest`'s sequence) is read whole.
    public var wholeFeedUpTo: Int64 = 20_000
    /// v1: the first read starts this many sequences before the newest.
    public var tailRows: Int64 = 1_000
    /// v2: the first read starts this long before the newest entry, besides the late window.
    public var tailSpan: TimeInterval = 60
    /// Rows a jump reads around where it lands, and each read of newer rows after it.
    public var neighbourhood = 2_000
    /// The most rows the list holds (`--memory`): past it, the rows farthest from the view are
    /// dropped (and read again if the view comes back to them).
    public var maxRows = Reach.rows(forMegabytes: 100)
    /// Rows dropped so far to stay within `maxRows`.
    public var dropped = 0
    /// The list's ends, and the one the last read added rows to (nil: none yet since a jump).
    public enum End: Sendable, Equatable { case oldest, newest }
    public var lastRead: LastRead?
    public enum LastRead: Sendable, Equatable { case older, newer }

    /// The rows a memory budget allows: what the process needs besides the list (about 40 MB:
    /// the runtime, NIO, a page or two in flight), and about 60 bytes a row for the rest
    /// (`EntryStore` takes 35 to 45 at a million rows, and filter matches and indexes come on top).
    public static func rows(forMegabytes megabytes: Int) -> Int {
        max(20_000, (megabytes - 40) * 1_000_000 / 60)
    }

    /// A jump waiting to know where it lands (`/latest`, or a look-up by sequence or time).
    public var seeking: SeekTarget?
    /// Where the selection goes as rows arrive (cleared when the user moves).
    public var select: SeekTarget?
    /// Entries older than the list's first exist and are not loaded.
    public var olderExists = false
    /// The last read stopped before the end of the feed (a jump's neighbourhood): newer entries
    /// exist and are read as the view comes near the list's end.
    public var newerExists = false
    /// The current read is a jump's neighbourhood (it stops after `neighbourhood` rows).
    public var bounded = false
    /// A jump that could not find where it lands (no token, an error): tried again with the
    /// next token or `R`.
    public var retrySeek: SeekTarget?
    public var loadingOlder = false
    /// Why the last read of older entries failed (moving up at the top tries again).
    public var olderProblem: Problem?
    /// v2: the time span the next read of older entries tries (ticks).
    public var spanHint: Int64?
    /// Counts jumps: a read of older entries answers for the jump that asked for it.
    public var generation = 0
    /// Where the last run on this service stopped (`'` goes there); nil: none saved.
    public var saved: SavedPosition?
    /// The newest entry as `/latest` said (for the position in the whole feed).
    public var newestSequence: Int64?
    public var newestTime: Timestamp?

    public init() {}
}
