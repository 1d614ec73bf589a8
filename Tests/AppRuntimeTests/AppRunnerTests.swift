@testable import AppRuntime
import Emulator
import FeedModel
import Foundation
import TerminalKit
import TestSupport
import Testing
import TokenSource

/// `AppRunner` in process: the run loop, the effects executor, the token manager and the
/// fetcher against an in-process emulator, with a `MemoryTerminal` for a screen. What the
/// end-to-end suites check through tmux and the built binary, here without either, so a
/// failure points at the runtime.
@Suite struct AppRunnerTests {
    /// The emulator's rows in the order the list shows them (v2: timestamp, then sequence).
    static func listed(_ server: EmulatorServer) -> [EmulatedEntry] {
        server.store.entriesV2(start: nil, end: nil, limit: server.store.count + 10)
    }

    /// Startup runs `acquireToken` and `startFetching`: the header shows who the token is for,
    /// every row loads, and every request carried that token; `q` ends the run with status 0.
    /// A frame held back (background work, a filter between keys) waits only for what is left
    /// of the frame interval since the last frame, not a whole interval from now.
    @Test func aFrameHeldBackWaitsForTheRestOfTheFrameInterval() {
        #expect(AppRunner.frameWait(sinceLastFrame: 0) == AppRunner.frameInterval)
        #expect(AppRunner.frameWait(sinceLastFrame: 10) == AppRunner.frameInterval - 10)
        #expect(AppRunner.frameWait(sinceLastFrame: 32.5) == 1)
        #expect(AppRunner.frameWait(sinceLastFrame: 40) == 0)
    }

    @Test func theFeedLoadsWithTheTokenAndQuitReturnsZero() async throws {
        try await withApp(entries: 300) { app in
            let total = app.server.store.count
            let screen = try await app.waitFor("the whole feed") {
                $0.contains { $0.contains("idle, at the end of the feed") && $0.contains("\(formatted(total)) loaded") }
            }
            let text = screen.joined(separator: "\n")
            #expect(text.contains("● valid"))
            #expect(text.contains(DemoTokenIssuer.Identity.tester.userPrincipalName))
            #expect(position(in: screen) == Position(1, total))
            let requests = app.server.requestLog.requests
            #expect(!requests.isEmpty && requests.allSatisfy { $0.status == 200 })
            let header = try #require(requests.first?.authorization)
            #expect(text.contains(Tokens.masked(String(header.dropFirst("Bearer ".count)))), "the header shows the token masked")
            #expect(requests.allSatisfy { $0.authorization == header }, "one token for every request")

            app.press(.char("q"))
            #expect(try await app.exitStatus() == 0)
        }
    }

    /// Keys move the selection; each key draws a frame.
    @Test func keysMoveTheSelection() async throws {
        try await withApp(entries: 300) { app in
            let total = app.server.store.count
            try await app.waitFor(text: "idle, at the end of the feed")
            app.press(.char("j"), .char("j"), .down)
            try await app.waitFor("4 / \(total)") { position(in: $0) == Position(4, total) }
            app.press(.char("G"))
            try await app.waitFor("the last entry") { position(in: $0) == Position(total, total) }
            app.press(.char("g"))
            try await app.waitFor("the first entry") { position(in: $0) == Position(1, total) }
            app.press(.pageDown)
            try await app.waitFor("a page down") { position(in: $0) == Position(24, total) }   // 30 rows leave 23 list rows
        }
    }

    /// Enter runs `loadEntry`: a one-entry request with metadata on the v1 route, and the detail
    /// view shows the entry with its DICOM metadata; Esc goes back to the list.
    @Test func enterOpensTheEntryWithItsMetadata() async throws {
        try await withApp(entries: 120, rows: 40) { app in
            let total = app.server.store.count
            try await app.waitFor(text: "idle, at the end of the feed")
            let first = try #require(Self.listed(app.server).first)
            app.press(.enter)
            let detail = try await app.waitFor(text: "DICOM metadata (")
            #expect(detail.contains { $0.contains(first.sopInstanceUid) })
            let asked = app.server.requestLog.requests.filter { ($0.query ?? "").contains("includeMetadata=true") }
            #expect(asked.count == 1)
            #expect(asked.first?.path.hasPrefix("/v1/") == true)
            let query = asked.first?.query ?? ""
            #expect(query.contains("offset=\(first.sequence - 1)") && query.contains("limit=1"), "\(query)")

            app.press(.escape)
            try await app.waitFor("the list again") { lines in
                !lines.contains { $0.contains("DICOM metadata (") } && position(in: lines) == Position(1, total)
            }
        }
    }

    /// The filter narrows the list to the emulator's deletes, as the title bar and the counter say.
    @Test func theFilterNarrowsTheListToWhatMatches() async throws {
        try await withApp(entries: 600) { app in
            let total = app.server.store.count
            try await app.waitFor(text: "idle, at the end of the feed")
            let deletes = app.server.store.allEntries().filter { $0.action == .delete }.count
            #expect(deletes > 0 && deletes < total, "precondition: the dataset has some deletes")
            app.press(.char("/"))
            app.type("action:delete")
            app.press(.enter)
            let kept = try await app.waitFor("the filter kept") { lines in
                lines.contains { $0.contains("filter: action:delete") }
                    && lines[0].contains("filtered \(formatted(deletes)) / \(formatted(total))")
            }
            #expect(position(in: kept) == Position(1, deletes))
            // Esc clears the filter; the selected entry stays selected, now among all of them.
            let first = try #require(Self.listed(app.server).firstIndex { $0.action == .delete })
            app.press(.escape)
            try await app.waitFor("the filter cleared") { !$0[0].contains("filtered") && position(in: $0) == Position(first + 1, total) }
        }
    }

    /// `y` runs `copy`: the selected row's SOP instance UID goes to the terminal's clipboard.
    @Test func yCopiesTheSelectedSOPInstanceUID() async throws {
        try await withApp(entries: 50) { app in
            let total = app.server.store.count
            try await app.waitFor(text: "idle, at the end of the feed")
            app.press(.char("j"))
            try await app.waitFor("the second row") { position(in: $0) == Position(2, total) }
            app.press(.char("y"))
            try await app.waitFor(text: "Copied")
            #expect(app.terminal.clipboard == [Self.listed(app.server)[1].sopInstanceUid])
        }
    }

    /// `r` runs `acquireToken` again: az is asked for a new token, and the header shows it.
    @Test func rGetsANewTokenFromAz() async throws {
        let az = try FakeAz.azureCLI(signedIn: true)
        try await withApp(entries: 50, tokens: .az(az)) { app in
            try await app.waitFor(text: "idle, at the end of the feed")
            let tokenCalls = { az.calls.filter { $0.contains("get-access-token") }.count }
            #expect(tokenCalls() == 1)
            let first = try #require(az.issuedTokens.first)
            try await app.waitFor(text: Tokens.masked(first))

            app.press(.char("r"))
            try await app.waitFor("a second token from az") { _ in az.issuedTokens.count == 2 }
            #expect(tokenCalls() == 2)
            let second = az.issuedTokens[1]
            let renewed = second != first   // (not in the expectation: a failure would print the tokens)
            #expect(renewed)
            try await app.waitFor(text: Tokens.masked(second))
            try await app.waitFor(text: "● valid")
        }
    }

    /// Nobody signed in to az: az's own words are on screen and nothing is sent to the service.
    @Test func notSignedInShowsAzsWordsAndSendsNothing() async throws {
        let az = try FakeAz.azureCLI(signedIn: false)
        try await withApp(entries: 10, tokens: .az(az)) { app in
            try await app.waitFor(text: "Please run 'az login'")
            try await app.waitFor(text: "✗ error")
            #expect(app.server.requestLog.count == 0)
            app.press(.char("q"))
            #expect(try await app.exitStatus() == 0)
        }
    }

    /// Quitting saves where the feed was read to (positions only, never a token).
    @Test func quittingSavesThePosition() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dicomtui-runtime-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("positions.json")
        let port = try await withApp(entries: 200, positions: file) { app in
            try await app.waitFor(text: "idle, at the end of the feed")
            #expect(!FileManager.default.fileExists(atPath: file.path), "saved when the run ends")
            app.press(.char("q"))
            #expect(try await app.exitStatus() == 0)
            #expect(app.positionProblems.isEmpty)
            return try #require(app.server.port)
        }
        let saved = try String(contentsOf: file, encoding: .utf8)
        #expect(!saved.contains("eyJ"), "positions only, never a token")
        let positions = try #require(try JSONSerialization.jsonObject(with: Data(saved.utf8)) as? [String: [String: Any]])
        #expect(positions.count == 1)
        let key = try #require(positions.keys.first)
        #expect(key.hasPrefix("http://127.0.0.1:\(port)") && key.hasSuffix(" v2"), "saved under the service's URL and version: \(key)")
        #expect(positions[key]?["afterSequence"] != nil)
    }

    /// SIGTERM (here: the terminal's scripted signal) ends the run with 128 + the signal.
    @Test func aTerminatingSignalEndsTheRunWith128PlusTheSignal() async throws {
        try await withApp(entries: 10) { app in
            try await app.waitFor(text: "idle, at the end of the feed")
            app.terminal.sendTerminate(signal: 15)
            #expect(try await app.exitStatus() == 143)
        }
    }

    /// A resize draws the next frame at the new size.
    @Test func aResizeRedrawsAtTheNewSize() async throws {
        try await withApp(entries: 100) { app in
            let total = app.server.store.count
            try await app.waitFor(text: "idle, at the end of the feed")
            app.terminal.resize(rows: 14, cols: 60)
            let small = try await app.waitFor("a 60x14 frame") { lines in
                lines.count == 14 && position(in: lines) == Position(1, total)
            }
            #expect(small.allSatisfy { $0.count <= 60 })
            #expect(app.terminal.lastFrame?.cols == 60)
        }
    }
}
