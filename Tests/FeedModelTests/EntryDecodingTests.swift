import FeedModel
import Foundation
import Testing

@Suite struct TimestampTests {
    /// Exact ticks (100 ns since 1970), never a `Double` of seconds.
    @Test(arguments: [
        ("2020-03-04T01:03:08.4834Z", Int64(15_832_837_884_834_000)),
        ("2020-03-04T01:03:08Z", 15_832_837_880_000_000),
        ("2020-03-04T01:03:08.1234567+00:00", 15_832_837_881_234_567),
        ("2020-03-04T10:03:08.5+09:00", 15_832_837_885_000_000),
        ("2020-03-03T20:03:08-05:00", 15_832_837_880_000_000),
        ("2020-03-04T05:33:08.0000001+0430", 15_832_837_880_000_001),
        ("2024-02-29T23:59:59.9999999Z", 17_092_511_999_999_999),
        ("2020-03-04t01:03:08.12345678Z", 15_832_837_881_234_567),
    ])
    func parsesTheFormsTheServiceWritesExactly(text: String, ticks: Int64) throws {
        let t = try #require(Timestamp.parse(text))
        #expect(t.ticks == ticks)
    }

    @Test(arguments: ["2023-05-03T10:58:00", "foo", "", "2023-13-03T10:58:00Z", "2023-05-03T10:58:00.Z", "2023-05-03T10:58:00Zjunk",
                      "2023-02-30T10:58:00Z"])
    func rejectsTimesWithoutAZoneOrMalformed(text: String) {
        #expect(Timestamp.parse(text) == nil)
    }

    /// The defect: held as a `Double`, `…11.6041809` came back as `…11.6041808`. Every one of
    /// the 10^7 fractions of a second, with every number of digits, survives parse → format →
    /// parse to the tick.
    @Test func everyTickSurvivesARoundTrip() throws {
        let second = Timestamp(year: 2026, month: 11, day: 30, hour: 23, minute: 59, second: 11)
        for fraction in stride(from: Int64(0), to: 10_000_000, by: 1_237) + [6_041_809, 9_999_999, 1] {
            let t = second.adding(ticks: fraction)
            #expect(Timestamp.parse(t.iso) == t, "\(t.iso)")
            #expect(Timestamp.parse(t.format(trimZeros: true, numericZone: true)) == t)
        }
        #expect(Timestamp.parse("2026-11-30T23:59:11.6041809+00:00")?.iso == "2026-11-30T23:59:11.6041809Z")
        #expect(Timestamp(ticks: 15_832_837_882_500_000).iso == "2020-03-04T01:03:08.2500000Z")
        #expect(Timestamp(ticks: 15_832_837_882_500_000).format(trimZeros: true, numericZone: true) == "2020-03-04T01:03:08.25+00:00")
        #expect(Timestamp(ticks: -1).iso == "1969-12-31T23:59:59.9999999Z")
        #expect(Timestamp.min.iso == "0001-01-01T00:00:00.0000000Z" && Timestamp.max.iso == "9999-12-31T23:59:59.9999999Z")
    }

    /// Found by the `time` fuzz target (Fuzz/Corpus/time/ticks-min): `days * ticksPerDay`
    /// overflowed (a crash) for tick counts near Int64.min, which wrapped arithmetic can reach.
    @Test func everyTickCountFormats() {
        for ticks in [Int64.min, Int64.min + 1, -864_000_000_001, Int64.max, Int64.max - 1] {
            let t = Timestamp(ticks: ticks)
            #expect(!t.iso.isEmpty && !t.format(trimZeros: true, numericZone: true).isEmpty)
            #expect((0..<Timestamp.ticksPerSecond).contains(t.fractionTicks))
            #expect(t.wholeSeconds.multipliedReportingOverflow(by: Timestamp.ticksPerSecond).overflow
                    || t.wholeSeconds * Timestamp.ticksPerSecond + t.fractionTicks == ticks)
            _ = t.date
        }
        #expect(Timestamp(ticks: Int64.max).iso.hasSuffix("T02:48:05.4775807Z"))
        #expect(Timestamp(ticks: Int64.min).iso.hasSuffix("T21:11:54.5224192Z"))
    }

    /// Found by the `time` fuzz target (Fuzz/Corpus/time/crash-1e35b1e8…): a leap second or an
    /// offset past either end of the calendar read as an instant in year 10000 (or 0), which
    /// printed with five digits and did not read back. As in .NET, those are no instants.
    @Test(arguments: ["9999-12-31T23:59:60.9999999Z", "9999-12-31T23:00:00-05:00", "0001-01-01T00:00:00+01:00",
                      "0000-06-01T00:00:00Z"])
    func instantsOutsideYears1To9999AreRefused(text: String) {
        #expect(Timestamp.parse(text) == nil)
    }

    @Test func theEndsOfTheCalendarStillRead() {
        #expect(Timestamp.parse("0001-01-01T00:00:00Z") == .min)
        #expect(Timestamp.parse("0001-01-01T01:00:00+01:00") == .min)
        #expect(Timestamp.parse("9999-12-31T23:59:59.9999999Z") == .max)
        #expect(Timestamp.parse("9999-12-31T18:59:59.9999999-05:00") == .max)
    }

    @Test func orderIsByTick() {
        let a = Timestamp.parse("2024-01-01T00:00:00.0000001Z")!, b = Timestamp.parse("2024-01-01T09:00:00.0000002+09:00")!
        #expect(a < b && b.ticks - a.ticks == 1)
    }
}

@Suite struct EntryDecodingTests {
    struct Unreadable: Error { let reason: String }

    /// One entry object through the app's decoder (`PageDecoder`, as `/latest` is read).
    func decode(_ json: String) throws -> ChangeFeedEntry {
        switch PageDecoder.single(Data(json.utf8)) {
        case .success(.entry(let e)): return e
        case .success(.undecodable(_, let u)): throw Unreadable(reason: u.reason)
        case .failure(let e): throw e
        }
    }

    /// The same object as the only element of a page.
    func decodeInPage(_ json: String) throws -> ChangeFeedEntry {
        guard case .success(let results) = PageDecoder.page(Data("[\(json)]".utf8)), results.count == 1,
              case .entry(let e) = results[0] else { throw Unreadable(reason: "not one entry") }
        return e
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

    /// Found by the `page` fuzz target (Fuzz/Corpus/page/crash-ff424258…): with a field twice in
    /// two casings, which one counted depended on a dictionary's order, so /latest and a page
    /// (or two reads of one page) read the same element differently.
    @Test func aFieldInTwoCasingsReadsTheSameEveryTime() throws {
        let fields = #""sequence":1,"seriesInstanceUid":"2","sopInstanceUid":"3","action":"Create","timestamp":"2020-03-04T01:03:08Z","state":"Current""#
        for json in [#"{"StudyInstanceUid":"pascal","studyInstanceUid":"camel",\#(fields)}"#,
                     #"{"studyInstanceUid":"camel","StudyInstanceUid":"pascal",\#(fields)}"#,
                     #"{"STUDYINSTANCEUID":"upper","StudyInstanceUid":"pascal","studyInstanceUid":"camel",\#(fields)}"#] {
            for _ in 0..<20 {
                #expect(try decode(json).studyInstanceUid == "camel")
                #expect(try decodeInPage(json).studyInstanceUid == "camel")
            }
        }
        // Without the service's spelling, the one that sorts first.
        #expect(try decode(#"{"studyinstanceuid":"lower","StudyInstanceUid":"pascal",\#(fields)}"#).studyInstanceUid == "pascal")
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
        } catch let e as Unreadable {
            #expect(e.reason.contains(field))
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
