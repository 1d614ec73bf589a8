import Foundation
import TestSupport
import Testing

/// The terminal as terminals really are: keys in the forms other terminals (and tmux) send,
/// whatever TERM says; and a crash that still leaves the terminal as it was.
@Suite(.serialized, .enabled(if: Build.tmuxAvailable, "needs tmux"))
struct TerminalEndToEndTests {
    static let esc: UInt8 = 0x1B

    /// `ESC [ 1 ~` and the like, written as bytes into a pane whose TERM is xterm-256color
    /// (tmux with that TERM is common). xterm's terminfo says Home is `ESC O H`, so curses
    /// alone knows none of the other forms; each must still move the selection.
    @Test func homeEndAndPagingInEveryFormUnderXterm256color() async throws {
        let tmux = try Tmux(cols: 120, rows: 30, environment: ["TERM": "xterm-256color"])
        try tmux.run("echo TERM=$TERM; \(Build.dicomtui) --demo --demo-entries 300 --demo-live 0 --no-mouse; echo EXIT=$?")
        try await tmux.waitFor(text: "idle, at the end of the feed")
        let total = try #require(position(in: try tmux.screen())?.total)
        #expect(total >= 300)
        func csi(_ s: String) -> [UInt8] { [Self.esc, 0x5B] + Array(s.utf8) }
        func ss3(_ s: String) -> [UInt8] { [Self.esc, 0x4F] + Array(s.utf8) }
        let ends: [(String, [UInt8])] = [
            ("ESC [ 4 ~", csi("4~")), ("ESC [ F", csi("F")), ("ESC O F", ss3("F")), ("ESC [ 8 ~ (rxvt)", csi("8~")),
            ("ESC [ 1 ; 5 F (Ctrl)", csi("1;5F")), ("ESC [ 4 ; 2 ~ (Shift)", csi("4;2~")), ("ESC [ 8 ^ (rxvt Ctrl)", csi("8^")),
        ]
        let homes: [(String, [UInt8])] = [
            ("ESC [ 1 ~", csi("1~")), ("ESC [ H", csi("H")), ("ESC O H", ss3("H")), ("ESC [ 7 ~ (rxvt)", csi("7~")),
            ("ESC [ 1 ; 5 H (Ctrl)", csi("1;5H")), ("ESC [ 1 ; 2 H (Shift)", csi("1;2H")), ("ESC [ 7 $ (rxvt Shift)", csi("7$")),
        ]
        for (end, home) in zip(ends, homes) {
            try tmux.bytes(end.1)
            try await tmux.waitFor("End as \(end.0): the last entry") { position(in: $0) == Position(total, total) }
            try tmux.bytes(home.1)
            try await tmux.waitFor("Home as \(home.0): the first entry") { position(in: $0) == Position(1, total) }
        }
        // The arrows and paging keys, in their CSI, SS3 and modified forms.
        let moves: [(String, [UInt8], Int)] = [
            ("ESC [ B", csi("B"), 2), ("ESC O B", ss3("B"), 3), ("ESC [ 1 ; 5 B", csi("1;5B"), 4),
            ("ESC [ A", csi("A"), 3), ("ESC O A", ss3("A"), 2), ("ESC [ 1 ; 2 A", csi("1;2A"), 1),
        ]
        for (name, bytes, selected) in moves {
            try tmux.bytes(bytes)
            try await tmux.waitFor("\(name) moves to row \(selected)") { position(in: $0) == Position(selected, total) }
        }
        try tmux.bytes(csi("6~"))
        let paged = try await tmux.waitFor("PgDn as ESC [ 6 ~") { (position(in: $0)?.selected ?? 1) > 1 }
        let page = try #require(position(in: paged)?.selected)
        try tmux.bytes(csi("6;5~"))
        let paged2 = try await tmux.waitFor("PgDn as ESC [ 6 ; 5 ~") { (position(in: $0)?.selected ?? 0) > page }
        let page2 = try #require(position(in: paged2)?.selected)
        try tmux.bytes(csi("5~"))
        try await tmux.waitFor("PgUp as ESC [ 5 ~") { (position(in: $0)?.selected ?? Int.max) < page2 }
        try tmux.bytes(csi("5;3~"))
        try tmux.bytes(csi("5~"))
        try await tmux.waitFor("PgUp as ESC [ 5 ; 3 ~, then ESC [ 5 ~") { position(in: $0)?.selected == 1 }
        // None of those keys did anything else: still in the list, no filter, no entry opened.
        let screen = try tmux.screen()
        #expect(!screen.contains { $0.contains("ENTRY ") || $0.contains("filter:") || $0.contains("filtered") })
        #expect(position(in: screen) == Position(1, total))
        try tmux.keys("q")
        try await tmux.waitFor(text: "EXIT=0")
        #expect(try tmux.screen().contains("TERM=xterm-256color"), "the pane's TERM was xterm-256color")
    }

    /// A debug build with `DICOMTUI_DEBUG_CRASH=1` traps on the first key, with curses up (the
    /// alternate screen, a hidden cursor, raw mode, mouse reporting). Afterwards the shell has
    /// its terminal back exactly: the same `stty -g`, the normal screen, a visible cursor, no
    /// mouse reporting, and the crash message readable on the normal screen.
    @Test func aCrashRestoresTheTerminal() async throws {
        let tmux = try Tmux(cols: 120, rows: 40, historyLimit: 5_000)
        let dir = tmux.workDir.path
        try tmux.run("stty -g > \(dir)/stty.before")
        try await tmux.waitFor("stty saved") { _ in FileManager.default.fileExists(atPath: "\(dir)/stty.before") }
        try tmux.run("DICOMTUI_DEBUG_CRASH=1 \(Build.dicomtui) --demo --demo-entries 50 --demo-live 0; echo EXIT=$?; stty -g > \(dir)/stty.after")
        try await tmux.waitFor(text: "idle, at the end of the feed")
        // What the crash must undo is really there.
        #expect(try tmux.display("#{alternate_on}") == "1")
        #expect(try tmux.display("#{cursor_flag}") == "0")
        #expect(try tmux.display("#{mouse_any_flag}") == "1")

        try tmux.keys("x")
        let after = try await tmux.waitFor("the shell after the crash", timeout: 90) { lines in
            lines.contains { $0.hasPrefix("EXIT=") }
        }
        try await tmux.waitFor("stty saved after") { _ in FileManager.default.fileExists(atPath: "\(dir)/stty.after") }
        try await Task.sleep(for: .milliseconds(300))
        let status = after.first { $0.hasPrefix("EXIT=") }.map { String($0.dropFirst(5)) }
        #expect(status == "132" || status == "133", "killed by SIGILL or SIGTRAP (\(status ?? "-"))")
        #expect(try String(contentsOfFile: "\(dir)/stty.before", encoding: .utf8) == String(contentsOfFile: "\(dir)/stty.after", encoding: .utf8),
                "the terminal's settings are as before")
        #expect(try tmux.display("#{alternate_on}") == "0", "back on the normal screen")
        #expect(try tmux.display("#{cursor_flag}") == "1", "the cursor is visible")
        for flag in ["mouse_any_flag", "mouse_standard_flag", "mouse_button_flag", "mouse_all_flag", "mouse_sgr_flag"] {
            #expect(try tmux.display("#{\(flag)}") == "0", "\(flag) is off")
        }
        #expect(try tmux.display("#{keypad_cursor_flag}") == "0", "cursor keys are back in normal mode")
        // The message, on the normal screen, in lines that start at the left edge (the tty's
        // output processing was restored before it was printed), and still on screen when the
        // shell's prompt is back: Swift's backtrace (every thread, registers, images) comes first.
        let screen = try tmux.screen()
        let shown = screen.joined(separator: "\n")
        #expect(screen.contains { $0.hasPrefix("[terminal restored") }, "the crash guard's note is on screen:\n\(shown)")
        #expect(screen.contains { $0.contains("Fatal error: DICOMTUI_DEBUG_CRASH: a deliberate crash") },
                "the fatal error's message is on screen:\n\(shown)")
        let history = try tmux.history()
        let backtrace = try #require(history.range(of: "Program crashed"), "Swift's backtrace was printed too:\n\(history)")
        let note = try #require(history.range(of: "[terminal restored", options: .backwards))
        #expect(backtrace.upperBound < note.lowerBound, "the message comes after the backtrace")
        // The shell works as before: what is typed is echoed and runs.
        try tmux.run("echo still-working")
        try await tmux.waitFor("the shell echoes and runs commands") { lines in
            lines.contains { $0.hasSuffix("echo still-working") } && lines.contains { $0 == "still-working" }
        }
    }
}

/// How this run of the end-to-end suites is guarded.
@Suite struct TmuxGuardTests {
    /// With DICOMTUI_REQUIRE_TMUX=1 (CI), tmux must be on PATH: the suites above would otherwise skip.
    @Test func tmuxIsThereWhenRequired() {
        guard Build.tmuxRequired else { return }
        #expect(Build.tmuxPath != nil, "DICOMTUI_REQUIRE_TMUX=1 but no tmux on PATH (\(ProcessInfo.processInfo.environment["PATH"] ?? ""))")
    }
}
