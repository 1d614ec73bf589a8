import Emulator
import Foundation
import TestSupport
import Testing
import TokenSource

/// `p` in the real binary: two services in a configuration file, one marked production.
@Suite(.serialized, .enabled(if: Build.tmuxAvailable, "needs tmux"))
struct ProfileEndToEndTests {
    @Test func pSwitchesToAnotherServiceWithItsOwnFeed() async throws {
        let (staging, stagingURL) = try await startEmulator(entries: 120)
        defer { Task { await staging.stop() } }
        let (prod, prodURL) = try await startEmulator(entries: 345)
        defer { Task { await prod.stop() } }
        let tmux = try Tmux(cols: 120, rows: 30)
        let token = DemoTokenIssuer.mint(resource: "https://dicom.healthcareapis.azure.com", identity: .tester,
                                         issuedAt: Date(), lifetime: 3600)
        let az = try FakeAz.answering(token, in: tmux.workDir)
        let dir = tmux.workDir.path
        let config = """
            default-profile: staging
            profiles:
              staging:
                url: \(stagingURL)
                az: \(az.path)
              prod-westeurope:
                url: \(prodURL)
                az: \(az.path)
                production: true
            """
        try config.write(toFile: "\(dir)/config.yaml", atomically: true, encoding: .utf8)

        try tmux.run("XDG_STATE_HOME=\(dir)/state \(Build.dicomtui) --config \(dir)/config.yaml --no-mouse; echo EXIT=$?")
        let first = try await tmux.waitFor(text: "120 loaded")
        #expect(first[0].contains("staging") && !first[0].contains("PRODUCTION"))
        #expect(first[0].contains(stagingURL))

        try tmux.keys("p")
        try await tmux.waitFor(text: "Profiles")
        try await tmux.waitFor(text: "● staging")
        try tmux.keys("j", "Enter")
        let second = try await tmux.waitFor(text: "345 loaded")
        #expect(second[0].contains("PRODUCTION") && second[0].contains("prod-westeurope") && second[0].contains(prodURL))
        #expect(!second.joined().contains("120 loaded"), "nothing of the first service is left")
        #expect(prod.requestLog.count > 0)
        #expect(prod.requestLog.requests.allSatisfy { $0.authorization == token.authorizationHeaderValue })

        // Back again: the first service's list comes back as it was left.
        try tmux.keys("p", "k", "Enter")
        let third = try await tmux.waitFor(text: "as you left them")
        #expect(!third[0].contains("PRODUCTION") && third[0].contains(stagingURL))
        try await tmux.waitFor(text: "120 loaded")
        try await tmux.waitFor(text: "idle, at the end of the feed")

        try tmux.keys("q")
        try await tmux.waitFor(text: "EXIT=0")
        // Each service's position was saved under its own URL.
        let positions = try String(contentsOfFile: "\(dir)/state/dicomtui/positions.json", encoding: .utf8)
        let saved = try JSONSerialization.jsonObject(with: Data(positions.utf8)) as? [String: Any] ?? [:]
        let keys = Set(saved.keys).union((saved["positions"] as? [String: Any])?.keys.map { $0 } ?? [])
        #expect(keys.contains { $0.hasPrefix(stagingURL) } && keys.contains { $0.hasPrefix(prodURL) }, "\(positions)")
        #expect(!positions.contains(String(token.authorizationHeaderValue.dropFirst(7))), "never a token")
    }
}
