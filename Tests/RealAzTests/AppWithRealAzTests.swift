import Emulator
import Foundation
import TestSupport
import Testing

@testable import TokenSource

extension RealAzSuite {
    /// The dicomtui binary in tmux with the REAL az: the `l` dialog shows what az prints for a
    /// device-code sign-in against the stand-in sign-in service, the test approves as the user
    /// would, and the app gets its token from az (through the refresh grant) and loads the feed.
    @Suite(.enabled(if: RealAz.isConfigured, RealAz.skipReason), .enabled(if: Build.tmuxAvailable, "needs tmux"))
    struct AppWithRealAzTests {
        @Test func signInFromTheDialogThenBrowse() async throws {
            let az = try #require(RealAz.path)
            let lab = try await DeviceCodeLoginTests.signInLab()
            defer { lab.close() }
            let (server, url) = try await startEmulator(entries: 120, seed: 5)
            defer { Task { await server.stop() } }

            var env: [String: String] = [:]
            for (key, value) in lab.environment { if let value { env[key] = value } }
            let tmux = try Tmux(cols: 150, rows: 30, environment: env)
            try tmux.run("\(Build.dicomtui) --url \(url) --az \(az); echo EXIT=$?")

            // A fresh profile: az's own "not signed in" text, and what to do.
            try await tmux.waitFor(text: "Please run 'az login'", timeout: 30)
            try await tmux.waitFor(text: "Press l to sign in")
            try tmux.keys("l")
            let base = try #require(lab.service?.baseURL)
            let dialog = try await tmux.waitFor(text: "waiting for you to sign in", timeout: 30)
            #expect(dialog.contains { $0.contains(base) }, "the dialog shows the sign-in page az printed")
            // The code az printed is the one the service issued, shown spaced out.
            let issued = try #require(lab.requests().last { $0.path.hasSuffix("/devicecode") })
            let code = try #require(issued.issued["user_code"] as? String)
            #expect(dialog.contains { $0.contains(code.map(String.init).joined(separator: " ")) })
            try tmux.keys("y")
            try await tmux.waitFor(text: "Copied the sign-in code")
            #expect(try tmux.buffer() == code)

            try lab.control("decision", "approve")
            try await tmux.waitFor(text: "● valid", timeout: 30)
            try await tmux.waitFor(text: "someone@contoso.example")
            try await tmux.waitFor(text: "subscription Test Subscription", timeout: 30)
            try await tmux.waitFor(text: "idle, at the end of the feed")
            try await tmux.waitFor(text: "\(server.store.count) loaded")
            // The service saw only tokens that az got through the refresh grant for the DICOM audience.
            #expect(server.requestLog.requests.allSatisfy { $0.status == 200 })
            let refresh = lab.requests().filter { $0.grantType == "refresh_token" }
            #expect(refresh.contains { ($0.form["scope"] ?? "").contains("https://dicom.healthcareapis.azure.com/.default") })

            try tmux.keys("q")
            try await tmux.waitFor(text: "EXIT=0")
        }
    }
}
