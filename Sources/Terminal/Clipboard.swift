import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Copying to the user's clipboard from a terminal program.
enum Clipboard {
    /// OSC 52 (`ESC ] 52 ; c ; base64 BEL`), written straight to the terminal after curses has
    /// drawn: terminals that allow it (most, over SSH too) put the text on the clipboard.
    static func writeOSC52(_ text: String) {
        let sequence = "\u{1b}]52;c;" + Data(text.utf8).base64EncodedString() + "\u{07}"
        var bytes = Array(sequence.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeMutableBytes { write(STDOUT_FILENO, $0.baseAddress! + offset, $0.count - offset) }
            if n > 0 { offset += n } else if errno != EINTR { break }
        }
    }

    /// Inside tmux the application's OSC 52 stops at tmux (set-clipboard is `external` by
    /// default), so also set tmux's buffer, which `-w` forwards to the outer clipboard.
    static func setTmuxBuffer(_ text: String) -> String? {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for fd: Int32 in [0, 1, 2] {
            posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY, 0)
        }
        let argv = ["tmux", "set-buffer", "-w", "--", text]
        var cArgs = argv.map { strdup($0) } + [nil]
        defer { for a in cArgs { free(a) } }
        var pid: pid_t = 0
        guard posix_spawnp(&pid, "tmux", &actions, nil, &cArgs, environ) == 0 else { return "tmux was not found" }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return status == 0 ? nil : "tmux set-buffer failed"
    }
}
