// libFuzzer target `page`: what the fetcher does with the body of a change-feed page and of
// /changefeed/latest. Built and run by scripts/fuzz (see README, "Fuzzing"); not part of CI.
@testable import ChangeFeedClient
import FuzzDriver
import FeedModel
import Foundation

/// Any JSON value, for counting the elements Foundation's JSONDecoder finds in an array.
private struct AnyValue: Decodable {
    init(from decoder: Decoder) throws { _ = try decoder.singleValueContainer() }
}

/// An entry written back with the service's field names (as `feed` writes it).
private func wire(_ entries: [ChangeFeedEntry]) -> Data {
    var out: [UInt8] = [0x5B]
    for (i, e) in entries.enumerated() {
        if i > 0 { out.append(0x2C) }
        out.append(contentsOf: "{\"sequence\":\(e.sequence)".utf8)
        for (name, value) in [("partitionName", e.partitionName), ("filePath", e.filePath), ("studyInstanceUid", e.studyInstanceUid),
                              ("seriesInstanceUid", e.seriesInstanceUid), ("sopInstanceUid", e.sopInstanceUid),
                              ("action", e.action.rawValue), ("timestamp", e.timestamp.iso), ("state", e.state.rawValue)] {
            guard let value else { continue }
            out.append(contentsOf: ",\"\(name)\":".utf8)
            JSONText.appendString(value, to: &out)
        }
        if let m = e.metadata { out.append(contentsOf: ",\"metadata\":".utf8); JSONText.appendCompact(m, to: &out) }
        out.append(0x7D)
    }
    out.append(0x5D)
    return Data(out)
}

private func check(_ data: Data) {
    // 1. The one-pass decoder reads every array JSONDecoder reads, element for element.
    if let elements = try? JSONDecoder().decode([AnyValue].self, from: data) {
        guard let results = try? ChangeFeedClient.decodePage(data) else {
            fatalError("PageDecoder refused a JSON array of \(elements.count) elements")
        }
        guard results.count == elements.count else { fatalError("PageDecoder: \(results.count) results for \(elements.count) elements") }
    }

    // 2. A page: never crashes; what decodes is written back and reads the same.
    if let results = try? ChangeFeedClient.decodePage(data) {
        var entries: [ChangeFeedEntry] = []
        for (i, r) in results.enumerated() {
            switch r {
            case .entry(let e): entries.append(e)
            case .undecodable(let index, let bad):
                guard index == i, bad.afterEntries == entries.count else { fatalError("undecodable element \(i) misplaced") }
                guard let raw = bad.raw, !raw.isEmpty, !bad.reason.isEmpty else { fatalError("undecodable element \(i) lost its text or reason") }
            }
        }
        let again = wire(entries)
        let reread: [EntryResult]
        do { reread = try ChangeFeedClient.decodePage(again) } catch { fatalError("a re-encoded page does not decode: \(error)") }
        guard reread == entries.map(EntryResult.entry) else { fatalError("a re-encoded page reads differently") }
    }

    // 3. /changefeed/latest: JSON null is an empty feed, and only null is.
    let latest = Result { () throws(ChangeFeedError) in try ChangeFeedClient.decodeLatest(data) }
    let isNull = JSONValue(parsing: data) == .null
    switch latest {
    case .success(nil): guard isNull else { fatalError("/latest: a body that is not JSON null read as an empty feed") }
    case .success(.entry(let e)?):
        var wrapped = Data("[".utf8); wrapped.append(data); wrapped.append(contentsOf: Array("]".utf8))
        guard (try? ChangeFeedClient.decodePage(wrapped)) == [.entry(e)] else { fatalError("/latest and a page read an entry differently") }
    case .success(.undecodable?): break
    case .failure: guard !isNull else { fatalError("/latest: JSON null did not read as an empty feed") }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ bytes: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    check(bytes.map { Data(bytes: $0, count: size) } ?? Data())
    return 0
}

@_cdecl("fuzz_page_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv, fuzzOne)
}
