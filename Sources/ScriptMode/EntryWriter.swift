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

/// Turns entries into bytes, in pieces that can be written as they come: `begin`, `page` (or
/// `entry`) for each page, `end`, each appending to a buffer the caller reuses and writes out
/// in large writes. (The `String` forms are for tests and small uses.) Field names and values are the service's
/// (camelCase names, `Create`, `Current`); timestamps are the service's instant to the 100 ns
/// tick, written in UTC with all 7 fraction digits (`2024-03-04T10:19:39.8097270Z`).
///
/// An element of a page that did not decode is written too, in its place, never dropped:
/// JSON and NDJSON as `{"unreadable":true,"sequence":…,"timestamp":…,"sopInstanceUid":…,
/// "reason":…,"raw":{…}}` (the fields that could be read, why the rest could not, and the
/// element as the service sent it); CSV as a row with what could be read and the reason in the
/// last column, `unreadable`.
///
/// Metadata goes through as the service sent it (`RawJSON`): compacted onto one line, its
/// escapes and numbers as they were.
///
/// Text from the service never reaches a terminal as control sequences: JSON escapes C1
/// controls, bidirectional overrides and line separators as `\uXXXX` (the same data, still
/// valid JSON; see `JSONText`), and with `terminal` (stdout is a TTY) CSV fields show control characters as
/// visible placeholders; piped CSV keeps the values as the service sent them.
public struct EntryWriter {
    public let format: EntryFormat
    public let includeMetadata: Bool
    /// Stdout is a terminal: CSV values are made safe to show.
    public let terminal: Bool
    private var written = 0

    /// The columns of the CSV header, and the keys of each JSON object, in this order.
    public static let fields = ["sequence", "partitionName", "filePath", "studyInstanceUid", "seriesInstanceUid",
                                "sopInstanceUid", "action", "timestamp", "state"]
    /// The last CSV column: empty for an entry, the reason for an element that did not decode.
    public static let unreadableColumn = "unreadable"

    public init(format: EntryFormat, includeMetadata: Bool, terminal: Bool = false) {
        self.format = format
        self.includeMetadata = includeMetadata
        self.terminal = terminal
    }

    /// What comes before the first entry.
    public func begin(into out: inout [UInt8]) {
        switch format {
        case .ndjson: break
        case .json: out.append(0x5B)
        case .csv:
            let names = Self.fields + (includeMetadata ? ["metadata"] : []) + [Self.unreadableColumn]
            out.append(contentsOf: names.joined(separator: ",").utf8)
            out.append(0x0A)
        }
    }

    /// One entry, after the ones written before.
    public mutating func entry(_ e: ChangeFeedEntry, into out: inout [UInt8]) {
        startRecord(&out)
        if format == .csv { csvRow(e, into: &out) } else { jsonObject(e, into: &out) }
        endRecord(&out)
    }

    /// An element that did not decode, in its place among the entries.
    public mutating func unreadable(_ u: UnreadableEntry, into out: inout [UInt8]) {
        startRecord(&out)
        if format == .csv { csvRow(u, into: &out) } else { jsonObject(u, into: &out) }
        endRecord(&out)
    }

    /// A page: its entries and the elements that did not decode, each where it stood.
    public mutating func page(_ entries: [ChangeFeedEntry], unreadable: [UnreadableEntry], into out: inout [UInt8]) {
        walkPage(entries, unreadable, entry: { _, e in entry(e, into: &out) },
                 unreadable: { u, _ in self.unreadable(u, into: &out) })
    }

    /// What goes before a record: in a JSON array, the separator (each element on a line of its own).
    private mutating func startRecord(_ out: inout [UInt8]) {
        if format == .json {
            if written > 0 { out.append(0x2C) }
            out.append(0x0A)
        }
        written += 1
    }

    /// What goes after a record: a line end (in a JSON array, the next separator brings it).
    private func endRecord(_ out: inout [UInt8]) {
        if format != .json { out.append(0x0A) }
    }

    /// What comes after the last entry.
    public func end(into out: inout [UInt8]) {
        guard format == .json else { return }
        out.append(contentsOf: (written == 0 ? "]\n" : "\n]\n").utf8)
    }

    // MARK: - The same as text

    public func begin() -> String { text { begin(into: &$0) } }
    public mutating func entries(_ entries: [ChangeFeedEntry]) -> String {
        var out: [UInt8] = []
        for e in entries { entry(e, into: &out) }
        return String(decoding: out, as: UTF8.self)
    }
    public mutating func unreadable(_ u: UnreadableEntry) -> String {
        var out: [UInt8] = []
        unreadable(u, into: &out)
        return String(decoding: out, as: UTF8.self)
    }
    public func end() -> String { text { end(into: &$0) } }
    public func jsonObject(_ e: ChangeFeedEntry) -> String { text { jsonObject(e, into: &$0) } }
    public func jsonObject(_ u: UnreadableEntry) -> String { text { jsonObject(u, into: &$0) } }

    private func text(_ write: (inout [UInt8]) -> Void) -> String {
        var out: [UInt8] = []
        write(&out)
        return String(decoding: out, as: UTF8.self)
    }

    // MARK: - JSON

    private static func key(_ name: StaticString, _ out: inout [UInt8], first: Bool = false) {
        if !first { out.append(0x2C) }
        out.append(contentsOf: UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
    }

    /// One entry as a compact JSON object; `filePath` and `metadata` are left out when absent,
    /// as the service leaves out nulls.
    public func jsonObject(_ e: ChangeFeedEntry, into out: inout [UInt8]) {
        Self.key("{\"sequence\":", &out, first: true)
        out.append(contentsOf: String(e.sequence).utf8)
        if let p = e.partitionName { Self.key("\"partitionName\":", &out); JSONText.appendString(p, to: &out) }
        if let f = e.filePath { Self.key("\"filePath\":", &out); JSONText.appendString(f, to: &out) }
        Self.key("\"studyInstanceUid\":", &out); JSONText.appendString(e.studyInstanceUid, to: &out)
        Self.key("\"seriesInstanceUid\":", &out); JSONText.appendString(e.seriesInstanceUid, to: &out)
        Self.key("\"sopInstanceUid\":", &out); JSONText.appendString(e.sopInstanceUid, to: &out)
        Self.key("\"action\":\"", &out); out.append(contentsOf: e.action.rawValue.utf8); out.append(0x22)
        Self.key("\"timestamp\":\"", &out); e.timestamp.appendISO(to: &out); out.append(0x22)
        Self.key("\"state\":\"", &out); out.append(contentsOf: e.state.rawValue.utf8); out.append(0x22)
        if includeMetadata, let m = e.metadata { Self.key("\"metadata\":", &out); JSONText.appendCompact(m, to: &out) }
        out.append(0x7D)
    }

    /// An element that did not decode: what could be read of it, the reason, and the element as
    /// the service sent it (`raw`, when the page could be split; valid JSON, compacted).
    public func jsonObject(_ u: UnreadableEntry, into out: inout [UInt8]) {
        Self.key("{\"unreadable\":true", &out, first: true)
        if let s = u.sequence { Self.key("\"sequence\":", &out); out.append(contentsOf: String(s).utf8) }
        if let t = u.timestamp { Self.key("\"timestamp\":\"", &out); t.appendISO(to: &out); out.append(0x22) }
        if let sop = u.sopInstanceUid { Self.key("\"sopInstanceUid\":", &out); JSONText.appendString(sop, to: &out) }
        Self.key("\"reason\":", &out); JSONText.appendString(u.reason, to: &out)
        if let text = u.raw, let raw = RawJSON(parsing: Data(text.utf8)) {
            Self.key("\"raw\":", &out)
            JSONText.appendCompact(raw, to: &out)
        } else if let text = u.raw {
            // Not JSON on its own (cannot happen for an element of a page): kept as a string.
            Self.key("\"raw\":", &out)
            JSONText.appendString(text, to: &out)
        }
        out.append(0x7D)
    }

    // MARK: - CSV

    public func csvRow(_ e: ChangeFeedEntry) -> String { text { csvRow(e, into: &$0) } }
    public func csvRow(_ u: UnreadableEntry) -> String { text { csvRow(u, into: &$0) } }

    public func csvRow(_ e: ChangeFeedEntry, into out: inout [UInt8]) {
        out.append(contentsOf: String(e.sequence).utf8)
        for text in [e.partitionName ?? "", e.filePath ?? "", e.studyInstanceUid, e.seriesInstanceUid, e.sopInstanceUid] {
            out.append(0x2C)
            csvField(text, into: &out)
        }
        out.append(0x2C); out.append(contentsOf: e.action.rawValue.utf8)
        out.append(0x2C); e.timestamp.appendISO(to: &out)
        out.append(0x2C); out.append(contentsOf: e.state.rawValue.utf8)
        if includeMetadata {
            out.append(0x2C)
            if let m = e.metadata {
                // Compact JSON: its escapes keep it on one line and safe on a terminal.
                var json: [UInt8] = []
                JSONText.appendCompact(m, to: &json)
                if json.contains(where: Self.needsQuotes) { Self.appendQuoted(json, to: &out) } else { out.append(contentsOf: json) }
            }
        }
        out.append(0x2C)   // the unreadable column, empty for an entry
    }

    /// An element that did not decode: the fields that could be read, the reason last.
    public func csvRow(_ u: UnreadableEntry, into out: inout [UInt8]) {
        var fields: [String] = [u.sequence.map { String($0) } ?? "", "", "", "", "", u.sopInstanceUid ?? "", "",
                                u.timestamp?.iso ?? "", ""]
        if includeMetadata { fields.append("") }
        fields.append(u.reason)
        csvLine(fields, into: &out)
    }

    private func csvLine(_ values: [String], into out: inout [UInt8]) {
        for (i, v) in values.enumerated() {
            if i > 0 { out.append(0x2C) }
            csvField(v, into: &out)
        }
    }

    /// One value from the service, made safe to show on a terminal when stdout is one, then
    /// quoted as RFC 4180 says.
    private func csvField(_ text: String, into out: inout [UInt8]) {
        var text = terminal ? SafeText.sanitize(text) : text
        text.withUTF8 { bytes in
            if bytes.contains(where: Self.needsQuotes) { Self.appendQuoted(bytes, to: &out) } else { out.append(contentsOf: bytes) }
        }
    }

    private static func needsQuotes(_ c: UInt8) -> Bool { c == 0x2C || c == 0x22 || c == 0x0A || c == 0x0D }

    private static func appendQuoted<C: Collection<UInt8>>(_ bytes: C, to out: inout [UInt8]) {
        out.append(0x22)
        for c in bytes {
            out.append(c)
            if c == 0x22 { out.append(0x22) }
        }
        out.append(0x22)
    }

    /// RFC 4180: a field with a comma, a double quote, CR or LF is put in double quotes, and each
    /// double quote inside is doubled.
    public static func csvField(_ text: String) -> String {
        var out: [UInt8] = []
        let bytes = Array(text.utf8)
        if bytes.contains(where: needsQuotes) { appendQuoted(bytes, to: &out) } else { out = bytes }
        return String(decoding: out, as: UTF8.self)
    }
}
