import Foundation

/// Drives the real `dicomtui` binary inside a private tmux server: type keys, read the screen.
/// Each session gets its own socket, so tests never touch the user's tmux.
public final class Tmux: ScreenReading {
    public let socket: String
    public let session = "e2e"
    public let workDir: URL

    /// Starts a shell in a new detached tmux session of `cols` x `rows`, keeping `historyLimit`
    /// lines that scrolled off the top.
    public init(cols: Int = 100, rows: Int = 30, environment: [String: String] = [:], historyLimit: Int = 100) throws {
        socket = "dicomtui-e2e-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        workDir = FileManager.default.temporaryDirectory.appendingPathComponent(socket)
        try FileManager.default.createDirectory(at: workDir, withIntermediateDirectories: true)
        let conf = workDir.appendingPathComponent("tmux.conf")
        try "set -g default-terminal tmux-256color\nset -g status off\nset -g history-limit \(historyLimit)\nset -g set-clipboard on\n"
            .write(to: conf, atomically: true, encoding: .utf8)
        var env = ["LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "HOME": workDir.path, "PS1": "$ "]
        env.merge(environment) { _, new in new }
        let exports = env.sorted { $0.key < $1.key }.map { "\($0.key)=\(Tmux.quote($0.value))" }.joined(separator: " ")
        try tmux(["-f", conf.path, "new-session", "-d", "-s", session, "-x", "\(cols)", "-y", "\(rows)",
                  "env -i PATH=\(Tmux.quote(ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")) TERM=tmux-256color \(exports) bash --norc --noprofile"])
    }

    deinit {
        _ = try? tmux(["kill-server"])
        try? FileManager.default.removeItem(at: workDir)
    }

    /// Types a command line into the shell and presses Enter.
    public func run(_ commandLine: String) throws {
        try tmux(["send-keys", "-t", session, "-l", commandLine])
        try tmux(["send-keys", "-t", session, "Enter"])
    }

    /// Sends tmux key names (`j`, `Down`, `NPage`, `C-d`, `q`).
    public func keys(_ names: String...) throws {
        for n in names { try tmux(["send-keys", "-t", session, n]) }
    }

    /// Sends bytes literally (mouse sequences and the like).
    public func literal(_ text: String) throws {
        try tmux(["send-keys", "-t", session, "-l", text])
    }

    /// Sends raw bytes, given as numbers (`tmux send-keys -H`): escape sequences exactly as a
    /// terminal would write them, whatever the pane's TERM says.
    public func bytes(_ bytes: [UInt8]) throws {
        try tmux(["send-keys", "-t", session, "-H"] + bytes.map { String(format: "%02x", $0) })
    }

    /// The visible screen as text lines.
    public func screen() throws -> [String] {
        let text = try tmux(["capture-pane", "-p", "-t", session])
        if recordsCaptures { captures.append(text) }
        return text.components(separatedBy: "\n")
    }

    /// The pane's whole history and screen (what scrolled away included), as one string.
    public func history() throws -> String {
        let text = try tmux(["capture-pane", "-p", "-S", "-", "-E", "-", "-t", session])
        if recordsCaptures { captures.append(text) }
        return text
    }

    /// When true, every capture (`screen`, `history`) is kept in `captures`, for tests that
    /// search everything the user could have seen.
    public var recordsCaptures = false
    /// The captures kept while `recordsCaptures` was on, oldest first.
    public private(set) var captures: [String] = []

    /// A tmux format value for the pane (`#{alternate_on}`, `#{cursor_flag}`).
    public func display(_ format: String) throws -> String {
        try tmux(["display-message", "-p", "-t", session, format]).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Closes the terminal under the app (its tty hangs up).
    public func killServer() throws {
        try tmux(["kill-server"])
    }

    /// The newest tmux paste buffer (what the app copied inside tmux).
    public func buffer() throws -> String {
        try tmux(["show-buffer"])
    }

    public func resize(cols: Int, rows: Int) throws {
        try tmux(["resize-window", "-t", session, "-x", "\(cols)", "-y", "\(rows)"])
    }

    public enum TmuxError: Error { case failed(String) }

    @discardableResult
    private func tmux(_ args: [String]) throws -> String {
        // Output goes through a file, not a pipe: the tmux server that the first command starts
        // inherits the descriptors and would hold a pipe open forever.
        let out = workDir.appendingPathComponent("tmux.out").path
        let status = try spawnAndWait(["tmux", "-u", "-L", socket] + args, stdoutPath: out)
        let text = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
        if status != 0 && args.first != "kill-server" {
            throw TmuxError.failed("tmux \(args.joined(separator: " ")) exited with \(status)")
        }
        return text
    }

    public static func quote(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }
}

/// Paths of the built products.
public enum Build {
    /// The `dicomtui` binary next to the test bundle (swift test builds every product), or `$DICOMTUI_BIN`.
    public static var dicomtui: String {
        if let p = ProcessInfo.processInfo.environment["DICOMTUI_BIN"] { return p }
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("dicomtui")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate.path }
            dir = dir.deletingLastPathComponent()
        }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(".build/debug/dicomtui").path
    }

    /// tmux on PATH, where the end-to-end suites find it.
    public static var tmuxPath: String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/tmux" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// CI (`.ci/run`) promises tmux with DICOMTUI_REQUIRE_TMUX=1: then a missing tmux fails the
    /// end-to-end suites instead of skipping them.
    public static var tmuxRequired: Bool { ProcessInfo.processInfo.environment["DICOMTUI_REQUIRE_TMUX"] == "1" }

    /// Whether the end-to-end suites run: tmux is there, or it is required (and they fail without it).
    public static var tmuxAvailable: Bool { tmuxPath != nil || tmuxRequired }
}

/// Runs a program (found on PATH) with stdout to a file and stderr to /dev/null; returns its
/// exit status. posix_spawn and waitpid: Foundation's Process can miss a child's exit when
/// called from a test's task.
public func spawnAndWait(_ argv: [String], stdoutPath: String) throws -> Int32 {
    try spawnAndWait(argv, stdoutPath: stdoutPath, stderrPath: "/dev/null", environment: nil)
}

/// The same, with stderr to `stderrPath` and, when given, `environment` instead of this process's.
public func spawnAndWait(_ argv: [String], stdoutPath: String, stderrPath: String, environment: [String: String]?) throws -> Int32 {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, stdoutPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    posix_spawn_file_actions_addopen(&actions, 2, stderrPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    // Nothing else is inherited: the tmux server lives on, and an inherited descriptor of a
    // script another test is writing would keep that script "busy" (ETXTBSY) for good.
    for name in (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? [] {
        if let fd = Int32(name), fd > 2, fcntl(fd, F_GETFD) >= 0 { posix_spawn_file_actions_addclose(&actions, fd) }
    }
    var cArgs = argv.map { strdup($0) } + [nil]
    defer { for a in cArgs { free(a) } }
    // The test runs on a pool thread whose mask blocks signals; the tmux server (and so the app
    // under test) would inherit it. Start children with nothing blocked and default handlers.
    var attr = posix_spawnattr_t()
    posix_spawnattr_init(&attr)
    defer { posix_spawnattr_destroy(&attr) }
    var empty = sigset_t(), all = sigset_t()
    sigemptyset(&empty)
    sigfillset(&all)
    posix_spawnattr_setsigmask(&attr, &empty)
    posix_spawnattr_setsigdefault(&attr, &all)
    posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
    var pid: pid_t = 0
    var cEnv: [UnsafeMutablePointer<CChar>?] = environment.map { $0.map { strdup("\($0.key)=\($0.value)") } + [nil] } ?? []
    defer { for e in cEnv { free(e) } }
    let rc = environment == nil
        ? posix_spawnp(&pid, argv[0], &actions, &attr, &cArgs, environ)
        : posix_spawnp(&pid, argv[0], &actions, &attr, &cArgs, &cEnv)
    guard rc == 0 else { throw Tmux.TmuxError.failed("cannot start \(argv[0]): \(String(cString: strerror(rc)))") }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
}

/// Writes an executable script with a close-on-exec descriptor. Written the usual way, a
/// process spawned meanwhile by another test (a tmux server lives on) inherits the open
/// descriptor and running the script then fails with ETXTBSY ("Text file busy").
public func writeExecutable(_ text: String, to path: String) throws {
    let tmp = path + ".tmp-\(getpid())"
    let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o755)
    guard fd >= 0 else { throw Tmux.TmuxError.failed("cannot write \(tmp): \(String(cString: strerror(errno)))") }
    var bytes = Array(text.utf8)
    var offset = 0
    while offset < bytes.count {
        let n = bytes.withUnsafeMutableBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
        if n > 0 { offset += n } else if errno != EINTR { break }
    }
    fchmod(fd, 0o755)
    close(fd)
    guard rename(tmp, path) == 0 else { throw Tmux.TmuxError.failed("cannot rename \(tmp)") }
}
