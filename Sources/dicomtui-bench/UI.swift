// The UI in process: an `AppState` filled the way the app fills it (the fetcher's pages through
// `update(.pageLoaded)`, so `AppState.merge`), then keys through `update` and frames through
// `MainScreen.render` into a `MemoryTerminal`, as the run loop does them.
import AppCore
import Emulator
import FeedModel
import Foundation
import Terminal
import TerminalKit
import Views
#if canImport(Glibc)
import Glibc
#endif

/// An app state holding `n` generated entries (seed 1, the emulator's plain feed), loaded page
/// by page (200 entries) through `update`, with fresh string storage per entry as the decoder
/// makes it. `rows` is the emulator's list, kept by the caller so that it is there before and after.
func loadedState(_ rows: [EmulatedEntry], screenRows: Int, screenCols: Int) -> AppState {
    var state = AppState(serviceURL: "http://127.0.0.1:8080", apiVersion: .v2, screenRows: screenRows,
                         screenCols: screenCols, now: Date())
    _ = update(&state, .fetchStarted)
    _ = update(&state, .latest(sequence: rows.last?.sequence, timestamp: rows.last?.timestamp))
    var i = 0
    while i < rows.count {
        let end = min(rows.count, i + 200)
        let page = rows[i..<end].map(decodedEntry)
        _ = update(&state, .pageLoaded(entries: page, unreadable: []))
        i = end
    }
    _ = update(&state, .caughtUp)
    return state
}

/// The key script shared with `scripts/bench-helpers/ui.py`: whitespace-separated `KEY` or
/// `KEY*COUNT`; KEY is a character or PgDn PgUp Home End Down Up Enter BS Ctrl-u.
func parseKeys(_ spec: String) -> [(label: String, key: Key)] {
    let named: [String: Key] = ["PgDn": .pageDown, "PgUp": .pageUp, "Home": .home, "End": .end, "Down": .down,
                                "Up": .up, "Enter": .enter, "BS": .backspace, "Ctrl-u": .ctrl("u")]
    var keys: [(String, Key)] = []
    for token in spec.split(whereSeparator: \.isWhitespace) {
        let parts = token.split(separator: "*", maxSplits: 1)
        let name = String(parts[0])
        let count = parts.count > 1 ? Int(parts[1]) ?? 1 : 1
        guard let key = named[name] ?? (name.count == 1 ? .char(name.first!) : nil) else {
            FileHandle.standardError.write(Data("dicomtui-bench: unknown key '\(name)'\n".utf8))
            exit(64)
        }
        keys += Array(repeating: (name, key), count: count)
    }
    return keys
}

/// `ui-keys`: for each key of the script, the seconds from the key to the first frame drawn
/// for it and to the last (a filter examines the rows in steps between frames; the run loop
/// draws at most one frame per `frameInterval` while it works, and then the finished one).
/// Prints `key LABEL GROUP FIRST LAST` per key (GROUP: nav, or filter from `/` on), like ui.py.
func uiKeys(entries n: Int, spec: String, screenRows: Int, screenCols: Int) {
    let rows = ChangeFeedStore(options: DatasetOptions(entryCount: n, seed: 1)).allEntries()
    var state = loadedState(rows, screenRows: screenRows, screenCols: screenCols)
    let terminal = MemoryTerminal(rows: screenRows, cols: screenCols)
    let theme = Theme(color: true)
    let frameInterval = Duration.milliseconds(33)
    func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }
    terminal.present(MainScreen.render(state, theme: theme))
    var group = "nav"
    for (label, key) in parseKeys(spec) {
        if label == "/" { group = "filter" }
        let start = ContinuousClock.now
        _ = update(&state, .input(.key(key)))
        _ = update(&state, .tick(Date()))
        if state.filterPending { _ = update(&state, .filterStep) }
        terminal.present(MainScreen.render(state, theme: theme))
        var lastPresent = ContinuousClock.now
        let first = lastPresent - start
        while state.filterPending {
            _ = update(&state, .filterStep)
            if !state.filterPending || ContinuousClock.now - lastPresent >= frameInterval {
                terminal.present(MainScreen.render(state, theme: theme))
                lastPresent = ContinuousClock.now
            }
        }
        let last = lastPresent - start
        print("key \(label) \(group) \(String(format: "%.6f", seconds(first))) \(String(format: "%.6f", seconds(last)))")
    }
    withExtendedLifetime(rows) {}
}

/// `ui-memory`: what an app state of `n` entries costs in this process: the growth of resident
/// memory while it is loaded (the generated rows are there before and after), the same after
/// `malloc_trim(0)` (what the allocator held free), and the store's own count, each per entry.
func uiMemory(entries n: Int) {
    let rows = ChangeFeedStore(options: DatasetOptions(entryCount: n, seed: 1)).allEntries()
    trimHeap()
    let before = residentBytes()
    let state = loadedState(rows, screenRows: 40, screenCols: 120)
    let after = residentBytes()
    trimHeap()
    let trimmed = residentBytes()
    func line(_ name: String, _ bytes: Int) {
        print("\(name) \(bytes) \(String(format: "%.1f", Double(bytes) / Double(max(1, n))))")
    }
    print("entries \(state.entries.count)")
    line("resident", after - before)
    line("resident-after-trim", trimmed - before)
    line("store", state.entries.approximateBytes)
    withExtendedLifetime((rows, state)) {}
}

/// glibc's `malloc_trim(0)`: free memory at the top of the heap and whole free pages inside it
/// go back to the system (looked up at run time: the Glibc module does not export malloc.h).
func trimHeap() {
    typealias Trim = @convention(c) (Int) -> Int32
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return }
    _ = unsafeBitCast(symbol, to: Trim.self)(0)
}
