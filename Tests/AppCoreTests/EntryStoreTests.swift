import AppCore
import FeedModel
import Foundation
import Testing

@Suite struct EntryStoreTests {
    /// Realistic shapes: studies of a few series, series of many instances, 55-60 character UIDs.
    static func entries(_ n: Int, from first: Int = 1) -> [ChangeFeedEntry] {
        let root = "1.2.826.0.1.3680043.8.498.1079234"
        return (first..<(first + n)).map { i in
            let study = "\(root).\(i / 400 + 1000000)"
            let series = "\(study).\(i / 50)"
            return ChangeFeedEntry(sequence: Int64(i * 2), studyInstanceUid: study, seriesInstanceUid: series,
                                   sopInstanceUid: "\(series).\(i % 50 + 1).\(UInt32(truncatingIfNeeded: i &* 2654435761))",
                                   action: ChangeFeedAction.allCases[i % 3], timestamp: Date(timeIntervalSince1970: 1_790_000_000 + Double(i) * 0.25),
                                   state: ChangeFeedState.allCases[i % 3])
        }
    }

    @Test func rowsReadBackExactlyAsAppended() {
        var store = EntryStore()
        let input = Self.entries(1_000)
        store.append(contentsOf: Array(input[..<400]))
        store.append(contentsOf: Array(input[400...]))
        #expect(store.count == input.count)
        for (row, e) in zip(store, input) {
            #expect(row.sequence == e.sequence)
            #expect(abs(row.timestamp.timeIntervalSince(e.timestamp)) < 0.000_001)
            #expect(row.action == e.action && row.state == e.state)
            #expect(row.studyInstanceUid == e.studyInstanceUid)
            #expect(row.seriesInstanceUid == e.seriesInstanceUid)
            #expect(row.sopInstanceUid == e.sopInstanceUid)
        }
        #expect(store.lastSequence == input.last?.sequence)
    }

    @Test func nonASCIIAndEmptyUIDsSurvive() {
        var store = EntryStore()
        let e = ChangeFeedEntry(sequence: 1, studyInstanceUid: "", seriesInstanceUid: "1.2", sopInstanceUid: "é\u{1b}[2J",
                                action: .update, timestamp: Date(timeIntervalSince1970: 0), state: .replaced)
        store.append(e)
        #expect(store[0].sopInstanceUid == "é\u{1b}[2J")
        #expect(store[0].studyInstanceUid == "")
        #expect(store[0].action == .update && store[0].state == .replaced)
    }

    @Test func stateIsRewrittenInPlace() {
        var store = EntryStore()
        store.append(contentsOf: Self.entries(10))
        store.setState(.deleted, at: 4)
        #expect(store[4].state == .deleted)
        #expect(store[4].action == Self.entries(10)[4].action)
        #expect(store[3].state == Self.entries(10)[3].state)
    }

    /// The budget is 150 bytes an entry without metadata (capacity counted, not just use).
    @Test func aQuarterMillionEntriesStayUnder150BytesEach() {
        var store = EntryStore()
        for chunk in stride(from: 1, to: 250_001, by: 10_000) {
            store.append(contentsOf: Self.entries(10_000, from: chunk))
        }
        #expect(store.count == 250_000)
        let perEntry = Double(store.approximateBytes) / Double(store.count)
        #expect(perEntry < 150, "\(perEntry) bytes per entry")
    }
}

@Suite struct SavedPositionTests {
    func entry(_ seq: Int64, at t: Double) -> ChangeFeedEntry {
        ChangeFeedEntry(sequence: seq, studyInstanceUid: "1", seriesInstanceUid: "1.1", sopInstanceUid: "1.1.\(seq)",
                        action: .create, timestamp: Date(timeIntervalSince1970: t), state: .current)
    }

    @Test func theSavePointSkipsTheEntriesAlreadySeenAtTheLastTime() {
        var s = makeState()
        s.append([entry(1, at: 100), entry(2, at: 101), entry(4, at: 101.5), entry(5, at: 101.5)])
        let p = s.savePoint
        #expect(p == ResumePoint(offset: 2, afterSequence: 5, startTime: Date(timeIntervalSince1970: 101.5)))
    }

    @Test func aRunThatStartedFromASavedPointCarriesItsOffsetOn() {
        var s = makeState()
        s.origin = ResumePoint(offset: 3, afterSequence: 9, startTime: Date(timeIntervalSince1970: 200))
        #expect(s.savePoint == nil, "nothing loaded: nothing to save")
        #expect(s.resumePoint == ResumePoint(offset: 3, afterSequence: 9, startTime: Date(timeIntervalSince1970: 200)))
        s.append([entry(10, at: 200), entry(11, at: 200)])
        #expect(s.resumePoint == ResumePoint(offset: 5, afterSequence: 11, startTime: Date(timeIntervalSince1970: 200)))
        #expect(s.savePoint == ResumePoint(offset: 5, afterSequence: 11, startTime: Date(timeIntervalSince1970: 200)))
        s.append([entry(12, at: 201)])
        #expect(s.savePoint == ResumePoint(offset: 1, afterSequence: 12, startTime: Date(timeIntervalSince1970: 201)))
    }

    @Test func theFirstFetchStartsAtTheOrigin() {
        var s = makeState()
        s.origin = ResumePoint(offset: 2, afterSequence: 40, startTime: Date(timeIntervalSince1970: 300))
        _ = update(&s, .started)
        #expect(update(&s, .tokenAcquired(tokenInfo(expiresIn: 3600))) == [.startFetching(s.origin)])
    }
}
