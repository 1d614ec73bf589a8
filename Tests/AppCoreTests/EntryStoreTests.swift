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
                                   action: ChangeFeedAction.allCases[i % 3], timestamp: Timestamp(ticks: 17_900_000_000_000_000 + Int64(i) * 2_500_000),
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
            #expect(row.timestamp == e.timestamp, "exact to the tick")
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
                                action: .update, timestamp: Timestamp(ticks: 0), state: .replaced)
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
    func at(_ seconds: Double) -> Timestamp { Timestamp(ticks: Int64(seconds * 10_000_000)) }
    func entry(_ seq: Int64, at t: Double) -> ChangeFeedEntry {
        ChangeFeedEntry(sequence: seq, studyInstanceUid: "1", seriesInstanceUid: "1.1", sopInstanceUid: "1.1.\(seq)",
                        action: .create, timestamp: at(t), state: .current)
    }

    /// The position saved for the next session never steps over rows that may still commit:
    /// it is the late window before what `/latest` said when the run started.
    @Test func theSavePointLeavesTheLateWindowToBeReadAgain() {
        var s = makeState()
        s.startReading(from: .beginning, lateWindow: 60)
        _ = update(&s, .tokenAcquired(tokenInfo(expiresIn: 3600)))
        _ = update(&s, .latest(sequence: 5, timestamp: at(1000.5)))
        s.append([entry(1, at: 100), entry(2, at: 990), entry(4, at: 1000.5), entry(5, at: 1000.5)])
        _ = update(&s, .caughtUp)
        #expect(s.savePoint == FeedCursor.Start(startTime: at(940.5)))
    }

    @Test func aRunThatStartedFromASavedPointNeverGoesBeforeIt() {
        var s = makeState()
        s.startReading(from: FeedCursor.Start(startTime: at(200)))
        #expect(s.savePoint == nil, "nothing loaded: nothing to save")
        #expect(s.resumePoint == FeedCursor.Start(startTime: at(200)))
        _ = update(&s, .tokenAcquired(tokenInfo(expiresIn: 3600)))
        _ = update(&s, .latest(sequence: 12, timestamp: at(250)))
        s.append([entry(10, at: 200), entry(11, at: 200)])
        #expect(s.resumePoint == FeedCursor.Start(startTime: at(200)), "settled only up to 250 − 120 s, but never before the origin")
        s.append([entry(12, at: 201)])
        #expect(s.savePoint == FeedCursor.Start(startTime: at(200)))
    }

    @Test func v1SavesTheLowestGapThatMayStillFill() {
        var s = AppState(serviceURL: "https://ws-dicom.dicom.azurehealthcareapis.com", apiVersion: .v1, now: t0)
        _ = update(&s, .tokenAcquired(tokenInfo(expiresIn: 3600)))
        _ = update(&s, .latest(sequence: 9, timestamp: at(1000)))
        s.append([entry(1, at: 100), entry(2, at: 101), entry(4, at: 102), entry(7, at: 990), entry(9, at: 995)])
        _ = update(&s, .readThrough(9))
        _ = update(&s, .caughtUp)
        // 3 is an old gap (its neighbours are long settled); 5-6 and 8 may still commit.
        #expect(s.savePoint == FeedCursor.Start(afterSequence: 4))
    }

    @Test func theFirstFetchStartsAtTheOrigin() {
        var s = makeState()
        s.startReading(from: FeedCursor.Start(startTime: at(300)))
        _ = update(&s, .started)
        #expect(update(&s, .tokenAcquired(tokenInfo(expiresIn: 3600))) == [.startFetching(s.origin)])
    }
}

/// `==` sees every column: two stores that differ in one field of one row are not equal.
@Suite struct EntryStoreEqualityTests {
    static let entry = ChangeFeedEntry(sequence: 7, studyInstanceUid: "1.2.3", seriesInstanceUid: "1.2.3.4",
                                       sopInstanceUid: "1.2.3.4.5", action: .create,
                                       timestamp: Timestamp(ticks: 17_900_000_000_000_000), state: .current)
    static let summary = RowSummary(patientName: "Doe^Jane", patientID: "P1", modality: "CT")

    /// A store of the entry, a second row, and an unreadable element; `change` alters one of them.
    static func store(_ change: (inout ChangeFeedEntry, inout RowSummary, inout UnreadableEntry) -> Void = { _, _, _ in }) -> EntryStore {
        var e = entry, s = summary
        var u = UnreadableEntry(sequence: 9, timestamp: Timestamp(ticks: 17_900_000_000_100_000), sopInstanceUid: "9.9", reason: "no action",
                                afterEntries: 2)
        change(&e, &s, &u)
        var store = EntryStore()
        store.append(e, summary: s)
        var second = entry
        second.sequence = 8
        store.append(second)
        store.append(unreadable: u)
        return store
    }

    static let changes: [(String, @Sendable (inout ChangeFeedEntry, inout RowSummary, inout UnreadableEntry) -> Void)] = [
        ("sequence", { e, _, _ in e.sequence = 6 }),
        ("timestamp", { e, _, _ in e.timestamp = Timestamp(ticks: e.timestamp.ticks + 1) }),
        ("action", { e, _, _ in e.action = .update }),
        ("state", { e, _, _ in e.state = .replaced }),
        ("study", { e, _, _ in e.studyInstanceUid = "1.2.9" }),
        ("series", { e, _, _ in e.seriesInstanceUid = "1.2.3.9" }),
        ("sop", { e, _, _ in e.sopInstanceUid = "1.2.3.4.9" }),
        ("patient name", { _, s, _ in s.patientName = "Doe^John" }),
        ("patient ID", { _, s, _ in s.patientID = "P2" }),
        ("modality", { _, s, _ in s.modality = "MR" }),
        ("unreadable reason", { _, _, u in u.reason = "no state" }),
        ("unreadable sequence known", { _, _, u in u.sequence = nil }),
        ("unreadable time known", { _, _, u in u.timestamp = nil }),
    ]

    @Test func equalStoresAreEqual() {
        #expect(Self.store() == Self.store())
    }

    @Test(arguments: changes.indices) func oneFieldMakesThemDiffer(_ i: Int) {
        let (name, change) = Self.changes[i]
        #expect(Self.store(change) != Self.store(), "a different \(name) is a different store")
    }
}
