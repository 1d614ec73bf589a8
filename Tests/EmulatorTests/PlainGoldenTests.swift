import Emulator
import FeedModel
import Foundation
import Testing

/// FNV-1a, 64 bits: a fingerprint that is the same on every platform and run.
struct Fingerprint {
    private(set) var value: UInt64 = 0xCBF2_9CE4_8422_2325

    mutating func add<S: Sequence>(_ bytes: S) where S.Element == UInt8 {
        for b in bytes {
            value ^= UInt64(b)
            value = value &* 0x0000_0100_0000_01B3
        }
    }

    mutating func add(_ text: String) { add(text.utf8) }

    static func of(_ entries: [EmulatedEntry]) -> UInt64 {
        var f = Fingerprint()
        for e in entries {
            f.add("\(e.sequence)|\(e.timestampTicks)|\(e.action.rawValue)|\(e.state.rawValue)|"
                  + "\(e.studyInstanceUid)|\(e.seriesInstanceUid)|\(e.sopInstanceUid)\n")
        }
        return f.value
    }
}

/// The plain shape and the default wire must stay byte for byte what they were before the
/// realistic options existed: other test targets compare against them. The numbers were taken
/// from the emulator before `FeedShape` and `WireVariations` were added.
@Suite("Plain presets are unchanged")
struct PlainGoldenTests {
    @Test("the plain dataset: rows, timestamps, states and UIDs")
    func plainDataset() {
        let store = ChangeFeedStore(options: DatasetOptions(entryCount: 3000, seed: 42))
        let value = Fingerprint.of(store.allEntries())
        #expect(value == 4_701_221_305_446_016_027)
    }

    @Test("the plain live generator with a fixed clock")
    func plainLiveGenerator() {
        let store = ChangeFeedStore(options: DatasetOptions(entryCount: 400, seed: 5))
        var added: [EmulatedEntry] = []
        for k in 0..<60 {
            added += store.appendGeneratedChanges(count: 1, at: Date(timeIntervalSince1970: 1_750_000_000 + Double(k) * 1.5))
        }
        let value = Fingerprint.of(added) ^ Fingerprint.of(store.allEntries())
        #expect(value == 2_423_700_173_616_426_640)
    }

    @Test("the default wire format: pages, latest and metadata")
    func defaultWire() async throws {
        try await withEmulator { h async throws in
            var f = Fingerprint()
            for path in ["/v2/changefeed?limit=200", "/v1/changefeed?offset=0&limit=100", "/v2/changefeed/latest",
                         "/v1/changefeed/latest?includeMetadata=false", "/v2/changefeed?offset=300&limit=50&includeMetadata=false"] {
                let answer = try await h.get(path)
                f.add(path)
                f.add(String(answer.status))
                // Bulk data URIs carry the server's port, which differs per run.
                f.add(answer.text.replacingOccurrences(of: h.base.absoluteString, with: "BASE"))
            }
            let sop = try #require(h.store.allEntries().first { $0.state == .current }?.sopInstanceUid)
            f.add(try #require(h.store.metadataJSON(sopInstanceUid: sop)))
            #expect(f.value == 14_148_479_481_790_268_337)
        }
    }
}
