import Emulator
import FeedModel
import Foundation
import Testing

/// One test per documented behaviour of the change-feed API (shared/docs/changefeed-api.md),
/// run against a live emulator over HTTP.
@Suite("Conformance")
struct ConformanceTests {
    // MARK: Routes and versions (1.1)

    @Test("each version serves /changefeed as a JSON array", arguments: ["v1.0-prerelease", "v1", "v2"])
    func feedRoute(version: String) async throws {
        try await withEmulator { h async throws in
            let a = try await h.get("/\(version)/changefeed")
            #expect(a.status == 200)
            #expect(a.header("Content-Type") == "application/json; charset=utf-8")
            #expect(a.header("api-supported-versions")?.contains("2.0") == true)
            #expect(try a.array().isEmpty == false)
        }
    }

    @Test("each version serves /changefeed/latest as one object", arguments: ["v1.0-prerelease", "v1", "v2"])
    func latestRoute(version: String) async throws {
        try await withEmulator { h async throws in
            let a = try await h.get("/\(version)/changefeed/latest")
            #expect(a.status == 200)
            #expect(a.header("Content-Type") == "application/json; charset=utf-8")
            #expect(try a.object()["sequence"] != nil)
        }
    }

    @Test("routes are case-insensitive; unknown versions and paths are 404; no partition route")
    func routing() async throws {
        try await withEmulator { h async throws in
            #expect(try await h.get("/V2/ChangeFeed/Latest").status == 200)
            #expect(try await h.get("/v2/changefeed/").status == 200)
            #expect(try await h.get("/v3/changefeed").status == 404)
            #expect(try await h.get("/changefeed").status == 404)
            #expect(try await h.get("/v2/partitions/Microsoft.Default/changefeed").status == 404)
            #expect(try await h.get("/v2/changefeed", method: "POST").status == 405)
        }
    }

    // MARK: v1 (1.2, 1.5)

    @Test("v1 defaults: offset 0, limit 10 → sequences 1…10 that exist")
    func v1Defaults() async throws {
        try await withEmulator { h async throws in
            let seqs = try await h.get("/v1/changefeed").sequences()
            #expect(seqs == h.store.entriesV1(offset: 0, limit: 10).map(\.sequence))
            #expect(!seqs.isEmpty && seqs.allSatisfy { (1...10).contains($0) })
        }
    }

    @Test("v1 offset is an exclusive start sequence and limit the width of the sequence range")
    func v1SequenceWindow() async throws {
        try await withEmulator { h async throws in
            let all = h.store.allEntries().map(\.sequence)
            let seqs = try await h.get("/v1/changefeed?offset=200&limit=100").sequences()
            #expect(seqs == all.filter { $0 > 200 && $0 <= 300 })
            #expect(seqs.count < 100, "the dataset has gaps, so a window of 100 sequences holds fewer rows")
        }
    }

    @Test("v1: a window inside a gap is an empty page, yet latest is further on")
    func v1EmptyWindowIsNotTheEnd() async throws {
        try await withEmulator { h async throws in
            let seqs = h.store.allEntries().map(\.sequence)
            let gap = try #require(zip(seqs, seqs.dropFirst()).first { $1 - $0 > 101 })
            let page = try await h.get("/v1/changefeed?offset=\(gap.0)&limit=100")
            #expect(page.status == 200)
            #expect(try page.array().isEmpty)
            let latest = try await h.get("/v1/changefeed/latest?includeMetadata=false").object()
            #expect(((latest["sequence"] as? NSNumber)?.int64Value ?? 0) > gap.0 + 100)
        }
    }

    @Test("v1 accepts limit 100 and offsets beyond the end")
    func v1Bounds() async throws {
        try await withEmulator { h async throws in
            #expect(try await h.get("/v1/changefeed?limit=100").status == 200)
            let far = try await h.get("/v1/changefeed?offset=9223372036854775806&limit=100")
            #expect(far.status == 200)
            #expect(try far.array().isEmpty)
        }
    }

    @Test("parameter names bind case-insensitively, like ASP.NET")
    func caseInsensitiveNames() async throws {
        try await withEmulator { h async throws in
            let lower = try await h.get("/v1/changefeed?offset=50&limit=20").text
            #expect(try await h.get("/v1/changefeed?Offset=50&Limit=20").text == lower)
            #expect(try await h.get("/v1/changefeed?OFFSET=50&LIMIT=20").text == lower)
            let v2 = try await h.get("/v2/changefeed?Offset=3&Limit=7&IncludeMetadata=False")
            #expect(try v2.sequences() == h.store.entriesV2(offset: 3, limit: 7).map(\.sequence))
            #expect(try v2.array().allSatisfy { $0["metadata"] == nil })
        }
    }

    // MARK: v2 (1.2, 1.5)

    @Test("v2 defaults: whole time range, offset 0, limit 100, ordered by timestamp then sequence")
    func v2Defaults() async throws {
        try await withEmulator { h async throws in
            let seqs = try await h.get("/v2/changefeed").sequences()
            #expect(seqs.count == 100)
            #expect(seqs == h.store.entriesV2(limit: 100).map(\.sequence))
            #expect(try await h.get("/v2/changefeed?limit=200").sequences().count == 200)
        }
    }

    @Test("v2 startTime is inclusive and endTime exclusive")
    func v2WindowBounds() async throws {
        try await withEmulator { h async throws in
            let rows = h.store.allEntries()
            // A timestamp shared by several rows.
            let ticks = rows.map(\.timestampTicks)
            let shared = try #require(zip(ticks, ticks.dropFirst()).first { $0 == $1 }?.0)
            let group = rows.filter { $0.timestampTicks == shared }.map(\.sequence)
            let t = FeedTime.format(shared).queryEncoded
            let from = try await h.get("/v2/changefeed?startTime=\(t)&limit=\(group.count)").sequences()
            #expect(from == group)
            let before = try await h.get("/v2/changefeed?endTime=\(t)&limit=200&offset=0").sequences()
            #expect(!before.contains { group.contains($0) })
            #expect(before == rows.filter { $0.timestampTicks < shared }.prefix(200).map(\.sequence))
            let exact = try await h.get("/v2/changefeed?startTime=\(t)&endTime=\(FeedTime.format(shared + 1).queryEncoded)").sequences()
            #expect(exact == group)
        }
    }

    @Test("v2 offset skips rows within the window")
    func v2OffsetSkips() async throws {
        try await withEmulator { h async throws in
            let all = h.store.entriesV2(limit: 200).map(\.sequence)
            let page = try await h.get("/v2/changefeed?offset=37&limit=50").sequences()
            #expect(page == Array(all[37..<87]))
            let paged = try await h.get("/v2/changefeed?offset=0&limit=37").sequences()
                + (try await h.get("/v2/changefeed?offset=37&limit=50").sequences())
            #expect(paged == Array(all[0..<87]))
        }
    }

    @Test("v2 orders equal timestamps by sequence; v1 orders by sequence; latest differs by version")
    func orderingAndLatest() async throws {
        let store = ChangeFeedStore.empty(seed: 2)
        let t1 = Date(timeIntervalSince1970: 1_710_000_000)
        let t2 = t1.addingTimeInterval(60)
        let study = "1.2.826.0.1.3680043.8.498.77"
        // Sequence 1 is stamped later than sequences 2 and 3 (clock skew between writers).
        try store.appendCreate(studyInstanceUid: study, seriesInstanceUid: study + ".1", sopInstanceUid: study + ".1.1", at: t2)
        try store.appendCreate(studyInstanceUid: study, seriesInstanceUid: study + ".1", sopInstanceUid: study + ".1.2", at: t1)
        try store.appendCreate(studyInstanceUid: study, seriesInstanceUid: study + ".1", sopInstanceUid: study + ".1.3", at: t1)
        try await withEmulator(store: store) { h async throws in
            #expect(try await h.get("/v1/changefeed").sequences() == [1, 2, 3])
            #expect(try await h.get("/v2/changefeed").sequences() == [2, 3, 1])
            #expect(try await h.get("/v1/changefeed/latest").object()["sequence"] as? Int == 3)
            #expect(try await h.get("/v1.0-prerelease/changefeed/latest").object()["sequence"] as? Int == 3)
            #expect(try await h.get("/v2/changefeed/latest").object()["sequence"] as? Int == 1)
        }
    }

    @Test("times need a zone; '+' must be sent as %2B (a raw '+' decodes to a space)")
    func v2TimeEncoding() async throws {
        try await withEmulator { h async throws in
            #expect(try await h.get("/v2/changefeed?startTime=2024-03-04T00:00:00%2B09:00").status == 200)
            #expect(try await h.get("/v2/changefeed?startTime=2024-03-04T00:00:00Z").status == 200)
            #expect(try await h.get("/v2/changefeed?startTime=2024-03-04T00:00:00-05:00").status == 200)
            #expect(try await h.get("/v2/changefeed?startTime=2024-03-04T00:00:00+09:00").status == 400)
        }
    }

    // MARK: 400 (1.3)

    struct BadCase: Sendable, CustomTestStringConvertible {
        var path: String
        var message: String
        var testDescription: String { path }
    }

    static let badCases: [BadCase] = [
        BadCase(path: "/v1/changefeed?limit=0", message: "The query parameter 'limit' is invalid. The field limit must be between 1 and 100."),
        BadCase(path: "/v1/changefeed?limit=-1", message: "The query parameter 'limit' is invalid. The field limit must be between 1 and 100."),
        BadCase(path: "/v1/changefeed?limit=101", message: "The query parameter 'limit' is invalid. The field limit must be between 1 and 100."),
        BadCase(path: "/v1/changefeed?limit=blah", message: "The query parameter 'limit' is invalid. The value 'blah' is not valid."),
        BadCase(path: "/v1.0-prerelease/changefeed?limit=101", message: "The query parameter 'limit' is invalid. The field limit must be between 1 and 100."),
        BadCase(path: "/v2/changefeed?limit=0", message: "The query parameter 'Limit' is invalid. The field Limit must be between 1 and 200."),
        BadCase(path: "/v2/changefeed?limit=-1", message: "The query parameter 'Limit' is invalid. The field Limit must be between 1 and 200."),
        BadCase(path: "/v2/changefeed?limit=201", message: "The query parameter 'Limit' is invalid. The field Limit must be between 1 and 200."),
        BadCase(path: "/v2/changefeed?limit=blah", message: "The query parameter 'Limit' is invalid. The value 'blah' is not valid for Limit."),
        BadCase(path: "/v1/changefeed?offset=-1", message: "The query parameter 'offset' is invalid. The field offset must be between 0 and 9223372036854775807."),
        BadCase(path: "/v1/changefeed?offset=blah", message: "The query parameter 'offset' is invalid. The value 'blah' is not valid."),
        BadCase(path: "/v1/changefeed?offset=92233720368547758070", message: "The query parameter 'offset' is invalid. The value '92233720368547758070' is not valid."),
        BadCase(path: "/v2/changefeed?offset=-1", message: "The query parameter 'Offset' is invalid. The field Offset must be between 0 and 9223372036854775807."),
        BadCase(path: "/v2/changefeed?offset=92233720368547758070", message: "The query parameter 'Offset' is invalid. The value '92233720368547758070' is not valid for Offset."),
        BadCase(path: "/v1/changefeed?includeMetadata=0", message: "The query parameter 'includeMetadata' is invalid. The value '0' is not valid."),
        BadCase(path: "/v1/changefeed?includeMetadata=true-ish", message: "The query parameter 'includeMetadata' is invalid. The value 'true-ish' is not valid."),
        BadCase(path: "/v2/changefeed?includeMetadata=boolean", message: "The query parameter 'includeMetadata' is invalid. The value 'boolean' is not valid."),
        BadCase(path: "/v2/changefeed/latest?includeMetadata=asdf", message: "The query parameter 'includeMetadata' is invalid. The value 'asdf' is not valid."),
        BadCase(path: "/v1/changefeed/latest?includeMetadata=asdf", message: "The query parameter 'includeMetadata' is invalid. The value 'asdf' is not valid."),
        BadCase(path: "/v2/changefeed?startTime=foo", message: "The query parameter 'StartTime' is invalid. "),
        BadCase(path: "/v2/changefeed?endTime=foo", message: "The query parameter 'EndTime' is invalid. "),
        BadCase(path: "/v2/changefeed?startTime=2023-05-03T10:58:00", message: "The query parameter 'StartTime' is invalid. Date and time value must specify a time zone."),
        BadCase(path: "/v2/changefeed?endTime=2023-05-03", message: "The query parameter 'EndTime' is invalid. Date and time value must specify a time zone."),
        BadCase(path: "/v2/changefeed?startTime=2023-05-03T10:58:00Z&endTime=2023-05-03T10:58:00Z",
                message: "The query parameter '' is invalid. The start time '2023-05-03T10:58:00.0000000+00:00' must occur strictly before the end time '2023-05-03T10:58:00.0000000+00:00'."),
        BadCase(path: "/v2/changefeed?startTime=2023-05-03T12:00:00%2B02:00&endTime=2023-05-03T09:00:00Z",
                message: "The query parameter '' is invalid. The start time '2023-05-03T10:00:00.0000000+00:00' must occur strictly before the end time '2023-05-03T09:00:00.0000000+00:00'."),
    ]

    @Test("invalid values answer 400 with the documented plain-text message", arguments: badCases)
    func badRequest(_ c: BadCase) async throws {
        try await withEmulator(EmulatorOptions(entries: 30, seed: 1)) { h async throws in
            let a = try await h.get(c.path)
            #expect(a.status == 400)
            #expect(a.text == c.message)
            #expect(a.header("Content-Type") == "text/plain; charset=utf-8")
        }
    }

    @Test("v1 ignores v2's time parameters and v2 ignores unknown ones")
    func unrelatedParametersIgnored() async throws {
        try await withEmulator { h async throws in
            #expect(try await h.get("/v1/changefeed?startTime=foo").status == 200)
            #expect(try await h.get("/v2/changefeed?whatever=1").status == 200)
        }
    }

    // MARK: Response JSON (1.4)

    @Test("camelCase keys, C#-cased enums, 7-digit +00:00 timestamps, Microsoft.Default, no filePath")
    func entryShape() async throws {
        try await withEmulator { h async throws in
            let rows = try await h.get("/v2/changefeed?limit=200").array()
            let allowed: Set<String> = ["sequence", "partitionName", "studyInstanceUid", "seriesInstanceUid",
                                        "sopInstanceUid", "action", "timestamp", "state", "metadata"]
            let pattern = #/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}\+00:00$/#
            for row in rows {
                #expect(Set(row.keys).isSubset(of: allowed))
                #expect(Set(row.keys).isSuperset(of: allowed.subtracting(["metadata"])))
                #expect(row["partitionName"] as? String == "Microsoft.Default")
                #expect(["Create", "Delete", "Update"].contains(row["action"] as? String ?? ""))
                #expect(["Current", "Replaced", "Deleted"].contains(row["state"] as? String ?? ""))
                #expect((row["timestamp"] as? String)?.wholeMatch(of: pattern) != nil)
            }
            // The raw text keeps the documented key order and spelling.
            let text = try await h.get("/v1/changefeed?limit=1&offset=0&includeMetadata=false").text
            #expect(text.hasPrefix("[{\"sequence\":1,\"partitionName\":\"Microsoft.Default\",\"studyInstanceUid\":"))
        }
    }

    @Test("pages decode with the shared FeedModel decoder and match the store")
    func decodesWithFeedModel() async throws {
        try await withEmulator { h async throws in
            let a = try await h.get("/v2/changefeed?limit=200")
            let decoded = try JSONDecoder().decode([ChangeFeedEntry].self, from: a.body)
            let expected = h.store.entriesV2(limit: 200)
            #expect(decoded.map(\.sequence) == expected.map(\.sequence))
            #expect(decoded.map(\.state) == expected.map(\.state))
            #expect(decoded.map(\.action) == expected.map(\.action))
            #expect(decoded.map(\.sopInstanceUid) == expected.map(\.sopInstanceUid))
            #expect(decoded.map(\.timestamp) == expected.map(\.timestamp), "to the 100 ns tick")
        }
    }

    @Test("includeMetadata=false omits metadata; default includes it")
    func includeMetadataFalse() async throws {
        try await withEmulator { h async throws in
            let without = try await h.get("/v2/changefeed?includeMetadata=false&limit=50").array()
            #expect(without.allSatisfy { $0["metadata"] == nil })
            let with = try await h.get("/v2/changefeed?limit=50").array()
            #expect(with.contains { $0["metadata"] is [String: Any] })
            let latest = try await h.get("/v1/changefeed/latest?includeMetadata=FALSE").object()
            #expect(latest["metadata"] == nil)
        }
    }

    @Test("metadata is absent for deleted instances and is the current version for replaced rows")
    func metadataByState() async throws {
        try await withEmulator(EmulatorOptions(entries: 3000, seed: 42)) { h async throws in
            var all: [[String: Any]] = []
            for offset in stride(from: 0, to: 3000, by: 200) {
                all += try await h.get("/v2/changefeed?limit=200&offset=\(offset)").array()
            }
            #expect(all.count == 3000)
            let deleted = all.filter { $0["state"] as? String == "Deleted" }
            let replaced = all.filter { $0["state"] as? String == "Replaced" }
            #expect(!deleted.isEmpty && !replaced.isEmpty)
            #expect(deleted.allSatisfy { $0["metadata"] == nil })
            #expect(all.filter { $0["state"] as? String != "Deleted" }.allSatisfy { $0["metadata"] is [String: Any] })
            // A replaced row carries the same (current) metadata as the instance's current row.
            let r = try #require(replaced.first)
            let sop = try #require(r["sopInstanceUid"] as? String)
            let current = try #require(all.first { $0["sopInstanceUid"] as? String == sop && $0["state"] as? String == "Current" })
            #expect(NSDictionary(dictionary: r["metadata"] as! [String: Any]).isEqual(to: current["metadata"] as! [String: Any]))
        }
    }

    // MARK: State rewriting (1.5)

    @Test("create → delete → re-create reads Replaced, Replaced, Current; update and delete rewrite older rows")
    func stateRewriting() async throws {
        let store = ChangeFeedStore.empty(seed: 4)
        let st = "1.2.826.0.1.3680043.8.498.5", se = st + ".1", a = se + ".1", b = se + ".2"
        try await withEmulator(store: store) { h async throws in
            func states(_ sop: String) async throws -> [String] {
                try await h.get("/v1/changefeed?limit=100").array()
                    .filter { $0["sopInstanceUid"] as? String == sop }.map { $0["state"] as? String ?? "?" }
            }
            try store.appendCreate(studyInstanceUid: st, seriesInstanceUid: se, sopInstanceUid: a)
            #expect(try await states(a) == ["Current"])
            try store.appendDelete(studyInstanceUid: st, seriesInstanceUid: se, sopInstanceUid: a)
            #expect(try await states(a) == ["Deleted", "Deleted"])
            try store.appendCreate(studyInstanceUid: st, seriesInstanceUid: se, sopInstanceUid: a)
            #expect(try await states(a) == ["Replaced", "Replaced", "Current"])

            try store.appendCreate(studyInstanceUid: st, seriesInstanceUid: se, sopInstanceUid: b)
            try store.appendUpdate(studyInstanceUid: st, seriesInstanceUid: se, sopInstanceUid: b)
            #expect(try await states(b) == ["Replaced", "Current"])
            let actions = try await h.get("/v1/changefeed?limit=100").array()
                .filter { $0["sopInstanceUid"] as? String == b }.map { $0["action"] as? String ?? "?" }
            #expect(actions == ["Create", "Update"])
            #expect(try await states(a) == ["Replaced", "Replaced", "Current"], "other instances keep their state")
        }
    }

    @Test("runtime changes are refused when they make no sense")
    func runtimeChangeErrors() throws {
        let store = ChangeFeedStore.empty()
        let st = "1.2.826.0.1.3680043.8.498.6", se = st + ".1", sop = se + ".1"
        #expect(throws: ChangeFeedStoreError.instanceNotFound(sopInstanceUid: sop)) {
            try store.appendDelete(studyInstanceUid: st, seriesInstanceUid: se, sopInstanceUid: sop)
        }
        try store.appendCreate(studyInstanceUid: st, seriesInstanceUid: se, sopInstanceUid: sop)
        #expect(throws: ChangeFeedStoreError.instanceAlreadyExists(sopInstanceUid: sop)) {
            try store.appendCreate(studyInstanceUid: st, seriesInstanceUid: se, sopInstanceUid: sop)
        }
        try store.appendDelete(studyInstanceUid: st, seriesInstanceUid: se, sopInstanceUid: sop)
        #expect(throws: ChangeFeedStoreError.instanceDeleted(sopInstanceUid: sop)) {
            try store.appendUpdate(studyInstanceUid: st, seriesInstanceUid: se, sopInstanceUid: sop)
        }
    }

    @Test("live changes on a generated instance rewrite its older rows")
    func liveChangesOnGeneratedData() async throws {
        try await withEmulator { h async throws in
            let target = try #require(h.store.allEntries().first { $0.state == .current && $0.action == .create })
            try h.store.appendDelete(studyInstanceUid: target.studyInstanceUid, seriesInstanceUid: target.seriesInstanceUid,
                                     sopInstanceUid: target.sopInstanceUid)
            let page = try await h.get("/v1/changefeed?offset=\(target.sequence - 1)&limit=1").array()
            #expect(page.first?["state"] as? String == "Deleted")
            #expect(page.first?["metadata"] == nil)
            let latest = try await h.get("/v2/changefeed/latest").object()
            #expect(latest["action"] as? String == "Delete")
            #expect(latest["sopInstanceUid"] as? String == target.sopInstanceUid)
        }
    }

    // MARK: Empty feed (1.5)

    @Test("latest on an empty feed is 204 with an empty body; the feed is an empty array",
          arguments: ["v1", "v2", "v1.0-prerelease"])
    func emptyFeed(version: String) async throws {
        try await withEmulator(store: .empty()) { h async throws in
            let latest = try await h.get("/\(version)/changefeed/latest")
            #expect(latest.status == 204)
            #expect(latest.body.isEmpty)
            let feed = try await h.get("/\(version)/changefeed")
            #expect(feed.status == 200)
            #expect(feed.text == "[]")
        }
    }
}
