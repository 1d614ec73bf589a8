import Foundation
import TestSupport
import Testing

@testable import TokenSource

/// End-to-end through real child processes: fake `az` shell scripts in a temp dir.
@Suite struct FakeAzProcessTests {
    static let secret = TestJWT.make(
        payloadJSON: #"{"aud":"https://dicom.healthcareapis.azure.com","exp":1795659000,"tid":"tid-1","upn":"someone@contoso.example"}"#,
        signature: "Sig_with-URL~chars+and/slash==")

    /// An AzCLI that finds the fake through PATH and passes a marker variable.
    static func cli(_ fake: FakeAz, timeout: Duration = .seconds(30)) -> AzCLI {
        AzCLI(
            locator: AzLocator(environment: ["PATH": "/nonexistent-dir:\(fake.directory.path)"]),
            timeout: timeout,
            localTimeZone: TimeZone(identifier: "UTC")!,
            extraEnvironment: ["FAKE_MARKER": "marker-1"])
    }

    static func successBody(_ token: String = secret) -> String {
        """
        cat <<'JSON'
        {
          "accessToken": "\(token)",
          "expiresOn": "2026-11-26 02:15:36.000000",
          "expires_on": 1795659336,
          "subscription": "00000000-1111-4222-8333-444444444444",
          "tenant": "72f988bf-0000-4000-8000-000000000001",
          "tokenType": "Bearer"
        }
        JSON
        echo 'WARNING: a warning on stderr does not matter' >&2
        exit 0
        """
    }

    @Test func successPassesTheTokenThroughUntouched() async throws {
        let fake = try FakeAz(body: Self.successBody())
        let token = try await Self.cli(fake).getAccessToken()
        #expect(token.authorizationHeaderValue == "Bearer " + Self.secret)
        #expect(token.expiresOn == Date(timeIntervalSince1970: 1_795_659_336))
        #expect(token.expirySource == .expiresOn)
        #expect(token.tenant == "72f988bf-0000-4000-8000-000000000001")
        #expect(token.subscription == "00000000-1111-4222-8333-444444444444")
        #expect(token.claims?.upn == "someone@contoso.example")

        // An argument array, exactly; the token is never on a command line.
        #expect(fake.recordedArguments == [
            "account", "get-access-token", "--resource=https://dicom.healthcareapis.azure.com", "--output", "json",
        ])
        let argv = try #require(fake.read(fake.argvFile))
        #expect(!argv.contains(String(Self.secret.prefix(20))))

        // Plain output forced; the rest of the environment inherited; extras passed.
        let env = try #require(fake.read(fake.envFile))
        #expect(env.contains("AZURE_CORE_NO_COLOR=true\n"))
        #expect(env.contains("FAKE_MARKER=marker-1\n"))
        #expect(env.contains("HOME=\(ProcessInfo.processInfo.environment["HOME"] ?? "")\n"))
    }

    @Test func tenantIsOneArgumentAndCannotBecomeAnOption() async throws {
        let fake = try FakeAz(body: Self.successBody())
        _ = try await Self.cli(fake).getAccessToken(resource: "https://example.org", tenant: "--debug; rm -rf /")
        #expect(fake.recordedArguments == [
            "account", "get-access-token", "--resource=https://example.org", "--tenant=--debug; rm -rf /",
            "--output", "json",
        ])
    }

    @Test func notLoggedIn() async throws {
        let fake = try FakeAz(body: """
            echo "ERROR: Please run 'az login' to setup account." >&2
            exit 1
            """)
        await #expect(throws: TokenError.notLoggedIn(azMessage: "Please run 'az login' to setup account.")) { try await Self.cli(fake).getAccessToken() }
        await #expect(throws: TokenError.notLoggedIn(azMessage: "Please run 'az login' to setup account.")) { try await Self.cli(fake).accountShow() }
    }

    @Test func interactionRequired() async throws {
        let fake = try FakeAz(body: """
            cat >&2 <<'EOF'
            ERROR: AADSTS700082: The refresh token has expired due to inactivity. The token was issued on 2026-05-01T00:00:00Z and was inactive for 90.00:00:00.
            Run the command below to authenticate interactively; additional arguments may be added as needed:
            az logout
            az login --tenant "72f988bf-0000-4000-8000-000000000001" --scope "https://dicom.healthcareapis.azure.com/.default"
            EOF
            exit 1
            """)
        do {
            _ = try await Self.cli(fake).getAccessToken()
            Issue.record("expected an error")
        } catch {
            guard case .interactionRequired(let aad) = error else {
                Issue.record("got \(error)")
                return
            }
            #expect(aad.hasPrefix("AADSTS700082: The refresh token has expired due to inactivity."))
            #expect(!aad.contains("az login"))
        }
    }

    @Test func tracebackBecomesItsLastLine() async throws {
        var body = "{\necho 'ERROR: The command failed with an unexpected error. Here is the traceback:'\n"
        body += "echo 'Traceback (most recent call last):'\n"
        for i in 0..<60 {
            body += "echo '  File \"/usr/lib/az/m\(i).py\", line \(i), in f'\n"
            body += "echo '    f\(i)()'\n"
        }
        body += "echo \"requests.exceptions.ConnectionError: HTTPSConnectionPool(host='login.microsoftonline.com', port=443)\"\n"
        body += "} >&2\nexit 1\n"
        let fake = try FakeAz(body: body)
        do {
            _ = try await Self.cli(fake).getAccessToken()
            Issue.record("expected an error")
        } catch {
            #expect(error == .failed(exitCode: 1, stderrSummary:
                "The command failed with an unexpected error. "
                + "requests.exceptions.ConnectionError: HTTPSConnectionPool(host='login.microsoftonline.com', port=443)"))
        }
    }

    @Test func garbageOnStdout() async throws {
        let fake = try FakeAz(body: """
            echo 'Here you go: eyJHARVESTED-TOKEN-LOOKING-THING.abc.def'
            exit 0
            """)
        do {
            _ = try await Self.cli(fake).getAccessToken()
            Issue.record("expected an error")
        } catch {
            guard case .badOutput = error else {
                Issue.record("got \(error)")
                return
            }
            #expect(!error.message.contains("HARVESTED"))
        }
    }

    @Test func hangIsTerminatedAndReaped() async throws {
        // az is a shell script that starts Python: the hang is in a grandchild.
        let fake = try FakeAz(body: """
            echo $$ > "$HERE/pid"
            sleep 300 &
            echo $! > "$HERE/grandchild"
            wait
            """)
        let started = ContinuousClock.now
        await #expect(throws: TokenError.timedOut(seconds: 1)) {
            try await Self.cli(fake, timeout: .seconds(1)).getAccessToken()
        }
        let elapsed = ContinuousClock.now - started
        // About 1 s; the bound only says it does not wait out the 300 s sleep, with room for a
        // machine busy building.
        #expect(elapsed < .seconds(60))
        let pid = try #require(fake.read(fake.file("pid")).flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) })
        let grandchild = try #require(fake.read(fake.file("grandchild")).flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) })
        // The child was reaped before getAccessToken returned; the grandchild got the signal too.
        #expect(processIsReaped(pid))
        #expect(processIsGoneOrDead(grandchild))
    }

    @Test func notExecutable() async throws {
        let fake = try FakeAz(body: Self.successBody(), executable: false)
        let cli = AzCLI(locator: AzLocator(explicitPath: fake.path, environment: [:]))
        await #expect(throws: TokenError.azNotExecutable(path: fake.path)) { try await cli.getAccessToken() }
        // Only a non-executable az on PATH: say so rather than "not found".
        await #expect(throws: TokenError.azNotExecutable(path: fake.path)) { try await Self.cli(fake).getAccessToken() }
    }

    @Test func notFoundOnPath() async throws {
        let empty = try FakeAz(body: "exit 0")
        try FileManager.default.removeItem(atPath: empty.path)
        await #expect(throws: TokenError.azNotFound(searched: "az on PATH")) {
            try await Self.cli(empty).getAccessToken()
        }
        let missing = empty.directory.appendingPathComponent("bin/az").path
        let explicit = AzCLI(locator: AzLocator(explicitPath: missing, environment: ["PATH": "/usr/bin"]))
        await #expect(throws: TokenError.azNotFound(searched: "\(missing) (from --az)")) {
            try await explicit.getAccessToken()
        }
    }

    @Test func streamsStderrLinesWhileRunning() async throws {
        // The script prints a device-code style line, then waits until the test has seen it:
        // without live streaming it would wait until the timeout.
        let fake = try FakeAz(body: """
            echo 'To sign in, use a web browser to open the page https://microsoft.com/devicelogin and enter the code FAKE1234 to authenticate.' >&2
            while [ ! -e "$HERE/seen" ]; do sleep 0.02; done
            echo '[]'
            """)
        let seen = fake.file("seen")
        let lines = LineCollector()
        let output = try await Self.cli(fake, timeout: .seconds(20)).run(["login", "--use-device-code"]) { line in
            lines.append(line)
            if line.contains("FAKE1234") { _ = FileManager.default.createFile(atPath: seen, contents: nil) }
        }
        #expect(lines.all == [
            "To sign in, use a web browser to open the page https://microsoft.com/devicelogin and enter the code FAKE1234 to authenticate."
        ])
        #expect(String(decoding: output.stdout, as: UTF8.self) == "[]\n")
        #expect(output.stderrLines == lines.all)
    }

    @Test func accountShow() async throws {
        let fake = try FakeAz(body: """
            printf '{"environmentName": "AzureCloud", "id": "sub-1", "name": "Test Subscription", "tenantId": "tid-1", "user": {"name": "someone@contoso.example", "type": "user"}}\\n'
            """)
        let account = try await Self.cli(fake).accountShow()
        #expect(account == AccountInfo(
            userName: "someone@contoso.example", userType: "user", tenantId: "tid-1",
            subscriptionId: "sub-1", subscriptionName: "Test Subscription", environmentName: "AzureCloud"))
        #expect(fake.recordedArguments == ["account", "show", "--output", "json"])
    }
}

final class LineCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    func append(_ line: String) {
        lock.lock()
        lines.append(line)
        lock.unlock()
    }
    var all: [String] {
        lock.lock()
        defer { lock.unlock() }
        return lines
    }
}
