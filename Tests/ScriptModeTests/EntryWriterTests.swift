import FeedModel
import Foundation
import ScriptMode
import SwiftCSV
import Testing

/// The writers on their own, with values the emulator never sends (quotes, commas, newlines).
@Suite struct EntryWriterTests {
    let awkward = ChangeFeedEntry(
        sequence: 42, partitionName: "Part,\"one\"", filePath: "DICOM/a\nb.dcm",
        studyInstanceUid: "1.2", seriesInstanceUid: "1.2.3", sopInstanceUid: "1.2.3.4", action: .delete,
        timestamp: Timestamp.parse("2024-03-04T10:19:39.8097279Z")!, state: .deleted,
        metadata: RawJSON(.object(["00100010": .object(["vr": .string("PN"), "Value": .array([.string("Doe, \"J\"")])])])))

    @Test func csvFieldsAreQuotedAsRFC4180Says() {
        #expect(EntryWriter.csvField("plain") == "plain")
        #expect(EntryWriter.csvField("a,b") == "\"a,b\"")
        #expect(EntryWriter.csvField("say \"hi\"") == "\"say \"\"hi\"\"\"")
        #expect(EntryWriter.csvField("two\nlines") == "\"two\nlines\"")
        #expect(EntryWriter.csvField("cr\r\nlf") == "\"cr\r\nlf\"")
    }

    @Test func anAwkwardEntryRoundTripsThroughCSV() throws {
        var writer = EntryWriter(format: .csv, includeMetadata: true)
        let text = writer.begin() + writer.entries([awkward]) + writer.end()
        let csv = try CSV<Named>(string: text)
        let row = try #require(csv.rows.first)
        #expect(csv.rows.count == 1)
        #expect(row["partitionName"] == "Part,\"one\"")
        #expect(row["filePath"] == "DICOM/a\nb.dcm")
        #expect(row["action"] == "Delete")
        #expect(row["state"] == "Deleted")
        #expect(row["timestamp"] == "2024-03-04T10:19:39.8097279Z")
        let metadata = try JSONSerialization.jsonObject(with: Data((row["metadata"] ?? "").utf8)) as? [String: Any]
        #expect(((metadata?["00100010"] as? [String: Any])?["Value"] as? [String]) == ["Doe, \"J\""])
    }

    @Test func ndjsonIsOneEscapedObjectPerLine() throws {
        var writer = EntryWriter(format: .ndjson, includeMetadata: false)
        let text = writer.entries([awkward, awkward])
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 3 && lines[2].isEmpty, "two lines, each ended by a newline")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        #expect(object["filePath"] as? String == "DICOM/a\nb.dcm")
        #expect(object["partitionName"] as? String == "Part,\"one\"")
        #expect(object["metadata"] == nil, "metadata only when asked")
        #expect(lines[0].hasPrefix("{\"sequence\":42,\"partitionName\""), "the service's field order")
    }

    @Test func absentFieldsAreLeftOutAsTheServiceDoes() {
        var entry = awkward
        entry.filePath = nil
        entry.metadata = nil
        let json = EntryWriter(format: .ndjson, includeMetadata: true).jsonObject(entry)
        #expect(!json.contains("filePath"))
        #expect(!json.contains("metadata"))
    }

    @Test func jsonClosesTheArrayWithOrWithoutEntries() throws {
        var empty = EntryWriter(format: .json, includeMetadata: false)
        #expect(empty.begin() + empty.entries([]) + empty.end() == "[]\n")
        var two = EntryWriter(format: .json, includeMetadata: false)
        let text = two.begin() + two.entries([awkward]) + two.entries([awkward]) + two.end()
        let array = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [Any]
        #expect(array?.count == 2)
    }
}

/// A hostile value in script mode: never a control sequence on a terminal, never a changed value in a pipe.
@Suite struct EntryWriterSafetyTests {
    let hostileSOP = "1.2\u{1b}]0;pwned\u{07}\u{9b}31m\u{202e}evil"
    var entry: ChangeFeedEntry {
        ChangeFeedEntry(sequence: 7, studyInstanceUid: "1", seriesInstanceUid: "1.2", sopInstanceUid: hostileSOP,
                        action: .create, timestamp: Timestamp.parse("2024-03-04T10:19:39.8097279Z")!, state: .current)
    }

    @Test func jsonEscapesEveryControlAndTheSameValueComesBack() throws {
        let line = EntryWriter(format: .ndjson, includeMetadata: false).jsonObject(entry)
        #expect(!line.unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) || $0.value == 0x202E })
        #expect(line.contains("\\u009B") && line.contains("\\u202E"))
        let back = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
        #expect(back?["sopInstanceUid"] as? String == hostileSOP, "the data is unchanged")
    }

    @Test func csvOnATerminalShowsPlaceholdersAndInAPipeKeepsTheValue() {
        var tty = EntryWriter(format: .csv, includeMetadata: false, terminal: true)
        let shown = tty.entries([entry])
        #expect(!shown.unicodeScalars.contains { ($0.value < 0x20 && $0 != "\n") || (0x7F...0x9F).contains($0.value) || $0.value == 0x202E })
        #expect(shown.contains("␛"))
        var pipe = EntryWriter(format: .csv, includeMetadata: false)
        #expect(pipe.entries([entry]).contains(hostileSOP))
    }
}

/// Metadata goes through `feed` as the service sent it: on one line, its own escapes and numbers
/// unchanged, and what a terminal would obey escaped.
@Suite struct MetadataPassThroughTests {
    func entry(metadata text: String) throws -> ChangeFeedEntry {
        ChangeFeedEntry(sequence: 1, studyInstanceUid: "1", seriesInstanceUid: "1.2", sopInstanceUid: "1.2.3", action: .create,
                        timestamp: Timestamp.parse("2024-03-04T10:19:39.8097279Z")!, state: .current,
                        metadata: try #require(RawJSON(parsing: Data(text.utf8))))
    }

    @Test func theServicesTextIsKeptOnOneLine() throws {
        let sent = """
            {
              "00100010": {"vr": "PN", "Value": [{"Ideographic": "\\u5C71\\u7530"}]},
              "00280030": {"vr": "DS", "Value": [1.250, 2E1]}
            }
            """
        let line = EntryWriter(format: .ndjson, includeMetadata: true).jsonObject(try entry(metadata: sent))
        #expect(!line.contains("\n"))
        #expect(line.contains(#""metadata":{"00100010":{"vr":"PN","Value":[{"Ideographic":"\u5C71\u7530"}]},"00280030":{"vr":"DS","Value":[1.250,2E1]}}"#),
                "escapes, numbers and key order as sent; only the space between tokens is gone")
    }

    @Test func controlsAndOverridesInsideMetadataAreEscaped() throws {
        // Raw U+202E (right-to-left override), U+0085 (a C1 control), U+2028, and a tab the
        // service escaped already.
        let sent = "{\"00081030\":{\"vr\":\"LO\",\"Value\":[\"a\u{202E}b\u{85}c\u{2028}d\\te\"]}}"
        let line = EntryWriter(format: .ndjson, includeMetadata: true).jsonObject(try entry(metadata: sent))
        #expect(!line.unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) || $0.value == 0x202E || $0.value == 0x2028 })
        #expect(line.contains(#"a\u202Eb\u0085c\u2028d\te"#))
        let back = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        let value = ((back["metadata"] as? [String: Any])?["00081030"] as? [String: Any])?["Value"] as? [String]
        #expect(value == ["a\u{202E}b\u{85}c\u{2028}d\te"], "the same data comes back")
    }
}
