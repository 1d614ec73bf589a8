import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// What is at a path, as far as running it goes.
public enum FileKind: Sendable, Equatable {
    case missing
    case directory
    case file(executable: Bool)
}

/// Looks at the file system; injectable for tests.
public protocol FileInspecting: Sendable {
    func kind(at path: String) -> FileKind
}

/// The real file system: `stat` and `access(X_OK)`.
public struct LocalFileInspector: FileInspecting {
    public init() {}
    public func kind(at path: String) -> FileKind {
        var info = stat()
        guard stat(path, &info) == 0 else { return .missing }
        if (info.st_mode & S_IFMT) == S_IFDIR { return .directory }
        return .file(executable: access(path, X_OK) == 0)
    }
}

/// Finds the az executable: an explicit path (`--az`), else `DICOMTUI_AZ`, else `az` on `PATH`.
public struct AzLocator: Sendable {
    /// The variable that can point at az.
    public static let environmentVariable = "DICOMTUI_AZ"

    public var explicitPath: String?
    public var environment: [String: String]
    public var files: any FileInspecting

    /// - Parameters:
    ///   - explicitPath: the `--az` option, if given.
    ///   - environment: where `DICOMTUI_AZ` and `PATH` are read (default: this process's).
    public init(
        explicitPath: String? = nil,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        files: any FileInspecting = LocalFileInspector()
    ) {
        self.explicitPath = explicitPath
        self.environment = environment
        self.files = files
    }

    /// The path to run, or `.azNotFound` / `.azNotExecutable`.
    ///
    /// A value with a `/` is used as a path. A bare name (`--az az-2.60`) is searched on `PATH`.
    /// Empty and relative `PATH` entries are skipped so that an `az` in the current
    /// directory is never picked up by accident.
    public func locate() throws(TokenError) -> String {
        if let explicit = explicitPath?.trimmingCharacters(in: .whitespaces), !explicit.isEmpty {
            return try resolve(explicit, origin: "--az")
        }
        if let fromEnv = environment[Self.environmentVariable]?.trimmingCharacters(in: .whitespaces),
            !fromEnv.isEmpty
        {
            return try resolve(fromEnv, origin: Self.environmentVariable)
        }
        return try searchPath(for: "az")
    }

    private func resolve(_ value: String, origin: String) throws(TokenError) -> String {
        guard value.contains("/") else { return try searchPath(for: value) }
        let path = expandTilde(value)
        switch files.kind(at: path) {
        case .missing: throw .azNotFound(searched: "\(path) (from \(origin))")
        case .directory, .file(executable: false): throw .azNotExecutable(path: path)
        case .file(executable: true): return path
        }
    }

    private func searchPath(for name: String) throws(TokenError) -> String {
        let entries = (environment["PATH"] ?? "").split(separator: ":").map(String.init)
        var nonExecutable: String?
        for directory in entries where directory.hasPrefix("/") {
            let candidate = directory.hasSuffix("/") ? directory + name : directory + "/" + name
            switch files.kind(at: candidate) {
            case .file(executable: true): return candidate
            case .file(executable: false): nonExecutable = nonExecutable ?? candidate
            case .missing, .directory: continue
            }
        }
        if let nonExecutable { throw .azNotExecutable(path: nonExecutable) }
        throw .azNotFound(searched: "\(name) on PATH")
    }

    private func expandTilde(_ path: String) -> String {
        guard path.hasPrefix("~/"), let home = environment["HOME"], !home.isEmpty else { return path }
        return home + path.dropFirst(1)
    }
}
