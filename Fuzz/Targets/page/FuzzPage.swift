// libFuzzer target `page`: what the fetcher does with the body of a change-feed page and of
// /changefeed/latest. Built and run by scripts/fuzz (see README, "Fuzzing"); not part of CI.
@testable import ChangeFeedClient
import FuzzDriver
import FeedModel
import Foundation

/// An entry with the service's field names, the way `feed` writes it back.
private struct Wire: Encodable {
    var sequence: Int64
    var partitionName: String?
    var filePath: String?
    var studyInstanceUid: String
    var seriesInstanceUid: String
    var sopInstanceUid: String
    var action: String
    var timestamp: String
    var state: String
    var metadata: JSONValue?

    init(_ e: ChangeFeedEntry) {
        sequence = e.sequence; partitionName = e.partitionName; filePath = e.filePath
        studyInstanceUid = e.studyInstanceUid; seriesInstanceUid = e.seriesInstanceUid; sopInstanceUid = e.sopInstanceUid
        action = e.action.rawValue; timestamp = e.timestamp.iso; state = e.state.rawValue; metadata = e.metadata
    }
}

private func check(_ data: Data) {
    // 1. The splitter agrees with the JSON parser on where each element of an array is.
    if let elements = try? JSONDecoder().decode([JSONValue].self, from: data) {
        guard let spans = JSONArrayElements.spans(in: data) else {
            fatalError("JSONArrayElements: a JSON array of \(elements.count) elements was not split")
        }
        guard spans.count == elements.count else {
            fatalError("JSONArrayElements: \(spans.count) spans for \(elements.count) elements")
        }
        for (i, span) in spans.enumerated() {
            let alone = try? JSONDecoder().decode(JSONValue.self, from: data.subdata(in: span))
            guard alone == elements[i] else { fatalError("JSONArrayElements: span \(i) is not element \(i)") }
        }
    }

    // 2. A page: never crashes; what decodes is written back and reads the same.
    if let results = try? ChangeFeedClient.decodePage(data) {
        var entries: [ChangeFeedEntry] = []
        for (i, r) in results.enumerated() {
            switch r {
            case .entry(let e): entries.append(e)
            case .undecodable(let index, let bad):
                guard index == i, bad.afterEntries == entries.count else { fatalError("undecodable element \(i) misplaced") }
            }
        }
        let again = try! JSONEncoder().encode(entries.map(Wire.init))
        let reread: [EntryResult]
        do { reread = try ChangeFeedClient.decodePage(again) } catch { fatalError("a re-encoded page does not decode: \(error)") }
        guard reread == entries.map(EntryResult.entry) else { fatalError("a re-encoded page reads differently") }
    }

    // 3. /changefeed/latest: JSON null is an empty feed, and only null is.
    let latest = Result { () throws(ChangeFeedError) in try ChangeFeedClient.decodeLatest(data) }
    let isNull = (try? JSONDecoder().decode(JSONValue.self, from: data)) == .null
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
