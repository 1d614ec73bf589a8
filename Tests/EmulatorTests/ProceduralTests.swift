import Emulator
import FeedModel
import Foundation
import Testing

/// The procedural dataset: computed on demand, any size, same queries as the generated one.
@Suite("Procedural dataset")
struct ProceduralTests {
    /// Monday 2026-03-02T09:00:00Z.
    static let newest = Timestamp(year: 2026, month: 3, day: 2, hour: 9)
    static func options(_ n: Int, seed: UInt64 = 5) -> DatasetOptions {
        DatasetOptions.procedural(entries: n, seed: seed, newestAt: newest.date)
    }

    /// About 15 blocks: small enough to walk, big enough for changes to land many blocks on.
    static let small = ChangeFeedStore(options: options(60_000))
    static let smallRows = small.allEntries()

    @Test("same seed, same rows and metadata; another seed, other rows")
    func determinism() {
        let a = ChangeFeedStore(options: Self.options(20_000, seed: 9))
        let b = ChangeFeedStore(options: Self.options(20_000, seed: 9))
        let c = ChangeFeedStore(options: Self.options(20_000, seed: 10))
        let rowsA = a.allEntries()
        #expect(rowsA.count == 20_000)
        #expect(rowsA == b.allEntries())
        #expect(rowsA.map(\.sopInstanceUid) != c.allEntries().map(\.sopInstanceUid))
        #expect(a.entriesV1(offset: 5_000, limit: 100) == b.entriesV1(offset: 5_000, limit: 100))
        var compared = 0
        for e in rowsA.filter({ $0.state != .deleted }).prefix(20) {
            let m = a.metadataJSON(sopInstanceUid: e.sopInstanceUid)
            #expect(m != nil)
            #expect(m == b.metadataJSON(sopInstanceUid: e.sopInstanceUid))
            compared += 1
        }
        #expect(compared == 20)
    }

    @Test("v1 pages, v2 pages and a walk give the same rows; v2 order is sequence order")
    func v1AndV2Agree() {
        let store = Self.small
        let rows = Self.smallRows
        #expect(rows.count == 60_000)
        let seqs = rows.map(\.sequence)
        #expect(seqs == seqs.sorted() && Set(seqs).count == seqs.count)
        #expect(zip(rows, rows.dropFirst()).allSatisfy { $0.timestampTicks <= $1.timestampTicks })
        var v1: [EmulatedEntry] = []
        var offset: Int64 = 0
        let last = store.latest(.v1)!.sequence
        while offset < last {
            v1 += store.entriesV1(offset: offset, limit: 100)
            offset += 100
        }
        #expect(v1 == rows)
        var v2: [EmulatedEntry] = []
        while true {
            let page = store.entriesV2(start: nil, end: nil, offset: Int64(v2.count), limit: 200)
            v2 += page
            if page.count < 200 { break }
        }
        #expect(v2 == rows)
        #expect(store.entry(sequence: rows[12_345].sequence) == rows[12_345])
    }

    @Test("v2 windows are half-open, also where rows share the boundary timestamp")
    func halfOpenWindows() throws {
        let rows = Self.smallRows
        // Runs of equal timestamps, preceded by an earlier one.
        let edges = rows.indices.dropFirst().filter { i in
            i + 1 < rows.count && rows[i].timestampTicks == rows[i + 1].timestampTicks
                && rows[i - 1].timestampTicks < rows[i].timestampTicks
        }
        #expect(edges.count > 100, "many rows share a timestamp exactly")
        for i in edges.prefix(40) {
            let t = rows[i].timestampTicks
            let startTicks = rows[max(0, i - 150)].timestampTicks
            let expectedBefore = rows.filter { $0.timestampTicks >= startTicks && $0.timestampTicks < t }
            let before = Self.small.entriesV2(startTicks: startTicks, endTicks: t, limit: 200)
            #expect(before == Array(expectedBefore.prefix(200)))
            #expect(!before.contains { $0.timestampTicks == t }, "end is exclusive")
            let from = Self.small.entriesV2(startTicks: t, endTicks: t + 1, limit: 200)
            #expect(from == rows.filter { $0.timestampTicks == t }, "start is inclusive: every row at t, none other")
            #expect(from.count >= 2)
        }
    }

    @Test("a large v2 offset is answered by arithmetic, the same as a walk")
    func largeOffsets() {
        let rows = Self.smallRows
        var rng = SplitMix64(seed: 77)
        for _ in 0..<60 {
            let a = Int(rng.next() % UInt64(rows.count)), b = Int(rng.next() % UInt64(rows.count))
            let start = rows[min(a, b)].timestampTicks, end = rows[max(a, b)].timestampTicks + 1
            let window = rows.filter { $0.timestampTicks >= start && $0.timestampTicks < end }
            let offset = Int(rng.next() % UInt64(window.count + 50))
            let limit = 1 + Int(rng.next() % 200)
            let got = Self.small.entriesV2(startTicks: start, endTicks: end, offset: Int64(offset), limit: limit)
            #expect(got == Array(window.dropFirst(offset).prefix(limit)))
            #expect(Self.small.v2WindowCount(startTicks: start, endTicks: end) == Int64(window.count))
        }
        // The whole feed with an offset near its end.
        let tail = Self.small.entriesV2(start: nil, end: nil, offset: 59_950, limit: 200)
        #expect(tail == Array(rows.suffix(50)))
    }

    @Test("latest is the last row, at the anchor; the oldest is about count / rate earlier")
    func latestAndSpan() {
        let rows = Self.smallRows
        #expect(Self.small.latest(.v1) == rows.last)
        #expect(Self.small.latest(.v2) == rows.last)
        #expect(rows.last?.timestampTicks == Self.newest.ticks)
        let big = ChangeFeedStore(options: DatasetOptions.procedural(entries: 100_000_000, seed: 3, newestAt: Self.newest.date))
        let first = big.entriesV1(offset: 0, limit: 10).first!
        #expect(first.sequence == 1)
        let days = Double(Self.newest.ticks - first.timestampTicks) / Double(Timestamp.ticksPerDay)
        #expect(days > 400 && days < 600, "10^8 rows at 200,000 a day span about 500 days, got \(days)")
        #expect(big.latest(.v2)?.timestampTicks == Self.newest.ticks)
        #expect(big.count == 100_000_000)
    }

    @Test("states follow the service's rules (independent replay) and every kind of change occurs")
    func statesMatchReplay() {
        let rows = Self.smallRows
        var history: [String: [EmulatedEntry]] = [:]
        for row in rows { history[row.sopInstanceUid, default: []].append(row) }
        var replaced = 0, deleted = 0, recreated = 0
        for (_, entries) in history {
            let actions = entries.map(\.action)
            #expect(actions.first == .create, "an instance starts with its create")
            #expect(entries.map(\.state) == expectedStates(actions: actions))
            replaced += entries.filter { $0.state == .replaced }.count
            deleted += entries.filter { $0.state == .deleted }.count
            if actions.count > 2, actions.contains(.delete), actions.last == .create { recreated += 1 }
        }
        let creates = rows.filter { $0.action == .create }.count
        let updates = rows.filter { $0.action == .update }.count
        let deletes = rows.filter { $0.action == .delete }.count
        #expect(creates > rows.count * 9 / 10, "mostly creates")
        #expect(updates > 100 && deletes > 100)
        #expect(replaced > 100 && deleted > 100 && recreated > 10, "replaced \(replaced), deleted \(deleted), re-created \(recreated)")
        // Rows of one bulk update share a timestamp.
        let updateRuns = zip(rows, rows.dropFirst()).filter { $0.action == .update && $1.action == .update
            && $0.timestampTicks == $1.timestampTicks }
        #expect(updateRuns.count > 20)
    }

    @Test("studies of many instances: a CT study runs to hundreds of rows")
    func studySizes() {
        var perStudy: [String: Int] = [:]
        for row in Self.smallRows where row.action == .create { perStudy[row.studyInstanceUid, default: 0] += 1 }
        #expect(perStudy.values.max()! >= 300)
        #expect(perStudy.values.filter { $0 <= 4 }.count > 50, "and many small ones (radiographs)")
        var perSeries: [String: Int] = [:]
        for row in Self.smallRows where row.action == .create { perSeries[row.seriesInstanceUid, default: 0] += 1 }
        #expect(perSeries.values.filter { $0 >= 100 }.count > 20)
    }

    @Test("metadata: current instances have it (updated ones a new version), deleted ones none")
    func metadata() throws {
        let rows = Self.smallRows
        let deleted = try #require(rows.first { $0.state == .deleted })
        #expect(Self.small.metadataJSON(sopInstanceUid: deleted.sopInstanceUid) == nil)
        let updated = try #require(rows.first { $0.action == .update && $0.state == .current })
        let json = try #require(Self.small.metadataJSON(sopInstanceUid: updated.sopInstanceUid))
        let text = String(decoding: json, as: UTF8.self)
        #expect(text.contains("-U1"))
        #expect(text.contains(updated.studyInstanceUid))
        let object = try JSONSerialization.jsonObject(with: Data(json)) as? [String: Any]
        #expect(object?["00100010"] != nil && object?["00080060"] != nil)
        let beyond = updated.seriesInstanceUid + ".99999"
        #expect(Self.small.metadataJSON(sopInstanceUid: beyond) == nil, "no such instance number")
        #expect(Self.small.metadataJSON(sopInstanceUid: "1.2.3") == nil)
    }

    @Test("sequences skip numbers; some v1 pages come back empty before the end")
    func gapsAndEmptyPages() {
        let seqs = Self.smallRows.map(\.sequence)
        #expect(seqs.first == 1)
        let steps = zip(seqs, seqs.dropFirst()).map { $1 - $0 }
        #expect(steps.filter { $0 > 1 }.count > 20)
        #expect(steps.contains { $0 > 100 })
        let store = ChangeFeedStore(options: Self.options(400_000))
        let last = store.latest(.v1)!.sequence
        var empty = 0
        var offset: Int64 = 0
        while offset < last {
            if store.entriesV1(offset: offset, limit: 100).isEmpty { empty += 1 }
            offset += 100
        }
        #expect(empty >= 1, "an empty v1 page is not the end of the feed")
    }

    @Test("a daily and weekly rhythm: busy working hours, quiet nights and weekends")
    func rhythm() {
        let store = ChangeFeedStore(options: DatasetOptions.procedural(entries: 100_000_000, seed: 8, newestAt: Self.newest.date))
        func count(_ day: Timestamp, _ hour: Int) -> Int64 {
            let start = day.ticks + Int64(hour) * 3600 * Timestamp.ticksPerSecond
            return store.v2WindowCount(startTicks: start, endTicks: start + 3600 * Timestamp.ticksPerSecond)
        }
        var busy: Int64 = 0, night: Int64 = 0, saturday: Int64 = 0, wednesday: Int64 = 0
        for week in 0..<10 {
            let monday = Timestamp(year: 2025, month: 6, day: 2).ticks + Int64(week * 7) * Timestamp.ticksPerDay
            for day in 0..<5 {
                let d = Timestamp(ticks: monday + Int64(day) * Timestamp.ticksPerDay)
                busy += count(d, 10)
                night += count(d, 2)
            }
            wednesday += count(Timestamp(ticks: monday + 2 * Timestamp.ticksPerDay), 10)
            saturday += count(Timestamp(ticks: monday + 5 * Timestamp.ticksPerDay), 10)
        }
        #expect(night > 0)
        #expect(busy > night * 5, "busy \(busy), night \(night)")
        #expect(wednesday > saturday * 2, "Wednesday \(wednesday), Saturday \(saturday)")
    }

    @Test("a 10^9-entry feed starts at once and answers at both ends quickly")
    func billion() {
        let clock = ContinuousClock()
        let started = clock.now
        let store = ChangeFeedStore(options: DatasetOptions.procedural(entries: 1_000_000_000, seed: 2, newestAt: Self.newest.date))
        let latest = store.latest(.v1)!
        let first = store.entriesV1(offset: 0, limit: 100)
        let end = store.entriesV1(offset: latest.sequence - 150, limit: 100)
        let newest = store.entriesV2(startTicks: latest.timestampTicks - 600 * Timestamp.ticksPerSecond,
                                     endTicks: latest.timestampTicks + 1, offset: 0, limit: 200)
        let deep = store.entriesV2(start: nil, end: nil, offset: 987_654_321, limit: 200)
        let elapsed = clock.now - started
        #expect(store.count == 1_000_000_000)
        #expect(first.count > 90 && first.first?.sequence == 1)
        #expect(!end.isEmpty && end.allSatisfy { $0.sequence > latest.sequence - 150 })
        #expect(newest.count == 200 && newest.allSatisfy { $0.timestampTicks <= latest.timestampTicks })
        #expect(deep.count == 200)
        #expect(zip(deep, deep.dropFirst()).allSatisfy { $0.sequence < $1.sequence })
        #expect(elapsed < .seconds(20), "took \(elapsed)")
    }

    @Test("with the demo's shape and unreadable rows: times never decrease, some are rounded; the queries agree")
    func shaped() {
        var o = Self.options(30_000, seed: 12)
        o.shape = .realistic
        o.unreadableShare = 0.01
        let store = ChangeFeedStore(options: o)
        let rows = store.allEntries()
        #expect(rows.count == 30_000)
        #expect(zip(rows, rows.dropFirst()).allSatisfy { $0.timestampTicks <= $1.timestampTicks })
        #expect(rows.last?.timestampTicks == Self.newest.ticks)
        let milliseconds = rows.filter { $0.timestampTicks % 10_000 == 0 }.count
        #expect(milliseconds > 300, "whole milliseconds: \(milliseconds)")
        let unreadable = rows.filter(\.isUnreadable).count
        #expect((150...450).contains(unreadable))
        #expect(rows == ChangeFeedStore(options: o).allEntries())
        var rng = SplitMix64(seed: 5)
        for _ in 0..<40 {
            let t = rows[Int(rng.next() % UInt64(rows.count))].timestampTicks + Int64(rng.next() % 3) - 1
            let page = store.entriesV2(startTicks: t, endTicks: FeedTime.maxTicks, offset: 3, limit: 5)
            #expect(page == Array(rows.filter { $0.timestampTicks >= t }.dropFirst(3).prefix(5)))
        }
        var v1: [EmulatedEntry] = []
        var offset: Int64 = 0
        while offset < rows.last!.sequence {
            v1 += store.entriesV1(offset: offset, limit: 100)
            offset += 100
        }
        #expect(v1 == rows)
    }

    @Test("runtime deletes, updates and re-creates of procedural instances rewrite their procedural rows")
    func runtimeChangesToProceduralInstances() throws {
        let store = ChangeFeedStore(options: Self.options(30_000, seed: 31))
        let rows = store.allEntries()
        let plain = try #require(rows.first { $0.action == .create && $0.state == .current && $0.sequence > 100 })
        let updated = try #require(rows.first { $0.action == .update && $0.state == .current })
        let gone = try #require(rows.first { $0.action == .delete })
        let other = try #require(rows.last { $0.action == .create && $0.state == .current })
        func uids(_ e: EmulatedEntry) -> (String, String, String) { (e.studyInstanceUid, e.seriesInstanceUid, e.sopInstanceUid) }

        #expect(throws: ChangeFeedStoreError.instanceAlreadyExists(sopInstanceUid: plain.sopInstanceUid)) {
            try store.appendCreate(studyInstanceUid: plain.studyInstanceUid, seriesInstanceUid: plain.seriesInstanceUid,
                                   sopInstanceUid: plain.sopInstanceUid)
        }
        #expect(throws: ChangeFeedStoreError.instanceDeleted(sopInstanceUid: gone.sopInstanceUid)) {
            try store.appendUpdate(studyInstanceUid: gone.studyInstanceUid, seriesInstanceUid: gone.seriesInstanceUid,
                                   sopInstanceUid: gone.sopInstanceUid)
        }
        #expect(throws: ChangeFeedStoreError.self) {
            try store.appendDelete(studyInstanceUid: "1.2.3", seriesInstanceUid: other.seriesInstanceUid,
                                   sopInstanceUid: other.sopInstanceUid)
        }

        // A pending delete changes nothing until it commits.
        let delete = try store.appendDelete(studyInstanceUid: plain.studyInstanceUid, seriesInstanceUid: plain.seriesInstanceUid,
                                            sopInstanceUid: plain.sopInstanceUid, visible: false)
        #expect(store.entry(sequence: plain.sequence)?.state == .current)
        #expect(store.metadataJSON(sopInstanceUid: plain.sopInstanceUid) != nil)
        #expect(store.commit(sequence: delete.sequence))
        #expect(store.entry(sequence: plain.sequence)?.state == .deleted)
        #expect(store.metadataJSON(sopInstanceUid: plain.sopInstanceUid) == nil)
        #expect(store.entriesV1(offset: plain.sequence - 1, limit: 1).first?.state == .deleted)

        let (s1, r1, i1) = uids(plain)
        try store.appendCreate(studyInstanceUid: s1, seriesInstanceUid: r1, sopInstanceUid: i1)
        let (s2, r2, i2) = uids(updated)
        try store.appendUpdate(studyInstanceUid: s2, seriesInstanceUid: r2, sopInstanceUid: i2)
        let (s3, r3, i3) = uids(gone)
        try store.appendCreate(studyInstanceUid: s3, seriesInstanceUid: r3, sopInstanceUid: i3)
        #expect(store.entry(sequence: plain.sequence)?.state == .replaced)
        #expect(store.entry(sequence: updated.sequence)?.state == .replaced)
        let metadata = try #require(store.metadataJSON(sopInstanceUid: i2))
        #expect(String(decoding: metadata, as: UTF8.self).contains("-U2"), "a procedural update, then a runtime one")

        // Every instance's rows, procedural and appended, follow the rules.
        var history: [String: [EmulatedEntry]] = [:]
        for row in store.allEntries() { history[row.sopInstanceUid, default: []].append(row) }
        for sop in [i1, i2, i3] {
            let entries = try #require(history[sop])
            #expect(entries.count >= 3)
            #expect(entries.map(\.state) == expectedStates(actions: entries.map(\.action)))
        }
    }

    @Test("live changes follow the procedural rows, in sequence and in time")
    func liveAppends() throws {
        let store = ChangeFeedStore(options: Self.options(10_000))
        let last = store.latest(.v1)!
        // An hour before the anchor: moved up to it.
        let appended = store.appendGeneratedChanges(count: 40, at: Self.newest.date.addingTimeInterval(-3600), live: .plain)
        #expect(appended.count == 40)
        #expect(appended.allSatisfy { $0.sequence > last.sequence && $0.timestampTicks >= Self.newest.ticks })
        #expect(store.count == 10_040)
        let later = Self.newest.date.addingTimeInterval(60)
        store.appendGeneratedChanges(count: 40, at: later, live: .plain)
        #expect(store.latest(.v2)?.timestampTicks == FeedTime.ticks(later))
        #expect(store.latest(.v1)!.sequence > appended.last!.sequence)
        // v2 past the procedural rows reaches the appended ones.
        let page = store.entriesV2(start: nil, end: nil, offset: 9_990, limit: 30)
        #expect(page.count == 30)
        #expect(page.prefix(10).allSatisfy { $0.sequence <= last.sequence })
        #expect(page.dropFirst(10).map(\.sequence) == appended.prefix(20).map(\.sequence))
        // A delete of an appended instance rewrites its rows' state.
        let created = try #require(appended.first { $0.action == .create && store.entry(sequence: $0.sequence)?.state == .current })
        try store.appendDelete(studyInstanceUid: created.studyInstanceUid, seriesInstanceUid: created.seriesInstanceUid,
                               sopInstanceUid: created.sopInstanceUid)
        #expect(store.entry(sequence: created.sequence)?.state == .deleted)
        #expect(store.entriesV1(offset: last.sequence - 50, limit: 100).contains { $0.sequence == created.sequence })
    }
}

@Suite("Procedural dataset over HTTP, and the v2 offset cost")
struct ProceduralServerTests {
    static func options(entries: Int, offsetCost: Double = 0) -> EmulatorOptions {
        var o = EmulatorOptions(entries: entries, seed: 21, dataset: .procedural, offsetCostMicroseconds: offsetCost)
        o.dataset.newestAt = ProceduralTests.newest.date
        return o
    }

    @Test("v1 and v2 pages over HTTP are the store's rows, with metadata")
    func overHTTP() async throws {
        try await withEmulator(Self.options(entries: 1_000_000)) { h in
            let latest = h.store.latest(.v1)!
            let v1 = try await h.get("/v1/changefeed?offset=\(latest.sequence - 60)&limit=100")
            #expect(v1.status == 200)
            #expect(try v1.sequences() == h.store.entriesV1(offset: latest.sequence - 60, limit: 100).map(\.sequence))
            let start = FeedTime.format(latest.timestampTicks - 3_600 * Timestamp.ticksPerSecond).queryEncoded
            let v2 = try await h.get("/v2/changefeed?startTime=\(start)&offset=150&limit=200")
            #expect(v2.status == 200)
            let expected = h.store.entriesV2(startTicks: latest.timestampTicks - 3_600 * Timestamp.ticksPerSecond,
                                             offset: 150, limit: 200)
            #expect(expected.count == 200)
            #expect(try v2.sequences() == expected.map(\.sequence))
            let objects = try v2.array()
            let withMetadata = objects.filter { $0["metadata"] != nil }.count
            let deleted = objects.filter { ($0["state"] as? String) == "Deleted" }.count
            #expect(withMetadata == objects.count - deleted)
            let newest = try await h.get("/v2/changefeed/latest")
            #expect((try newest.object()["sequence"] as? NSNumber)?.int64Value == latest.sequence)
            let parsed = h.server.requestLog.changeFeedRequests
            #expect(parsed.count == 3)
            #expect(parsed[0].version == .v1 && parsed[0].offset == latest.sequence - 60 && parsed[0].limit == 100)
            #expect(parsed[1].isV2Page && parsed[1].offset == 150 && parsed[1].limit == 200)
            #expect(parsed[1].startTime?.ticks == latest.timestampTicks - 3_600 * Timestamp.ticksPerSecond)
            #expect(parsed[1].endTime == nil)
            #expect(parsed[2].isLatest && !parsed[2].isV2Page)
            #expect(h.server.requestLog.v2Offsets == [150])
            #expect(h.server.requestLog.largestV2Offset == 150)
        }
    }

    @Test("the offset cost delays a v2 page by offset × cost; offset 0 and v1 are not delayed")
    func offsetCost() async throws {
        // 4 µs a row: 400,000 skipped rows wait 1.6 s.
        try await withEmulator(Self.options(entries: 2_000_000, offsetCost: 4)) { h in
            let clock = ContinuousClock()
            var t = clock.now
            let plain = try await h.get("/v2/changefeed?offset=0&limit=10&includeMetadata=false")
            _ = clock.now - t
            t = clock.now
            let skipped = try await h.get("/v2/changefeed?offset=400000&limit=10&includeMetadata=false")
            let slow = clock.now - t
            #expect(plain.status == 200 && skipped.status == 200)
            #expect(try skipped.array().count == 10)
            #expect(slow >= .milliseconds(1_500), "waited \(slow)")
            // A window with fewer rows than the offset: only its rows are read.
            let latest = h.store.latest(.v2)!
            let start = FeedTime.format(latest.timestampTicks - 60 * Timestamp.ticksPerSecond).queryEncoded
            // (What the cost model charged, not the time taken: a busy machine adds to that.)
            var charged = h.server.offsetDelayMicroseconds
            #expect(charged == 1_600_000)
            let short = try await h.get("/v2/changefeed?startTime=\(start)&offset=400000&limit=10")
            #expect(try short.array().isEmpty)
            #expect(h.server.offsetDelayMicroseconds - charged < 200_000)
            h.server.offsetCostMicroseconds = 0
            charged = h.server.offsetDelayMicroseconds
            _ = try await h.get("/v2/changefeed?offset=400000&limit=10&includeMetadata=false")
            #expect(h.server.offsetDelayMicroseconds == charged)
            #expect(h.server.requestLog.largestV2Offset == 400_000)
            #expect(h.server.requestLog.v2Offsets == [0, 400_000, 400_000, 400_000])
        }
    }

    @Test("the demo's options with the procedural dataset: every wire form, pages that decode, newest at now")
    func demoProcedural() async throws {
        let before = Timestamp(Date()).ticks
        let options = EmulatorOptions.demo(entries: 3_000_000, dataset: .procedural)
        #expect(options.dataset.kind == .procedural && options.dataset.shape == .realistic)
        try await withEmulator(options) { h in
            let latest = try #require(h.store.latest(.v2))
            #expect(latest.timestampTicks >= before && latest.timestampTicks <= Timestamp(Date()).ticks)
            let page = try await h.get("/v2/changefeed?offset=1234567&limit=200")
            #expect(page.status == 200)
            let objects = try page.array()
            #expect(objects.count == 200)
            #expect(objects.contains { $0["Sequence"] != nil } && objects.contains { $0["sequence"] != nil },
                    "PascalCase and camelCase keys")
            let expected = h.store.entriesV2(start: nil, end: nil, offset: 1_234_567, limit: 200).map(\.sequence)
            let got = objects.map { (($0["sequence"] ?? $0["Sequence"]) as? NSNumber)?.int64Value ?? -1 }
            #expect(got == expected)
        }
    }

    @Test("the window count behind the offset cost: visible rows only, on the generated dataset too")
    func windowCountGenerated() throws {
        let store = ChangeFeedStore(options: DatasetOptions(entryCount: 500, seed: 4, shape: .realistic))
        let rows = store.allEntries()
        let start = rows[100].timestampTicks, end = rows[400].timestampTicks
        let inWindow = Int64(rows.filter { $0.timestampTicks >= start && $0.timestampTicks < end }.count)
        #expect(store.v2WindowCount(startTicks: start, endTicks: end) == inWindow)
        try store.appendCreate(studyInstanceUid: "1.2.3", seriesInstanceUid: "1.2.3.1", sopInstanceUid: "1.2.3.1.1",
                               at: FeedTime.date(start + 1), visible: false)
        #expect(store.v2WindowCount(startTicks: start, endTicks: end) == inWindow, "a pending row is not read")
        store.commitAll()
        #expect(store.v2WindowCount(startTicks: start, endTicks: end) == inWindow + 1)
        #expect(store.v2WindowCount(startTicks: end, endTicks: start) == 0)
    }

    @Test("a runtime delete of a procedural instance shows on the wire: Deleted, without metadata")
    func runtimeDeleteOverHTTP() async throws {
        let store = ChangeFeedStore(options: DatasetOptions.procedural(entries: 50_000, seed: 2, newestAt: ProceduralTests.newest.date))
        try await withEmulator(EmulatorOptions(), store: store) { h in
            let target = try #require(h.store.entriesV1(offset: 20_000, limit: 100).first { $0.state == .current })
            let before = try await h.get("/v1/changefeed?offset=\(target.sequence - 1)&limit=1")
            #expect(try before.array().first?["state"] as? String == "Current")
            #expect(try before.array().first?["metadata"] != nil)
            try h.store.appendDelete(studyInstanceUid: target.studyInstanceUid, seriesInstanceUid: target.seriesInstanceUid,
                                     sopInstanceUid: target.sopInstanceUid)
            let after = try await h.get("/v1/changefeed?offset=\(target.sequence - 1)&limit=1")
            #expect(try after.array().first?["state"] as? String == "Deleted")
            #expect(try after.array().first?["metadata"] == nil)
            let tail = try await h.get("/v2/changefeed/latest")
            #expect(try tail.object()["sopInstanceUid"] as? String == target.sopInstanceUid)
            #expect(try tail.object()["action"] as? String == "Delete")
        }
    }

    @Test("offsetcost= in a fault spec sets the cost; the spec prints it back")
    func offsetCostSpec() throws {
        let plan = try FaultPlan(spec: "503x2,offsetcost=5")
        #expect(plan.offsetCostMicroseconds == 5)
        #expect(plan.description == "503x2,offsetcost=5")
        #expect(try FaultPlan(spec: "offsetcost=0.5").offsetCostMicroseconds == 0.5)
        #expect(throws: FaultSpecError.self) { try FaultPlan(spec: "offsetcost=-1") }
        #expect(throws: FaultSpecError.self) { try FaultPlan(spec: "offsetcost=lots") }
        var options = EmulatorOptions(entries: 10)
        options.faults = plan
        #expect(EmulatorServer(options: options).offsetCostMicroseconds == 5)
        #expect(EmulatorServer(options: EmulatorOptions(entries: 10)).offsetCostMicroseconds == 0)
    }
}
