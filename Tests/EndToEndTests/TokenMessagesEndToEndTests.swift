import Emulator
import Foundation
import TestSupport
import Testing

/// Every way getting a token can fail shows a clear message on screen, and the app keeps
/// running (q still quits cleanly).
@Suite(.serialized, .enabled(if: Build.tmuxAvailable, "needs tmux"))
struct TokenMessagesEndToEndTests {
    /// Runs the app with `az`, waits for each text, quits.
    func expectScreen(az: String, extra: String = "", shows texts: [String],
                      sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let tmux = try Tmux(cols: 160, rows: 24)
        let azPath = az.hasPrefix("/") ? az : try FakeAz(body: az, in: tmux.workDir).path
        try tmux.run("\(Build.dicomtui) --url https://contoso-dicom.dicom.azurehealthcareapis.com --az \(azPath) \(extra); echo EXIT=$?")
        for text in texts { try await tmux.waitFor(text: text, timeout: 30, sourceLocation: sourceLocation) }
        try tmux.keys("q")
        try await tmux.waitFor(text: "EXIT=0", sourceLocation: sourceLocation)
    }

    @Test func azNotInstalled() async throws {
        try await expectScreen(az: "/nonexistent/bin/az",
                               shows: ["The Azure CLI (az) was not found", "Install the Azure CLI", "--az /path/to/az"])
    }

    @Test func azNotExecutable() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("noexec-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let az = try FakeAz(body: "", in: dir, executable: false)
        try await expectScreen(az: az.path, shows: ["is not an executable file", "chmod +x"])
    }

    @Test func signInMustBeRenewed() async throws {
        try await expectScreen(az: """
            echo "ERROR: AADSTS700082: The refresh token has expired due to inactivity." >&2
            echo "Run the command below to authenticate interactively; additional arguments may be added as needed:" >&2
            echo "az logout" >&2
            echo 'az login --scope "https://dicom.healthcareapis.azure.com/.default"' >&2
            exit 1
            """, shows: ["AADSTS700082: The refresh token has expired", "Press l to sign in again"])
    }

    @Test func azHangs() async throws {
        try await expectScreen(az: "sleep 30\n", extra: "--az-timeout 2s",
                               shows: ["did not answer within 2 s", "az account get-access-token"])
    }

    @Test func azPrintsSomethingElse() async throws {
        try await expectScreen(az: "echo '<html>proxy login</html>'\nexit 0\n",
                               shows: ["The Azure CLI printed an unexpected answer", "--output json"])
    }

    @Test func azCrashesWithATraceback() async throws {
        try await expectScreen(az: """
            echo "ERROR: The command failed with an unexpected error. Here is the traceback:" >&2
            echo "Traceback (most recent call last):" >&2
            echo '  File "x.py", line 1, in <module>' >&2
            echo "requests.exceptions.ConnectionError: HTTPSConnectionPool(host='login.microsoftonline.com', port=443): Max retries exceeded" >&2
            exit 1
            """, shows: ["The Azure CLI failed (exit status 1)", "ConnectionError"])
    }

    /// The service refuses a fresh token too (here: the audience is wrong): loading stops with
    /// the reason, read from the token's claims and the 401's challenge (issue 11: it used to
    /// be a generic text), instead of asking az again and again.
    @Test func aSecond401StopsAndSaysWhy() async throws {
        let (server, url) = try await startEmulator(entries: 10, seed: 2, auth: .jwt(JWTRequirements(audience: "https://other.example")))
        defer { Task { await server.stop() } }
        let tmux = try Tmux(cols: 200, rows: 24)
        let az = try FakeAz.azureCLI(in: tmux.workDir, signedIn: true)
        try tmux.run("\(Build.dicomtui) --url \(url) --az \(az.path); echo EXIT=$?")
        try await tmux.waitFor(text: "401 Unauthorized: The token is for https://dicom.healthcareapis.azure.com, not for the DICOM service (https://other.example)")
        try await tmux.waitFor(text: "--resource https://other.example")
        try await tmux.waitFor(text: "stopped")
        let tokenCalls = az.calls.filter { $0.contains("get-access-token") }.count
        #expect(tokenCalls == 2, "one token, one fresh token after the first 401, then stop (\(tokenCalls))")
        #expect(server.requestLog.count == 2)
        try await Task.sleep(for: .seconds(1))
        #expect(server.requestLog.count == 2, "no retry loop")
        try tmux.keys("q")
        try await tmux.waitFor(text: "EXIT=0")
    }
}
