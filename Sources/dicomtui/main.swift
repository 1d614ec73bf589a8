import AppCore
import AppRuntime
import ArgumentParser
import ChangeFeedClient
import Config
import Emulator
import FeedModel
import Foundation
import Startup

/// `dicomtui`: the terminal UI; `dicomtui emulator`: the change-feed API emulator on its own.
struct DicomTUI: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dicomtui",
        abstract: "A terminal UI for the change feed of an Azure Health Data Services DICOM service.",
        discussion: """
            Opens a full-screen view of the service's change feed. The token comes from the Azure CLI \
            (az account get-access-token): run `az login` first. `dicomtui --demo` needs no Azure at all.

            \(KeyHelp.summary)

            Environment: DICOMTUI_URL (service URL), DICOMTUI_AZ (az executable), DICOMTUI_PROFILE (configuration \
            profile), NO_COLOR (monochrome). Configuration file: $XDG_CONFIG_HOME/dicomtui/config.yaml \
            (default ~/.config/dicomtui/config.yaml); flags override the environment, which overrides the file.

            Script mode: `dicomtui token` and `dicomtui feed` (see their --help). Shell completions: \
            `dicomtui --generate-completion-script bash|zsh|fish`.
            """,
        version: AppVersion.string,
        subcommands: [TokenCommand.self, FeedCommand.self, EmulatorCommand.self]
    )

    // Option groups, not plain options: swift-argument-parser lets a parent's options appear
    // after a subcommand's name, so `token` and `feed` share these groups with the root (the same
    // type is decoded once) instead of declaring options of the same names.
    @OptionGroup var configuration: ConfigOptions
    @OptionGroup var tokens: TokenOptionGroup
    @OptionGroup var service: ServiceOptionGroup
    @OptionGroup var load: LoadOptionGroup

    @Flag(name: .customLong("from-start"), help: "Read the feed from its first entry, instead of opening at the newest entries.")
    var fromStart = false

    @Option(name: .customLong("memory"), parsing: .unconditional,
            help: ArgumentHelp("About how many megabytes the list may take: past it, the rows farthest from the view are let go (and read again when the view comes back to them). At least 50 (default: 100).", valueName: "MB"))
    var memory: Int?

    @Flag(help: "Continue from where the last run stopped reading (positions are kept per service URL and API version in $XDG_STATE_HOME/dicomtui), instead of opening at the newest entries.")
    var resume = false

    @Flag(name: .customLong("no-color"), help: "Monochrome (also when NO_COLOR is set).")
    var noColor = false

    @Flag(name: .customLong("no-mouse"), help: "Leave the mouse to the terminal (keeps native text selection).")
    var noMouse = false

    @Flag(help: "Show times in UTC instead of local time (t switches in the UI).")
    var utc = false

    /// Runs the UI on the calling thread, which must be the main thread: curses, signals and
    /// the poll loop live there, while background work runs on the task pool.
    func run() throws {
        let flags = flagSettings(configuration, tokens, service)
        let (s, file) = try configuration.resolve(flags, base: commandLineSettings(tokens, service, load))
        try service.checkWindow(for: s.apiVersion)
        var o = UIOptions(settings: s)
        o.color = !noColor && s.theme != .mono && ProcessInfo.processInfo.environment["NO_COLOR"].map(\.isEmpty) ?? true
        o.mouse = !noMouse
        o.fromStart = fromStart
        o.resume = resume
        if let memory {
            guard memory >= 50 else { throw ValidationError("--memory takes at least 50 (megabytes; got \(memory)).") }
            o.memoryMegabytes = memory
        }
        if let file {
            o.profileCatalog = ProfileCatalog(file: file, environment: ProcessInfo.processInfo.environment, flags: flags)
        }
        o.utc = utc
        if !tokens.demo && o.url == nil {
            // The same status as `feed` for the same mistake: a bad configuration (EX_CONFIG).
            FileHandle.standardError.write(Data("dicomtui: \(Resolution.missingURL(s, file: file?.path, demo: "dicomtui --demo"))\n".utf8))
            throw ExitCode(ScriptExit.config)
        }
        let status = Launcher.runUI(o)
        if status != 0 { throw ExitCode(status) }
    }
}

struct EmulatorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "emulator",
        abstract: "Run the change-feed API emulator on its own (for development and for other tools' tests).")

    @Option(parsing: .unconditional, help: "Port on 127.0.0.1 (0 picks a free one).")
    var port = 8080

    @Option(parsing: .unconditional, help: "Number of change-feed entries to generate.")
    var entries = 2_000

    @Option(help: ArgumentHelp("generated: every entry made at start and kept in memory (about 100 bytes an entry; up to about 10^6). procedural: entries computed from the seed on demand, in constant memory, so 10^8 or 10^9 start at once; the newest is at --newest-at, with busy weekday working hours and quiet nights and weekends (UTC).", valueName: "generated|procedural"))
    var dataset: DatasetKind = .generated

    @Option(name: .customLong("entries-per-day"), parsing: .unconditional, help: ArgumentHelp("With --dataset procedural: entries per day on average (200000 puts 10^8 entries over about 500 days).", valueName: "n"))
    var entriesPerDay = 200_000

    @Option(name: .customLong("newest-at"), help: ArgumentHelp("With --dataset procedural: the time of the newest entry, ISO 8601 with a zone, e.g. 2026-03-02T09:00:00Z (default: now).", valueName: "time"))
    var newestAt: String?

    @Option(name: .customLong("offset-cost"), parsing: .unconditional, help: ArgumentHelp("Microseconds a v2 page answer waits per row its offset skips, as the service's SQL reads them (the same as the fault 'offsetcost=US'; default 0: none).", valueName: "us"))
    var offsetCost: Double?

    @Option(parsing: .unconditional, help: "Seed of the generated dataset (the same seed gives the same data).")
    var seed: UInt64 = 1

    @Option(help: ArgumentHelp("Accept only this bearer token, read from a file (default: any JWT for the audience that has not expired).", valueName: "path"))
    var tokenFile: String?

    @Option(help: ArgumentHelp("The audience (aud) tokens must carry.", valueName: "uri"))
    var audience = DicomService.audience

    @Flag(name: .customLong("no-auth"), help: "Accept requests without a token.")
    var noAuth = false

    @Option(parsing: .unconditional, help: ArgumentHelp("Delay added to every response, in milliseconds (the same as the fault 'latency=MS').", valueName: "ms"))
    var latency: Int?

    @Option(help: ArgumentHelp("Faults to inject, e.g. '503x2,429:retry=3,reset,hang=5000,slow,malformed,empty,truncated,bad-entry=5,503%20@page,latency=50,limit=8' (xN: the next N requests, %N: every Nth, @page|latest|any: which requests; limit=N: at most N requests at once, one more gets 429 'too many concurrent requests'; offsetcost=US: see --offset-cost).", valueName: "spec"))
    var faults: String?

    @Option(parsing: .unconditional, help: ArgumentHelp("Append a change (a create, update or delete) this often while running, e.g. 3s: a live feed for follow mode.", valueName: "duration"))
    var live: String?

    @Flag(help: "Serve a feed like a real one (as --demo does): equal and out-of-order timestamps, every wire form the service writes (key and enum casings, zones, escapes, partitions, filePath), and with --live, changes that commit late or are stamped in the past.")
    var realistic = false

    @Option(name: .customLong("unreadable-share"), parsing: .unconditional, help: ArgumentHelp("Share of rows the wire always breaks (an unknown action or state, a time without a zone), e.g. 0.01.", valueName: "share"))
    var unreadableShare: Double = 0

    func validate() throws {
        if let spec = faults {
            do { _ = try FaultPlan(spec: spec) } catch { throw ValidationError("\(error)") }
        }
        if let latency, latency < 0 { throw ValidationError("--latency takes milliseconds, 0 or more (got \(latency)).") }
        if entriesPerDay < 1 { throw ValidationError("--entries-per-day must be 1 or more (got \(entriesPerDay)).") }
        if let offsetCost, !(0...1_000_000).contains(offsetCost) {
            throw ValidationError("--offset-cost takes microseconds from 0 to 1000000 (got \(offsetCost)).")
        }
        if let newestAt, Self.parseTime(newestAt) == nil {
            throw ValidationError("--newest-at takes an ISO 8601 time with a zone, e.g. 2026-03-02T09:00:00Z (got '\(newestAt)').")
        }
        if entries < 0 { throw ValidationError("--entries must be 0 or more (got \(entries)).") }
        if dataset == .generated && entries > 20_000_000 {
            throw ValidationError("--entries \(entries) would not fit in memory with the generated dataset: add --dataset procedural.")
        }
        if !(0...1).contains(unreadableShare) { throw ValidationError("--unreadable-share takes a share from 0 to 1 (got \(unreadableShare)).") }
        if let live, (Duration.seconds(parsing: live) ?? 0) <= 0 {
            throw ValidationError("--live takes a duration such as 3s or 1m (got '\(live)').")
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
        var options = EmulatorOptions(port: port, entries: entries, seed: seed, auth: auth, dataset: dataset)
        options.dataset.entriesPerDay = entriesPerDay
        options.dataset.newestAt = newestAt.flatMap(Self.parseTime)
        if realistic {
            options.dataset.shape = .realistic
            options.wireFormat = .realistic
            options.liveChanges = .realistic
        }
        options.dataset.unreadableShare = unreadableShare
        if let spec = faults { options.faults = try FaultPlan(spec: spec) }
        if let latency { options.faults.latencyMilliseconds = latency }
        if let offsetCost { options.offsetCostMicroseconds = offsetCost }
        if let live, let seconds = Duration.seconds(parsing: live) {
            options.liveChangeInterval = .milliseconds(Int64(seconds * 1000))
        }
        try Launcher.runEmulator(options)
    }

    static func parseTime(_ text: String) -> Date? {
        let plain = ISO8601DateFormatter()
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions.insert(.withFractionalSeconds)
        return plain.date(from: text) ?? fractional.date(from: text)
    }
}

extension DatasetKind: ExpressibleByArgument {}

extension Duration {
    /// `90`, `90s`, `5m`, `2h`, `1d` as seconds.
    static func seconds(parsing text: String) -> TimeInterval? {
        DurationText.seconds(text)
    }
}

// A crash must never leave the user at Swift's interactive backtrace prompt inside a broken
// terminal. The runtime reads SWIFT_BACKTRACE at start-up, so set it and start again (same pid).
// No register dump: it prints the memory each register points to, which could be the token.
if getenv("SWIFT_BACKTRACE") == nil {
    setenv("SWIFT_BACKTRACE", "interactive=no,registers=none,images=none,threads=crashed", 1)
    let argv = CommandLine.unsafeArgv
    execv("/proc/self/exe", argv)
    // exec failed (no /proc): carry on; the crash guard still restores the terminal.
}

// Every command runs on the main thread: the UI needs it (curses, signals, the poll loop),
// while background work runs on the task pool.
DicomTUI.main()
