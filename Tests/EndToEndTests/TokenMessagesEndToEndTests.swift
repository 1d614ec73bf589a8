import Emulator
import Foundation
import TestSupport
import Testing

/// Every way getting a token can fail shows a clear message on screen, and the app keeps
/// running (q still quits cleanly).
@Suite(.serialized, .enabled(if: Build.tmuxAvailable, "needs tmux"))
struct TokenMessagesEndToEndTests {
    /// One way getting a token fails: the az the app runs, options, and what the screen says.
    struct AzFailure: Sendable, CustomTestStringConvertible {
        enum Az: Sendable {
            /// A path as given (nothing there, say).
            case path(String)
            /// A fake az running this shell code.
            case script(String)
            /// A fake az without its execute bits.
            case notExecutable
        }
        var testDescription: String
        var az: Az
        var extra = ""
        var shows: [String]
    }

    static let failures = [
        AzFailure(testDescription: "az not installed", az: .path("/nonexistent/bin/az"),
                  shows: ["The Azure CLI (az) was not found", "Install the Azure CLI", "--az /path/to/az"]),
        AzFailure(testDescription: "az not executable", az: .notExecutable, shows: ["is not an executable file", "chmod +x"]),
        AzFailure(testDescription: "the sign-in must be renewed", az: .script("""
            echo "ERROR: AADSTS700082: The refresh token has expired due to inactivity." >&2
            echo "Run the command below to authenticate interactively; additional arguments may be added as needed:" >&2
            echo "az logout" >&2
            echo 'az login --scope "https://dicom.healthcareapis.azure.com/.default"' >&2
            exit 1
            """), shows: ["AADSTS700082: The refresh token has expired", "Press l to sign in again"]),
        AzFailure(testDescription: "az hangs", az: .script("sleep 30\n"), extra: "--az-timeout 2s",
                  shows: ["did not answer within 2 s", "az account get-access-token"]),
        AzFailure(testDescription: "az prints something else", az: .script("echo '<html>proxy login</html>'\nexit 0\n"),
                  shows: ["The Azure CLI printed an unexpected answer", "--output json"]),
        AzFailure(testDescription: "az crashes with a traceback", az: .script("""
            echo "ERROR: The command failed with an unexpected error. Here is the traceback:" >&2
            echo "Traceback (most recent call last):" >&2
            echo '  File "x.py", line 1, in <module>' >&2
            echo "requests.exceptions.ConnectionError: HTTPSConnectionPool(host='login.microsoftonline.com', port=443): Max retries exceeded" >&2
            exit 1
            """), shows: ["The Azure CLI failed (exit status 1)", "ConnectionError"]),
    ]

    /// Runs the app with the failing az, waits for each text, quits.
    @Test(arguments: failures)
    func theFailureIsExplainedOnScreen(_ failure: AzFailure) async throws {
        let tmux = try Tmux(cols: 160, rows: 24)
        let azPath: String
        switch failure.az {
        case .path(let path): azPath = path
        case .script(let body): azPath = try FakeAz(body: body, in: tmux.workDir).path
        case .notExecutable: azPath = try FakeAz(body: "", in: tmux.workDir, executable: false).path
        }
        try tmux.run("\(Build.dicomtui) --url https://contoso-dicom.dicom.azurehealthcareapis.com --az \(azPath) \(failure.extra); echo EXIT=$?")
        for text in failure.shows { try await tmux.waitFor(text: text, timeout: 30) }
        try tmux.keys("q")
        try await tmux.waitFor(text: "EXIT=0")
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
        // Two for the fetcher, two for the activity timeline's probes (each tries the fresh token once).
        #expect(server.requestLog.count == 4)
        try await Task.sleep(for: .seconds(1))
        #expect(server.requestLog.count == 4, "no retry loop")
        try tmux.keys("q")
        try await tmux.waitFor(text: "EXIT=0")
    }
}
