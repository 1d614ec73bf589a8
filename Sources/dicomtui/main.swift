import AppRuntime
import ArgumentParser
import ChangeFeedClient
import Emulator
import FeedModel
import Foundation

/// `dicomtui`: the terminal UI; `dicomtui emulator`: the change-feed API emulator on its own.
struct DicomTUI: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dicomtui",
        abstract: "A terminal UI for the change feed of an Azure Health Data Services DICOM service.",
        discussion: """
            Opens a full-screen view of the service's change feed. The token comes from the Azure CLI \
            (az account get-access-token): run `az login` first. `dicomtui --demo` needs no Azure at all.

            Keys: j/k or arrows move, PgUp/PgDn and Ctrl-d/Ctrl-u page, g/G or Home/End jump, \
            r gets a new token, q quits.

            Environment: DICOMTUI_URL (service URL), DICOMTUI_AZ (az executable), NO_COLOR (monochrome).
            """,
        version: AppVersion.string,
        subcommands: [EmulatorCommand.self]
    )

    @Flag(help: "Run against a built-in emulator of the change-feed API with a demo token: no Azure, no network.")
    var demo = false

    @Option(help: ArgumentHelp("The DICOM service URL, e.g. https://<workspace>-<service>.dicom.azurehealthcareapis.com (default: $DICOMTUI_URL). Plain http:// only for loopback hosts.", valueName: "url"))
    var url: String?

    @Option(help: ArgumentHelp("The az executable (default: $DICOMTUI_AZ, else az on PATH).", valueName: "path"))
    var az: String?

    @Option(help: ArgumentHelp("The resource the token is requested for.", valueName: "uri"))
    var resource = "https://dicom.healthcareapis.azure.com"

    @Option(help: ArgumentHelp("The tenant to get the token from (az --tenant).", valueName: "tenant"))
    var tenant: String?

    @Option(name: .customLong("api-version"), help: ArgumentHelp("Change-feed API version: v1, v1.0-prerelease or v2.", valueName: "version"))
    var apiVersion = "v2"

    @Option(help: ArgumentHelp("Page requests kept in flight while loading.", valueName: "n"))
    var parallel = 4

    @Option(help: ArgumentHelp("v2: only entries from this long ago on, e.g. 2h, 7d, 1h30m.", valueName: "duration"))
    var since: String?

    @Option(name: .customLong("start-time"), help: ArgumentHelp("v2: entries at or after this time (ISO 8601; without a zone, local time).", valueName: "time"))
    var startTime: String?

    @Option(name: .customLong("end-time"), help: ArgumentHelp("v2: entries before this time (ISO 8601; without a zone, local time).", valueName: "time"))
    var endTime: String?

    @Option(name: .customLong("page-size"), help: ArgumentHelp("Entries per request (default and maximum: 200 for v2, 100 for v1).", valueName: "n"))
    var pageSize: Int?

    @Option(name: .customLong("az-timeout"), help: ArgumentHelp("How long an az token request may take before it is stopped, e.g. 60s.", valueName: "duration"))
    var azTimeout = "60s"

    @Option(name: .customLong("refresh-before"), help: ArgumentHelp("Treat the token as expiring this long before it expires, e.g. 5m, 90s.", valueName: "duration"))
    var refreshBefore = "5m"

    @Flag(name: .customLong("from-start"), help: "Read the feed from its start, not from where the last run stopped (positions are kept per service URL and API version in $XDG_STATE_HOME/dicomtui).")
    var fromStart = false

    @Flag(name: .customLong("no-color"), help: "Monochrome (also when NO_COLOR is set).")
    var noColor = false

    @Flag(name: .customLong("no-mouse"), help: "Leave the mouse to the terminal (keeps native text selection).")
    var noMouse = false

    @Flag(help: "Show times in UTC instead of local time (t switches in the UI).")
    var utc = false

    @Flag(help: "Load every entry's metadata with its page (slower; shows patient and modality for every row). Without it, metadata is fetched when an entry is opened.")
    var metadata = false

    @Flag(help: "Start in follow mode: poll for new entries and stay at the bottom (f switches in the UI).")
    var follow = false

    @Option(name: .customLong("follow-interval"), help: ArgumentHelp("How often follow mode polls for new entries, e.g. 5s, 1m.", valueName: "duration"))
    var followInterval = "5s"

    @Option(name: .customLong("demo-live"), help: ArgumentHelp("With --demo: how often the emulator appends a change (creates, updates, deletes), e.g. 3s; 0 stops it.", valueName: "duration"))
    var demoLive = "3s"

    @Option(name: .customLong("demo-entries"), help: ArgumentHelp("With --demo: how many change-feed entries the emulator generates.", valueName: "n"))
    var demoEntries = 2_000

    @Option(name: .customLong("demo-faults"), help: ArgumentHelp("With --demo: faults the emulator injects (see `dicomtui emulator --help`), e.g. '503%15@page,latency=50'.", valueName: "spec"))
    var demoFaults: String?

    @Option(name: .customLong("demo-token-lifetime"), help: ArgumentHelp("With --demo: lifetime of each demo token, e.g. 60m, 2m.", valueName: "duration"))
    var demoTokenLifetime = "60m"

    func validate() throws {
        guard APIVersion(argument: apiVersion) != nil else {
            throw ValidationError("--api-version must be v1, v1.0-prerelease or v2 (got '\(apiVersion)').")
        }
        guard Duration.seconds(parsing: refreshBefore) != nil else {
            throw ValidationError("--refresh-before takes a duration such as 5m, 90s or 1h (got '\(refreshBefore)').")
        }
        guard let t = Duration.seconds(parsing: azTimeout), t > 0 else {
            throw ValidationError("--az-timeout takes a duration such as 60s or 2m (got '\(azTimeout)').")
        }
        guard Duration.seconds(parsing: demoTokenLifetime) != nil else {
            throw ValidationError("--demo-token-lifetime takes a duration such as 60m or 2m (got '\(demoTokenLifetime)').")
        }
        guard let fi = Duration.seconds(parsing: followInterval), fi >= 1 else {
            throw ValidationError("--follow-interval takes a duration of at least 1s, such as 5s or 1m (got '\(followInterval)').")
        }
        guard let live = Duration.seconds(parsing: demoLive), live >= 0 else {
            throw ValidationError("--demo-live takes a duration such as 3s, or 0 (got '\(demoLive)').")
        }
        if let n = pageSize, n < 1 { throw ValidationError("--page-size must be at least 1.") }
        if parallel < 1 || parallel > 32 { throw ValidationError("--parallel takes 1 to 32 (got \(parallel)).") }
        if since != nil || startTime != nil || endTime != nil {
            if APIVersion(argument: apiVersion)?.isSequenceMode == true {
                throw ValidationError("--since, --start-time and --end-time need --api-version v2 (v1 pages by sequence).")
            }
            do { _ = try TimeWindow.resolve(since: since, start: startTime, end: endTime, now: Date()) } catch {
                throw ValidationError(error.message)
            }
        }
        if let spec = demoFaults {
            do { _ = try FaultPlan(spec: spec) } catch { throw ValidationError("--demo-faults: \(error)") }
        }
        if demoEntries < 0 { throw ValidationError("--demo-entries must be 0 or more.") }
    }

    /// Runs the UI on the calling thread, which must be the main thread: curses, signals and
    /// the poll loop live there, while background work runs on the task pool.
    func run() throws {
        var o = UIOptions()
        o.demo = demo
        o.url = url ?? ProcessInfo.processInfo.environment["DICOMTUI_URL"].flatMap { $0.isEmpty ? nil : $0 }
        o.azPath = az ?? ProcessInfo.processInfo.environment["DICOMTUI_AZ"].flatMap { $0.isEmpty ? nil : $0 }
        o.resource = resource
        o.tenant = tenant
        o.apiVersion = APIVersion(argument: apiVersion)!
        o.pageSize = pageSize
        o.refreshBefore = Duration.seconds(parsing: refreshBefore)!
        o.azTimeout = Duration.seconds(parsing: azTimeout)!
        o.color = !noColor && ProcessInfo.processInfo.environment["NO_COLOR"].map(\.isEmpty) ?? true
        o.mouse = !noMouse
        o.fromStart = fromStart
        o.parallel = parallel
        if let window = try? TimeWindow.resolve(since: since, start: startTime, end: endTime, now: Date()) {
            o.startTime = window.start
            o.endTime = window.end
        }
        o.utc = utc
        o.includeMetadata = metadata
        o.follow = follow
        o.followInterval = Duration.seconds(parsing: followInterval)!
        o.demoLiveInterval = Duration.seconds(parsing: demoLive)!
        o.demoEntries = demoEntries
        o.demoTokenLifetime = Duration.seconds(parsing: demoTokenLifetime)!
        o.demoFaults = demoFaults
        if !demo && o.url == nil {
            throw ValidationError("""
                No service URL. Pass --url https://<workspace>-<service>.dicom.azurehealthcareapis.com \
                or set DICOMTUI_URL; or try `dicomtui --demo`, which needs no Azure.
                """)
        }
        let status = Launcher.runUI(o)
        if status != 0 { throw ExitCode(status) }
    }
}

struct EmulatorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "emulator",
        abstract: "Run the change-feed API emulator on its own (for development and for other tools' tests).")

    @Option(help: "Port on 127.0.0.1 (0 picks a free one).")
    var port = 8080

    @Option(help: "Number of change-feed entries to generate.")
    var entries = 2_000

    @Option(help: "Seed of the generated dataset (the same seed gives the same data).")
    var seed: UInt64 = 1

    @Option(help: ArgumentHelp("Accept only this bearer token, read from a file (default: any JWT for the audience that has not expired).", valueName: "path"))
    var tokenFile: String?

    @Option(help: ArgumentHelp("The audience (aud) tokens must carry.", valueName: "uri"))
    var audience = "https://dicom.healthcareapis.azure.com"

    @Flag(name: .customLong("no-auth"), help: "Accept requests without a token.")
    var noAuth = false

    @Option(help: ArgumentHelp("Faults to inject, e.g. '503x2,429:retry=3,reset,hang=5000,slow,malformed,truncated,bad-entry=5,503%20@page,latency=50' (xN: the next N requests, %N: every Nth, @page|latest|any: which requests).", valueName: "spec"))
    var faults: String?

    func validate() throws {
        if let spec = faults {
            do { _ = try FaultPlan(spec: spec) } catch { throw ValidationError("\(error)") }
        }
    }

    func run() throws {
        let auth: AuthPolicy
        if noAuth {
            auth = .none
        } else if let path = tokenFile {
            guard let token = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw ValidationError("Cannot read the token file \(path).")
            }
            auth = .bearerToken(token.trimmingCharacters(in: .whitespacesAndNewlines))
        } else {
            auth = .jwt(JWTRequirements(audience: audience))
        }
        var options = EmulatorOptions(port: port, entries: entries, seed: seed, auth: auth)
        if let spec = faults { options.faults = try FaultPlan(spec: spec) }
        try Launcher.runEmulator(options)
    }
}

extension Duration {
    /// `90`, `90s`, `5m`, `2h`, `1d` as seconds.
    static func seconds(parsing text: String) -> TimeInterval? {
        let t = text.trimmingCharacters(in: .whitespaces).lowercased()
        guard let last = t.last else { return nil }
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86_400]
        if let unit = units[last], let n = Double(t.dropLast()), n >= 0 { return n * unit }
        if let n = Double(t), n >= 0 { return n }
        return nil
    }
}

// A crash must never leave the user at Swift's interactive backtrace prompt inside a broken
// terminal. The runtime reads SWIFT_BACKTRACE at start-up, so set it and start again (same pid).
if getenv("SWIFT_BACKTRACE") == nil {
    setenv("SWIFT_BACKTRACE", "interactive=no", 1)
    let argv = CommandLine.unsafeArgv
    execv("/proc/self/exe", argv)
    // exec failed (no /proc): carry on; the crash guard still restores the terminal.
}

// Every command runs on the main thread: the UI needs it (curses, signals, the poll loop),
// while background work runs on the task pool.
DicomTUI.main()
