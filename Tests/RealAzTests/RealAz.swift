import Foundation
import Testing

/// Every test that runs the real az, one at a time: each az start costs about 0.3 s of CPU, and
/// a dozen at once on two cores slows the rest of the test run (whose timing tests run alongside)
/// as much as it slows az. Skipped, with the reason, when DICOMTUI_REAL_AZ is not set.
@Suite(.serialized, .enabled(if: RealAz.isConfigured, RealAz.skipReason), .timeLimit(.minutes(5)))
enum RealAzSuite {}

/// Where the real Azure CLI for these tests is, and what the run around them promised.
///
/// - `DICOMTUI_REAL_AZ`: path of a real `az` (scripts/install-azure-cli prints one). Unset: every
///   suite here is skipped, and says why.
/// - `DICOMTUI_REQUIRE_REAL_AZ=1` (set by .ci/run): unset `DICOMTUI_REAL_AZ` is a failure, not a skip.
/// - `DICOMTUI_NETNS`: set by scripts/loopback-only: `loopback-only` inside a network namespace
///   with only `lo`, `unavailable` when it had to run the tests without one.
enum RealAz {
    static let variable = "DICOMTUI_REAL_AZ"
    static let environment = ProcessInfo.processInfo.environment

    /// The az to run, or nil when the suite is to be skipped.
    static let path: String? = {
        guard let value = environment[variable]?.trimmingCharacters(in: .whitespaces), !value.isEmpty else {
            return nil
        }
        return value.hasPrefix("/") ? value : FileManager.default.currentDirectoryPath + "/" + value
    }()

    static var isConfigured: Bool { path != nil }

    static let skipReason: Comment = """
        DICOMTUI_REAL_AZ is not set, so the real Azure CLI tests are skipped. To run them: \
        export DICOMTUI_REAL_AZ="$(scripts/install-azure-cli)" && scripts/test (.ci/run does this).
        """

    static var isRequired: Bool { environment["DICOMTUI_REQUIRE_REAL_AZ"] == "1" }

    /// The venv the pinned install made: `<venv>/bin/az`.
    static var venv: URL? {
        guard let path else { return nil }
        return URL(fileURLWithPath: path).resolvingSymlinksInPath().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// The installed azure-cli version, read from the venv's `azure_cli-X.Y.Z.dist-info` (no process,
    /// no network). `DICOMTUI_REAL_AZ_VERSION` overrides it for an az installed some other way.
    static let version: String? = {
        if let forced = environment["DICOMTUI_REAL_AZ_VERSION"], !forced.isEmpty { return forced }
        guard let venv else { return nil }
        let fm = FileManager.default
        let lib = venv.appendingPathComponent("lib")
        for python in (try? fm.contentsOfDirectory(atPath: lib.path)) ?? [] where python.hasPrefix("python") {
            let site = lib.appendingPathComponent(python).appendingPathComponent("site-packages")
            for entry in (try? fm.contentsOfDirectory(atPath: site.path)) ?? []
            where entry.hasPrefix("azure_cli-") && entry.hasSuffix(".dist-info") {
                return String(entry.dropFirst("azure_cli-".count).dropLast(".dist-info".count))
            }
        }
        return nil
    }()

    /// The Python that runs the stand-in services: the venv's own, else python3 on PATH.
    static var python: String {
        if let venv {
            let candidate = venv.appendingPathComponent("bin/python3").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        for dir in (environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") where dir.hasPrefix("/") {
            let candidate = "\(dir)/python3"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return "/usr/bin/python3"
    }

    /// Tests/RealAzTests/Fixtures.
    static let fixtures: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures")
}
