import FeedModel
import Emulator
import Foundation
import Testing
import TestSupport

/// The one-pass `PageDecoder` against the Codable decoder it replaced (`CodableOracle`, kept in
/// TestSupport): on generated pages full of the wire's variations and of broken elements, both
/// must read the same page, the same entries, and the same elements unreadable with the same
/// salvage (sequence, time, SOP instance UID). Only the wording of the reasons differs.
/// Serialized: its batches are CPU-bound and synchronous, and in parallel they would hold both
/// threads of the cooperative pool that the timing tests of other suites wait on.
@Suite(.serialized) struct PageDecoderOracleTests {
    /// The emulator's SplitMix64: the same pages on every run.
    struct Rng {
        var base: SplitMix64
        init(state: UInt64) { base = SplitMix64(seed: state) }
        mutating func next() -> UInt64 { base.next() }
        mutating func int(_ n: Int) -> Int { Int(next() % UInt64(n)) }
        mutating func chance(_ p: Double) -> Bool { Double(next() % 1_000_000) / 1_000_000 < p }
        mutating func pick<T>(_ xs: [T]) -> T { xs[int(xs.count)] }
    }

    /// Space between tokens, sometimes.
    static func space(_ r: inout Rng) -> String { r.chance(0.15) ? r.pick([" ", "\n", "\t", "\r\n  "]) : "" }

    static func key(_ name: String, _ r: inout Rng) -> String {
        switch r.int(10) {
        case 0: return name.prefix(1).uppercased() + name.dropFirst()   // PascalCase, as the docs
        case 1: return name.uppercased()
        case 2: return name.lowercased()
        case 3: return name.unicodeScalars.map { $0 == "s" ? "\\u0073" : String($0) }.joined()   // an escaped key
        default: return name
        }
    }

    static func value(for field: String, _ r: inout Rng) -> String {
        let broken = r.chance(0.03)
        switch field {
        case "sequence":
            return broken ? r.pick(["\"42\"", "\" 43 \"", "42.5", "null", "true", "042", "1e30", "9223372036854775808", "{}", "\"x\""])
                          : r.pick(["\(r.int(100_000) + 1)", "7.0", "4.2e1", "-0", "9223372036854775807"])
        case "partitionName", "filePath":
            return broken ? r.pick(["5", "[]", "\"\\ud800\""]) : r.pick(["\"Microsoft.Default\"", "null", "\"DICOM/a\\/b.dcm\"", "\"p\\u00e9\""])
        case "studyInstanceUid", "seriesInstanceUid", "sopInstanceUid":
            return broken ? r.pick(["1.2", "null", "[\"1\"]", "\"\\x\""])
                          : r.pick(["\"1.2.840.\(r.int(1000))\"", "\"1.2.\\u0033\"", "\"山田.1\"", "\"a\\\"b\"", "\"tab\there\""])
        case "action":
            return broken ? r.pick(["\"Explode\"", "3", "null", "1.5", "[]"])
                          : r.pick(["\"Create\"", "\"delete\"", "\"UPDATE\"", "0", "1", "2", "2.0"])
        case "state":
            return broken ? r.pick(["\"Gone\"", "-1", "false"]) : r.pick(["\"Current\"", "\"replaced\"", "\"DELETED\"", "0", "1", "2"])
        case "timestamp":
            return broken ? r.pick(["\"2020-03-04T01:03:08\"", "\"yesterday\"", "12", "null", "\"2020-02-30T00:00:00Z\"", "\"0000-01-01T00:00:00Z\""])
                          : r.pick(["\"2020-03-04T01:03:08.4834Z\"", "\"2020-03-04T01:03:08Z\"", "\"2020-03-04T01:03:08.1234567+00:00\"",
                                    "\"2020-03-04t10:03:08.5+0900\"", "\"2020-03-03 20:03:08-05:00\"", "\"2020-03-04T01:03:08.123456789Z\""])
        default:   // metadata
            return broken ? r.pick(["{\"a\":1e400}", "{\"a\":01}", "{\"a\":\"\\ud800\"}", "{\"a\":[1,}", "[1.]", "{\"a\":-}"])
                          : r.pick(["null", "{}", metadata(&r), "[\(metadata(&r))]", "\"text\"", "42"])
        }
    }

    static func metadata(_ r: inout Rng) -> String {
        var members: [String] = []
        for (k, tag) in ["00100010", "00100020", "00080060", "00081030", "00280010"].enumerated() where r.chance(0.7) {
            let v: String
            switch k {
            case 0: v = #"{"vr":"PN","Value":[{"Alphabetic":"Yamada^Tarou","Ideographic":"山田^太郎"}]}"#
            case 4: v = #"{"vr":"US","Value":[512, 1.5e3, -0.25]}"#
            default: v = "{\"vr\":\"LO\",\"Value\":[\"v\\u00e9\\n\(r.int(99))\", null, true]}"
            }
            members.append("\"\(tag)\":" + space(&r) + v)
        }
        if r.chance(0.3) { members.append(#""00081032":{"vr":"SQ","Value":[{"00080100":{"vr":"SH","Value":["x"]}},{}]}"#) }
        return "{" + members.joined(separator: "," + space(&r)) + (r.chance(0.1) && !members.isEmpty ? "," : "") + "}"
    }

    static let fields = ["sequence", "partitionName", "filePath", "studyInstanceUid", "seriesInstanceUid", "sopInstanceUid",
                         "action", "timestamp", "state", "metadata"]

    static func element(_ r: inout Rng) -> String {
        if r.chance(0.04) { return r.pick(["8", "\"text\"", "[1,2]", "null", "true", "{}"]) }
        var members: [String] = []
        for f in fields {
            if r.chance(0.05) { continue }                                 // missing
            if ["partitionName", "filePath", "metadata"].contains(f) && r.chance(0.3) { continue }
            members.append("\"\(key(f, &r))\":" + space(&r) + value(for: f, &r))
            if r.chance(0.04) { members.append("\"\(key(f, &r))\":" + value(for: f, &r)) }   // twice, in some casing
        }
        if r.chance(0.2) { members.append(r.pick([#""extra":01"#, "\"other\":{\"deep\":[[\"tab\u{09}x\"]]}", #""z":-"#, #""n":null"#])) }
        // Shuffle the members.
        for i in stride(from: members.count - 1, to: 0, by: -1) { members.swapAt(i, r.int(i + 1)) }
        return "{" + space(&r) + members.joined(separator: "," + space(&r)) + space(&r) + "}"
    }

    static func page(seed: UInt64) -> Data {
        var r = Rng(state: seed)
        let elements = (0..<(r.int(12) + 1)).map { _ in element(&r) }
        var text = space(&r) + "[" + elements.joined(separator: "," + space(&r)) + (r.chance(0.05) ? "," : "") + "]" + space(&r)
        if r.chance(0.03) { text = String(text.dropLast(r.int(5) + 1)) }       // cut short
        var bytes = Array(text.utf8)
        if r.chance(0.03), let quote = bytes.firstIndex(of: 0x22) { bytes.insert(0xFF, at: quote + 1) }   // not UTF-8
        return Data(bytes)
    }

    /// What both decoders must agree on (the reason's wording and the raw text aside).
    struct Outline: Equatable, CustomStringConvertible {
        var entry: ChangeFeedEntry?
        var index: Int?, afterEntries: Int?, sequence: Int64?, timestamp: Timestamp?, sop: String?
        init(_ r: EntryResult) {
            switch r {
            case .entry(let e): entry = e
            case .undecodable(let i, let u):
                index = i; afterEntries = u.afterEntries; sequence = u.sequence; timestamp = u.timestamp; sop = u.sopInstanceUid
            }
        }
        var description: String {
            entry.map { "entry \($0.sequence)" } ?? "unreadable #\(index!) after \(afterEntries!) seq \(sequence.map(String.init) ?? "-")"
        }
    }

    @Test(arguments: 0..<40)
    func bothDecodersReadGeneratedPagesTheSame(batch: Int) throws {
        var unreadable = 0, entries = 0, failedPages = 0
        for k in 0..<50 {
            let seed = UInt64(batch * 50 + k)
            let data = Self.page(seed: seed)
            let text = String(decoding: data, as: UTF8.self)
            let oracle = CodableOracle.decodePage(data)
            switch PageDecoder.page(data) {
            case .failure(let e):
                failedPages += 1
                #expect(oracle == nil, "seed \(seed): the oracle read a page the decoder refused (\(e)): \(text)")
            case .success(let results):
                let mine = results.map(Outline.init)
                guard let theirs = oracle?.map(Outline.init) else {
                    Issue.record("seed \(seed): the decoder read a page the oracle refused: \(text)")
                    continue
                }
                if mine != theirs {
                    let k = (0..<min(mine.count, theirs.count)).first { mine[$0] != theirs[$0] } ?? min(mine.count, theirs.count)
                    func reason(_ r: EntryResult?) -> String {
                        if case .undecodable(_, let u)? = r { return u.reason + " / " + (u.raw ?? "") }
                        return "entry"
                    }
                    Issue.record("seed \(seed), element \(k): decoder \(k < mine.count ? "\(mine[k]) \(mine[k].timestamp.map { "\($0)" } ?? "") \(mine[k].sop ?? "")" : "-") [\(reason(results.indices.contains(k) ? results[k] : nil))] vs oracle \(k < theirs.count ? "\(theirs[k]) \(theirs[k].timestamp.map { "\($0)" } ?? "") \(theirs[k].sop ?? "")" : "-") [\(reason(oracle.flatMap { $0.indices.contains(k) ? $0[k] : nil }))]")
                }
                for case .undecodable(_, let u) in results {
                    unreadable += 1
                    #expect(!u.reason.isEmpty && u.raw != nil, "seed \(seed): an unreadable element keeps its reason and text")
                }
                entries += mine.filter { $0.entry != nil }.count
            }
        }
        // The generator makes all three kinds in every batch (else the comparison proves little).
        #expect(entries > 0 && unreadable > 0, "batch \(batch): \(entries) entries, \(unreadable) unreadable, \(failedPages) bad pages")
    }

    /// Metadata written through and read back is the same tree the oracle read.
    @Test func metadataIsKeptAsSentAndReadsAsTheOracleReadsIt() throws {
        var r = Rng(state: 99)
        for _ in 0..<200 {
            let m = Self.metadata(&r)
            let raw = try #require(RawJSON(parsing: Data(m.utf8)))
            #expect(raw.bytes == Data(m.utf8), "kept byte for byte")
            #expect(raw.value == (try JSONDecoder().decode(JSONValue.self, from: Data(m.utf8))))
            var out: [UInt8] = []
            JSONText.appendCompact(raw, to: &out)
            #expect(RawJSON(parsing: Data(out)) == raw, "written compact, it reads the same")
            #expect(!out.contains(0x0A), "one line")
        }
    }
}
