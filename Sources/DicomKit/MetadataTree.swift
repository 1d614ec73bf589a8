import FeedModel

/// DICOM JSON metadata (PS3.18 F.2) as a tree flattened in pre-order, ready for a list view:
/// each attribute is a node, sequences have their items as children and items their attributes.
/// Built tolerantly: whatever does not have the expected shape becomes a `.problem` node whose
/// value says what was wrong. Values are kept on one line but not sanitized (the terminal does that).
public struct MetadataTree: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// An attribute with a value (or none): "(0010,0020) PatientID LO  12345".
        case element
        /// An SQ attribute; its children are `.item`s.
        case sequence
        /// One dataset of a sequence, "Item 1"; its children are attributes.
        case item
        /// One component group of a person name: "Alphabetic", "Ideographic" or "Phonetic".
        case nameGroup
        /// Something that is not DICOM JSON; `value` says what.
        case problem
    }

    public struct Node: Sendable, Equatable, Identifiable {
        /// The index of this node in `nodes`.
        public let id: Int
        /// 0 for the attributes of the top-level dataset.
        public let depth: Int
        public let parent: Int?
        public let kind: Kind
        /// nil for items, name groups and problems that have no tag.
        public let tag: DicomTag?
        public let keyword: String
        /// "Patient's Name", "Item 1", "Alphabetic", "Private tag", "Unknown tag"…
        public let name: String
        public let vr: String
        /// One line for the view.
        public let value: String
        /// What copying the node gives: the raw value(s) joined with `\`, a bulk data URI…
        public let copyText: String
        public let isRetired: Bool
        /// Direct children.
        public internal(set) var childCount: Int
        /// All nodes below this one; they follow it in `nodes`.
        public internal(set) var descendantCount: Int

        public var hasChildren: Bool { childCount > 0 }
    }

    /// Every node, in pre-order: a node's descendants follow it.
    public private(set) var nodes: [Node]
    /// Per node, the lowercased text that `search` looks in.
    private var haystacks: [String]

    /// Sequences nested deeper than this become a problem node (a guard against hostile input).
    public static let maximumDepth = 64

    public init() {
        nodes = []
        haystacks = []
    }

    /// Builds the tree of one dataset (a JSON object keyed by tags). A one-element array around
    /// the dataset, as WADO-RS metadata answers come, is unwrapped.
    public init(json: JSONValue) {
        self.init()
        nodes.reserveCapacity(64)
        haystacks.reserveCapacity(64)
        switch json {
        case .object(let dataset):
            addDataset(dataset, depth: 0, parent: nil, nesting: 0)
        case .array(let list) where list.count == 1:
            if case .object(let dataset) = list[0] {
                addDataset(dataset, depth: 0, parent: nil, nesting: 0)
            } else {
                addProblem(name: "Dataset", message: "expected a dataset object, got an array holding \(Self.describe(list[0]))",
                           depth: 0, parent: nil)
            }
        default:
            addProblem(name: "Dataset", message: "expected a dataset object, got \(Self.describe(json))", depth: 0, parent: nil)
        }
    }

    public var count: Int { nodes.count }
    public var isEmpty: Bool { nodes.isEmpty }
    public subscript(id: Int) -> Node { nodes[id] }

    // MARK: Navigation

    /// The ids of the nodes a list shows, in pre-order, skipping the descendants of collapsed nodes.
    public func visibleNodes(collapsed: Set<Int>) -> [Int] {
        var result: [Int] = []
        result.reserveCapacity(nodes.count)
        var i = 0
        while i < nodes.count {
            result.append(i)
            if nodes[i].hasChildren, collapsed.contains(i) {
                i += nodes[i].descendantCount + 1
            } else {
                i += 1
            }
        }
        return result
    }

    /// The ids of the nodes above `id`, outermost first (empty for a top-level node or a bad id).
    public func ancestors(of id: Int) -> [Int] {
        guard nodes.indices.contains(id) else { return [] }
        var chain: [Int] = []
        var p = nodes[id].parent
        while let q = p {
            chain.append(q)
            p = nodes[q].parent
        }
        return chain.reversed()
    }

    /// The ids, in pre-order, of the nodes whose tag ("00100010" or "(0010,0010)"), keyword,
    /// name or value contains `query`, ignoring case. An empty query finds nothing.
    public func search(_ query: String) -> [Int] {
        let needle = query.lowercased()
        guard !needle.isEmpty else { return [] }
        var hits: [Int] = []
        for (i, hay) in haystacks.enumerated() where hay.contains(needle) {
            hits.append(i)
        }
        return hits
    }

    // MARK: Summary

    /// The attributes the list view shows.
    static let summaryKeys = ["00100010", "00100020", "00080060", "00081030"]

    /// The fields the list view shows for an instance, read from the metadata as the service
    /// sent it: one pass over its top level, and a tree of only the attributes shown.
    public static func summary(of raw: RawJSON) -> MetadataSummary {
        let dataset = raw.onlyElement ?? raw
        return summary(of: .object(dataset.members(summaryKeys).mapValues(\.value)))
    }

    /// The fields the list view shows for an instance, from its tree.
    public static func summary(of json: JSONValue) -> MetadataSummary {
        var dataset = json
        if case .array(let list) = json, list.count == 1 { dataset = list[0] }
        var s = MetadataSummary(
            patientName: firstValue(dataset, "00100010"),
            patientID: firstValue(dataset, "00100020"),
            modality: firstValue(dataset, "00080060"),
            studyDescription: firstValue(dataset, "00081030"))
        if case .object(let groups)? = dataset["00100010"]?["Value"]?.arrayValue?.first {
            var joined = nameGroupKeys.map { groups[$0]?.stringValue ?? "" }.joined(separator: "=")
            while joined.hasSuffix("=") { joined.removeLast() }
            if !joined.isEmpty { s.patientNameGroups = oneLine(joined) }
        }
        return s
    }

    /// The first value of an attribute as text: for a person name its Alphabetic group (or the
    /// first group present). nil when missing, empty or not text.
    private static func firstValue(_ dataset: JSONValue, _ key: String) -> String? {
        guard case .array(let values)? = dataset[key]?["Value"], let first = values.first else { return nil }
        let text: String?
        switch first {
        case .string(let s): text = s
        case .number(let n): text = formatNumber(n)
        case .object(let groups):
            text = nameGroupKeys.lazy.compactMap { groups[$0]?.stringValue }.first { !$0.isEmpty }
        default: text = nil
        }
        guard let t = text, !t.isEmpty else { return nil }
        return oneLine(t)
    }

    // MARK: Building

    private static let nameGroupKeys = ["Alphabetic", "Ideographic", "Phonetic"]

    private mutating func addDataset(_ dataset: [String: JSONValue], depth: Int, parent: Int?, nesting: Int) {
        // Elements sort by tag; keys that are not tags go last, in text order.
        var tagged: [(DicomTag, JSONValue)] = []
        var untagged: [(String, JSONValue)] = []
        tagged.reserveCapacity(dataset.count)
        for (key, value) in dataset {
            if let tag = DicomTag(hex: key), key.utf8.count == 8 {
                tagged.append((tag, value))
            } else {
                untagged.append((key, value))
            }
        }
        tagged.sort { $0.0 < $1.0 }
        untagged.sort { $0.0 < $1.0 }
        for (tag, element) in tagged {
            addElement(tag: tag, element, depth: depth, parent: parent, nesting: nesting)
        }
        for (key, value) in untagged {
            addProblem(name: "Not a tag", message: "key \"\(Self.oneLine(key))\" is not 8 hex digits (\(Self.describe(value)))",
                       depth: depth, parent: parent)
        }
    }

    private struct Described {
        var keyword: String
        var name: String
        var vr: String
        var isRetired: Bool
    }

    private static func describe(_ tag: DicomTag) -> Described {
        guard let e = DicomDictionary.entry(for: tag) else {
            return Described(keyword: "", name: "Unknown tag", vr: "UN", isRetired: false)
        }
        return Described(keyword: e.keyword, name: e.name, vr: e.vr, isRetired: e.isRetired)
    }

    private mutating func addElement(tag: DicomTag, _ element: JSONValue, depth: Int, parent: Int?, nesting: Int) {
        var d = Self.describe(tag)
        guard case .object(let fields) = element else {
            add(kind: .problem, tag: tag, d, value: "expected an object with \"vr\", got \(Self.describe(element))",
                copy: nil, depth: depth, parent: parent)
            return
        }
        if let vr = fields["vr"] {
            guard case .string(let s) = vr else {
                add(kind: .problem, tag: tag, d, value: "\"vr\" is \(Self.describe(vr)), expected a string",
                    copy: nil, depth: depth, parent: parent)
                return
            }
            d.vr = Self.oneLine(s)
        } else if tag.isPrivate && !tag.isPrivateCreator {
            d.vr = "UN"
        }
        let valueKeys = ["Value", "BulkDataURI", "InlineBinary"].filter { fields[$0] != nil }
        let unknownKeys = fields.keys.filter { $0 != "vr" && !valueKeys.contains($0) }.sorted()
        if valueKeys.count > 1 {
            add(kind: .problem, tag: tag, d, value: "has both \(valueKeys.joined(separator: " and "))",
                copy: nil, depth: depth, parent: parent)
            return
        }
        guard let valueKey = valueKeys.first else {
            if unknownKeys.isEmpty {
                add(kind: d.vr == "SQ" ? .sequence : .element, tag: tag, d, value: "(empty)", copy: "",
                    depth: depth, parent: parent)
            } else {
                let keys = unknownKeys.map { "\"\(Self.oneLine($0))\"" }.joined(separator: ", ")
                add(kind: .problem, tag: tag, d, value: "unknown shape: no Value, BulkDataURI or InlineBinary (has \(keys))",
                    copy: nil, depth: depth, parent: parent)
            }
            return
        }
        let payload = fields[valueKey]!
        switch valueKey {
        case "BulkDataURI":
            guard case .string(let uri) = payload else {
                add(kind: .problem, tag: tag, d, value: "BulkDataURI is \(Self.describe(payload)), expected a string",
                    copy: nil, depth: depth, parent: parent)
                return
            }
            add(kind: .element, tag: tag, d, value: "BulkDataURI \(Self.oneLine(uri))", copy: uri, depth: depth, parent: parent)
        case "InlineBinary":
            guard case .string(let base64) = payload else {
                add(kind: .problem, tag: tag, d, value: "InlineBinary is \(Self.describe(payload)), expected a string",
                    copy: nil, depth: depth, parent: parent)
                return
            }
            guard let size = Self.decodedSize(base64: base64) else {
                add(kind: .problem, tag: tag, d, value: "InlineBinary is not base64 (\(base64.utf8.count) characters)",
                    copy: nil, depth: depth, parent: parent)
                return
            }
            add(kind: .element, tag: tag, d, value: "InlineBinary, \(size) \(size == 1 ? "byte" : "bytes")", copy: base64,
                depth: depth, parent: parent)
        default:
            guard case .array(let values) = payload else {
                add(kind: .problem, tag: tag, d, value: "Value is \(Self.describe(payload)), not an array",
                    copy: nil, depth: depth, parent: parent)
                return
            }
            if values.isEmpty {
                add(kind: d.vr == "SQ" ? .sequence : .element, tag: tag, d, value: "(empty)", copy: "",
                    depth: depth, parent: parent)
            } else if d.vr == "SQ" {
                addSequence(tag: tag, d, items: values, depth: depth, parent: parent, nesting: nesting)
            } else if d.vr == "PN" {
                addPersonName(tag: tag, d, values: values, depth: depth, parent: parent)
            } else {
                addValues(tag: tag, d, values: values, depth: depth, parent: parent)
            }
        }
    }

    private mutating func addSequence(tag: DicomTag, _ d: Described, items: [JSONValue], depth: Int, parent: Int?, nesting: Int) {
        let label = "\(items.count) \(items.count == 1 ? "item" : "items")"
        guard nesting < Self.maximumDepth else {
            add(kind: .problem, tag: tag, d, value: "\(label), nested too deeply to show (over \(Self.maximumDepth) sequences)",
                copy: nil, depth: depth, parent: parent)
            return
        }
        let seq = add(kind: .sequence, tag: tag, d, value: label, copy: label, depth: depth, parent: parent)
        for (i, item) in items.enumerated() {
            let itemName = "Item \(i + 1)"
            guard case .object(let dataset) = item else {
                addProblem(name: itemName, message: "expected a dataset object, got \(Self.describe(item))",
                           depth: depth + 1, parent: seq)
                continue
            }
            let count = "\(dataset.count) \(dataset.count == 1 ? "element" : "elements")"
            let itemID = add(kind: .item, tag: nil, Described(keyword: "", name: itemName, vr: "", isRetired: false),
                             value: count, copy: count, depth: depth + 1, parent: seq)
            addDataset(dataset, depth: depth + 2, parent: itemID, nesting: nesting + 1)
            finish(itemID)
        }
        finish(seq)
    }

    private mutating func addPersonName(tag: DicomTag, _ d: Described, values: [JSONValue], depth: Int, parent: Int?) {
        // Per value, its groups in PS3.18 order, as (group, text); a bare string counts as Alphabetic.
        var perValue: [[(String, String)]] = []
        for (i, v) in values.enumerated() {
            switch v {
            case .null:
                perValue.append([])
            case .string(let s):
                perValue.append([("Alphabetic", s)])
            case .object(let groups):
                var found: [(String, String)] = []
                for key in Self.nameGroupKeys {
                    guard let g = groups[key] else { continue }
                    guard case .string(let s) = g else {
                        add(kind: .problem, tag: tag, d, value: "value \(i + 1): \(key) is \(Self.describe(g)), expected a string",
                            copy: nil, depth: depth, parent: parent)
                        return
                    }
                    found.append((key, s))
                }
                if found.isEmpty, !groups.isEmpty {
                    let keys = groups.keys.sorted().map { "\"\(Self.oneLine($0))\"" }.joined(separator: ", ")
                    add(kind: .problem, tag: tag, d, value: "value \(i + 1) has no name group (has \(keys))",
                        copy: nil, depth: depth, parent: parent)
                    return
                }
                perValue.append(found)
            default:
                add(kind: .problem, tag: tag, d, value: "value \(i + 1) is \(Self.describe(v)), expected a person name object",
                    copy: nil, depth: depth, parent: parent)
                return
            }
        }
        // Inline: the Alphabetic group, else the first present. Copy: the full PN form, groups joined with "=".
        let inline = perValue.map { groups in (groups.first { $0.0 == "Alphabetic" } ?? groups.first)?.1 ?? "" }
        let copy = perValue.map { groups in
            var parts = ["", "", ""]
            for (key, s) in groups { parts[Self.nameGroupKeys.firstIndex(of: key)!] = s }
            while parts.count > 1, parts.last!.isEmpty { parts.removeLast() }
            return parts.joined(separator: "=")
        }
        let id = add(kind: .element, tag: tag, d, value: Self.oneLine(inline.joined(separator: " \\ ")),
                     copy: copy.joined(separator: "\\"), depth: depth, parent: parent)
        for (i, groups) in perValue.enumerated() where groups.count > 1 {
            for (key, s) in groups {
                let label = perValue.count > 1 ? "\(key) (value \(i + 1))" : key
                add(kind: .nameGroup, tag: nil, Described(keyword: key, name: label, vr: "PN", isRetired: false),
                    value: Self.oneLine(s), copy: s, depth: depth + 1, parent: id)
            }
        }
        finish(id)
    }

    private mutating func addValues(tag: DicomTag, _ d: Described, values: [JSONValue], depth: Int, parent: Int?) {
        var shown: [String] = []
        var raw: [String] = []
        shown.reserveCapacity(values.count)
        raw.reserveCapacity(values.count)
        for (i, v) in values.enumerated() {
            switch v {
            case .null:
                shown.append("")
                raw.append("")
            case .number(let n):
                let s = Self.formatNumber(n)
                shown.append(s)
                raw.append(s)
            case .string(let s):
                if d.vr == "AT", let at = DicomTag(hex: s), s.utf8.count == 8 {
                    shown.append(at.text)
                } else {
                    shown.append(Self.oneLine(s))
                }
                raw.append(s)
            default:
                add(kind: .problem, tag: tag, d, value: "value \(i + 1) is \(Self.describe(v)), expected a string or number",
                    copy: nil, depth: depth, parent: parent)
                return
            }
        }
        add(kind: .element, tag: tag, d, value: shown.joined(separator: " \\ "), copy: raw.joined(separator: "\\"),
            depth: depth, parent: parent)
    }

    private mutating func addProblem(name: String, message: String, depth: Int, parent: Int?) {
        add(kind: .problem, tag: nil, Described(keyword: "", name: name, vr: "", isRetired: false), value: message,
            copy: nil, depth: depth, parent: parent)
    }

    /// Appends a node (its parent's counts are updated when the parent is finished) and returns its id.
    @discardableResult
    private mutating func add(kind: Kind, tag: DicomTag?, _ d: Described, value: String, copy: String?,
                              depth: Int, parent: Int?) -> Int {
        let id = nodes.count
        nodes.append(Node(id: id, depth: depth, parent: parent, kind: kind, tag: tag, keyword: d.keyword, name: d.name,
                          vr: d.vr, value: value, copyText: copy ?? value, isRetired: d.isRetired,
                          childCount: 0, descendantCount: 0))
        var hay = ""
        if let tag {
            hay = tag.hex + "\n" + tag.text + "\n"
        }
        hay += d.keyword + "\n" + d.name + "\n" + value
        haystacks.append(hay.lowercased())
        return id
    }

    /// Records the children and descendants of `id`, all appended since it was.
    private mutating func finish(_ id: Int) {
        nodes[id].descendantCount = nodes.count - id - 1
        var children = 0
        var i = id + 1
        while i < nodes.count {
            children += 1
            i += nodes[i].descendantCount + 1
        }
        nodes[id].childCount = children
    }

    // MARK: Formatting

    /// Integral numbers without ".0"; others in the shortest form that reads back the same.
    static func formatNumber(_ n: Double) -> String {
        if n.isFinite, n == n.rounded(), abs(n) < 1e15 {
            return String(Int64(n))
        }
        return String(n)
    }

    /// Line breaks become " ⏎ " so that a value stays on one line.
    static func oneLine(_ s: String) -> String {
        guard s.utf8.contains(where: { $0 == 0x0A || $0 == 0x0D }) else { return s }
        var out = ""
        out.reserveCapacity(s.utf8.count + 8)
        var lastWasBreak = false
        for ch in s {
            if ch == "\n" || ch == "\r" || ch == "\r\n" {
                if !lastWasBreak { out += " ⏎ " }
                lastWasBreak = true
            } else {
                out.append(ch)
                lastWasBreak = false
            }
        }
        return out
    }

    /// The decoded size of base64 text, or nil when it is not base64. Whitespace is ignored.
    static func decodedSize(base64: String) -> Int? {
        var symbols = 0
        var padding = 0
        for byte in base64.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "+"), UInt8(ascii: "/"),
                 UInt8(ascii: "-"), UInt8(ascii: "_"):
                guard padding == 0 else { return nil }
                symbols += 1
            case UInt8(ascii: "="):
                padding += 1
            case 0x20, 0x09, 0x0A, 0x0D:
                continue
            default:
                return nil
            }
        }
        guard padding <= 2, symbols % 4 != 1, padding == 0 || (symbols + padding) % 4 == 0 else { return nil }
        return symbols * 3 / 4
    }

    static func describe(_ v: JSONValue) -> String {
        switch v {
        case .null: return "null"
        case .bool: return "a boolean"
        case .number: return "a number"
        case .string: return "a string"
        case .array(let a): return "an array of \(a.count)"
        case .object: return "an object"
        }
    }
}

/// What the list view shows of an instance's metadata.
public struct MetadataSummary: Sendable, Equatable {
    /// The Alphabetic group of (0010,0010), else its first group present.
    public var patientName: String?
    /// Every group of (0010,0010) in DICOM's own form, `Yamada^Tarou=山田^太郎=やまだ^たろう`
    /// (what a search by any script should look in).
    public var patientNameGroups: String?
    public var patientID: String?
    public var modality: String?
    public var studyDescription: String?

    public init(patientName: String? = nil, patientID: String? = nil, modality: String? = nil, studyDescription: String? = nil) {
        self.patientName = patientName
        self.patientID = patientID
        self.modality = modality
        self.studyDescription = studyDescription
    }
}
