import AppRuntime
import ArgumentParser
import ChangeFeedClient
import Config
import Emulator
import FeedModel
import Foundation
import ScriptMode
import Startup

/// `--config` and `--profile`, shared by every command that talks to a service.
struct ConfigOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The configuration file (default: $XDG_CONFIG_HOME/dicomtui/config.yaml, else ~/.config/dicomtui/config.yaml).",
                               valueName: "path"), completion: .file(extensions: ["yaml", "yml"]))
    var config: String?

    @Option(help: ArgumentHelp("The profile of the configuration file to use (default: $DICOMTUI_PROFILE, else the file's default-profile).",
                               valueName: "name"))
    var profile: String?

    /// Reads the file and applies flags > environment > profile. A bad file or an unknown
    /// profile ends the command with the message and status 78 (EX_CONFIG).
    func resolve(_ flags: FlagSettings, base: Settings) throws -> (Settings, ConfigFile?) {
        let env = ProcessInfo.processInfo.environment
        do {
            let file = try ConfigLocation.load(explicitPath: config, environment: env)
            return (try Resolution.resolve(file: file, environment: env, flags: flags, base: base), file)
        } catch {
            FileHandle.standardError.write(Data("dicomtui: \(error)\n".utf8))
            throw ExitCode(ScriptExit.config)
        }
    }
}

/// Where tokens come from, shared by `token` and `feed`.
struct TokenOptionGroup: ParsableArguments {
    @Flag(help: "Run against a built-in emulator of the change-feed API with a demo token: no Azure, no network.")
    var demo = false

    @Option(help: ArgumentHelp("The az executable (default: $DICOMTUI_AZ, else az on PATH).", valueName: "path"),
            completion: .file())
    var az: String?

    @Option(help: ArgumentHelp("The resource the token is requested for (default: \(Settings().resource)).", valueName: "uri"))
    var resource: String?

    @Option(help: ArgumentHelp("The tenant to get the token from (az --tenant).", valueName: "tenant"))
    var tenant: String?

    @Option(name: .customLong("az-timeout"), parsing: .unconditional, help: ArgumentHelp("How long an az token request may take, e.g. 2m (default: \(defaultText(\.azTimeout))).", valueName: "duration"))
    var azTimeout: String?

    @Option(name: .customLong("refresh-before"), parsing: .unconditional, help: ArgumentHelp("The refresh threshold: a token with less time left counts as expiring, e.g. 5m, 90s (default: \(defaultText(\.refreshBefore))).", valueName: "duration"))
    var refreshBefore: String?

    @Option(name: .customLong("demo-token-lifetime"), parsing: .unconditional, help: ArgumentHelp("With --demo: lifetime of each demo token, e.g. 60m, 2m (default: \(defaultText(\.demoTokenLifetime))).", valueName: "duration"))
    var demoTokenLifetime: String?

    func validate() throws {
        try validateCommon(apiVersion: nil, refreshBefore: refreshBefore, parallel: nil)
        if let azTimeout, (Duration.seconds(parsing: azTimeout) ?? 0) <= 0 {
            throw ValidationError("--az-timeout takes a duration such as 60s or 2m (got '\(azTimeout)').")
        }
        if let demoTokenLifetime, Duration.seconds(parsing: demoTokenLifetime) == nil {
            throw ValidationError("--demo-token-lifetime takes a duration such as 60m or 2m (got '\(demoTokenLifetime)').")
        }
    }

    func apply(to s: inout Settings) {
        s.demo = demo
        if let t = azTimeout.flatMap(Duration.seconds(parsing:)) { s.azTimeout = t }
        if let t = demoTokenLifetime.flatMap(Duration.seconds(parsing:)) { s.demoTokenLifetime = t }
    }
}

/// Which service and which part of its feed, shared by the UI and `feed`.
struct ServiceOptionGroup: ParsableArguments {
    @Option(help: ArgumentHelp("The DICOM service URL, e.g. https://<workspace>-<service>.dicom.azurehealthcareapis.com (default: $DICOMTUI_URL, else the profile's url). Plain http:// only for loopback hosts.", valueName: "url"))
    var url: String?

    @Option(name: .customLong("api-version"), help: ArgumentHelp("Change-feed API version: v1, v1.0-prerelease or v2 (default: v2).", valueName: "version"))
    var apiVersion: String?

    @Option(parsing: .unconditional, help: ArgumentHelp("Page requests kept in flight while loading, 1 to 32; a number pins it (default: \(defaultText(\.parallel)): more while the service keeps up, fewer when it throttles).", valueName: "n"))
    var parallel: Int?

    @Option(parsing: .unconditional, help: ArgumentHelp("v2: only entries from this long ago on, e.g. 2h, 7d, 1h30m.", valueName: "duration"))
    var since: String?

    @Option(name: .customLong("start-time"), help: ArgumentHelp("v2: entries at or after this time (ISO 8601; without a zone, local time).", valueName: "time"))
    var startTime: String?

    @Option(name: .customLong("end-time"), help: ArgumentHelp("v2: entries before this time (ISO 8601; without a zone, local time).", valueName: "time"))
    var endTime: String?

    @Option(name: .customLong("page-size"), parsing: .unconditional, help: ArgumentHelp("Entries per request (default and maximum: 200 for v2, 100 for v1).", valueName: "n"))
    var pageSize: Int?

    @Option(name: .customLong("demo-entries"), parsing: .unconditional, help: ArgumentHelp("With --demo: how many change-feed entries the emulator has (default: \(Settings().demoEntries), computed on demand with the newest at now; up to 1000000, generated at start, as the tests use).", valueName: "n"))
    var demoEntries: Int?

    @Option(name: .customLong("demo-faults"), help: ArgumentHelp("With --demo: faults the emulator injects (see `dicomtui emulator --help`), e.g. '503%15@page,latency=50'.", valueName: "spec"))
    var demoFaults: String?

    @Option(name: .customLong("demo-live"), parsing: .unconditional, help: ArgumentHelp("With --demo: how often the emulator appends a change (creates, updates, deletes), e.g. 3s; 0 stops it (default: \(defaultText(\.demoLiveInterval))). The feed command does so only with --follow.", valueName: "duration"))
    var demoLive: String?

    var windowAsked: Bool { since != nil || startTime != nil || endTime != nil }

    func validate() throws {
        try validateCommon(apiVersion: apiVersion, refreshBefore: nil, parallel: parallel)
        if let n = pageSize, n < 1 { throw ValidationError("--page-size must be at least 1.") }
        if windowAsked {
            if apiVersion.flatMap(APIVersion.init(argument:))?.isSequenceMode == true {
                throw ValidationError("--since, --start-time and --end-time need --api-version v2 (v1 pages by sequence).")
            }
            do { _ = try TimeWindow.resolve(since: since, start: startTime, end: endTime, now: Date()) } catch {
                throw ValidationError(error.message)
            }
        }
        if let spec = demoFaults {
            do { _ = try FaultPlan(spec: spec) } catch { throw ValidationError("--demo-faults: \(error)") }
        }
        if let demoEntries, demoEntries < 0 { throw ValidationError("--demo-entries must be 0 or more.") }
        if let demoLive, (Duration.seconds(parsing: demoLive) ?? -1) < 0 {
            throw ValidationError("--demo-live takes a duration such as 3s, or 0 (got '\(demoLive)').")
        }
    }

    func apply(to s: inout Settings) {
        if let window = window() {
            s.startTime = window.start
            s.endTime = window.end
        }
        if let demoEntries { s.demoEntries = demoEntries }
        s.demoFaults = demoFaults
        if let t = demoLive.flatMap(Duration.seconds(parsing:)) { s.demoLiveInterval = t }
    }

    /// A time window needs v2; the version may come from the configuration file.
    func checkWindow(for version: APIVersion) throws {
        if version.isSequenceMode && windowAsked {
            throw ValidationError("--since, --start-time and --end-time need API version v2 (\(version.rawValue) pages by sequence).")
        }
    }

    func window() -> (start: Timestamp?, end: Timestamp?)? {
        guard windowAsked, let w = try? TimeWindow.resolve(since: since, start: startTime, end: endTime, now: Date()) else { return nil }
        return (w.start, w.end)
    }
}

/// How entries are loaded, shared by the UI and `feed`: metadata with every page, and follow mode.
struct LoadOptionGroup: ParsableArguments {
    @Flag(help: "Load every entry's DICOM metadata with its page (includeMetadata=true). The UI otherwise fetches an entry's metadata when it is opened.")
    var metadata = false

    @Flag(help: "Follow: once at the end of the feed, keep polling for new entries (the UI stays at the bottom; f switches it there). The feed command runs until Ctrl-C or SIGTERM.")
    var follow = false

    @Option(name: [.customLong("follow-interval"), .customLong("interval")], parsing: .unconditional,
            help: ArgumentHelp("Time between polls when following, e.g. 5s, 30s, 1m (default: \(defaultText(\.followInterval))).", valueName: "duration"))
    var followInterval: String?

    @Option(name: .customLong("late-window"), parsing: .unconditional,
            help: ArgumentHelp("How long after its timestamp a change may still appear (transactions commit in any order): re-reads cover this much of the feed's tail so that late rows are not missed, e.g. 2m, 30s (default: \(defaultText(\.lateWindow))).", valueName: "duration"))
    var lateWindow: String?

    @Option(name: .customLong("max-offset"), parsing: .unconditional,
            help: ArgumentHelp("v2: the most rows one request may skip; older entries are read in time windows small enough for it, since the service reads offset + limit rows for each request (default: \(Settings().maxOffset)).", valueName: "n"))
    var maxOffset: Int64?

    func validate() throws {
        if let maxOffset, maxOffset < 0 { throw ValidationError("--max-offset must be 0 or more.") }
        if let lateWindow, !(0...86_400).contains(Duration.seconds(parsing: lateWindow) ?? -1) {
            throw ValidationError("--late-window takes a duration from 0s to 1d, such as 2m or 30s (got '\(lateWindow)').")
        }
        if let followInterval, (Duration.seconds(parsing: followInterval) ?? 0) < 1 {
            throw ValidationError("--follow-interval takes a duration of at least 1s, such as 5s, 30s or 1m (got '\(followInterval)').")
        }
    }

    func apply(to s: inout Settings) {
        s.includeMetadata = metadata
        s.follow = follow
        if let t = followInterval.flatMap(Duration.seconds(parsing:)) { s.followInterval = t }
        if let t = lateWindow.flatMap(Duration.seconds(parsing:)) { s.lateWindow = t }
        if let maxOffset { s.maxOffset = maxOffset }
    }
}

/// The flags that take part in the precedence flags > environment > configuration file.
func flagSettings(_ c: ConfigOptions, _ t: TokenOptionGroup, _ s: ServiceOptionGroup?) -> FlagSettings {
    var f = FlagSettings(profile: c.profile)
    f.url = s?.url
    f.apiVersion = s?.apiVersion.flatMap(APIVersion.init(argument:))
    f.resource = t.resource
    f.tenant = t.tenant
    f.az = t.az
    f.refreshBefore = t.refreshBefore.flatMap(Duration.seconds(parsing:))
    f.pageSize = s?.pageSize
    f.parallel = s?.parallel
    return f
}

/// The settings only flags give (no profile holds them): the base the resolution starts from.
func commandLineSettings(_ t: TokenOptionGroup, _ s: ServiceOptionGroup?, _ l: LoadOptionGroup?) -> Settings {
    var settings = Settings()
    t.apply(to: &settings)
    s?.apply(to: &settings)
    l?.apply(to: &settings)
    return settings
}

/// A default of `Settings` as a duration for help texts: `5m`, `90s`, `2h`.
func defaultText(_ key: KeyPath<Settings, TimeInterval>) -> String {
    let seconds = Int(Settings()[keyPath: key])
    if seconds >= 7200, seconds % 3600 == 0 { return "\(seconds / 3600)h" }
    if seconds >= 120, seconds % 60 == 0 { return "\(seconds / 60)m" }
    return "\(seconds)s"
}

/// A default of `Settings` that may be left to the program, for help texts: the number, or
/// what nil means (`adaptive, 4 to 32` for `parallel`).
func defaultText(_ key: KeyPath<Settings, Int?>) -> String {
    if let n = Settings()[keyPath: key] { return "\(n)" }
    return key == \Settings.parallel ? Settings.adaptiveParallelText : "none"
}

/// Checks shared by the UI and the script commands.
func validateCommon(apiVersion: String?, refreshBefore: String?, parallel: Int?) throws {
    if let apiVersion, APIVersion(argument: apiVersion) == nil {
        throw ValidationError("--api-version must be v1, v1.0-prerelease or v2 (got '\(apiVersion)').")
    }
    if let refreshBefore, Duration.seconds(parsing: refreshBefore) == nil {
        throw ValidationError("--refresh-before takes a duration such as 5m, 90s or 1h (got '\(refreshBefore)').")
    }
    if let parallel, parallel < 1 || parallel > 32 {
        throw ValidationError("--parallel takes 1 to 32 (got \(parallel)).")
    }
}

struct TokenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Show the token's state, expiry, identity and audience (never the token itself).",
        discussion: """
            Gets a token the way the UI does (az account get-access-token, or --demo) and prints its state, \
            expiry (local time and seconds left), identity (user or app id, tenant, object id) and audience \
            from its claims, and its masked form (first and last four characters).

            Exit status: 0 when the token is valid for at least the refresh threshold (--refresh-before, \
            default 5m) and is for the DICOM service; 3 when it expires sooner; 1 when no token could be had \
            (az missing, not signed in, az returned an expired token, …) or the token is for another audience \
            (or, with --tenant, another tenant); 78 for a bad configuration file or profile. The reason goes to stderr.
            """)

    @OptionGroup var configuration: ConfigOptions
    @OptionGroup var tokens: TokenOptionGroup

    @Flag(help: "Print one JSON object (keys: state, expiresOn, expiresOnUTC, secondsLeft, refreshBefore, identity, upn, appId, tenant, objectId, audience, subscription, masked, source; error and hint on failure).")
    var json = false

    func run() throws {
        let (s, _) = try configuration.resolve(flagSettings(configuration, tokens, nil),
                                               base: commandLineSettings(tokens, nil, nil))
        var o = TokenOptions(settings: s)
        o.json = json
        let status = ScriptRunner.runToken(o)
        if status != 0 { throw ExitCode(status) }
    }
}

extension EntryFormat: ExpressibleByArgument {}

struct FeedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "feed",
        abstract: "Stream change-feed entries to stdout (NDJSON, JSON or CSV).",
        discussion: """
            Pages through the change feed with the UI's fetcher (pages in flight, retries with backoff, \
            429 Retry-After, a new token after a 401) and writes each entry as it arrives, in feed order. \
            NDJSON (default): one JSON object per line with the service's field names. json: one array. \
            csv: a header row, RFC 4180 quoting. Progress goes to stderr only when stderr is a terminal.

            An element the service sent that does not decode is written in its place, never dropped: \
            NDJSON/JSON {"unreadable":true, "sequence", "timestamp", "sopInstanceUid" (what could be read), \
            "reason", "raw" (the element as sent)}; CSV a row with the reason in the last column, unreadable. \
            --skip-unreadable leaves them out (each is still named on stderr).

            With --follow, each poll reads the feed's last --late-window again, because rows commit late \
            (a lower sequence after a higher one, or an earlier timestamp); an entry is written once, when it \
            is first seen, so a late one comes after entries that follow it in feed order.

            Exit status: 0 at the end of the feed, after --limit entries, when stdout is closed by its \
            reader (e.g. `| head`), or when --follow is stopped with Ctrl-C or SIGTERM; 65 when any element \
            did not decode (it was written through; with --skip-unreadable, 0); 1 on a fatal error \
            (no token, 400, 403, 404, a second 401, an answer that stayed non-JSON, requests that kept \
            failing for --give-up-after); 78 for a bad configuration, a bad URL or no URL; 130/143 when \
            interrupted without --follow.
            """)

    @OptionGroup var configuration: ConfigOptions
    @OptionGroup var tokens: TokenOptionGroup
    @OptionGroup var service: ServiceOptionGroup

    @Option(parsing: .unconditional, help: ArgumentHelp("v1 and v1.0-prerelease: start after this sequence number.", valueName: "seq"))
    var from: Int64?

    @Option(parsing: .unconditional, help: ArgumentHelp("Stop after this many entries.", valueName: "n"))
    var limit: Int?

    @Option(help: ArgumentHelp("Output format: ndjson, json or csv.", valueName: "format"))
    var format: EntryFormat = .ndjson

    @Flag(name: .customLong("skip-unreadable"), help: "Leave out elements that do not decode (they are still named on stderr, and the exit status stays 0).")
    var skipUnreadable = false

    @Option(name: .customLong("give-up-after"), parsing: .unconditional,
            help: ArgumentHelp("Stop (status 1) when a request has kept failing this long: network down, unknown host, refused connection, 5xx, 429 (default: 2m; with --follow: never); 0 means never.", valueName: "duration"))
    var giveUpAfter: String?

    /// `--give-up-after` in seconds, nil for never.
    var giveUpSeconds: TimeInterval? {
        guard let giveUpAfter else { return load.follow ? nil : FeedOptions.defaultGiveUpAfter }
        let s = Duration.seconds(parsing: giveUpAfter)!
        return s == 0 ? nil : s
    }

    @OptionGroup var load: LoadOptionGroup

    func validate() throws {
        if let n = limit, n < 0 { throw ValidationError("--limit must be 0 or more.") }
        if let n = from, n < 0 { throw ValidationError("--from takes a sequence number, 0 or more.") }
        if let g = giveUpAfter, (Duration.seconds(parsing: g) ?? -1) < 0 {
            throw ValidationError("--give-up-after takes a duration such as 2m, 30s or 1h, or 0 for never (got '\(g)').")
        }
    }

    func run() throws {
        let (s, file) = try configuration.resolve(flagSettings(configuration, tokens, service),
                                                  base: commandLineSettings(tokens, service, load))
        try service.checkWindow(for: s.apiVersion)
        if !tokens.demo && s.url == nil {
            FileHandle.standardError.write(Data("dicomtui feed: \(Resolution.missingURL(s, file: file?.path, demo: "dicomtui feed --demo"))\n".utf8))
            throw ExitCode(ScriptExit.config)
        }
        if !s.apiVersion.isSequenceMode && from != nil {
            throw ValidationError("--from SEQ needs --api-version v1 or v1.0-prerelease: v2 pages by time, not by sequence. With v2 use --since or --start-time.")
        }
        var o = FeedOptions(settings: s)
        o.fromSequence = from
        o.limit = limit
        o.skipUnreadable = skipUnreadable
        o.giveUpAfter = giveUpSeconds
        o.format = format
        let status = ScriptRunner.runFeed(o)
        if status != 0 { throw ExitCode(status) }
    }
}
