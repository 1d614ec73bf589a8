import Emulator
import FeedModel
import Foundation
import TestSupport
import Testing
import TokenSource

@Suite(.serialized, .enabled(if: Build.tmuxAvailable, "needs tmux"))
struct FeedEndToEndTests {
    let resource = "https://dicom.healthcareapis.azure.com"

    /// The user's path: az gives a token, the header shows it, entries load while keys scroll,
    /// q exits with the terminal as it was.
    @Test func browseTheFeedWithATokenFromAz() async throws {
        let (server, url) = try await startEmulator(entries: 1_000)
        defer { Task { await server.stop() } }
        let tmux = try Tmux(cols: 140, rows: 30)
        let token = DemoTokenIssuer.mint(resource: resource, identity: .tester, issuedAt: Date(), lifetime: 3600)
        let az = try FakeAz.answering(token, in: tmux.workDir)
        let dir = tmux.workDir.path

        try tmux.run("stty -g > \(dir)/stty.before; \(Build.dicomtui) --url \(url) --az \(az.path) --no-mouse; echo EXIT=$?; stty -g > \(dir)/stty.after")
        try await tmux.waitFor(text: "● valid")
        let screen = try await tmux.waitFor(text: "idle, at the end of the feed")
        let header = screen.joined(separator: "\n")
        #expect(header.contains("e2e.tester@contoso.example"))
        #expect(header.contains("(in 59m") || header.contains("(in 1h 00m"))
        #expect(!header.contains(String(token.authorizationHeaderValue.dropFirst(7))), "the token itself is never shown")
        #expect(header.contains(token.masked))
        let total = server.store.count
        #expect(header.contains("\(formatted(total)) loaded"))
        // It opens at the newest entry; g goes to the first (the whole feed is loaded: no read).
        #expect(screen.contains { $0.contains("\(formatted(total)) / \(formatted(total))") })
        try tmux.keys("g")
        try await tmux.waitFor(text: "1 / \(formatted(total))")

        try tmux.keys("j", "j", "Down")
        try await tmux.waitFor(text: "4 / \(formatted(total))")
        try tmux.keys("G")
        try await tmux.waitFor(text: "\(formatted(total)) / \(formatted(total))")
        try tmux.keys("g")
        try await tmux.waitFor(text: "1 / \(formatted(total))")
        try tmux.keys("NPage")
        try await tmux.waitFor(text: "24 / \(formatted(total))")   // 30 rows leave 23 list rows

        try tmux.keys("q")
        try await tmux.waitFor(text: "EXIT=0")
        #expect(try tmux.display("#{alternate_on}") == "0")
        let before = try String(contentsOfFile: "\(dir)/stty.before", encoding: .utf8)
        let after = try String(contentsOfFile: "\(dir)/stty.after", encoding: .utf8)
        #expect(before == after, "stty settings are restored")

        #expect(az.calls.contains { $0.contains("account get-access-token") && $0.contains(resource) && $0.contains("json") })
        #expect(!az.calls.joined().contains(String(token.authorizationHeaderValue.dropFirst(7))))
        // Every request carried the token az gave.
        #expect(server.requestLog.requests.allSatisfy { $0.authorization == token.authorizationHeaderValue })
    }

    /// az fails: its own message is on screen with what to do, and the app keeps running.
    @Test func azNotLoggedInIsExplainedAndTheAppKeepsRunning() async throws {
        let (server, url) = try await startEmulator(entries: 10)
        defer { Task { await server.stop() } }
        let tmux = try Tmux(cols: 100, rows: 24)
        let az = try FakeAz.notSignedIn(in: tmux.workDir)
        try tmux.run("\(Build.dicomtui) --url \(url) --az \(az.path); echo EXIT=$?")
        try await tmux.waitFor(text: "Please run 'az login'")
        try await tmux.waitFor(text: "✗ error")
        try tmux.keys("r")
        try await tmux.waitFor("a second az call") { _ in az.calls.count >= 2 }
        try await tmux.waitFor(text: "Please run 'az login'")
        #expect(server.requestLog.count == 0, "nothing is sent to the service without a token")
        try tmux.keys("q")
        try await tmux.waitFor(text: "EXIT=0")
    }

    /// `--demo` needs nothing but the binary.
    @Test func demoRunsWithoutAzure() async throws {
        let tmux = try Tmux(cols: 120, rows: 30)
        try tmux.run("\(Build.dicomtui) --demo --demo-entries 300; echo EXIT=$?")
        try await tmux.waitFor(text: "DEMO")
        try await tmux.waitFor(text: "demo.user@contoso.example")
        try await tmux.waitFor(text: "idle, at the end of the feed")
        try tmux.keys("q")
        try await tmux.waitFor(text: "EXIT=0")
    }

    /// SIGTERM and Ctrl-C end the app cleanly: terminal restored, the usual exit status.
    @Test func signalsRestoreTheTerminal() async throws {
        let tmux = try Tmux(cols: 100, rows: 24)
        let dir = tmux.workDir.path
        try tmux.run("stty -g > \(dir)/a; sh -c 'echo $$ > \(dir)/pid; exec \(Build.dicomtui) --demo --demo-entries 50'; echo EXIT=$?; stty -g > \(dir)/b")
        try await tmux.waitFor(text: "idle, at the end of the feed")
        let pid = try #require(Int32(String(contentsOfFile: "\(dir)/pid", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        kill(pid, SIGTERM)
        try await tmux.waitFor(text: "EXIT=143")
        #expect(try tmux.display("#{alternate_on}") == "0")
        try await tmux.waitFor("stty saved") { _ in FileManager.default.fileExists(atPath: "\(dir)/b") }
        try await Task.sleep(for: .milliseconds(200))
        #expect(try String(contentsOfFile: "\(dir)/a", encoding: .utf8) == String(contentsOfFile: "\(dir)/b", encoding: .utf8))

        try tmux.run("clear; \(Build.dicomtui) --demo --demo-entries 50; echo EXIT=$?")
        try await tmux.waitFor(text: "idle, at the end of the feed")
        try tmux.keys("C-c")
        try await tmux.waitFor(text: "EXIT=130")
        #expect(try tmux.display("#{alternate_on}") == "0")
    }

    /// A resize while running redraws at the new size with the narrow layout.
    @Test func resizeRedraws() async throws {
        let tmux = try Tmux(cols: 120, rows: 30)
        try tmux.run("\(Build.dicomtui) --demo --demo-entries 100 --utc; echo EXIT=$?")
        try await tmux.waitFor(text: "SERIES UID")
        try tmux.resize(cols: 50, rows: 14)
        let narrow = try await tmux.waitFor("the narrow layout") { lines in
            lines.contains { $0.contains("SEQ TIME") } && !lines.contains { $0.contains("SERIES UID") }
        }
        #expect(narrow.allSatisfy { $0.count <= 50 })
        try tmux.resize(cols: 20, rows: 6)
        try await tmux.waitFor(text: "too small")
        try tmux.resize(cols: 100, rows: 24)
        try await tmux.waitFor(text: "SEQ TIME")
        try tmux.keys("q")
        try await tmux.waitFor(text: "EXIT=0")
    }
}


/// A second run continues where the first stopped: only the entries added since are loaded.
@Suite(.serialized, .enabled(if: Build.tmuxAvailable, "needs tmux"))
struct ResumeEndToEndTests {
    @Test(arguments: ["v2", "v1"])
    func aSecondRunContinuesWhereTheFirstStopped(version: String) async throws {
        let (server, url) = try await startEmulator(entries: 300)
        defer { Task { await server.stop() } }
        let tmux = try Tmux(cols: 140, rows: 30)
        let az = try FakeAz.azureCLI(in: tmux.workDir, signedIn: true)
        let command = "\(Build.dicomtui) --url \(url) --az \(az.path) --api-version \(version)"
        try tmux.run("\(command); echo EXIT=$?")
        try await tmux.waitFor(text: "idle, at the end of the feed")
        try await tmux.waitFor(text: "\(formatted(server.store.count)) loaded")
        try tmux.keys("q")
        try await tmux.waitFor(text: "EXIT=0")
        let savedFile = tmux.workDir.appendingPathComponent(".local/state/dicomtui/positions.json")
        let saved = try String(contentsOf: savedFile, encoding: .utf8)
        #expect(!saved.contains("eyJ"), "positions only, never a token")
        // The saved position leaves the late window to be read again (rows may still commit there).
        let positions = try #require(try JSONSerialization.jsonObject(with: Data(saved.utf8)) as? [String: [String: Any]])
        let position = try #require(positions.values.first)
        let start = (position["startTime"] as? String).flatMap(Timestamp.parse)
        let after = (position["afterSequence"] as? NSNumber)?.int64Value ?? 0

        // New entries arrive while dicomtui is closed.
        let before = server.store.count
        _ = server.store.appendGeneratedChanges(count: 7)
        let expected = server.store.allEntries().filter { e in start.map { e.timestamp >= $0 } ?? (e.sequence > after) }.count
        #expect(expected >= 7 && expected < server.store.count, "precondition: the second run reads only the tail")
        try tmux.run("clear; \(command) --resume; echo EXIT=$?")
        try await tmux.waitFor(text: "Continuing ")
        try await tmux.waitFor(text: "idle, at the end of the feed")
        try await tmux.waitFor(text: " \(formatted(expected)) loaded")
        try tmux.keys("q")
        try await tmux.waitFor(text: "EXIT=0")
        #expect(server.store.count == before + 7)

        // Without --resume it opens at the newest entries (this feed is small: all of it) and
        // offers the saved position: ' goes there (selects it among the rows loaded, or starts
        // the list again there and reads that neighbourhood).
        try tmux.run("clear; \(command); echo EXIT=$?")
        try await tmux.waitFor(text: "' goes there")
        try await tmux.waitFor(text: "\(formatted(server.store.count)) loaded")
        try tmux.keys("'")
        try await tmux.waitFor(text: "Where the run of ")
        try await tmux.waitFor(text: "idle, at the end of the feed")
        try tmux.keys("q")
        try await tmux.waitFor(text: "EXIT=0")

        // --from-start reads everything again.
        try tmux.run("clear; \(command) --from-start; echo EXIT=$?")
        try await tmux.waitFor(text: "\(formatted(server.store.count)) loaded")
        try tmux.keys("q")
        try await tmux.waitFor(text: "EXIT=0")
    }
}

/// When the terminal goes away the app ends: it neither lingers nor spins.
@Suite(.enabled(if: Build.tmuxAvailable, "needs tmux"))
struct HangUpEndToEndTests {
    @Test(arguments: [false, true])
    func closingTheTerminalEndsTheApp(ignoringHangUp: Bool) async throws {
        let tmux = try Tmux(cols: 100, rows: 24)
        let dir = tmux.workDir.path
        let prefix = ignoringHangUp ? "trap '' HUP; " : ""
        try tmux.run("\(prefix)sh -c 'echo $$ > \(dir)/pid; exec \(Build.dicomtui) --demo --demo-entries 20'")
        try await tmux.waitFor(text: "idle, at the end of the feed")
        let pid = try #require(Int32(String(contentsOfFile: "\(dir)/pid", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(kill(pid, 0) == 0)
        _ = try? tmux.killServer()
        let deadline = Date().addingTimeInterval(15)
        while kill(pid, 0) == 0 && Date() < deadline { try await Task.sleep(for: .milliseconds(100)) }
        let alive = kill(pid, 0) == 0
        if alive { kill(pid, SIGKILL) }
        #expect(!alive, "dicomtui is still running after its terminal closed")
    }
}
