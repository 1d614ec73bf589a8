import ChangeFeedClient
import Emulator
import FeedModel
import Foundation
import Testing
import TestSupport

/// A whole feed read through HTTP and the app's page decoder.
struct ReadBack {
    var texts: [String] = []
    var entries: [Int64: ChangeFeedEntry] = [:]
    var unreadable: [Int64: UnreadableEntry] = [:]
    /// Sequences in the order the pages listed them (readable or not).
    var order: [Int64] = []

    mutating func add(_ answer: HTTPAnswer) throws {
        texts.append(answer.text)
        let results = try ChangeFeedClient.decodePage(answer.body)
        // The Codable decoder the one-pass decoder replaced reads every wire form the same way
        // (the reasons' wording aside).
        let oracle = try #require(CodableOracle.decodePage(answer.body), "the Codable decoder read this page too")
        #expect(results.count == oracle.count)
        for (mine, theirs) in zip(results, oracle) {
            switch (mine, theirs) {
            case (.entry(let a), .entry(let b)): #expect(a == b)
            case (.undecodable(let i, let a), .undecodable(let j, let b)):
                #expect(i == j && a.sequence == b.sequence && a.timestamp == b.timestamp && a.sopInstanceUid == b.sopInstanceUid
                        && a.afterEntries == b.afterEntries, "\(a) vs \(b)")
            default: Issue.record("the decoders differ: \(mine) vs \(theirs)")
            }
        }
        for result in results {
            switch result {
            case .entry(let e):
                entries[e.sequence] = e
                order.append(e.sequence)
            case .undecodable(_, let bad):
                let sequence = try #require(bad.sequence, "an unreadable row must keep a readable sequence: \(bad.raw ?? "")")
                unreadable[sequence] = bad
                order.append(sequence)
            }
        }
    }

    /// Every v1 page; every `metadataEvery`th page with metadata (nil: none).
    static func v1(_ h: Harness, last: Int64, metadataEvery: Int? = nil) async throws -> ReadBack {
        var r = ReadBack()
        var offset: Int64 = 0
        var page = 0
        while offset < last {
            try r.add(try await h.get("/v1/changefeed?offset=\(offset)&limit=100&includeMetadata=\(metadataEvery.map { page % $0 == 0 } ?? false)"))
            offset += 100
            page += 1
        }
        return r
    }

    static func v2(_ h: Harness) async throws -> ReadBack {
        var r = ReadBack()
        for page in try await h.allV2Pages() { try r.add(page) }
        return r
    }
}

/// Everything the app reads from an entry, next to the truth.
func expectSameEntry(_ got: ChangeFeedEntry, _ truth: EmulatedEntry, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(got.sequence == truth.sequence, sourceLocation: sourceLocation)
    #expect(got.timestamp == truth.timestamp, "to the tick", sourceLocation: sourceLocation)
    #expect(got.action == truth.action, sourceLocation: sourceLocation)
    #expect(got.state == truth.state, sourceLocation: sourceLocation)
    #expect(got.studyInstanceUid == truth.studyInstanceUid, sourceLocation: sourceLocation)
    #expect(got.seriesInstanceUid == truth.seriesInstanceUid, sourceLocation: sourceLocation)
    #expect(got.sopInstanceUid == truth.sopInstanceUid, sourceLocation: sourceLocation)
}

func matches(_ text: String, _ pattern: String) -> Int {
    (try? NSRegularExpression(pattern: pattern))?.numberOfMatches(in: text, range: NSRange(text.startIndex..., in: text)) ?? 0
}

@Suite("The wire in every form")
struct WireFormTests {
    static func realisticOptions(entries: Int = 2000, unreadable: Double = 0.01) -> EmulatorOptions {
        var options = EmulatorOptions(entries: entries, seed: 17, wireFormat: .realistic)
        options.dataset.shape = .realistic
        options.dataset.unreadableShare = unreadable
        return options
    }

    @Test("the app's decoder reads every form back to exactly the stored entries (v1 and v2, with and without metadata)")
    func decoderReadsEveryForm() async throws {
        try await withEmulator(Self.realisticOptions()) { h async throws in
            let truth = h.store.allEntries()
            let v1 = try await ReadBack.v1(h, last: try #require(truth.last).sequence, metadataEvery: 3)
            #expect(v1.order == truth.map(\.sequence))
            for row in truth {
                if row.isUnreadable {
                    #expect(v1.unreadable[row.sequence] != nil, "row \(row.sequence) must not decode")
                } else if let got = v1.entries[row.sequence] {
                    expectSameEntry(got, row)
                } else {
                    Issue.record("row \(row.sequence) did not decode: \(v1.unreadable[row.sequence]?.reason ?? "missing")")
                }
            }
            #expect(!v1.unreadable.isEmpty && !v1.entries.isEmpty)

            let v2 = try await ReadBack.v2(h)
            #expect(v2.order == v2Order(truth).map(\.sequence))
            for row in truth where !row.isUnreadable {
                if let got = v2.entries[row.sequence] { expectSameEntry(got, row) } else { Issue.record("v2: row \(row.sequence)") }
            }
            #expect(Set(v2.unreadable.keys) == Set(truth.filter(\.isUnreadable).map(\.sequence)))

            for version in [APIVersion.v1, .v2] {
                let latest = try await h.get("/\(version.rawValue)/changefeed/latest")
                let expected = try #require(h.store.latest(version))
                if expected.isUnreadable {
                    #expect(throws: (any Error).self) { try JSONDecoder().decode(ChangeFeedEntry.self, from: latest.body) }
                } else {
                    expectSameEntry(try JSONDecoder().decode(ChangeFeedEntry.self, from: latest.body), expected)
                }
            }
        }
    }

    @Test("metadata comes with the row in either key casing, and is absent for deleted instances")
    func metadataInEitherCasing() async throws {
        try await withEmulator(Self.realisticOptions(entries: 1000, unreadable: 0)) { h async throws in
            let truth = h.store.allEntries()
            let read = try await ReadBack.v1(h, last: try #require(truth.last).sequence, metadataEvery: 1)
            let text = read.texts.joined()
            #expect(matches(text, #""Metadata":\{"#) > 0 && matches(text, #""metadata":\{"#) > 0)
            for row in truth {
                let got = try #require(read.entries[row.sequence])
                if row.state == .deleted {
                    #expect(got.metadata == nil)
                } else {
                    #expect(got.metadata?["0020000D"]?["Value"]?.arrayValue?.first?.stringValue == row.studyInstanceUid)
                }
            }
        }
    }

    @Test("every documented form occurs: key casings, enum spellings, zones, escapes, fraction digits")
    func formsOccur() async throws {
        try await withEmulator(Self.realisticOptions(unreadable: 0)) { h async throws in
            let read = try await ReadBack.v1(h, last: try #require(h.store.allEntries().last).sequence)
            let text = read.texts.joined()
            #expect(matches(text, #"\{"sequence":\d"#) > 100, "camelCase keys")
            #expect(matches(text, #"\{"Sequence":\d"#) > 100, "PascalCase keys")
            #expect(matches(text, #""(action|Action)":"(Create|Delete|Update)""#) > 100)
            #expect(matches(text, #""(action|Action)":"(create|delete|update)""#) > 100)
            #expect(matches(text, #""(action|Action)":[012][,}]"#) > 100)
            #expect(matches(text, #""(state|State)":"(Current|Replaced|Deleted)""#) > 100)
            #expect(matches(text, #""(state|State)":"(current|replaced|deleted)""#) > 100)
            #expect(matches(text, #""(state|State)":[012][,}]"#) > 100)
            #expect(matches(text, #""(state|State)":"(Replaced|replaced)"|"(state|State)":1[,}]"#) > 10)
            for zone in [#"\+00:00""#, #"Z""#, #"\+09:00""#, #"-05:00""#] {
                #expect(matches(text, #""(timestamp|Timestamp)":"[^"]+"# + zone) > 50, "zone \(zone)")
            }
            #expect(matches(text, #""(studyInstanceUid|StudyInstanceUid)":"[0-9.]*\\u00(2E|3[0-9])"#) > 50, "ASCII escapes")
            var digits = Set<Int>()
            let pattern = try NSRegularExpression(pattern: #"T\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)""#)
            for m in pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                let r = m.range(at: 1)
                digits.insert(r.location == NSNotFound ? 0 : r.length - 1)
            }
            #expect(digits == Set(0...7))
        }
    }

    @Test("studies spread over three partitions, each study in one; filePath on some rows, under the row's partition")
    func partitionsAndFilePaths() async throws {
        try await withEmulator(Self.realisticOptions(unreadable: 0)) { h async throws in
            let read = try await ReadBack.v1(h, last: try #require(h.store.allEntries().last).sequence)
            var partitionOfStudy: [String: String] = [:]
            var withPath = 0
            for e in read.entries.values {
                let partition = try #require(e.partitionName)
                #expect(partitionOfStudy[e.studyInstanceUid, default: partition] == partition)
                partitionOfStudy[e.studyInstanceUid] = partition
                if let path = e.filePath {
                    withPath += 1
                    #expect(path.wholeMatch(of: try Regex("DICOM/" + NSRegularExpression.escapedPattern(for: partition) + #"/\d+_\d+\.dcm"#)) != nil,
                            "\(path)")
                }
            }
            #expect(Set(partitionOfStudy.values) == Set(["Microsoft.Default"] + WireFormat.otherPartitionNames))
            let share = Double(withPath) / Double(read.entries.count)
            #expect(share > 0.2 && share < 0.6, "filePath share \(share)")
        }
    }

    @Test("each variation alone; every row reads the same on every request")
    func variationsAloneAndStable() async throws {
        let singles: [WireVariations] = [.pascalCaseKeys, .lowerCaseEnums, .numericEnums, .zones, .asciiEscapes, .partitions, .filePaths]
        for variation in singles {
            var options = EmulatorOptions(entries: 400, seed: 23, wireFormat: WireFormat(variations: variation))
            options.dataset.shape = .realistic
            try await withEmulator(options) { h async throws in
                let truth = h.store.allEntries()
                let first = try await ReadBack.v1(h, last: try #require(truth.last).sequence)
                let again = try await ReadBack.v1(h, last: try #require(truth.last).sequence)
                #expect(first.texts == again.texts, "\(variation)")
                #expect(first.unreadable.isEmpty, "\(variation)")
                for row in truth {
                    if let got = first.entries[row.sequence] { expectSameEntry(got, row) } else { Issue.record("\(variation): \(row.sequence)") }
                }
            }
        }
    }
}

@Suite("Rows the wire always breaks")
struct UnreadableRowTests {
    @Test("the share is an option; it flags rows without changing any other row or field")
    func flagsOnly() {
        let plain = ChangeFeedStore(options: DatasetOptions(entryCount: 20_000, seed: 2)).allEntries()
        let broken = ChangeFeedStore(options: DatasetOptions(entryCount: 20_000, seed: 2, unreadableShare: 0.02)).allEntries()
        #expect(!plain.contains { $0.isUnreadable })
        let flagged = broken.filter(\.isUnreadable).count
        #expect(flagged > 300 && flagged < 500, "\(flagged) of 20000")
        var unflagged = broken
        for i in unflagged.indices { unflagged[i].isUnreadable = false }
        #expect(unflagged == plain)
    }

    @Test("flagged rows never decode, on every read and in every version, but keep their sequence and place")
    func persistentlyUndecodable() async throws {
        var options = EmulatorOptions(entries: 2000, seed: 29)
        options.dataset.unreadableShare = 0.05
        try await withEmulator(options) { h async throws in
            let truth = h.store.allEntries()
            let flagged = Set(truth.filter(\.isUnreadable).map(\.sequence))
            #expect(flagged.count > 50)
            var reasons = Set<String>()
            for _ in 0..<2 {
                let read = try await ReadBack.v1(h, last: try #require(truth.last).sequence)
                #expect(Set(read.unreadable.keys) == flagged)
                #expect(read.order == truth.map(\.sequence))
                for (_, bad) in read.unreadable { reasons.insert(String(bad.reason.prefix(15))) }
                for row in truth where !row.isUnreadable { expectSameEntry(try #require(read.entries[row.sequence]), row) }
            }
            #expect(reasons.contains { $0.hasPrefix("unknown action") })
            #expect(reasons.contains { $0.hasPrefix("unknown state") })
            #expect(reasons.contains { $0.hasPrefix("timestamp") })
            let v2 = try await ReadBack.v2(h)
            #expect(Set(v2.unreadable.keys) == flagged)
        }
    }

    @Test("live generated rows can be flagged too")
    func liveRowsFlagged() {
        let store = ChangeFeedStore(options: DatasetOptions(entryCount: 100, seed: 3, unreadableShare: 0.2))
        let last = store.allEntries().last!.sequence
        let added = (0..<200).flatMap { k in
            store.appendGeneratedChanges(count: 1, at: Date(timeIntervalSince1970: 1_750_000_000 + Double(k)))
        }
        #expect(added.contains { $0.isUnreadable })
        #expect(added.filter(\.isUnreadable).map(\.sequence)
                == store.allEntries().filter { $0.sequence > last && $0.isUnreadable }.map(\.sequence))
    }
}
