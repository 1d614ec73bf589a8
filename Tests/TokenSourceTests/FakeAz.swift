import Foundation
import TestSupport

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A temporary directory holding a fake `az` shell script. The script can record its
/// argv (one argument per line) and selected environment variables into files there.
final class FakeAz: Sendable {
    let directory: URL
    var path: String { directory.appendingPathComponent("az").path }
    var argvFile: String { directory.appendingPathComponent("argv").path }
    var envFile: String { directory.appendingPathComponent("env").path }

    /// `body` is shell code run after argv/env are recorded.
    init(body: String, executable: Bool = true) throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("fake-az-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let script = """
            #!/bin/sh
            HERE=$(cd "$(dirname "$0")" && pwd)
            for arg in "$@"; do printf '%s\\n' "$arg"; done > '\(argvFile)'
            printf 'AZURE_CORE_NO_COLOR=%s\\nHOME=%s\\nFAKE_MARKER=%s\\n' "$AZURE_CORE_NO_COLOR" "$HOME" "$FAKE_MARKER" > '\(envFile)'
            \(body)
            """
        try writeExecutable(script, to: path)
        if !executable { try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path) }
    }

    deinit {
        try? FileManager.default.removeItem(at: directory)
    }

    func file(_ name: String) -> String { directory.appendingPathComponent(name).path }

    func read(_ path: String) -> String? {
        try? String(contentsOfFile: path, encoding: .utf8)
    }

    var recordedArguments: [String]? {
        read(argvFile).map { $0.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init) }
    }
}

/// Whether a process id is gone (reaped) or at least dead (a zombie awaiting its new parent).
func processIsGoneOrDead(_ pid: Int32) -> Bool {
    if kill(pid, 0) != 0 { return errno == ESRCH }
    // Still has an entry: acceptable only as a zombie.
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
        let close = stat.lastIndex(of: ")")
    else { return true }
    let state = stat[stat.index(close, offsetBy: 2)]
    return state == "Z" || state == "X"
}

/// Whether a process id has been reaped by its parent (no zombie left behind).
func processIsReaped(_ pid: Int32) -> Bool {
    kill(pid, 0) != 0 && errno == ESRCH
}
