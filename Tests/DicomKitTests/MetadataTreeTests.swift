import DicomKit
import FeedModel
import Foundation
import Testing

struct NotJSON: Error {}

/// Parses DICOM JSON text the way the app does (kept as `RawJSON`, read into a `JSONValue`).
func parse(_ text: String) throws -> JSONValue {
    guard let raw = RawJSON(parsing: Data(text.utf8)) else { throw NotJSON() }
    return raw.value
}

extension MetadataTree {
    /// The node of an attribute of the top-level dataset, or of any dataset when `anywhere`.
    func node(_ hex: String, anywhere: Bool = false) -> Node? {
        nodes.first { $0.tag?.hex == hex && (anywhere || $0.depth == 0) }
    }

    func children(of id: Int) -> [Node] {
        nodes.filter { $0.parent == id }
    }
}

/// A CT instance as a DICOMweb server answers it, with a nested sequence, a Japanese name,
/// multi-valued, bulk, inline binary, AT, private and empty attributes. Keys deliberately unsorted.
let ctInstance = #"""
{
  "7FE00010": {"vr": "OW", "BulkDataURI": "https://dicom.example.org/v2/studies/1.2.392.200036.9116.2.6.1.48/series/1.2.392.200036.9116.2.6.1.48.3/instances/1.2.392.200036.9116.2.6.1.48.3.7/bulkdata/7FE00010"},
  "00100010": {"vr": "PN", "Value": [{"Alphabetic": "Yamada^Tarou", "Ideographic": "山田^太郎", "Phonetic": "やまだ^たろう"}]},
  "00080008": {"vr": "CS", "Value": ["ORIGINAL", "PRIMARY", "AXIAL"]},
  "00080018": {"vr": "UI", "Value": ["1.2.392.200036.9116.2.6.1.48.3.7"]},
  "00080060": {"vr": "CS", "Value": ["CT"]},
  "00081030": {"vr": "LO", "Value": ["CT THORAX W/O CONTRAST"]},
  "00081115": {"vr": "SQ", "Value": [
    {
      "0020000E": {"vr": "UI", "Value": ["1.2.392.200036.9116.2.6.1.48.2"]},
      "0008114A": {"vr": "SQ", "Value": [
        {"00081150": {"vr": "UI", "Value": ["1.2.840.10008.5.1.4.1.1.2"]}, "00081155": {"vr": "UI", "Value": ["1.2.392.200036.9116.2.6.1.48.2.1"]}},
        {"00081155": {"vr": "UI", "Value": ["1.2.392.200036.9116.2.6.1.48.2.2"]}, "00081150": {"vr": "UI", "Value": ["1.2.840.10008.5.1.4.1.1.2"]}}
      ]}
    }
  ]},
  "00100020": {"vr": "LO", "Value": ["JP-000042"]},
  "00100030": {"vr": "DA"},
  "00181074": {"vr": "DS", "Value": [370000000]},
  "00200013": {"vr": "IS", "Value": [7]},
  "00209165": {"vr": "AT", "Value": ["00209056"]},
  "00280010": {"vr": "US", "Value": [512]},
  "00280030": {"vr": "DS", "Value": [0.5, "0.703125"]},
  "00290010": {"vr": "LO", "Value": ["SIEMENS CSA HEADER"]},
  "00291010": {"vr": "OB", "InlineBinary": "AAECAwQFBgcICQ=="},
  "00324000": {"vr": "LT", "Value": ["Follow-up in 6 months.\r\nCompare with prior."]}
}
"""#

@Suite struct MetadataTreeTests {
    let tree: MetadataTree

    init() throws {
        tree = MetadataTree(json: try parse(ctInstance))
    }

    @Test func topLevelAttributesSortByTag() throws {
        let top = tree.nodes.filter { $0.depth == 0 }
        let tags = top.compactMap(\.tag)
        #expect(tags.count == top.count)
        #expect(tags == tags.sorted())
        #expect(tags.count == 17)
        #expect(tags.first?.hex == "00080008")
        #expect(tags.last?.hex == "7FE00010")
    }

    @Test func idsAreIndicesAndPreOrderPutsDescendantsAfterTheirParent() {
        for (i, n) in tree.nodes.enumerated() {
            #expect(n.id == i)
            if let p = n.parent {
                #expect(p < i)
                #expect(tree.nodes[p].depth == n.depth - 1)
                #expect(i <= p + tree.nodes[p].descendantCount)
            } else {
                #expect(n.depth == 0)
            }
            #expect(n.childCount == tree.children(of: i).count)
            #expect(n.hasChildren == (n.childCount > 0))
        }
    }

    @Test func nestedSequencesHaveItemsWithDepthAndParent() throws {
        let series = try #require(tree.node("00081115"))
        #expect(series.kind == .sequence)
        #expect(series.keyword == "ReferencedSeriesSequence")
        #expect(series.value == "1 item")
        let items = tree.children(of: series.id)
        #expect(items.map(\.name) == ["Item 1"])
        #expect(items[0].kind == .item)
        #expect(items[0].depth == 1)
        #expect(items[0].tag == nil)

        let inItem = tree.children(of: items[0].id)
        #expect(inItem.compactMap(\.tag?.hex) == ["0008114A", "0020000E"])
        #expect(inItem.allSatisfy { $0.depth == 2 })

        let instances = inItem[0]
        #expect(instances.kind == .sequence)
        #expect(instances.value == "2 items")
        let instanceItems = tree.children(of: instances.id)
        #expect(instanceItems.map(\.name) == ["Item 1", "Item 2"])
        let second = tree.children(of: instanceItems[1].id)
        #expect(second.compactMap(\.tag?.hex) == ["00081150", "00081155"])
        #expect(second.allSatisfy { $0.depth == 4 && $0.parent == instanceItems[1].id })
        #expect(second[1].value == "1.2.392.200036.9116.2.6.1.48.2.2")
        #expect(second[1].name == "Referenced SOP Instance UID")

        // The series sequence holds everything down to its last instance UID.
        #expect(series.descendantCount == 9)
        #expect(tree.ancestors(of: second[0].id) == [series.id, items[0].id, instances.id, instanceItems[1].id])
        #expect(tree.ancestors(of: series.id) == [])
        #expect(tree.ancestors(of: -1) == [] && tree.ancestors(of: tree.count) == [])
    }

    @Test func collapsingHidesDescendantsOnly() throws {
        let all = tree.visibleNodes(collapsed: [])
        #expect(all == Array(0..<tree.count))

        let series = try #require(tree.node("00081115"))
        let hidden = tree.visibleNodes(collapsed: [series.id])
        #expect(hidden.count == tree.count - series.descendantCount)
        #expect(hidden.contains(series.id))
        #expect(!hidden.contains(series.id + 1))
        #expect(hidden.contains(series.id + series.descendantCount + 1))

        let instances = try #require(tree.node("0008114A", anywhere: true))
        let inner = tree.visibleNodes(collapsed: [instances.id])
        #expect(inner.count == tree.count - instances.descendantCount)
        #expect(inner.contains(instances.id) && !inner.contains(instances.id + 1))
        // The series' other child, after the collapsed one, stays visible.
        #expect(inner.contains(try #require(tree.node("0020000E", anywhere: true)).id))

        // Collapsing inside a collapsed subtree changes nothing more; collapsing a leaf changes nothing.
        #expect(tree.visibleNodes(collapsed: [series.id, instances.id]) == hidden)
        let leaf = try #require(tree.node("00080060"))
        #expect(tree.visibleNodes(collapsed: [leaf.id]) == all)
    }

    @Test func personNameShowsAlphabeticInlineAndOneChildPerGroup() throws {
        let name = try #require(tree.node("00100010"))
        #expect(name.kind == .element)
        #expect(name.vr == "PN")
        #expect(name.value == "Yamada^Tarou")
        #expect(name.copyText == "Yamada^Tarou=山田^太郎=やまだ^たろう")
        let groups = tree.children(of: name.id)
        #expect(groups.map(\.name) == ["Alphabetic", "Ideographic", "Phonetic"])
        #expect(groups.map(\.value) == ["Yamada^Tarou", "山田^太郎", "やまだ^たろう"])
        #expect(groups.allSatisfy { $0.kind == .nameGroup && $0.depth == 1 })
    }

    @Test func personNameWithOneGroupHasNoChildrenAndFirstGroupIsShownWithoutAlphabetic() throws {
        let t = MetadataTree(json: try parse(#"""
        {"00100010": {"vr": "PN", "Value": [{"Alphabetic": "Doe^Jane"}]},
         "00081060": {"vr": "PN", "Value": [{"Ideographic": "佐藤^花子", "Phonetic": "さとう^はなこ"}, {"Alphabetic": "Smith^Ann"}]}}
        """#))
        let single = try #require(t.node("00100010"))
        #expect(single.value == "Doe^Jane")
        #expect(!single.hasChildren)
        let readers = try #require(t.node("00081060"))
        #expect(readers.value == "佐藤^花子 \\ Smith^Ann")
        #expect(readers.copyText == "=佐藤^花子=さとう^はなこ\\Smith^Ann")
        #expect(t.children(of: readers.id).map(\.value) == ["佐藤^花子", "さとう^はなこ"])
    }

    @Test func multipleValuesAreJoined() throws {
        let type = try #require(tree.node("00080008"))
        #expect(type.value == "ORIGINAL \\ PRIMARY \\ AXIAL")
        #expect(type.copyText == "ORIGINAL\\PRIMARY\\AXIAL")
        let spacing = try #require(tree.node("00280030"))
        #expect(spacing.value == "0.5 \\ 0.703125")
        #expect(spacing.keyword == "PixelSpacing")
    }

    @Test func numbersLoseATrailingPointZero() throws {
        #expect(try #require(tree.node("00200013")).value == "7")
        #expect(try #require(tree.node("00280010")).value == "512")
        #expect(try #require(tree.node("00181074")).value == "370000000")
        let t = MetadataTree(json: try parse(#"{"00181074": {"vr": "DS", "Value": [-2.0, 1.25, 1e20]}}"#))
        #expect(t.nodes.first?.value == "-2 \\ 1.25 \\ 1e+20")
    }

    @Test func bulkDataAndInlineBinary() throws {
        let pixels = try #require(tree.node("7FE00010"))
        let uri = "https://dicom.example.org/v2/studies/1.2.392.200036.9116.2.6.1.48/series/1.2.392.200036.9116.2.6.1.48.3/instances/1.2.392.200036.9116.2.6.1.48.3.7/bulkdata/7FE00010"
        #expect(pixels.value == "BulkDataURI " + uri)
        #expect(pixels.copyText == uri)
        #expect(pixels.keyword == "PixelData")
        #expect(pixels.vr == "OW")

        let inline = try #require(tree.node("00291010"))
        #expect(inline.value == "InlineBinary, 10 bytes")
        #expect(inline.name == "Private tag")
        #expect(inline.vr == "OB")
    }

    @Test(arguments: [0, 1, 2, 3, 10, 11, 12, 100, 1000])
    func inlineBinarySizeIsTheDecodedSize(length: Int) throws {
        let bytes = Data((0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37) })
        let json = JSONValue.object(["00420011": .object(["vr": .string("OB"), "InlineBinary": .string(bytes.base64EncodedString())])])
        let node = try #require(MetadataTree(json: json).nodes.first)
        #expect(node.value == "InlineBinary, \(length) \(length == 1 ? "byte" : "bytes")")
        #expect(node.kind == .element)
    }

    @Test func emptyATPrivateCreatorAndMultiLineValues() throws {
        let birth = try #require(tree.node("00100030"))
        #expect(birth.value == "(empty)")
        #expect(birth.copyText.isEmpty)
        #expect(birth.keyword == "PatientBirthDate")

        let pointer = try #require(tree.node("00209165"))
        #expect(pointer.value == "(0020,9056)")
        #expect(pointer.copyText == "00209056")

        let creator = try #require(tree.node("00290010"))
        #expect(creator.keyword == "PrivateCreator")
        #expect(creator.value == "SIEMENS CSA HEADER")

        let comments = try #require(tree.node("00324000"))
        #expect(!comments.value.contains("\n") && !comments.value.contains("\r"))
        #expect(comments.value.hasPrefix("Follow-up in 6 months."))
        #expect(comments.value.hasSuffix("Compare with prior."))
        #expect(comments.copyText == "Follow-up in 6 months.\r\nCompare with prior.")
        #expect(comments.isRetired)
    }

    @Test func unknownPublicTagsAreNamedSo() throws {
        let t = MetadataTree(json: try parse(#"{"44440001": {"vr": "LO", "Value": ["x"]}, "00091001": {"vr": "DS", "Value": ["1"]}}"#))
        #expect(t.node("44440001")?.name == "Unknown tag")
        #expect(t.node("00091001")?.name == "Private tag")
        #expect(t.node("00091001")?.vr == "DS")
    }

    @Test func searchFindsKeywordNameTagAndValue() throws {
        let name = try #require(tree.node("00100010"))
        let id = try #require(tree.node("00100020"))
        let birth = try #require(tree.node("00100030"))
        #expect(tree.search("patient") == [name.id, id.id, birth.id])
        #expect(tree.search("PATIENTID") == [id.id])
        #expect(tree.search("Patient's Name") == [name.id])
        #expect(tree.search("00100020") == [id.id])
        #expect(tree.search("(0010,0020)") == [id.id])
        #expect(tree.search("0010,0020") == [id.id])
        #expect(tree.search("jp-0000") == [id.id])
        // The Japanese groups are found on their own nodes; the Alphabetic on the element and its group.
        #expect(tree.search("山田") == [name.id + 2])
        #expect(tree.search("yamada") == [name.id, name.id + 1])
        // Nested attributes are found too, in pre-order.
        let hits = tree.search("00081155")
        #expect(hits.count == 2)
        #expect(hits == hits.sorted())
        #expect(hits.allSatisfy { tree.nodes[$0].depth == 4 })
        #expect(tree.search("").isEmpty)
        #expect(tree.search("no such thing").isEmpty)
    }

    @Test func summaryReadsTheListFields() throws {
        let s = MetadataTree.summary(of: try parse(ctInstance))
        var expected = MetadataSummary(patientName: "Yamada^Tarou", patientID: "JP-000042", modality: "CT",
                                       studyDescription: "CT THORAX W/O CONTRAST")
        expected.patientNameGroups = "Yamada^Tarou=山田^太郎=やまだ^たろう"
        #expect(s == expected)
        let wrapped = MetadataTree.summary(of: try parse(#"[{"00080060": {"vr": "CS", "Value": ["MR"]}, "00100010": {"vr": "PN", "Value": [{"Ideographic": "山田^太郎"}]}}]"#))
        var expectedWrapped = MetadataSummary(patientName: "山田^太郎", modality: "MR")
        expectedWrapped.patientNameGroups = "=山田^太郎"   // no Alphabetic group: the form keeps its place
        #expect(wrapped == expectedWrapped)
        #expect(MetadataTree.summary(of: .string("x")) == MetadataSummary())
        #expect(MetadataTree.summary(of: try parse(#"{"00100020": {"vr": "LO", "Value": [""]}, "00080060": {"vr": "CS"}}"#)) == MetadataSummary())
    }
}

@Suite struct MalformedMetadataTests {
    @Test func malformedElementsBecomeProblemNodes() throws {
        let t = MetadataTree(json: try parse(#"""
        {
          "00100010": {"vr": "PN", "Value": "Doe^John"},
          "00100020": "PID-1",
          "00080060": {"vr": "CS", "value": ["CT"]},
          "00081030": {"vr": "LO", "Value": [{"text": "CHEST"}]},
          "00280010": {"vr": 12, "Value": [1]},
          "7FE00010": {"vr": "OB", "InlineBinary": "not*base64"},
          "00080090": {"vr": "PN", "Value": [42]},
          "00200013": {"vr": "IS", "Value": [3], "BulkDataURI": "https://x"},
          "00081115": {"vr": "SQ", "Value": [5, {"00081150": {"vr": "UI", "Value": ["1.2.840.10008.5.1.4.1.1.2"]}}]},
          "hello": {"vr": "LO", "Value": ["x"]},
          "00180050": {"vr": "DS", "Value": ["2.5"]}
        }
        """#))
        func problem(_ hex: String, _ fragment: String) throws {
            let n = try #require(t.node(hex))
            #expect(n.kind == .problem, "\(hex)")
            #expect(n.value.contains(fragment), "\(hex): \(n.value)")
        }
        try problem("00100010", "not an array")
        try problem("00100020", "expected an object")
        try problem("00080060", "unknown shape")
        try problem("00081030", "value 1 is an object")
        try problem("00280010", "\"vr\" is a number")
        try problem("7FE00010", "not base64")
        try problem("00080090", "value 1 is a number")
        try problem("00200013", "both")
        // Names still come from the dictionary.
        #expect(t.node("00100010")?.keyword == "PatientName")

        // A bad item is a problem inside the sequence; the good item is still there.
        let seq = try #require(t.node("00081115"))
        #expect(seq.kind == .sequence)
        let items = t.children(of: seq.id)
        #expect(items.map(\.kind) == [.problem, .item])
        #expect(items.map(\.name) == ["Item 1", "Item 2"])
        #expect(t.children(of: items[1].id).first?.keyword == "ReferencedSOPClassUID")

        // A key that is not a tag goes last; the good element is untouched.
        #expect(t.nodes.last?.kind == .problem)
        #expect(t.nodes.last?.value.contains("hello") == true)
        #expect(t.node("00180050")?.kind == .element)
        #expect(t.node("00180050")?.value == "2.5")
    }

    @Test(arguments: [JSONValue.null, .bool(true), .number(3), .string("{}"), .array([]), .array([.number(1)]),
                      .array([.object([:]), .object([:])])])
    func aRootThatIsNotADatasetIsOneProblem(json: JSONValue) {
        let t = MetadataTree(json: json)
        #expect(t.count == 1)
        #expect(t.nodes.first?.kind == .problem)
        #expect(t.nodes.first?.value.hasPrefix("expected a dataset object") == true)
        #expect(MetadataTree.summary(of: json) == MetadataSummary())
    }

    @Test func anEmptyDatasetIsAnEmptyTree() {
        let t = MetadataTree(json: .object([:]))
        #expect(t.isEmpty)
        #expect(t.visibleNodes(collapsed: []).isEmpty)
        #expect(t.search("x").isEmpty)
    }

    @Test func hostileNestingStopsWithAProblem() {
        var json = JSONValue.object(["00100020": .object(["vr": .string("LO"), "Value": .array([.string("deep")])])])
        for _ in 0..<200 {
            json = .object(["00081115": .object(["vr": .string("SQ"), "Value": .array([json])])])
        }
        let t = MetadataTree(json: json)
        #expect(t.nodes.contains { $0.kind == .problem && $0.value.contains("nested too deeply") })
        #expect(!t.nodes.contains { $0.value == "deep" })
        #expect(t.nodes.map(\.depth).max()! <= 2 * MetadataTree.maximumDepth + 1)
    }
}

@Suite struct PersonNameTests {
    @Test(arguments: [
        ("Yamada^Tarou=山田^太郎=やまだ^たろう", "Yamada, Tarou"),
        ("=山田^太郎", "山田, 太郎"),
        ("Doe^Jane^Q^Dr^PhD", "Doe, Jane Q Dr PhD"),
        ("^Cher", "Cher"),
        ("Smith", "Smith"),
        ("", ""),
    ])
    func readable(pn: String, shown: String) {
        #expect(PersonName.readable(pn) == shown)
    }
}
