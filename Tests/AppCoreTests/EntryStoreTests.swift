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

    /// The whole process's budget is 150 bytes an entry without metadata; the store keeps to
    /// well under half of it for these UIDs (capacity counted, not just use): 8 + 8 bytes of
    /// sequence and time, 1 of flags, 4 of study and series, 4 + 1 + 13 of SOP instance UID (what
    /// it adds to its series UID), and the interned UIDs.
    @Test func aQuarterMillionEntriesStayUnder60BytesEach() {
        var store = EntryStore()
        for chunk in stride(from: 1, to: 250_001, by: 10_000) {
            store.append(contentsOf: Self.entries(10_000, from: chunk))
        }
        #expect(store.count == 250_000)
        let perEntry = Double(store.approximateBytes) / Double(store.count)
        #expect(perEntry < 60, "\(perEntry) bytes per entry")
    }

    /// A SOP instance UID is kept as what it adds to the start it shares with its series UID:
    /// whatever they share (all of the series UID, part of it, nothing, more than 255 bytes),
    /// each comes back as it was, and the filter and the instance look-up see the whole UID.
    @Test func sopUIDsSharingAnyStartWithTheirSeriesComeBackWhole() {
        let long = String(repeating: "1.2", count: 120)
        let cases: [(series: String, sop: String)] = [
            ("1.2.3.4", "1.2.3.4.5"),        // extends the series UID
            ("1.2.3.4", "1.2.3.9.7"),        // shares part of it
            ("1.2.3.4", "9.8.7"),            // shares nothing
            ("1.2.3.4", "1.2"),              // is a start of it
            ("1.2.3.4", "1.2.3.4"),          // is all of it
            ("", "1.2.3"),                   // no series
            ("1.2.3.4", ""),                 // no SOP
            (long, long + ".5"),             // shares more than 255 bytes
            ("1.2.é", "1.2.é\u{301}.3"),     // not ASCII: bytes, not graphemes
        ]
        var store = EntryStore()
        for (i, c) in cases.enumerated() {
            store.append(ChangeFeedEntry(sequence: Int64(i + 1), studyInstanceUid: "1.2", seriesInstanceUid: c.series,
                                         sopInstanceUid: c.sop, action: .create, timestamp: Timestamp(ticks: Int64(i)), state: .current))
        }
        for (i, c) in cases.enumerated() {
            #expect(Array(store[i].sopInstanceUid.utf8) == Array(c.sop.utf8), "row \(i)")
            #expect(store[i].seriesInstanceUid == c.series)
            #expect(store.rows(ofInstance: c.sop, series: c.series) == [i], "row \(i)")
        }
        // A word across the shared start and the rest, and one in the rest alone.
        let matcher = store.matcher(for: try! FeedFilter.parse("3.4.5")!)
        #expect(store.indices.filter(matcher.matches) == [0])
        let rest = store.matcher(for: try! FeedFilter.parse("9.7")!)
        #expect(store.indices.filter(rest.matches) == [1])
    }

    /// Rows put in the middle and taken out keep every other row's UIDs (the SOP arena shifts).
    @Test func lateRowsAndRemovalsKeepTheOthersWhole() {
        var store = EntryStore()
        let input = Self.entries(300)
        for e in input where e.sequence % 4 != 0 { store.append(e) }
        for e in input where e.sequence % 4 == 0 { store.insert(e, at: store.insertionPoint(of: e)) }
        #expect(store.map(\.sopInstanceUid) == input.map(\.sopInstanceUid))
        store.remove(at: 10)
        #expect(store.map(\.sopInstanceUid) == input.enumerated().filter { $0.offset != 10 }.map(\.element.sopInstanceUid))
        #expect(store.map(\.studyInstanceUid) == input.enumerated().filter { $0.offset != 10 }.map(\.element.studyInstanceUid))
    }

    /// Many distinct strings (the intern table grows many times) each come back as given, and
    /// the same study under another series, or the same series UID under another study, is kept
    /// as given.
    @Test func manyDistinctUIDsAndOddPairsComeBack() {
        var store = EntryStore()
        for i in 0..<20_000 {
            store.append(ChangeFeedEntry(sequence: Int64(i), studyInstanceUid: "2.\(i % 7)", seriesInstanceUid: "3.\(i)",
                                         sopInstanceUid: "3.\(i).1", action: .create, timestamp: Timestamp(ticks: Int64(i)), state: .current))
        }
        store.append(ChangeFeedEntry(sequence: 20_000, studyInstanceUid: "2.5", seriesInstanceUid: "3.1",
                                     sopInstanceUid: "3.1.2", action: .create, timestamp: Timestamp(ticks: 20_000), state: .current))
        #expect(store[1].studyInstanceUid == "2.1" && store[1].seriesInstanceUid == "3.1")
        #expect(store[20_000].studyInstanceUid == "2.5" && store[20_000].seriesInstanceUid == "3.1")
        #expect(store[12_345].sopInstanceUid == "3.12345.1" && store[12_345].studyInstanceUid == "2.4")
        #expect(store.rows(ofInstance: "3.1.2", series: "3.1") == [20_000])
    }

    /// Without metadata there is no summary column; the first summary makes one, and a row's
    /// summary can be set, replaced and read back.
    @Test func summariesComeAndGo() {
        var store = EntryStore()
        store.append(contentsOf: Self.entries(100))
        let bare = store.approximateBytes
        #expect(store.summaryCount == 0 && !store.hasSummary(at: 5))
        store.setSummary(RowSummary(), at: 5)
        #expect(store.approximateBytes == bare, "an empty summary adds nothing")
        store.setSummary(RowSummary(patientName: "Doe^Jane", patientID: "P1", modality: "CT"), at: 5)
        store.append(Self.entries(1, from: 100)[0], summary: RowSummary(patientName: "Roe^Rick", modality: "MR"))
        #expect(store[5].patientName == "Doe^Jane" && store[5].patientID == "P1" && store[5].modality == "CT")
        #expect(store[100].patientName == "Roe^Rick" && store[100].patientID == nil && store[100].modality == "MR")
        #expect(store[6].patientName == nil && store.summaryCount == 2)
        store.setSummary(RowSummary(patientID: "P2"), at: 5)
        #expect(store[5].patientName == nil && store[5].patientID == "P2" && store.summaryCount == 2)
        let names = store.matcher(for: try! FeedFilter.parse("roe")!)
        #expect(store.indices.filter(names.matches) == [100])
        let modality = store.matcher(for: try! FeedFilter.parse("modality:mr")!)
        #expect(store.indices.filter(modality.matches) == [100])
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
        #expect(update(&s, .tokenAcquired(tokenInfo(expiresIn: 3600))) == [.startFetching(s.origin), .probeActivity])
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
