import Foundation

/// What a finished program left behind.
public struct CapturedRun: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
    /// stdout split into lines (without the final empty one).
    public var lines: [String] {
        var l = stdout.components(separatedBy: "\n")
        if l.last == "" { l.removeLast() }
        return l
    }
}

/// Runs a program to the end with stdin from /dev/null and stdout and stderr captured (through
/// files, like `spawnAndWait`, so nothing inherited holds a pipe open). `environment` replaces
/// the test's environment when given.
public func runCapturing(_ argv: [String], environment: [String: String]? = nil) throws -> CapturedRun {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dicomtui-run-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let out = dir.appendingPathComponent("stdout").path
    let err = dir.appendingPathComponent("stderr").path
    let status = try spawnAndWait(argv, stdoutPath: out, stderrPath: err, environment: environment)
    return CapturedRun(status: status,
                       stdout: (try? String(contentsOfFile: out, encoding: .utf8)) ?? "",
                       stderr: (try? String(contentsOfFile: err, encoding: .utf8)) ?? "")
}

/// `runCapturing` on a thread of its own, for async tests: waiting for the child on a thread of
/// the cooperative pool would starve an in-process emulator that the child talks to.
public func runCapturingOffPool(_ argv: [String], environment: [String: String]? = nil) async throws -> CapturedRun {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread {
            continuation.resume(with: Result { try runCapturing(argv, environment: environment) })
        }
        thread.start()
    }
}
