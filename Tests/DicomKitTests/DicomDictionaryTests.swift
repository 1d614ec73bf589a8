import DicomKit
import Testing

@Suite struct DicomTagTests {
    @Test func parsesHexKeysInAnyCaseAndThePunctuatedForm() throws {
        let t = try #require(DicomTag(hex: "7fe00010"))
        #expect(t.group == 0x7FE0 && t.element == 0x0010)
        #expect(DicomTag(hex: "7FE00010") == t)
        #expect(DicomTag(hex: "(7FE0,0010)") == t)
        #expect(t.text == "(7FE0,0010)")
        #expect(t.hex == "7FE00010")
        #expect(t.value == 0x7FE0_0010)
    }

    @Test(arguments: ["", "0010001", "001000100", "0010001G", "(0010;0010)", "0010,0010", " 00100010", "+0100010"])
    func rejectsWhatIsNotATag(text: String) {
        #expect(DicomTag(hex: text) == nil)
    }

    @Test func ordersByGroupThenElement() {
        let tags = [DicomTag(group: 0x0020, element: 0x000D), DicomTag(group: 0x0008, element: 0x0060),
                    DicomTag(group: 0x0010, element: 0x0010), DicomTag(group: 0x0008, element: 0x0018)]
        #expect(tags.sorted().map(\.hex) == ["00080018", "00080060", "00100010", "0020000D"])
    }

    @Test func privateMeansAnOddGroupThatIsAllowedToBePrivate() {
        #expect(DicomTag(group: 0x0009, element: 0x1001).isPrivate)
        #expect(DicomTag(group: 0x0029, element: 0x0010).isPrivateCreator)
        #expect(!DicomTag(group: 0x0029, element: 0x1010).isPrivateCreator)
        #expect(!DicomTag(group: 0x0010, element: 0x0010).isPrivate)
        #expect(!DicomTag(group: 0x0003, element: 0x0010).isPrivate)
        #expect(!DicomTag(group: 0xFFFF, element: 0x0010).isPrivate)
    }
}

@Suite struct DicomDictionaryTests {
    private func entry(_ hex: String) throws -> DictionaryEntry {
        let tag = try #require(DicomTag(hex: hex))
        return try #require(DicomDictionary.entry(for: tag))
    }

    @Test func wellKnownTags() throws {
        let pn = try entry("00100010")
        #expect(pn.keyword == "PatientName")
        #expect(pn.name == "Patient's Name")
        #expect(pn.vr == "PN")
        #expect(pn.vm == "1")
        #expect(!pn.isRetired)
        #expect(pn.tag == DicomTag(group: 0x0010, element: 0x0010))

        let sop = try entry("00080018")
        #expect(sop.keyword == "SOPInstanceUID")
        #expect(sop.name == "SOP Instance UID")
        #expect(sop.vr == "UI")

        let pixels = try entry("7FE00010")
        #expect(pixels.keyword == "PixelData")
        #expect(pixels.vr == "OB or OW")

        let types = try entry("00080008")
        #expect(types.keyword == "ImageType")
        #expect(types.vm == "2-n")
    }

    @Test func retiredTagsSayTheyAre() throws {
        let e = try entry("00280040")
        #expect(e.keyword == "ImageFormat")
        #expect(e.isRetired)
    }

    @Test func repeatingGroupsResolveToTheConcreteTag() throws {
        let overlay = try entry("60003000")
        #expect(overlay.keyword == "OverlayData")
        #expect(overlay.name == "Overlay Data")
        #expect(overlay.tag == DicomTag(group: 0x6000, element: 0x3000))
        let rows = try entry("601E0010")
        #expect(rows.keyword == "OverlayRows")
        #expect(rows.vr == "US")
        #expect(rows.tag.hex == "601E0010")
        let curve = try entry("50023000")
        #expect(curve.keyword == "CurveData")
        #expect(curve.isRetired)
        let variable = try entry("7F020010")
        #expect(variable.keyword == "VariablePixelData")
        let sourceIDs = try entry("002031AB")
        #expect(sourceIDs.keyword == "SourceImageIDs")
        // An exact entry wins over the 7Fxx mask.
        #expect(try entry("7FE00010").keyword == "PixelData")
    }

    @Test func privateCreatorsAndPrivateElements() throws {
        let creator = try entry("00290010")
        #expect(creator.keyword == "PrivateCreator")
        #expect(creator.name == "Private Creator")
        #expect(creator.vr == "LO")
        let last = try entry("002900FF")
        #expect(last.keyword == "PrivateCreator")
        let element = try entry("00291010")
        #expect(element.name == "Private tag")
        #expect(element.keyword.isEmpty)
        // An odd group inside a repeating range is private, not an overlay.
        #expect(try entry("60013000").name == "Private tag")
    }

    @Test func groupLengths() throws {
        #expect(try entry("00080000").name == "Group Length")
        #expect(try entry("00080000").vr == "UL")
        #expect(try entry("00090000").name == "Group Length")
        // Groups 0000 and 0002 have their own entries.
        #expect(try entry("00020000").keyword == "FileMetaInformationGroupLength")
    }

    @Test func unknownPublicTagsHaveNoEntry() throws {
        #expect(DicomDictionary.entry(for: DicomTag(group: 0x0010, element: 0xFFF0)) == nil)
        #expect(DicomDictionary.entry(for: DicomTag(group: 0x4444, element: 0x0001)) == nil)
    }

    @Test func keywordsFindTheirTags() {
        #expect(DicomDictionary.tag(forKeyword: "PatientName") == DicomTag(group: 0x0010, element: 0x0010))
        #expect(DicomDictionary.tag(forKeyword: "StudyInstanceUID") == DicomTag(group: 0x0020, element: 0x000D))
        #expect(DicomDictionary.tag(forKeyword: "OverlayData") == DicomTag(group: 0x6000, element: 0x3000))
        #expect(DicomDictionary.tag(forKeyword: "PatientNam") == nil)
        #expect(DicomDictionary.tag(forKeyword: "") == nil)
    }

    @Test func keywordAndTagLookupsAgreeForEveryKeywordTried() throws {
        for keyword in ["Modality", "StudyDescription", "PatientID", "ReferencedSeriesSequence", "PixelData", "CurveDimensions"] {
            let tag = try #require(DicomDictionary.tag(forKeyword: keyword))
            #expect(DicomDictionary.entry(for: tag)?.keyword == keyword)
        }
    }

    @Test func holdsTheWholeDictionary() {
        #expect(DicomDictionary.count > 4000)
        #expect(DicomDictionary.sourceVersion.hasPrefix("pydicom "))
    }

    @Test func concurrentFirstUseIsSafe() async {
        let names = await withTaskGroup(of: String?.self) { group in
            for _ in 0..<8 {
                group.addTask { DicomDictionary.entry(for: DicomTag(group: 0x0008, element: 0x0060))?.name }
            }
            var all: [String?] = []
            for await n in group { all.append(n) }
            return all
        }
        #expect(names == Array(repeating: "Modality", count: 8))
    }
}
