import Emulator
import FeedModel
import Foundation
import Testing

@Suite("Dataset")
struct DatasetTests {
    static let store = ChangeFeedStore(options: DatasetOptions(entryCount: 3000, seed: 42))

    @Test("same seed gives the same rows and the same metadata bytes")
    func sameSeedSameBytes() {
        let a = ChangeFeedStore(options: DatasetOptions(entryCount: 1500, seed: 9))
        let b = ChangeFeedStore(options: DatasetOptions(entryCount: 1500, seed: 9))
        let rowsA = a.allEntries(), rowsB = b.allEntries()
        #expect(rowsA == rowsB)
        for entry in rowsA.filter({ $0.state != .deleted }).prefix(50) {
            let ma = a.metadataJSON(sopInstanceUid: entry.sopInstanceUid)
            #expect(ma != nil)
            #expect(ma == b.metadataJSON(sopInstanceUid: entry.sopInstanceUid))
        }
    }

    @Test("different seeds give different UIDs, timelines and metadata")
    func differentSeedDiffers() {
        let a = ChangeFeedStore(options: DatasetOptions(entryCount: 500, seed: 1)).allEntries()
        let b = ChangeFeedStore(options: DatasetOptions(entryCount: 500, seed: 2)).allEntries()
        #expect(a.count == 500 && b.count == 500)
        #expect(a[0].studyInstanceUid != b[0].studyInstanceUid)
        #expect(a.map(\.timestampTicks) != b.map(\.timestampTicks))
        #expect(a.map(\.sequence) != b.map(\.sequence))
    }

    @Test("the entry count is exactly what was asked for", arguments: [0, 1, 10, 99, 2000])
    func entryCount(n: Int) {
        #expect(ChangeFeedStore(options: DatasetOptions(entryCount: n, seed: 3)).count == n)
    }

    @Test("sequences increase with gaps, including one run longer than 100")
    func sequenceGaps() {
        let seqs = Self.store.allEntries().map(\.sequence)
        #expect(seqs.first == 1)
        let steps = zip(seqs, seqs.dropFirst()).map { $1 - $0 }
        #expect(steps.allSatisfy { $0 >= 1 })
        #expect(steps.filter { $0 > 1 }.count >= 10, "several small gaps")
        #expect(steps.contains { $0 > 101 }, "a gap of more than 100 missing sequences")
    }

    @Test("timestamps never decrease and some groups share one timestamp")
    func timestamps() {
        let ticks = Self.store.allEntries().map(\.timestampTicks)
        #expect(zip(ticks, ticks.dropFirst()).allSatisfy { $0 <= $1 })
        let equalPairs = zip(ticks, ticks.dropFirst()).filter { $0 == $1 }.count
        #expect(equalPairs >= 10)
    }

    @Test("mostly creates, plus deletes, updates and delete → re-create")
    func actionMix() {
        let rows = Self.store.allEntries()
        let creates = rows.filter { $0.action == .create }.count
        let deletes = rows.filter { $0.action == .delete }.count
        let updates = rows.filter { $0.action == .update }.count
        #expect(creates > rows.count * 3 / 4)
        #expect(deletes > 0)
        #expect(updates > 0)
        var seenDelete = Set<String>()
        var recreated = 0
        for row in rows {
            if row.action == .delete { seenDelete.insert(row.sopInstanceUid) }
            if row.action == .create && seenDelete.contains(row.sopInstanceUid) { recreated += 1 }
        }
        #expect(recreated > 0)
    }

    @Test("every row's state follows the instance's history (independent replay)")
    func statesMatchReplay() {
        let rows = Self.store.allEntries()
        var history: [String: [EmulatedEntry]] = [:]
        for row in rows { history[row.sopInstanceUid, default: []].append(row) }
        var replaced = 0, deleted = 0
        for (_, entries) in history {
            let expected = expectedStates(actions: entries.map(\.action))
            #expect(entries.map(\.state) == expected)
            replaced += expected.filter { $0 == .replaced }.count
            deleted += expected.filter { $0 == .deleted }.count
        }
        #expect(replaced > 0 && deleted > 0)
    }

    @Test("UIDs are realistic: the 1.2.826.0.1.3680043.8.498 root, digits and dots, at most 64 characters")
    func uids() {
        for row in Self.store.allEntries() {
            for uid in [row.studyInstanceUid, row.seriesInstanceUid, row.sopInstanceUid] {
                #expect(uid.hasPrefix("1.2.826.0.1.3680043.8.498."))
                #expect(uid.count <= 64)
                #expect(uid.allSatisfy { $0.isASCII && ($0.isNumber || $0 == ".") })
            }
            #expect(row.sopInstanceUid.hasPrefix(row.seriesInstanceUid + "."))
            #expect(row.seriesInstanceUid.hasPrefix(row.studyInstanceUid + "."))
        }
    }

    @Test("a large dataset generates quickly")
    func largeDatasetSpeed() {
        let clock = ContinuousClock()
        var store: ChangeFeedStore?
        let elapsed = clock.measure { store = ChangeFeedStore(options: DatasetOptions(entryCount: 1_000_000, seed: 5)) }
        #expect(store?.count == 1_000_000)
        // Debug builds are several times slower than release; this still leaves a wide margin.
        #expect(elapsed < .seconds(20))
    }
}

@Suite("Metadata realism")
struct MetadataTests {
    static let store = ChangeFeedStore(options: DatasetOptions(entryCount: 3000, seed: 42))

    static func metadata(_ entry: EmulatedEntry) throws -> [String: Any] {
        let bytes = try #require(store.metadataJSON(sopInstanceUid: entry.sopInstanceUid))
        return try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
    }

    static func values(_ m: [String: Any], _ tag: String) -> [Any]? {
        (m[tag] as? [String: Any])?["Value"] as? [Any]
    }

    static var liveEntries: [EmulatedEntry] {
        var seen = Set<String>()
        return store.allEntries().filter { $0.state != .deleted && seen.insert($0.sopInstanceUid).inserted }
    }

    @Test("keys are 8 uppercase hex digits and every attribute has a vr")
    func keysAndVR() throws {
        let m = try Self.metadata(Self.liveEntries[0])
        #expect(m.count >= 30)
        for (key, value) in m {
            #expect(key.count == 8 && key.allSatisfy { $0.isHexDigit && !$0.isLowercase })
            #expect(((value as? [String: Any])?["vr"] as? String)?.count == 2)
        }
    }

    @Test("Japanese patient names carry Alphabetic, Ideographic and Phonetic groups")
    func japaneseNames() throws {
        var found = false
        for entry in Self.liveEntries.prefix(400) {
            let m = try Self.metadata(entry)
            let pn = try #require(Self.values(m, "00100010")?.first as? [String: String])
            if pn["Alphabetic"] == "Yamada^Tarou" {
                #expect(pn["Ideographic"] == "山田^太郎")
                #expect(pn["Phonetic"] == "やまだ^たろう")
                found = true
                break
            }
        }
        #expect(found)
    }

    @Test("accented names survive the \\u escaping")
    func accentedNames() throws {
        var names = Set<String>()
        for entry in Self.liveEntries.prefix(2000) {
            let m = try Self.metadata(entry)
            if let pn = Self.values(m, "00100010")?.first as? [String: String], let a = pn["Alphabetic"] { names.insert(a) }
        }
        #expect(names.contains("Müller^José"))
        #expect(names.count >= 3)
        // The raw bytes use \u escapes, like System.Text.Json's default encoder.
        let raw = String(decoding: try #require(Self.store.metadataJSON(sopInstanceUid: Self.liveEntries[0].sopInstanceUid)), as: UTF8.self)
        #expect(raw.contains("\\u5C71\\u7530^\\u592A\\u90CE"))
        #expect(raw.allSatisfy { $0.isASCII })
    }

    @Test("UIDs in the metadata match the entry; numbers are JSON numbers")
    func identifiersAndNumbers() throws {
        let entry = Self.liveEntries[3]
        let m = try Self.metadata(entry)
        #expect(Self.values(m, "0020000D")?.first as? String == entry.studyInstanceUid)
        #expect(Self.values(m, "0020000E")?.first as? String == entry.seriesInstanceUid)
        #expect(Self.values(m, "00080018")?.first as? String == entry.sopInstanceUid)
        let sopClass = try #require(Self.values(m, "00080016")?.first as? String)
        #expect(sopClass.hasPrefix("1.2.840.10008.5.1.4.1.1."))
        let number = try #require(Self.values(m, "00200013")?.first as? NSNumber)
        #expect(Int64(entry.sopInstanceUid.split(separator: ".").last!) == number.int64Value)
        #expect(["CT", "MR", "US", "CR", "DX", "MG"].contains(Self.values(m, "00080060")?.first as? String ?? ""))
        let spacing = try #require(Self.values(m, "00280030") as? [NSNumber])
        #expect(spacing.count == 2)
        #expect((Self.values(m, "00281050") as? [NSNumber])?.isEmpty == false)
        #expect((Self.values(m, "00100030")?.first as? String)?.count == 8)
        #expect(["M", "F"].contains(Self.values(m, "00100040")?.first as? String ?? ""))
    }

    @Test("multi-valued ImageType, a code sequence with items, bulk data and inline binary")
    func structure() throws {
        var sawThreeImageType = false
        for entry in Self.liveEntries.prefix(300) {
            let m = try Self.metadata(entry)
            let imageType = try #require(Self.values(m, "00080008") as? [String])
            #expect(Array(imageType.prefix(2)) == ["ORIGINAL", "PRIMARY"])
            if imageType == ["ORIGINAL", "PRIMARY", "AXIAL"] { sawThreeImageType = true }
            let item = try #require(Self.values(m, "00081032")?.first as? [String: Any])
            #expect((item["00080104"] as? [String: Any])?["vr"] as? String == "LO")
            #expect(((item["00080100"] as? [String: Any])?["Value"] as? [String])?.first?.isEmpty == false)
            let pixel = try #require(m["7FE00010"] as? [String: Any])
            #expect(pixel["Value"] == nil)
            let uri = try #require(pixel["BulkDataURI"] as? String)
            #expect(uri.contains("/instances/\(entry.sopInstanceUid)/"))
            let inline = try #require((m["00291010"] as? [String: Any])?["InlineBinary"] as? String)
            #expect(Data(base64Encoded: inline)?.count == 16)
        }
        #expect(sawThreeImageType)
    }

    @Test("an update changes the instance's metadata (AccessionNumber gets a version suffix)")
    func updateChangesMetadata() throws {
        let store = ChangeFeedStore(options: DatasetOptions(entryCount: 50, seed: 8))
        let e = try #require(store.allEntries().first { $0.state == .current && $0.action == .create })
        let before = try #require(store.metadataJSON(sopInstanceUid: e.sopInstanceUid))
        try store.appendUpdate(studyInstanceUid: e.studyInstanceUid, seriesInstanceUid: e.seriesInstanceUid,
                               sopInstanceUid: e.sopInstanceUid)
        let after = try #require(store.metadataJSON(sopInstanceUid: e.sopInstanceUid))
        #expect(before != after)
        let m = try #require(try JSONSerialization.jsonObject(with: Data(after)) as? [String: Any])
        #expect((Self.values(m, "00080050")?.first as? String)?.hasSuffix("-U1") == true)
    }
}
