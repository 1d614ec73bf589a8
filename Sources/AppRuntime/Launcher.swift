import AppCore
import AsyncHTTPClient
import ChangeFeedClient
import Startup
import Config
import Emulator
import FeedModel
import Foundation
import Synchronization
import Terminal
import TerminalKit
import TokenSource

/// What the UI runs with: the resolved settings, and what only the UI has (colours, mouse,
/// the clock's zone, the saved position, the profile switch).
public struct UIOptions: SettingsCarrier, Sendable {
    public var settings: Settings
    public var color = true
    public var mouse = true
    public var utc = false
    /// Read from the feed's first entry instead of opening at the newest entries.
    public var fromStart = false
    /// Continue from the position saved by the last run instead of opening at the newest entries.
    public var resume = false
    /// About how much memory the list may take (`--memory`).
    public var memoryMegabytes = 100
    /// Resolves another profile of the same file (for the UI's profile switch).
    public var profileCatalog: ProfileCatalog?
    public init(settings: Settings) { self.settings = settings }
}

/// One service the UI shows: where, with which token source and client, and where its position
/// is kept. Switching profile (`p`) replaces the session.
struct Session {
    var config: RunConfiguration
    var issuer: any TokenIssuer
    var client: ChangeFeedClient
    var positions: PositionStore?

    static func make(_ o: UIOptions, service: Service) -> Session {
        let endpoint = service.endpoint
        let isDemo = o.demo
        var config = RunConfiguration(endpoint: endpoint, settings: o.settings, isDemo: isDemo, color: o.color,
                                      timeZone: o.utc ? TimeZone(identifier: "UTC")! : .current)
        if let start = o.startTime { config.origin = FeedCursor.Start(startTime: start) }
        // Open at the newest entries, unless told to start elsewhere: the first entry, the
        // window asked for, or where the last run stopped (offered, with --resume).
        let positions = isDemo ? nil : PositionStore.standard()
        let windowAsked = o.startTime != nil || o.endTime != nil
        config.tailFirst = !o.fromStart && !windowAsked && !o.resume
        config.memoryMegabytes = o.memoryMegabytes
        if let positions, !o.fromStart, !windowAsked,
           let (point, savedAt) = positions.position(for: endpoint.baseURL, o.apiVersion) {
            let from = point.startTime.map { "from \(Format.dateTime($0, in: config.timeZone))" }
                ?? "after sequence \(Format.count(point.afterSequence))"
            config.saved = SavedPosition(point: point, savedAt: savedAt)
            if o.resume {
                config.origin = point
                config.originNote = "Continuing \(from), where the run of "
                    + "\(Format.dateTime(savedAt, in: config.timeZone)) stopped; --from-start loads the whole feed."
            } else {
                config.originNote = "The newest entries. The run of \(Format.dateTime(savedAt, in: config.timeZone)) "
                    + "stopped \(from): ' goes there (or dicomtui --resume at start)."
            }
        }
        return Session(config: config, issuer: service.issuer, client: service.client, positions: positions)
    }
}

/// Starts things up and tears them down; the executable calls only this.
public enum Launcher {
    /// Runs the UI on the calling (main) thread until the user quits. Returns the exit status.
    public static func runUI(_ o: UIOptions) -> Int32 {
        // Set up what needs async work (the demo emulator) before the terminal is taken over;
        // the same path as `feed`, with the same statuses for the same mistakes.
        let connection: Connection
        do {
            connection = try Connection.open(o.settings)
        } catch {
            printError("dicomtui: \(error)")
            return error.status
        }
        defer { connection.close() }
        let first = Session.make(o, service: connection.service)

        let terminal: CursesTerminal
        do {
            terminal = try CursesTerminal(options: .init(color: o.color, mouse: o.mouse, stderrLogPath: Self.stderrLogPath()))
        } catch {
            printError("dicomtui: cannot open the terminal: \(error). dicomtui needs an interactive terminal (a TTY) with a known TERM.")
            return 1
        }
        // `p`: another profile of the configuration file becomes a new session.
        let catalog = o.profileCatalog
        let switcher: AppRunner.Switcher = { name in
            guard let catalog, let next = catalog.options(for: name, base: o) else {
                return .failure(Problem("There is no profile '\(name)'.", hint: "The profiles are: \(o.profiles.joined(separator: ", "))."))
            }
            do {
                return .success(Session.make(next, service: try connection.service(for: next.settings)))
            } catch {
                return .failure(Problem("Profile '\(name)' cannot be used: \(error)", hint: "Fix it in the configuration file, then press p again."))
            }
        }
        let runner = AppRunner(session: first, terminal: terminal, switcher: switcher)
        let status = runner.run()
        terminal.shutdown()
        for problem in runner.positionProblems { printError(problem) }
        if !terminal.localeIsUTF8 {
            printError("dicomtui: the locale (\(terminal.localeCodeset)) is not UTF-8, so non-ASCII text was shown as '?'. Set LANG=C.UTF-8.")
        }
        return status
    }

    /// Runs the emulator in the foreground until SIGINT or SIGTERM, printing its URL once it listens.
    public static func runEmulator(_ o: EmulatorOptions) throws {
        let server = EmulatorServer(options: o)
        _ = try blocking { try await server.run { url in
            let line = "dicomtui emulator: \(server.store.count) change-feed entries at \(url.absoluteString) (Ctrl-C stops it)\n"
            FileHandle.standardOutput.write(Data(line.utf8))
        } }
    }

    /// Where stderr goes while curses owns the screen, so a crash message is not lost
    /// (printed again after the terminal is restored). Never holds a token: nothing logs one.
    static func stderrLogPath() -> String? {
        let env = ProcessInfo.processInfo.environment
        let base = env["XDG_STATE_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (env["HOME"].map { $0 + "/.local/state" } ?? NSTemporaryDirectory())
        let dir = base + "/dicomtui"
        guard (try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true,
                                                         attributes: [.posixPermissions: 0o700])) != nil else { return nil }
        return dir + "/stderr.log"
    }

}
