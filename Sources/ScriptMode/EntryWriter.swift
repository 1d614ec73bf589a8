import FeedModel
import Foundation
import TerminalKit

/// How `dicomtui feed` writes entries.
public enum EntryFormat: String, Sendable, CaseIterable {
    /// One compact JSON object per line.
    case ndjson
    /// One JSON array, written as entries arrive: `[`, elements separated by `,`, `]`.
    case json
    /// A header row, then one row per entry (RFC 4180 quoting, `\n` line ends).
    case csv
}

/// Turns entries into text, in pieces that can be written as they come: `begin()`, `page(_:)`
/// (or `entries(_:)`) for each page, `end()`. Field names and values are the service's
/// (camelCase names, `Create`, `Current`); timestamps are the service's instant to the 100 ns
/// tick, written in UTC with all 7 fraction digits (`2024-03-04T10:19:39.8097270Z`).
///
/// An element of a page that did not decode is written too, in its place, never dropped:
/// JSON and NDJSON as `{"unreadable":true,"sequence":…,"timestamp":…,"sopInstanceUid":…,
/// "reason":…,"raw":{…}}` (the fields that could be read, why the rest could not, and the
/// element as the service sent it); CSV as a row with what could be read and the reason in the
/// last column, `unreadable`.
///
/// Text from the service never reaches a terminal as control sequences: JSON escapes C1
/// controls, bidirectional overrides and line separators as `\uXXXX` (the same data, still
/// valid JSON), and with `terminal` (stdout is a TTY) CSV fields show control characters as
/// visible placeholders; piped CSV keeps the values as the service sent them.
public struct EntryWriter {
    public let format: EntryFormat
    public let includeMetadata: Bool
    /// Stdout is a terminal: CSV values are made safe to show.
    public let terminal: Bool
    private var written = 0
    private let encoder: JSONEncoder

    /// The columns of the CSV header, and the keys of each JSON object, in this order.
    public static let fields = ["sequence", "partitionName", "filePath", "studyInstanceUid", "seriesInstanceUid",
                                "sopInstanceUid", "action", "timestamp", "state"]
    /// The last CSV column: empty for an entry, the reason for an element that did not decode.
    public static let unreadableColumn = "unreadable"

    public init(format: EntryFormat, includeMetadata: Bool, terminal: Bool = false) {
        self.format = format
        self.includeMetadata = includeMetadata
        self.terminal = terminal
        encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
    }

    /// What comes before the first entry.
    public func begin() -> String {
        switch format {
        case .ndjson: return ""
        case .json: return "["
        case .csv: return (Self.fields + (includeMetadata ? ["metadata"] : []) + [Self.unreadableColumn]).joined(separator: ",") + "\n"
        }
    }

    /// The text of some entries that follow the ones written before.
    public mutating func entries(_ entries: [ChangeFeedEntry]) -> String {
        var out = ""
        for entry in entries { out += frame(format == .csv ? csvRow(entry) : jsonObject(entry)) }
        return out
    }

    /// The text of an element that did not decode, in its place among the entries.
    public mutating func unreadable(_ u: UnreadableEntry) -> String {
        frame(format == .csv ? csvRow(u) : jsonObject(u))
    }

    /// A page: its entries and the elements that did not decode, each where it stood.
    public mutating func page(_ entries: [ChangeFeedEntry], unreadable: [UnreadableEntry]) -> String {
        var out = ""
        var bad = unreadable[...]
        for (i, e) in entries.enumerated() {
            while let u = bad.first, u.afterEntries <= i { out += self.unreadable(u); bad = bad.dropFirst() }
            out += self.entries([e])
        }
        for u in bad { out += self.unreadable(u) }
        return out
    }

    /// One record (a JSON object or a CSV row) with what goes around it.
    private mutating func frame(_ record: String) -> String {
        defer { written += 1 }
        switch format {
        case .ndjson, .csv: return record + "\n"
        case .json: return (written == 0 ? "\n" : ",\n") + record
        }
    }

    /// What comes after the last entry.
    public func end() -> String {
        switch format {
        case .ndjson, .csv: return ""
        case .json: return written == 0 ? "]\n" : "\n]\n"
        }
    }

    // MARK: - JSON

    /// One entry as a compact JSON object; `filePath` and `metadata` are left out when absent,
    /// as the service leaves out nulls.
    public func jsonObject(_ e: ChangeFeedEntry) -> String {
        var parts: [String] = []
        parts.reserveCapacity(10)
        parts.append("\"sequence\":\(e.sequence)")
        if let p = e.partitionName { parts.append("\"partitionName\":" + json(p)) }
        if let f = e.filePath { parts.append("\"filePath\":" + json(f)) }
        parts.append("\"studyInstanceUid\":" + json(e.studyInstanceUid))
        parts.append("\"seriesInstanceUid\":" + json(e.seriesInstanceUid))
        parts.append("\"sopInstanceUid\":" + json(e.sopInstanceUid))
        parts.append("\"action\":" + json(e.action.rawValue))
        parts.append("\"timestamp\":" + json(e.timestamp.iso))
        parts.append("\"state\":" + json(e.state.rawValue))
        if includeMetadata, let m = e.metadata { parts.append("\"metadata\":" + json(m)) }
        return "{" + parts.joined(separator: ",") + "}"
    }

    /// An element that did not decode: what could be read of it, the reason, and the element as
    /// the service sent it (`raw`, when the page could be split; valid JSON, written as is).
    public func jsonObject(_ u: UnreadableEntry) -> String {
        var parts = ["\"unreadable\":true"]
        if let s = u.sequence { parts.append("\"sequence\":\(s)") }
        if let t = u.timestamp { parts.append("\"timestamp\":" + json(t.iso)) }
        if let sop = u.sopInstanceUid { parts.append("\"sopInstanceUid\":" + json(sop)) }
        parts.append("\"reason\":" + json(u.reason))
        if let raw = u.raw { parts.append("\"raw\":" + Self.escapeInvisibles(raw)) }
        return "{" + parts.joined(separator: ",") + "}"
    }

    private func json<T: Encodable>(_ value: T) -> String {
        // Strings and JSONValue always encode; an empty fallback would only hide a bug.
        guard let data = try? encoder.encode(value) else { return "null" }
        return Self.escapeInvisibles(String(decoding: data, as: UTF8.self))
    }

    /// Characters a terminal may obey or that reorder text, which JSONEncoder leaves as they are.
    static func isInvisible(_ v: UInt32) -> Bool {
        (0x7F...0x9F).contains(v) || (0x200E...0x200F).contains(v) || (0x202A...0x202E).contains(v)
            || (0x2066...0x2069).contains(v) || v == 0x2028 || v == 0x2029
    }

    /// Writes those characters as JSON `\uXXXX` escapes (inside JSON text they can only be in strings).
    static func escapeInvisibles(_ json: String) -> String {
        guard json.unicodeScalars.contains(where: { isInvisible($0.value) }) else { return json }
        var out = String.UnicodeScalarView()
        for scalar in json.unicodeScalars {
            if isInvisible(scalar.value) {
                let hex = String(scalar.value, radix: 16, uppercase: true)
                out.append(contentsOf: ("\\u" + String(repeating: "0", count: 4 - hex.count) + hex).unicodeScalars)
            } else {
                out.append(scalar)
            }
        }
        return String(out)
    }

    // MARK: - CSV

    public func csvRow(_ e: ChangeFeedEntry) -> String {
        var fields: [String] = [String(e.sequence), e.partitionName ?? "", e.filePath ?? "", e.studyInstanceUid,
                                e.seriesInstanceUid, e.sopInstanceUid, e.action.rawValue, e.timestamp.iso,
                                e.state.rawValue]
        if includeMetadata { fields.append(e.metadata.map { json($0) } ?? "") }
        fields.append("")
        return csvLine(fields)
    }

    /// An element that did not decode: the fields that could be read, the reason last.
    public func csvRow(_ u: UnreadableEntry) -> String {
        var fields: [String] = [u.sequence.map { String($0) } ?? "", "", "", "", "", u.sopInstanceUid ?? "", "",
                                u.timestamp?.iso ?? "", ""]
        if includeMetadata { fields.append("") }
        fields.append(u.reason)
        return csvLine(fields)
    }

    private func csvLine(_ values: [String]) -> String {
        (terminal ? values.map(SafeText.sanitize) : values).map(Self.csvField).joined(separator: ",")
    }

    /// RFC 4180: a field with a comma, a double quote, CR or LF is put in double quotes, and each
    /// double quote inside is doubled.
    public static func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
