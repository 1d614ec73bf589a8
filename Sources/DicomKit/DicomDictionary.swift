/// What the data dictionary says about one tag.
public struct DictionaryEntry: Sendable, Equatable {
    /// The tag asked about (for a repeating-group element, the concrete tag, not the mask).
    public let tag: DicomTag
    /// "PatientName"; empty for elements PS3.6 gives no keyword, and for plain private elements.
    public let keyword: String
    /// "Patient's Name".
    public let name: String
    /// "PN"; some elements allow several ("US or SS"), plain private elements are "UN".
    public let vr: String
    /// Value multiplicity: "1", "1-n", "2-2n"…
    public let vm: String
    public let isRetired: Bool

    public init(tag: DicomTag, keyword: String, name: String, vr: String, vm: String, isRetired: Bool) {
        self.tag = tag
        self.keyword = keyword
        self.name = name
        self.vr = vr
        self.vm = vm
        self.isRetired = isRetired
    }
}

/// The DICOM data dictionary (PS3.6), generated from pydicom's copy (see DictionaryData.swift).
///
/// Lookup order: an exact public element; a group length (gggg,0000); a private creator
/// (odd gggg,0010–00FF) or other private element; a repeating-group element (50xx, 60xx, 7Fxx,
/// 1000xxx0…). A public tag found nowhere gives nil ("Unknown tag" in the tree).
public enum DicomDictionary {
    public static func entry(for tag: DicomTag) -> DictionaryEntry? {
        let table = Table.shared
        if let row = table.exact[tag.value] { return row.entry(tag) }
        if tag.isGroupLength {
            // Group lengths other than those of groups 0000 and 0002 are retired (PS3.5 7.2).
            return DictionaryEntry(tag: tag, keyword: "GroupLength", name: "Group Length", vr: "UL", vm: "1", isRetired: true)
        }
        if tag.isPrivate {
            if tag.isPrivateCreator {
                return DictionaryEntry(tag: tag, keyword: "PrivateCreator", name: "Private Creator", vr: "LO", vm: "1", isRetired: false)
            }
            return DictionaryEntry(tag: tag, keyword: "", name: "Private tag", vr: "UN", vm: "1-n", isRetired: false)
        }
        for r in table.repeaters where tag.value & r.mask == r.bits {
            return r.row.entry(tag)
        }
        return nil
    }

    /// The tag of a keyword ("PatientName" → (0010,0010)). A repeating-group keyword gives the
    /// first group of its range ("OverlayData" → (6000,3000)).
    public static func tag(forKeyword keyword: String) -> DicomTag? {
        Table.shared.byKeyword[keyword].map(DicomTag.init)
    }

    /// The number of dictionary entries: public elements plus repeating-group masks.
    public static var count: Int { Table.shared.exact.count + Table.shared.repeaters.count }

    /// Where the generated data came from, "pydicom 3.0.2".
    public static var sourceVersion: String { DictionaryData.sourceVersion }

    struct Row: Sendable {
        let keyword: String
        let name: String
        let vr: String
        let vm: String
        let isRetired: Bool

        func entry(_ tag: DicomTag) -> DictionaryEntry {
            DictionaryEntry(tag: tag, keyword: keyword, name: name, vr: vr, vm: vm, isRetired: isRetired)
        }
    }

    struct Repeater: Sendable {
        /// 1-bits where the mask has a hex digit, 0-bits where it has 'x'.
        let mask: UInt32
        let bits: UInt32
        let row: Row
    }

    /// The parsed dictionary, built once on first use (a `static let` is initialized lazily and
    /// thread-safely).
    final class Table: Sendable {
        static let shared = Table()

        let exact: [UInt32: Row]
        let repeaters: [Repeater]
        let byKeyword: [String: UInt32]

        init() {
            var exact: [UInt32: Row] = [:]
            var byKeyword: [String: UInt32] = [:]
            exact.reserveCapacity(5200)
            byKeyword.reserveCapacity(5200)
            Table.parse(DictionaryData.exact) { tag, row in
                guard case .exact(let value) = tag else { return }
                exact[value] = row
                if !row.keyword.isEmpty, byKeyword[row.keyword] == nil { byKeyword[row.keyword] = value }
            }
            var repeaters: [Repeater] = []
            Table.parse(DictionaryData.repeaters) { tag, row in
                guard case .masked(let mask, let bits) = tag else { return }
                repeaters.append(Repeater(mask: mask, bits: bits, row: row))
                if !row.keyword.isEmpty, byKeyword[row.keyword] == nil { byKeyword[row.keyword] = bits }
            }
            // Most specific mask first, so that an overlap (none today) resolves to the narrower one.
            repeaters.sort { $0.mask.nonzeroBitCount > $1.mask.nonzeroBitCount }
            self.exact = exact
            self.repeaters = repeaters
            self.byKeyword = byKeyword
        }

        enum ParsedTag { case exact(UInt32), masked(mask: UInt32, bits: UInt32) }

        static func parse(_ text: String, _ add: (ParsedTag, Row) -> Void) {
            for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
                let f = line.split(separator: "\t", omittingEmptySubsequences: false)
                guard f.count >= 5, let tag = parseTag(f[0]) else { continue }
                let row = Row(keyword: String(f[3]), name: String(f[4]), vr: String(f[1]), vm: String(f[2]),
                              isRetired: f.count > 5 && f[5] == "R")
                add(tag, row)
            }
        }

        static func parseTag(_ s: Substring) -> ParsedTag? {
            guard s.utf8.count == 8 else { return nil }
            var mask: UInt32 = 0
            var bits: UInt32 = 0
            for byte in s.utf8 {
                mask <<= 4
                bits <<= 4
                if byte == UInt8(ascii: "x") { continue }
                guard let n = DicomTag.nibble(byte) else { return nil }
                mask |= 0xF
                bits |= UInt32(n)
            }
            return mask == 0xFFFF_FFFF ? .exact(bits) : .masked(mask: mask, bits: bits)
        }
    }
}
