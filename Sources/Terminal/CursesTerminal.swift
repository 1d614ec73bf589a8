#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CNcursesw
import TerminalKit

/// The real terminal: ncursesw on stdin/stdout. The only type in dicomtui that calls curses.
///
/// Create it, use it and shut it down on one thread (the run loop's). Background work talks to
/// that thread only through `waker`.
///
/// What it sets up, in order: the locale (`setlocale(LC_ALL, "")`), handlers for SIGINT, SIGTERM
/// and SIGHUP (they make `wait` return `.terminate`), `newterm` with cbreak/noecho/nonl/keypad and
/// a hidden cursor, every usual form of the navigation keys (`EscapeSequences.registered`), colours (16 ANSI colours over the terminal's default colours), the mouse if
/// asked for, a wrapper around ncurses' SIGWINCH handler, a SIGCONT watcher (repaint after
/// Ctrl-Z/`fg`), and a crash guard that restores the terminal on SIGILL/SIGTRAP/SIGABRT/SIGSEGV/
/// SIGBUS/SIGFPE before the signal goes on to its old handler.
///
/// Crashes: while curses owns the screen a `Fatal error:` message would land in the alternate
/// screen and be wiped. Pass `Options.stderrLogPath` to send fd 2 there while the UI is up; the
/// crash guard restores the terminal, lets the old handler (Swift's backtracer) print on it, then
/// prints the tail of that log last, where it stays in view. The app should also set
/// `SWIFT_BACKTRACE=interactive=no` in its environment before anything can crash (for example
/// by re-exec, or by documenting it), so Swift's backtracer never waits for a key on a broken tty.
public final class CursesTerminal: TerminalDevice {
    public struct Options: Sendable {
        /// False for `--no-color`. A non-empty `NO_COLOR` also turns colour off.
        public var color: Bool
        /// Report clicks and the wheel. Off by default: it breaks the terminal's own text selection.
        public var mouse: Bool
        /// How long a lone Esc waits for the rest of an escape sequence.
        public var escapeDelayMilliseconds: Int
        /// Where fd 2 goes while the UI is up (only when stderr is a terminal). Nil: left alone.
        public var stderrLogPath: String?
        /// When the locale is not UTF-8, try `C.UTF-8` instead (for containers without `LANG`).
        public var forceUTF8Locale: Bool
        /// The value of NO_COLOR; by default read from the environment.
        public var noColorEnvironment: String?

        public init(color: Bool = true, mouse: Bool = false, escapeDelayMilliseconds: Int = 25,
                    stderrLogPath: String? = nil, forceUTF8Locale: Bool = false,
                    noColorEnvironment: String? = CursesTerminal.environment("NO_COLOR")) {
            self.color = color; self.mouse = mouse; self.escapeDelayMilliseconds = escapeDelayMilliseconds
            self.stderrLogPath = stderrLogPath; self.forceUTF8Locale = forceUTF8Locale
            self.noColorEnvironment = noColorEnvironment
        }
    }

    public static func environment(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }

    /// The conventional exit status after a terminating signal: 128 + signal number (130 for SIGINT).
    public static func exitStatus(forSignal sig: Int32) -> Int32 { 128 + sig }

    /// False when the locale's character set is not UTF-8: non-ASCII text is then drawn as `?`.
    /// The app should warn (e.g. "set LANG=C.UTF-8").
    public let localeIsUTF8: Bool
    /// The character set the locale reported (`UTF-8`, `ANSI_X3.4-1968`, ...).
    public let localeCodeset: String
    public private(set) var hasColor: Bool
    public let options: Options

    public var waker: any Waker { pipeWaker }
    public var size: (rows: Int, cols: Int) {
        guard !isShutDown else { return lastKnownSize }
        return (Int(getmaxy(cs_stdscr())), Int(getmaxx(cs_stdscr())))
    }

    private let pipeWaker: PipeWaker
    private var screen: OpaquePointer?
    private var isShutDown = false
    private var lastKnownSize = (rows: 24, cols: 80)
    private var lastFrame: Canvas?
    private var needsFullRepaint = true
    private var pendingEvents: [InputEvent] = []
    private var pairs: ColorPairTable
    private var colorCount = 0
    private var defaultColors = false
    private var savedStderrFD: Int32 = -1
    private let ownerThread = pthread_self()

    private nonisolated(unsafe) static var active = false

    public init(options: Options = Options()) throws(TerminalError) {
        guard !Self.active else { throw .alreadyActive }
        self.options = options

        // 1. Locale first, or wide characters are dropped and wcwidth() is -1.
        setlocale(LC_ALL, "")
        var codeset = String(cString: nl_langinfo(nl_item(CODESET)))
        if codeset != "UTF-8" && options.forceUTF8Locale, setlocale(LC_ALL, "C.UTF-8") != nil {
            codeset = String(cString: nl_langinfo(nl_item(CODESET)))
        }
        localeCodeset = codeset
        localeIsUTF8 = codeset == "UTF-8"

        guard isatty(STDIN_FILENO) == 1, isatty(STDOUT_FILENO) == 1 else { throw .notATerminal }
        pipeWaker = try PipeWaker()
        pairs = ColorPairTable(capacity: 0)
        hasColor = false

        // 2. The shell's tty settings, for the crash guard.
        SignalRouting.prepare()
        let saved = UnsafeMutablePointer<termios>.allocate(capacity: 1)
        saved.initialize(to: termios())
        if tcgetattr(STDIN_FILENO, saved) == 0 { crashSavedTermios = saved } else { saved.deallocate() }

        // 3. Graceful-exit signals, before newterm.
        sigWakeFD = pipeWaker.writeFD
        SignalRouting.installTerminate()

        // 4. Curses.
        _ = set_escdelay(Int32(options.escapeDelayMilliseconds))
        guard let scr = newterm(nil, cs_stdout(), cs_stdin()) else {
            for sig in terminatingSignals { SignalRouting.restore(sig) }
            sigWakeFD = -1
            crashSavedTermios?.deallocate(); crashSavedTermios = nil
            throw .cannotInitialize(term: Self.environment("TERM") ?? "")
        }
        screen = scr
        Self.active = true
        _ = set_escdelay(Int32(options.escapeDelayMilliseconds))
        cbreak(); noecho(); nonl()
        intrflush(cs_stdscr(), false)
        keypad(cs_stdscr(), true)
        nodelay(cs_stdscr(), true)
        curs_set(0)
        // Keys in the forms other terminals send (tmux's ESC [ 1 ~ for Home under an xterm TERM...):
        // terminfo names one form per key, and curses knows only that one.
        for (sequence, key) in EscapeSequences.registered {
            if let code = CursesKeyCode.code(for: key) { _ = define_key(sequence, code) }
        }

        // 5. Colours.
        if ColorPolicy.wantsColor(requested: options.color, noColorEnvironment: options.noColorEnvironment), has_colors() {
            start_color()
            defaultColors = use_default_colors() == OK
            colorCount = Int(cs_colors())
            pairs = ColorPairTable(capacity: Int(cs_color_pairs()))
            hasColor = colorCount >= 8
        }

        // 6. Mouse.
        if options.mouse {
            _ = mousemask(mmask_t(CursesMouseMask.requested), nil)
        }

        // 7. Resize/resume wrappers (ncurses has installed its SIGWINCH and SIGTSTP handlers by now).
        SignalRouting.installResizeAndResume()

        // 8. Crash guard and stderr.
        prepareCrashRestore()
        redirectStderr()
        crashArmed.store(1, ordering: .sequentiallyConsistent)
        SignalRouting.installCrash()
        lastKnownSize = size
    }

    deinit { shutdown() }

    // MARK: - TerminalDevice

    public func present(_ canvas: Canvas) {
        assertOwnerThread()
        guard !isShutDown, let win = cs_stdscr() else { return }
        let screenRows = Int(getmaxy(win)), screenCols = Int(getmaxx(win))
        let rows = min(canvas.rows, screenRows), cols = min(canvas.cols, screenCols)
        // Diff against the last frame only when it had the same shape and fit the screen.
        let sameShape = lastFrame.map { $0.rows == canvas.rows && $0.cols == canvas.cols } ?? false
        let full = needsFullRepaint || !sameShape || canvas.rows > screenRows || canvas.cols > screenCols
        if full { werase(win) }
        // The cells read in place (no copy of each cell, nor of its text, on every frame).
        let previous = full ? nil : lastFrame
        canvas.cells.withUnsafeBufferPointer { now in
            (previous?.cells ?? []).withUnsafeBufferPointer { before in
                let width = canvas.cols
                for y in 0..<rows {
                    let row = y * width
                    if before.count == now.count {
                        // A row that has not changed at all is passed over in one comparison a cell.
                        var same = true
                        for k in row..<row + width where now[k] != before[k] { same = false; break }
                        if same { continue }
                    }
                    var x = 0
                    while x < cols {
                        let cell = now[row + x]
                        let wide = x + 1 < width && now[row + x + 1].isContinuation
                        let span = wide ? 2 : 1
                        defer { x += span }
                        if cell.isContinuation { continue }           // an orphan half: leave it to curses
                        if before.count == now.count, before[row + x] == cell,
                           x + 1 >= width || before[row + x + 1].isContinuation == wide,
                           !wide || before[row + x + 1] == now[row + x + 1] {
                            continue                                    // unchanged since the last frame
                        }
                        if full && cell == .blank { continue }
                        if x + span > cols {                            // a wide glyph cut by the screen edge
                            draw(" ", cells: 1, style: cell.style, y: y, x: x, win: win)
                        } else {
                            draw(cell.text, cells: span, style: cell.style, y: y, x: x, win: win)
                        }
                    }
                }
            }
        }
        if needsFullRepaint { clearok(cs_curscr(), true) }
        wnoutrefresh(win)
        doupdate()
        lastFrame = canvas
        needsFullRepaint = false
    }

    public func wait(timeoutMilliseconds: Int?) -> WakeReason {
        assertOwnerThread()
        if let sig = takePendingTerminate() { return .terminate(signal: sig) }
        if !pendingEvents.isEmpty { return .input }
        var fds = [pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0),
                   pollfd(fd: pipeWaker.readFD, events: Int16(POLLIN), revents: 0)]
        let timeout = timeoutMilliseconds.map { Int32(clamping: max(0, $0)) } ?? -1
        let n = poll(&fds, 2, timeout)
        if n < 0 {
            // EINTR: a signal (SIGWINCH, SIGCONT...) came in; let readInput pick up KEY_RESIZE.
            if let sig = takePendingTerminate() { return .terminate(signal: sig) }
            return .input
        }
        var woken = false, signalled = false
        if fds[1].revents != 0 {
            for byte in pipeWaker.drain() {
                switch byte {
                case PipeWaker.Tag.wake: woken = true
                case PipeWaker.Tag.resize: signalled = true       // KEY_RESIZE waits in get_wch
                case PipeWaker.Tag.resume:
                    signalled = true
                    needsFullRepaint = true
                    let s = size
                    pendingEvents.append(.resize(rows: s.rows, cols: s.cols))
                default: break          // a terminating signal: read from the sticky flag below
                }
            }
            if let sig = takePendingTerminate() { return .terminate(signal: sig) }
        }
        if fds[0].revents & Int16(POLLHUP | POLLERR | POLLNVAL) != 0 {
            // The terminal went away (also when SIGHUP is ignored, as under nohup): a hung-up
            // tty stays "readable" forever, so reading on would spin.
            return .terminate(signal: SIGHUP)
        }
        if fds[0].revents != 0 || signalled || !pendingEvents.isEmpty { return .input }
        if woken { return .woken }
        return .timeout        // nothing, or only a stale byte of an already reported signal
    }

    public func readInput() -> [InputEvent] {
        assertOwnerThread()
        guard !isShutDown, let win = cs_stdscr() else { return [] }
        var events = pendingEvents
        pendingEvents.removeAll()
        var wc: wint_t = 0
        // Sequences curses does not know arrive as Esc and characters: put them together.
        var assembler = EscapeAssembler()
        func take(_ decoded: [DecodedInput]) {
            for d in decoded {
                switch d {
                case .key(let key): events.append(.key(key))
                case .resize:
                    needsFullRepaint = true
                    events.append(.resize(rows: Int(cs_lines()), cols: Int(cs_cols())))
                case .mouse:
                    var ev = MEVENT()
                    if getmouse(&ev) == OK, let m = KeyDecoder.decodeMouse(row: ev.y, col: ev.x, buttonState: UInt32(ev.bstate)) {
                        events.append(.mouse(m))
                    }
                case .ignored: break
                }
            }
        }
        for _ in 0..<4096 {
            let r = wget_wch(win, &wc)
            if r == ERR { break }
            let raw: RawInput = r == KEY_CODE_YES ? .keyCode(Int32(bitPattern: wc)) : .character(UInt32(wc))
            take(assembler.feed(raw))
        }
        take(assembler.flush())
        // Several resizes in one batch: only the last size matters.
        if let lastResize = events.lastIndex(where: { if case .resize = $0 { true } else { false } }) {
            events = events.enumerated().filter { i, e in
                if case .resize = e { return i == lastResize } else { return true }
            }.map(\.element)
        }
        if !isShutDown { lastKnownSize = size }
        return events
    }

    public func suspend<T>(_ body: () throws -> T) rethrows -> T {
        assertOwnerThread()
        guard !isShutDown else { return try body() }
        def_prog_mode()
        endwin()
        restoreStderr()
        // Like system(3): while the child runs, ^C and ^\ go to it only. Ctrl-Z stops both.
        let oldInt = SignalRouting.swap(SIGINT, to: SIG_IGN)
        let oldQuit = SignalRouting.swap(SIGQUIT, to: SIG_IGN)
        let oldTstp = SignalRouting.swap(SIGTSTP, to: SIG_DFL)
        defer {
            SignalRouting.put(SIGINT, back: oldInt)
            SignalRouting.put(SIGQUIT, back: oldQuit)
            SignalRouting.put(SIGTSTP, back: oldTstp)
            redirectStderr()
            reset_prog_mode()
            keypad(cs_stdscr(), true)
            nodelay(cs_stdscr(), true)
            curs_set(0)
            if options.mouse { _ = mousemask(mmask_t(CursesMouseMask.requested), nil) }
            clearok(cs_curscr(), true)
            needsFullRepaint = true
            wrefresh(cs_stdscr())       // back to the alternate screen now; the next present repaints
        }
        return try body()
    }

    public func shutdown() {
        guard !isShutDown else { return }
        isShutDown = true
        lastKnownSize = (Int(getmaxy(cs_stdscr())), Int(getmaxx(cs_stdscr())))
        crashArmed.store(0, ordering: .sequentiallyConsistent)
        for sig in crashSignals { SignalRouting.restore(sig) }
        if options.mouse { _ = mousemask(0, nil) }
        curs_set(1)
        endwin()
        restoreStderr()
        SignalRouting.restore(SIGWINCH)
        SignalRouting.restore(SIGCONT)
        if let scr = screen { delscreen(scr); screen = nil }
        if let saved = crashSavedTermios { _ = tcsetattr(STDIN_FILENO, TCSADRAIN, saved) }
        for sig in terminatingSignals { SignalRouting.restore(sig) }
        sigWakeFD = -1
        freeCrashState()
        Self.active = false
    }

    /// Forces a full repaint on the next `present` (for a "redraw" key such as Ctrl-L).
    public func invalidate() { needsFullRepaint = true }

    public func copyToClipboard(_ text: String) -> String? {
        assertOwnerThread()
        Clipboard.writeOSC52(text)
        if getenv("TMUX") != nil {
            return Clipboard.setTmuxBuffer(text)
        }
        return nil
    }

    // MARK: - Drawing

    private func draw(_ text: String, cells: Int, style: Style, y: Int, x: Int, win: UnsafeMutablePointer<WINDOW>) {
        // Printable ASCII in one cell (most of a frame): nothing for CellGlyph to decide, no arrays.
        if cells == 1, text.utf8.count == 1, let b = text.utf8.first, b >= 0x20, b < 0x7F {
            let (attrs, pair) = attributes(for: style)
            var cc = cchar_t()
            var wide: (wchar_t, wchar_t) = (wchar_t(b), 0)
            withUnsafePointer(to: &wide) { p in
                p.withMemoryRebound(to: wchar_t.self, capacity: 2) { _ = setcchar(&cc, $0, attrs, pair, nil) }
            }
            _ = mvwadd_wch(win, Int32(y), Int32(x), &cc)
            return
        }
        let glyph = CellGlyph.resolve(text, cells: cells, unicode: localeIsUTF8) { Int(wcwidth(wchar_t(bitPattern: $0))) }
        let (attrs, pair) = attributes(for: style)
        var cc = cchar_t()
        var wchars = [wchar_t](repeating: 0, count: CellGlyph.maxScalars + 1)
        for (i, s) in glyph.scalars.enumerated() { wchars[i] = wchar_t(bitPattern: s) }
        _ = setcchar(&cc, wchars, attrs, pair, nil)
        _ = mvwadd_wch(win, Int32(y), Int32(x), &cc)
        if glyph.padding > 0 {
            var blank = cchar_t()
            let space: [wchar_t] = [0x20, 0]
            _ = setcchar(&blank, space, attrs, pair, nil)
            let drawn = cells - glyph.padding
            for i in 0..<glyph.padding { _ = mvwadd_wch(win, Int32(y), Int32(x + drawn + i), &blank) }
        }
    }

    private func attributes(for style: Style) -> (attr_t, Int16) {
        let s = hasColor ? style : style.monochrome
        var attrs: attr_t = CS_A_NORMAL
        if s.bold { attrs |= CS_A_BOLD }
        if s.dim { attrs |= CS_A_DIM }
        if s.reverse { attrs |= CS_A_REVERSE }
        if s.underline { attrs |= CS_A_UNDERLINE }
        guard hasColor, s.fg != nil || s.bg != nil else { return (attrs, 0) }
        var fg: Int16 = -1, bg: Int16 = -1
        if let c = s.fg {
            let m = ColorMapping.number(for: c, colors: colorCount)
            fg = m.number
            if m.bold { attrs |= CS_A_BOLD }
        }
        if let c = s.bg { bg = ColorMapping.number(for: c, colors: colorCount).number }
        if !defaultColors {            // no "default" colour: white on black stands in
            if fg == -1 { fg = Int16(COLOR_WHITE) }
            if bg == -1 { bg = Int16(COLOR_BLACK) }
        }
        let (pair, isNew) = pairs.pair(fg: fg, bg: bg)
        if isNew { init_pair(pair, fg, bg) }
        return (attrs, pair)
    }

    // MARK: - Signals, stderr, crash guard

    private func takePendingTerminate() -> Int32? {
        let sig = sigPendingTerminate.exchange(0, ordering: .sequentiallyConsistent)
        return sig == 0 ? nil : sig
    }

    private func prepareCrashRestore() {
        var bytes: [UInt8] = []
        for cap in ["sgr0", "cnorm", "rmkx", "rmcup"] {
            if let s = tigetstr(cap), cs_tigetstr_ok(s) != 0 {
                bytes.append(contentsOf: Array(String(cString: s).utf8))
            }
        }
        if options.mouse {
            bytes.append(contentsOf: Array("\u{1B}[?1000l\u{1B}[?1002l\u{1B}[?1006l".utf8))
        }
        let p = UnsafeMutablePointer<UInt8>.allocate(capacity: max(1, bytes.count))
        p.initialize(from: bytes, count: bytes.count)
        crashRestoreBytes = p
        crashRestoreCount = bytes.count
        crashTTYFD = STDOUT_FILENO
        crashCopyBuffer = UnsafeMutablePointer<UInt8>.allocate(capacity: crashCopyBufferSize)
    }

    private func freeCrashState() {
        crashRestoreCount = 0
        crashRestoreBytes?.deallocate(); crashRestoreBytes = nil
        crashCopyBuffer?.deallocate(); crashCopyBuffer = nil
        crashSavedTermios?.deallocate(); crashSavedTermios = nil
        if crashLogReadFD >= 0 { close(crashLogReadFD); crashLogReadFD = -1 }
        if savedStderrFD >= 0 { close(savedStderrFD); savedStderrFD = -1 }
        crashRealStderrFD = -1
    }

    private func redirectStderr() {
        guard let path = options.stderrLogPath, isatty(STDERR_FILENO) == 1 else { return }
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return }
        if savedStderrFD < 0 { savedStderrFD = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3) }
        guard savedStderrFD >= 0 else { close(fd); return }
        if crashLogReadFD < 0 { crashLogReadFD = open(path, O_RDONLY | O_CLOEXEC) }
        crashLogStart = Int(lseek(fd, 0, SEEK_END))
        _ = dup2(fd, STDERR_FILENO)
        close(fd)
        crashRealStderrFD = savedStderrFD
    }

    private func restoreStderr() {
        guard savedStderrFD >= 0 else { return }
        _ = dup2(savedStderrFD, STDERR_FILENO)
    }

    private func assertOwnerThread() {
        assert(pthread_equal(ownerThread, pthread_self()) != 0, "CursesTerminal used from a thread other than the one that created it")
    }
}
