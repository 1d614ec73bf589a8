// libFuzzer target `filter`: the list filter's grammar (`/`), and the matcher the list runs it
// with. Built and run by scripts/fuzz; not part of CI.
import FuzzDriver
import AppCore
import FeedModel
import Foundation

/// A few rows to match: every action and state, names and modalities taken from the input.
private func store(_ words: [String]) -> EntryStore {
    var s = EntryStore()
    let t0 = Timestamp(year: 2025, month: 1, day: 1)
    for (i, action) in ChangeFeedAction.allCases.enumerated() {
        for (j, state) in ChangeFeedState.allCases.enumerated() {
            let n = i * 3 + j
            let word = words.isEmpty ? "x" : words[n % words.count]
            let e = ChangeFeedEntry(sequence: Int64(n + 1), studyInstanceUid: "1.2.\(n)", seriesInstanceUid: "1.2.\(n).\(word)",
                                    sopInstanceUid: n % 2 == 0 ? word : "1.2.\(n).1", action: action,
                                    timestamp: t0.adding(ticks: Int64(n)), state: state)
            s.append(e, summary: RowSummary(patientName: n % 3 == 0 ? word : "Yamada^Tarou", patientID: "P\(n)",
                                            modality: n % 4 == 0 ? word : "CT"))
        }
    }
    s.append(unreadable: UnreadableEntry(sequence: 100, reason: "fuzz"))
    return s
}

private func check(_ data: Data) {
    guard let first = data.first else { return }
    let text = String(decoding: data.dropFirst(), as: UTF8.self)
    let filter: FeedFilter?
    do { filter = try FeedFilter.parse(text) } catch { return }
    guard let filter else { return }
    // It writes itself in its own grammar.
    let written = filter.description
    guard (try? FeedFilter.parse(written)) == filter else {
        fatalError("\(text.debugDescription) parses to a filter written \(written.debugDescription), which parses differently")
    }
    guard filter.narrows(filter) else { fatalError("a filter does not narrow itself") }

    // While typing: when the longer text narrows the shorter, it never matches a row the shorter did not.
    let chars = Array(text)
    let cut = Int(first) % (chars.count + 1)
    let words = text.split(whereSeparator: { $0 == " " || $0 == "|" || $0 == ":" }).map(String.init)
    let rows = store(words)
    let matcher = rows.matcher(for: filter)
    let matched = (0..<rows.count).filter(matcher.matches)
    if let old = try? FeedFilter.parse(String(chars[..<cut])), filter.narrows(old) {
        let before = rows.matcher(for: old)
        for row in matched where !before.matches(row) {
            fatalError("\(text.debugDescription) narrows \(String(chars[..<cut]).debugDescription) yet matches row \(row) it did not")
        }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ bytes: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    check(bytes.map { Data(bytes: $0, count: size) } ?? Data())
    return 0
}

@_cdecl("fuzz_filter_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv, fuzzOne)
}
