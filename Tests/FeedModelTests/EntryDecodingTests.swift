import FeedModel
import Foundation
import Testing

@Suite struct TimestampTests {
    @Test(arguments: [
        ("2020-03-04T01:03:08.4834Z", 1_583_283_788.4834),
        ("2020-03-04T01:03:08Z", 1_583_283_788.0),
        ("2020-03-04T01:03:08.1234567+00:00", 1_583_283_788.1234567),
        ("2020-03-04T10:03:08.5+09:00", 1_583_283_788.5),
        ("2020-03-03T20:03:08-05:00", 1_583_283_788.0),
        ("2024-02-29T23:59:59.9999999Z", 1_709_251_199.9999999),
    ])
    func parsesTheFormsTheServiceWrites(text: String, epoch: Double) throws {
        let d = try #require(Timestamp.parse(text))
        #expect(abs(d.timeIntervalSince1970 - epoch) < 0.000_01)
    }

    @Test(arguments: ["2023-05-03T10:58:00", "foo", "", "2023-13-03T10:58:00Z", "2023-05-03T10:58:00.Z", "2023-05-03T10:58:00Zjunk"])
    func rejectsTimesWithoutAZoneOrMalformed(text: String) {
        #expect(Timestamp.parse(text) == nil)
    }

    @Test func formatRoundTrips() throws {
        for t in [0.0, 1_583_283_788.4834, 1_795_659_336.25, 951_782_400.0] {
            let s = Timestamp.format(Date(timeIntervalSince1970: t))
            #expect(s.hasSuffix("Z"))
            let back = try #require(Timestamp.parse(s))
            #expect(abs(back.timeIntervalSince1970 - t) < 0.000_001)
        }
        #expect(Timestamp.format(Date(timeIntervalSince1970: 1_583_283_788.25)) == "2020-03-04T01:03:08.2500000Z")
    }
}

@Suite struct EntryDecodingTests {
    func decode(_ json: String) throws -> ChangeFeedEntry {
        try JSONDecoder().decode(ChangeFeedEntry.self, from: Data(json.utf8))
    }

    @Test func camelCaseAsTheServiceSendsIt() throws {
        let e = try decode("""
            {"sequence":42,"partitionName":"Microsoft.Default","studyInstanceUid":"1.2.3","seriesInstanceUid":"1.2.3.4",
             "sopInstanceUid":"1.2.3.4.5","action":"Create","timestamp":"2026-11-26T01:02:03.1234567+00:00","state":"Current",
             "metadata":{"00100010":{"vr":"PN","Value":[{"Alphabetic":"Yamada^Tarou","Ideographic":"山田^太郎"}]}}}
            """)
        #expect(e.sequence == 42)
        #expect(e.partitionName == "Microsoft.Default")
        #expect(e.action == .create && e.state == .current)
        #expect(e.sopInstanceUid == "1.2.3.4.5")
        #expect(e.filePath == nil)
        #expect(e.metadata?["00100010"]?["Value"]?.arrayValue?.first?["Ideographic"]?.stringValue == "山田^太郎")
    }

    @Test func pascalCaseAndLowerCaseEnumsAsTheDocsShowThem() throws {
        let e = try decode("""
            {"Sequence":1,"StudyInstanceUid":"1","SeriesInstanceUid":"2","SopInstanceUid":"3",
             "Action":"delete","Timestamp":"2020-03-04T01:03:08.4834Z","State":"deleted","FilePath":"DICOM/Microsoft.Default/1_2.dcm"}
            """)
        #expect(e.action == .delete && e.state == .deleted)
        #expect(e.metadata == nil)
        #expect(e.filePath == "DICOM/Microsoft.Default/1_2.dcm")
    }

    @Test func numericEnums() throws {
        let e = try decode("""
            {"sequence":1,"studyInstanceUid":"1","seriesInstanceUid":"2","sopInstanceUid":"3",
             "action":2,"timestamp":"2020-03-04T01:03:08Z","state":1}
            """)
        #expect(e.action == .update && e.state == .replaced)
    }

    @Test(arguments: [
        (#"{"sequence":1,"studyInstanceUid":"1","seriesInstanceUid":"2","sopInstanceUid":"3","action":"Explode","timestamp":"2020-03-04T01:03:08Z","state":"Current"}"#, "action"),
        (#"{"sequence":1,"studyInstanceUid":"1","seriesInstanceUid":"2","sopInstanceUid":"3","action":"Create","timestamp":"2020-03-04T01:03:08","state":"Current"}"#, "timestamp"),
        (#"{"sequence":1,"seriesInstanceUid":"2","sopInstanceUid":"3","action":"Create","timestamp":"2020-03-04T01:03:08Z","state":"Current"}"#, "studyInstanceUid"),
    ])
    func badEntriesSayWhatIsWrong(json: String, field: String) {
        do {
            _ = try decode(json)
            Issue.record("decoded a bad entry")
        } catch let e as EntryDecodingError {
            #expect(e.message.contains(field))
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func apiVersionArguments() {
        #expect(APIVersion(argument: "v2") == .v2)
        #expect(APIVersion(argument: "2") == .v2)
        #expect(APIVersion(argument: "V1") == .v1)
        #expect(APIVersion(argument: "v1.0-prerelease") == .v1Prerelease)
        #expect(APIVersion(argument: "v3") == nil)
        #expect(APIVersion.v1.maxLimit == 100 && APIVersion.v2.maxLimit == 200)
        #expect(APIVersion.v1Prerelease.isSequenceMode && !APIVersion.v2.isSequenceMode)
    }
}
