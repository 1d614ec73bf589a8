import Foundation
import Testing

@testable import TokenSource

/// A ProcessRunning that answers like az without starting processes, counting runs.
final class ScriptedRunner: ProcessRunning, @unchecked Sendable {
    private let lock = NSLock()
    private var requests: [ProcessRequest] = []
    private var serial = 0
    let clock: ManualClock
    let lifetime: TimeInterval
    var failNext: ProcessOutput?

    init(clock: ManualClock, lifetime: TimeInterval = 3600) {
        self.clock = clock
        self.lifetime = lifetime
    }

    var runCount: Int {
        lock.lock()
        defer { lock.unlock() }
        return requests.count
    }

    var lastRequest: ProcessRequest? {
        lock.lock()
        defer { lock.unlock() }
        return requests.last
    }

    func run(_ request: ProcessRequest, onStderrLine: (@Sendable (String) -> Void)?) async throws(ProcessRunError) -> ProcessOutput {
        let (n, failure) = lock.withLock { () -> (Int, ProcessOutput?) in
            requests.append(request)
            serial += 1
            let failure = failNext
            failNext = nil
            return (serial, failure)
        }
        if let failure { return failure }
        let expires = Int(clock.now.timeIntervalSince1970 + lifetime)
        let json = #"{"accessToken": "token-number-\#(n)-padding-padding", "expires_on": \#(expires), "tokenType": "Bearer"}"#
        return ProcessOutput(status: .exited(0), stdout: Data(json.utf8), stderrLines: [])
    }
}

@Suite struct AzTokenIssuerTests {
    static func make(lifetime: TimeInterval = 3600) -> (AzTokenIssuer, ScriptedRunner, ManualClock) {
        let clock = ManualClock(Date(timeIntervalSince1970: 1_800_000_000))
        let runner = ScriptedRunner(clock: clock, lifetime: lifetime)
        let cli = AzCLI(
            locator: AzLocator(explicitPath: "/fake/az", environment: [:],
                               files: FakeFiles(entries: ["/fake/az": .file(executable: true)])),
            runner: runner, timeout: .seconds(7), now: { clock.now })
        return (AzTokenIssuer(tenant: "tid-9", cli: cli), runner, clock)
    }

    @Test func requestIsBuiltForTheConfiguredTenantAndTimeout() async throws {
        let (source, runner, _) = Self.make()
        _ = try await source.token()
        let request = try #require(runner.lastRequest)
        #expect(request.executablePath == "/fake/az")
        #expect(request.arguments == [
            "account", "get-access-token", "--resource=https://dicom.healthcareapis.azure.com", "--tenant=tid-9",
            "--output", "json",
        ])
        #expect(request.timeout == .seconds(7))
        #expect(request.environmentOverrides["AZURE_CORE_NO_COLOR"] == "true")
        #expect(source.description.contains("tid-9"))
    }

    @Test func failuresAreNotCachedAndAreClassified() async throws {
        let (source, runner, _) = Self.make()
        runner.failNext = ProcessOutput(
            status: .exited(1), stdout: Data(), stderrLines: ["ERROR: Please run 'az login' to setup account."])
        await #expect(throws: TokenError.notLoggedIn(azMessage: "Please run 'az login' to setup account.")) { try await source.token() }
        _ = try await source.token()
        #expect(runner.runCount == 2)
    }
}
