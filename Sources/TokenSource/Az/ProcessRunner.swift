import Foundation
import Subprocess
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

#if canImport(System)
import System
#else
import SystemPackage
#endif

/// One run of a child process: an executable path and an argument array (never a shell).
public struct ProcessRequest: Sendable, Equatable {
    /// Absolute (or relative to the working directory) path of the executable.
    public var executablePath: String
    public var arguments: [String]
    /// Variables set (or, with nil, removed) on top of the inherited environment.
    public var environmentOverrides: [String: String?]
    /// Wall-clock limit for the whole run.
    public var timeout: Duration
    /// How long the child gets after SIGTERM before SIGKILL.
    public var terminationGrace: Duration
    /// Upper bound on the stdout kept (az's answers are a few KB).
    public var stdoutLimit: Int

    public init(
        executablePath: String, arguments: [String], environmentOverrides: [String: String?] = [:],
        timeout: Duration = .seconds(60), terminationGrace: Duration = .seconds(2), stdoutLimit: Int = 1 << 20
    ) {
        self.executablePath = executablePath
        self.arguments = arguments
        self.environmentOverrides = environmentOverrides
        self.timeout = timeout
        self.terminationGrace = terminationGrace
        self.stdoutLimit = stdoutLimit
    }
}

/// How a child ended.
public enum ExitStatus: Sendable, Equatable {
    case exited(Int32)
    case signaled(Int32)

    /// Shell-style status: the exit code, or 128 + signal.
    public var code: Int32 {
        switch self {
        case .exited(let c): return c
        case .signaled(let s): return 128 + s
        }
    }
}

/// What a finished child printed. `stdout` may hold a token: never log it.
public struct ProcessOutput: Sendable, Equatable {
    public var status: ExitStatus
    public var stdout: Data
    /// True if stdout was longer than the request's limit (the rest was dropped).
    public var stdoutTruncated: Bool
    /// stderr split into lines (UTF-8, invalid bytes replaced), trailing `\r` removed.
    public var stderrLines: [String]
    /// The child's process id (for diagnostics and tests).
    public var pid: Int32

    public init(status: ExitStatus, stdout: Data, stdoutTruncated: Bool = false, stderrLines: [String], pid: Int32 = 0) {
        self.status = status
        self.stdout = stdout
        self.stdoutTruncated = stdoutTruncated
        self.stderrLines = stderrLines
        self.pid = pid
    }
}

extension ProcessOutput: CustomStringConvertible, CustomReflectable {
    public var description: String {
        "ProcessOutput(\(status), pid \(pid), stdout \(stdout.count) bytes, stderr \(stderrLines.count) lines)"
    }
    public var customMirror: Mirror {
        Mirror(self, children: ["status": status, "stdoutBytes": stdout.count, "stderrLines": stderrLines])
    }
}

/// Why a run produced no ``ProcessOutput``.
public enum ProcessRunError: Error, Sendable, Equatable {
    /// The executable does not exist.
    case notFound(path: String)
    /// The executable exists but may not be executed (EACCES, a directory, ...).
    case notExecutable(path: String)
    /// Any other spawn failure (for example ENOEXEC).
    case launchFailed(path: String, reason: String)
    /// The deadline passed; the child (and its process group) got SIGTERM, then SIGKILL, and was reaped.
    case timedOut(pid: Int32?)
    /// The calling task was cancelled; the child was terminated the same way.
    case cancelled
}

/// Runs child processes. Injectable so that the az logic can be tested without processes.
public protocol ProcessRunning: Sendable {
    /// Runs the request to completion. `onStderrLine` is called with each stderr line as
    /// soon as it is complete, while the child is still running (for `az login --use-device-code`).
    func run(
        _ request: ProcessRequest,
        onStderrLine: (@Sendable (String) -> Void)?
    ) async throws(ProcessRunError) -> ProcessOutput
}

extension ProcessRunning {
    public func run(_ request: ProcessRequest) async throws(ProcessRunError) -> ProcessOutput {
        try await run(request, onStderrLine: nil)
    }
}

/// ``ProcessRunning`` on swift-subprocess: posix_spawn with an argument array, stdin from
/// /dev/null, stdout and stderr through pipes read concurrently, the child in its own
/// session so a timeout can signal the whole process group (az is a shell script that
/// starts Python), and SIGTERM → grace → SIGKILL on timeout or cancellation. The child is
/// always reaped before `run` returns.
public struct SubprocessRunner: ProcessRunning {
    /// Lines of stderr kept from the start and from the end (the middle of a long traceback is dropped).
    static let stderrHeadLines = 200
    static let stderrTailLines = 200

    public init() {}

    public func run(
        _ request: ProcessRequest,
        onStderrLine: (@Sendable (String) -> Void)?
    ) async throws(ProcessRunError) -> ProcessOutput {
        if Task.isCancelled { throw .cancelled }
        // The child runs in an unstructured task, so that cancelling the caller does not cancel
        // swift-subprocess's own teardown (which then skips the grace period and kills at once).
        // Stopping is ours: SIGTERM to the child's process group, SIGKILL after the grace period.
        let stopper = ChildStopper(grace: request.terminationGrace)
        let work = Task<Result<ProcessOutput, ProcessRunError>, Never> {
            do {
                return .success(try await Self.spawnAndCollect(request, onStderrLine: onStderrLine,
                                                               onStart: { pid in stopper.started(pid) }))
            } catch let error as ProcessRunError {
                return .failure(error)
            } catch {
                return .failure(Self.mapSpawnError(error, path: request.executablePath))
            }
        }
        let outcome: Result<ProcessOutput, ProcessRunError> = await withTaskCancellationHandler {
            await withTaskGroup(of: RaceResult.self) { group in
                group.addTask { .finished(await work.value) }
                group.addTask {
                    do {
                        try await Task.sleep(for: request.timeout)
                        return .deadline
                    } catch {
                        return .deadlineCancelled
                    }
                }
                var result: Result<ProcessOutput, ProcessRunError> = .failure(.cancelled)
                while let next = await group.next() {
                    switch next {
                    case .deadline:
                        stopper.stop(.timedOut)
                    case .deadlineCancelled:
                        break
                    case .finished(let finished):
                        stopper.finished()
                        result = finished
                        group.cancelAll()
                    }
                }
                return result
            }
        } onCancel: {
            stopper.stop(.cancelled)
        }
        switch stopper.reason {
        case .timedOut?:
            if case .success(let output) = outcome { return try Result<ProcessOutput, ProcessRunError>.failure(.timedOut(pid: output.pid)).get() }
            throw .timedOut(pid: nil)
        case .cancelled?:
            throw .cancelled
        case nil:
            return try outcome.get()
        }
    }

    private enum RaceResult: Sendable {
        case finished(Result<ProcessOutput, ProcessRunError>)
        case deadline
        case deadlineCancelled
    }

    private static func spawnAndCollect(
        _ request: ProcessRequest,
        onStderrLine: (@Sendable (String) -> Void)?,
        onStart: @escaping @Sendable (Int32) -> Void
    ) async throws -> ProcessOutput {
        var options = PlatformOptions()
        options.createSession = true
        options.teardownSequence = [
            .gracefulShutDown(toProcessGroup: true, allowedDurationToNextStep: request.terminationGrace)
        ]
        var overrides: [Environment.Key: String?] = [:]
        for (key, value) in request.environmentOverrides {
            overrides[Environment.Key(stringLiteral: key)] = value
        }
        let stdoutLimit = request.stdoutLimit
        let result = try await Subprocess.run(
            .path(FilePath(request.executablePath)),
            arguments: Arguments(request.arguments),
            environment: .inherit.updating(overrides),
            platformOptions: options,
            input: .none,
            output: .sequence,
            error: .sequence
        ) { execution -> Collected in
            onStart(Int32(execution.processIdentifier.value))
            async let out = collectBytes(execution.standardOutput, limit: stdoutLimit)
            async let err = collectLines(execution.standardError, onLine: onStderrLine)
            let (stdout, truncated) = try await out
            let lines = try await err
            return Collected(stdout: stdout, truncated: truncated, stderrLines: lines)
        }
        let status: ExitStatus
        switch result.terminationStatus {
        case .exited(let code): status = .exited(Int32(code))
        case .signaled(let signal): status = .signaled(Int32(signal))
        }
        let collected = result.closureResult
        return ProcessOutput(
            status: status, stdout: collected.stdout, stdoutTruncated: collected.truncated,
            stderrLines: collected.stderrLines, pid: Int32(result.processIdentifier.value))
    }

    private struct Collected: Sendable {
        var stdout: Data
        var truncated: Bool
        var stderrLines: [String]
    }

    private static func collectBytes(_ sequence: SubprocessOutputSequence, limit: Int) async throws -> (Data, Bool) {
        var data = Data()
        var truncated = false
        for try await buffer in sequence {
            buffer.withUnsafeBytes { raw in
                let room = limit - data.count
                if raw.count > room {
                    truncated = true
                    if room > 0 { data.append(contentsOf: raw.prefix(room)) }
                } else {
                    data.append(contentsOf: raw)
                }
            }
        }
        return (data, truncated)
    }

    private static func collectLines(
        _ sequence: SubprocessOutputSequence,
        onLine: (@Sendable (String) -> Void)?
    ) async throws -> [String] {
        var splitter = LineSplitter()
        var keeper = HeadTailKeeper(head: stderrHeadLines, tail: stderrTailLines)
        for try await buffer in sequence {
            let lines = buffer.withUnsafeBytes { raw in splitter.feed(raw) }
            for line in lines {
                onLine?(line)
                keeper.append(line)
            }
        }
        if let last = splitter.finish() {
            onLine?(last)
            keeper.append(last)
        }
        return keeper.lines
    }

    private static func mapSpawnError(_ error: any Error, path: String) -> ProcessRunError {
        if let error = error as? SubprocessError {
            if error.code == .executableNotFound {
                // swift-subprocess reports an existing but non-executable file this way too.
                switch LocalFileInspector().kind(at: path) {
                case .missing: return .notFound(path: path)
                case .directory, .file(executable: false): return .notExecutable(path: path)
                case .file(executable: true): return .launchFailed(path: path, reason: "\(error)")
                }
            }
            if let errno = error.underlyingError {
                switch errno {
                case .noSuchFileOrDirectory, .notDirectory: return .notFound(path: path)
                case .permissionDenied, .isDirectory: return .notExecutable(path: path)
                default: return .launchFailed(path: path, reason: String(describing: errno))
                }
            }
            return .launchFailed(path: path, reason: "\(error.code)")
        }
        return .launchFailed(path: path, reason: String(describing: error))
    }
}

/// Splits a byte stream into lines at `\n`, dropping a trailing `\r`. Very long lines are
/// cut into pieces so a child without newlines cannot make us buffer without bound.
struct LineSplitter {
    static let maximumLineBytes = 16 * 1024
    private var pending: [UInt8] = []

    mutating func feed(_ bytes: UnsafeRawBufferPointer) -> [String] {
        var lines: [String] = []
        for byte in bytes {
            if byte == UInt8(ascii: "\n") {
                lines.append(Self.decode(pending))
                pending.removeAll(keepingCapacity: true)
            } else {
                pending.append(byte)
                if pending.count >= Self.maximumLineBytes {
                    lines.append(Self.decode(pending))
                    pending.removeAll(keepingCapacity: true)
                }
            }
        }
        return lines
    }

    /// The unterminated last line, if any.
    mutating func finish() -> String? {
        guard !pending.isEmpty else { return nil }
        defer { pending.removeAll() }
        return Self.decode(pending)
    }

    private static func decode(_ bytes: [UInt8]) -> String {
        var slice = bytes[...]
        if slice.last == UInt8(ascii: "\r") { slice = slice.dropLast() }
        return String(decoding: slice, as: UTF8.self)
    }
}

/// Keeps the first `head` and the last `tail` items appended.
struct HeadTailKeeper {
    let head: Int
    let tail: Int
    private(set) var first: [String] = []
    private var last: [String] = []
    private(set) var dropped = 0

    init(head: Int, tail: Int) {
        self.head = head
        self.tail = tail
    }

    mutating func append(_ line: String) {
        if first.count < head {
            first.append(line)
            return
        }
        last.append(line)
        if last.count > tail {
            last.removeFirst()
            dropped += 1
        }
    }

    var lines: [String] { first + last }
}

/// Stops a child (and its process group) once: SIGTERM now, SIGKILL after the grace period if
/// it is still running. Safe to call before the child has started: it is stopped on start.
final class ChildStopper: Sendable {
    enum Reason: Sendable { case timedOut, cancelled }
    private struct State {
        var pid: Int32?
        var reason: Reason?
        var done = false
    }
    private let state = Mutex(State())
    private let grace: Duration

    init(grace: Duration) { self.grace = grace }

    var reason: Reason? { state.withLock { $0.reason } }

    func started(_ pid: Int32) {
        let stopNow = state.withLock { s -> Bool in
            s.pid = pid
            return s.reason != nil
        }
        if stopNow { terminate() }
    }

    func stop(_ why: Reason) {
        let pid = state.withLock { s -> Int32? in
            if s.reason == nil { s.reason = why }
            return s.done ? nil : s.pid
        }
        if pid != nil { terminate() }
    }

    func finished() {
        state.withLock { $0.done = true }
    }

    /// The child leads its own session and process group: signal the group, and the child
    /// itself in case it left the group.
    static func signalGroup(_ pid: Int32, _ signal: Int32) {
        _ = Glibc.kill(0 - pid, signal)
        _ = Glibc.kill(pid, signal)
    }

    private func terminate() {
        guard let pid = state.withLock({ $0.done ? nil : $0.pid }) else { return }
        Self.signalGroup(pid, SIGTERM)
        let grace = self.grace
        Task.detached { [self] in
            try? await Task.sleep(for: grace)
            let alive: Int32? = state.withLock { $0.done ? nil : $0.pid }
            if let pid = alive { ChildStopper.signalGroup(pid, SIGKILL) }
        }
    }
}
