import Foundation
import Testing

/// How this run of the real-az tests is guarded. These run with or without DICOMTUI_REAL_AZ.
@Suite struct IsolationTests {
    /// CI (.ci/run) promises the real az; then its absence is a failure, not a skip.
    @Test func realAzIsThereWhenRequired() throws {
        guard RealAz.isRequired else { return }
        let path = try #require(RealAz.path, "DICOMTUI_REQUIRE_REAL_AZ=1 but DICOMTUI_REAL_AZ is not set")
        #expect(FileManager.default.isExecutableFile(atPath: path), "DICOMTUI_REAL_AZ=\(path) is not executable")
        #expect(RealAz.version != nil, "no azure_cli-*.dist-info next to \(path)")
    }

    /// scripts/loopback-only says it put us in a namespace with only loopback: check it did.
    @Test(.enabled(if: RealAz.environment["DICOMTUI_NETNS"] == "loopback-only",
                   "not run through scripts/loopback-only in a network namespace"))
    func onlyLoopbackInTheNamespace() throws {
        // /proc/net/dev lists this namespace's interfaces (/sys/class/net would show the host's).
        let dev = try String(contentsOfFile: "/proc/net/dev", encoding: .utf8)
        let interfaces = dev.split(separator: "\n").dropFirst(2)
            .compactMap { $0.split(separator: ":").first?.trimmingCharacters(in: .whitespaces) }
        #expect(interfaces == ["lo"])
        // No route anywhere but loopback (the main table lists none).
        let routes = try String(contentsOfFile: "/proc/net/route", encoding: .utf8)
            .split(separator: "\n").dropFirst()
        #expect(routes.isEmpty, "routes: \(routes)")
    }
}
