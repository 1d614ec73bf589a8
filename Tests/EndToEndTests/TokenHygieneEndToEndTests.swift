import Emulator
import Foundation
import TestSupport
import Testing

/// Token hygiene, swept: the UI, `feed` and `token` go through sign-in, refresh and errors
/// with HOME and every XDG directory in a fresh directory and a fake az that hands out long,
/// real-looking tokens; then everything a token could have leaked into is searched for every
/// token az issued, and for every part of one 12 characters long (the masked form shows 4 + 4):
/// each screen captured along the way and the pane's whole history, every file under HOME
/// (binary-safe), the arguments, `/proc` command lines and environments of az (recorded by the
/// fake itself, with its parent's, dicomtui's) and of the running UI, and the output of the
/// script commands. The token may leave dicomtui only as the Authorization header.
@Suite(.serialized, .enabled(if: Build.tmuxAvailable, "needs tmux"))
struct TokenHygieneEndToEndTests {
    @Test func theTokenIsNowhereButInTheAuthorizationHeader() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("dicomtui-hygiene-\(getpid())-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: root) }
        let home = root.appendingPathComponent("home")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        let environment = [
            "HOME": home.path, "XDG_CONFIG_HOME": home.appendingPathComponent("xdg-config").path,
            "XDG_CACHE_HOME": home.appendingPathComponent("xdg-cache").path,
            "XDG_STATE_HOME": home.appendingPathComponent("xdg-state").path,
            "XDG_DATA_HOME": home.appendingPathComponent("xdg-data").path,
        ]
        // az and its records live outside HOME.
        let az = try FakeAz.azureCLI(in: root.appendingPathComponent("outside"), signedIn: false)
        let (server, url) = try await startEmulator(entries: 400, seed: 11)
        defer { Task { await server.stop() } }
        var haystacks = Haystacks()

        // 1. The UI: sign in with a device code, refresh, a 401, az failing in three ways.
        let tmux = try Tmux(cols: 160, rows: 30, environment: environment, historyLimit: 5_000)
        tmux.recordsCaptures = true
        try tmux.run("\(Build.dicomtui) --url \(url) --az \(az.path) --follow --follow-interval 1s --no-mouse; echo EXIT=$?")
        try await tmux.waitFor(text: "Please run 'az login'")
        try tmux.keys("l")
        try await tmux.waitFor(text: "E 2 E C O D E 1")
        let app = try #require(try Self.appProcess(in: tmux), "dicomtui runs in the pane")
        haystacks.addProcess(app, "the UI, signing in", children: true)     // az login --use-device-code is its child now
        try az.approve()
        try await tmux.waitFor(text: "● valid")
        let total = server.store.count
        try await tmux.waitFor("every entry") { position(in: $0)?.total == total }
        haystacks.addProcess(app, "the UI, signed in")

        try tmux.keys("r")
        try await tmux.waitFor("a second token") { _ in az.issuedTokens.count >= 2 }
        try await tmux.waitFor(text: "● valid")
        try tmux.keys("Enter")                          // the metadata of the entry: a request of its own
        try await tmux.waitFor(text: "DICOM metadata (")
        try tmux.keys("Escape")
        try await tmux.waitFor("back in the list") { !$0.contains { $0.contains("ENTRY ") } }

        // The service refuses the token (wrong audience): 401, a fresh token, 401 again.
        try az.setAudience("https://other.example")
        try tmux.keys("r")
        try await tmux.waitFor(text: "401 Unauthorized", timeout: 30)
        haystacks.addProcess(app, "the UI, after a 401")
        try az.setAudience(nil)

        try az.signOut()
        try tmux.keys("r")
        try await tmux.waitFor(text: "Please run 'az login'")
        try az.signIn()
        try az.setMode(.garbled)                         // the token, then the answer cut short
        try tmux.keys("r")
        try await tmux.waitFor(text: "printed an unexpected answer")
        try az.setMode(.failAfterOutput)                 // the whole answer, then an error
        try tmux.keys("r")
        try await tmux.waitFor(text: "The Azure CLI failed")
        try az.setMode(.normal)
        let issuedBefore = az.issuedTokens.count
        try tmux.keys("r")
        try await tmux.waitFor("a good token again") { lines in
            az.issuedTokens.count > issuedBefore && lines.contains { $0.contains("● valid") }
        }
        haystacks.addProcess(app, "the UI, at the end")
        try tmux.keys("q")
        try await tmux.waitFor(text: "EXIT=0")
        _ = try tmux.history()                          // recorded with the screens

        // 2. The script commands: a token, and the feed, then the same failures.
        let scriptEnvironment = environment.merging(["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
                                                     "LANG": "C.UTF-8"]) { _, new in new }
        func script(_ arguments: [String]) async throws -> CapturedRun {
            let run = try await runCapturingOffPool([Build.dicomtui] + arguments, environment: scriptEnvironment)
            haystacks.add("stdout of dicomtui \(arguments.joined(separator: " "))", Data(run.stdout.utf8))
            haystacks.add("stderr of dicomtui \(arguments.joined(separator: " "))", Data(run.stderr.utf8))
            return run
        }
        let azArguments = ["--az", az.path]
        #expect(try await script(["token"] + azArguments).status == 0)
        let json = try await script(["token", "--json"] + azArguments)
        #expect(json.status == 0 && json.stdout.contains("\"masked\""))
        let feed = try await script(["feed", "--url", url, "--limit", "50"] + azArguments)
        #expect(feed.status == 0 && feed.lines.count == 50)
        #expect(try await script(["feed", "--url", url, "--format", "json", "--metadata", "--limit", "5"] + azArguments).status == 0)
        try az.setAudience("https://other.example")
        let refused = try await script(["feed", "--url", url] + azArguments)
        #expect(refused.status == 1 && refused.stderr.contains("401"))
        _ = try await script(["token", "--json"] + azArguments)
        try az.setAudience(nil)
        for mode in [FakeAz.Mode.garbled, .failAfterOutput] {
            try az.setMode(mode)
            #expect(try await script(["token"] + azArguments).status == 1)
            #expect(try await script(["token", "--json"] + azArguments).status == 1)
            #expect(try await script(["feed", "--url", url] + azArguments).status == 1)
        }
        try az.setMode(.normal)
        try az.signOut()
        #expect(try await script(["token"] + azArguments).status == 1)
        #expect(try await script(["feed", "--url", url] + azArguments).status == 1)

        // 3. The sweep.
        for (i, capture) in tmux.captures.enumerated() { haystacks.add("tmux capture \(i + 1)", Data(capture.utf8)) }
        let files = haystacks.addFiles(under: home)
        #expect(files.contains { $0.hasSuffix("dicomtui/positions.json") }, "the UI kept its position under XDG_STATE_HOME: \(files)")
        for (name, bytes) in az.recordings { haystacks.add("az's record \(name)", bytes) }
        #expect(az.recordings.contains { $0.name.hasSuffix("-parent-environ") }, "az recorded its parent's environment")

        let tokens = az.issuedTokens
        #expect(tokens.count >= 10, "tokens issued: \(tokens.count)")
        #expect(tokens.allSatisfy { $0.count > 1_400 && $0.split(separator: ".").count == 3 }, "long, real-looking JWTs")
        let sweep = TokenSweep(tokens: tokens)
        let leaks = haystacks.items.flatMap { item in sweep.hits(in: item.bytes).map { (item.label, $0) } }
        #expect(leaks.isEmpty, """
            a token, or 12 or more characters of one, was found in: \
            \(leaks.prefix(20).map { "\($0.0) at byte \($0.1.offset) (characters \($0.1.tokenOffset)... of token \($0.1.token + 1))" }.joined(separator: "; "))
            """)
        #expect(haystacks.items.count > 100, "searched \(haystacks.items.count) places")
        print("TokenHygieneEndToEndTests: \(tokens.count) tokens searched for in \(haystacks.items.count) places "
              + "(\(haystacks.items.reduce(0) { $0 + $1.bytes.count }) bytes; files under HOME: "
              + "\(files.map { String($0.dropFirst(home.path.count + 1)) }.sorted().joined(separator: ", ")))")
    }

    /// The sweep finds what it must: a whole token, 12 characters from anywhere in one, in
    /// binary surroundings; not the masked form, nor 11 characters.
    @Test func theSweepFindsUnmaskedParts() {
        let token = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL2RpY29tLmhlYWx0aGNhcmVhcGlzLmF6dXJlLmNvbSJ9.c2lnbmF0dXJlLW9mLXRoZS10b2tlbi1mb3ItdGhlLXN3ZWVw"
        let sweep = TokenSweep(tokens: ["unrelated-token-" + String(repeating: "x", count: 40), token])
        let chars = Array(token)
        #expect(sweep.hits(in: Data(("Bearer " + token).utf8)).first?.token == 1)
        for start in [0, 37, 60, chars.count - 12] {
            let part = String(chars[start..<(start + 12)])
            let hits = sweep.hits(in: Data([0, 0xFF, 0x1B]) + Data(part.utf8) + Data([0x0A, 0]))
            #expect(hits.first?.tokenOffset == start, "12 characters from \(start)")
        }
        #expect(sweep.hits(in: Data("token eyJ0…c3dl (1,234 characters)".utf8)).isEmpty)
        #expect(sweep.hits(in: Data(String(chars[5..<16]).utf8)).isEmpty, "11 characters")
    }

    /// The dicomtui process the pane's shell runs.
    static func appProcess(in tmux: Tmux) throws -> Int32? {
        let shell = try tmux.display("#{pane_pid}")
        for child in Self.children(of: shell) {
            let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(child)/exe")
            if exe.map({ URL(fileURLWithPath: $0).lastPathComponent == "dicomtui" }) == true { return Int32(child) }
        }
        return nil
    }

    static func children(of pid: String) -> [String] {
        let text = (try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8)) ?? ""
        return text.split(separator: " ").map(String.init).filter { !$0.isEmpty && !$0.contains("\n") }
    }
}

/// Everything searched, each with a label for the failure message.
struct Haystacks {
    private(set) var items: [(label: String, bytes: Data)] = []

    mutating func add(_ label: String, _ bytes: Data) { items.append((label, bytes)) }

    /// `/proc/<pid>/cmdline` and `environ` (and its children's, when asked).
    mutating func addProcess(_ pid: Int32, _ label: String, children: Bool = false) {
        for part in ["cmdline", "environ"] {
            if let bytes = FileManager.default.contents(atPath: "/proc/\(pid)/\(part)") {
                add("/proc/\(pid)/\(part) of \(label)", bytes)
            } else {
                Issue.record("cannot read /proc/\(pid)/\(part) of \(label)")
            }
        }
        guard children else { return }
        for child in TokenHygieneEndToEndTests.children(of: String(pid)) {
            for part in ["cmdline", "environ"] {
                if let bytes = FileManager.default.contents(atPath: "/proc/\(child)/\(part)") {
                    add("/proc/\(child)/\(part), a child of \(label)", bytes)
                }
            }
        }
    }

    /// Every regular file under `dir`, recursively, as bytes; returns their paths.
    @discardableResult
    mutating func addFiles(under dir: URL) -> [String] {
        var paths: [String] = []
        guard let walker = FileManager.default.enumerator(at: dir, includingPropertiesForKeys: [.isRegularFileKey]) else { return [] }
        for case let url as URL in walker {
            guard (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true,
                  let bytes = FileManager.default.contents(atPath: url.path) else { continue }
            add("the file \(url.path)", bytes)
            paths.append(url.path)
        }
        return paths
    }
}

/// Finds tokens, and every part of one `length` characters long, in bytes.
struct TokenSweep {
    struct Hit: Equatable {
        /// Where in the haystack, which token, where in the token.
        var offset: Int
        var token: Int
        var tokenOffset: Int
    }

    private struct Window: Hashable {
        var head: UInt64
        var tail: UInt32
    }

    static let length = 12
    private var windows: [Window: (token: Int, at: Int)] = [:]
    private var alphabet = [Bool](repeating: false, count: 256)

    init(tokens: [String]) {
        for (t, token) in tokens.enumerated() {
            let bytes = Array(token.utf8)
            for b in bytes { alphabet[Int(b)] = true }
            guard bytes.count >= Self.length else { continue }
            for i in 0...(bytes.count - Self.length) { windows[Self.window(bytes, i)] = (t, i) }
        }
    }

    private static func window(_ bytes: [UInt8], _ start: Int) -> Window {
        var head: UInt64 = 0
        for i in 0..<8 { head = head << 8 | UInt64(bytes[start + i]) }
        var tail: UInt32 = 0
        for i in 8..<12 { tail = tail << 8 | UInt32(bytes[start + i]) }
        return Window(head: head, tail: tail)
    }

    /// Every place where `length` bytes in a row are part of a token (one hit per run of
    /// matching windows).
    func hits(in data: Data) -> [Hit] {
        let bytes = [UInt8](data)
        var hits: [Hit] = []
        var runStart = 0
        var lastHitEnd = -1
        for i in bytes.indices {
            guard alphabet[Int(bytes[i])] else { runStart = i + 1; continue }
            let start = i - Self.length + 1
            guard start >= runStart, let match = windows[Self.window(bytes, start)] else { continue }
            if start > lastHitEnd { hits.append(Hit(offset: start, token: match.token, tokenOffset: match.at)) }
            lastHitEnd = i
        }
        return hits
    }
}
