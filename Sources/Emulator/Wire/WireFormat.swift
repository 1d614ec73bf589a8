import FeedModel

/// How entries are written on the wire.
///
/// The defaults write every entry the same way (camelCase keys, C#-cased enum names, 7-digit
/// `+00:00` timestamps, one partition). `variations` mixes in, row by row, the other forms the
/// service or its documentation may use; each row's form is drawn from the store's seed and
/// the row's sequence, so a row reads the same on every request.
public struct WireFormat: Sendable, Hashable {
    /// `\uXXXX` for non-ASCII and HTML-sensitive characters, as System.Text.Json's default
    /// encoder writes them (the service leaves `Encoder` null). False writes raw UTF-8.
    public var escapeNonASCII: Bool
    /// False: always 7 fraction digits (`…08.1234500+00:00`). True: trailing zeros trimmed
    /// (`…08.12345+00:00`, `…08+00:00`), as System.Text.Json does for DateTimeOffset.
    public var trimTimestampFraction: Bool
    /// The partition of every row; with `.partitions`, the partition of most studies.
    public var partitionName: String
    /// Which other forms to mix in.
    public var variations: WireVariations

    public init(escapeNonASCII: Bool = true, trimTimestampFraction: Bool = false,
                partitionName: String = "Microsoft.Default", variations: WireVariations = []) {
        self.escapeNonASCII = escapeNonASCII
        self.trimTimestampFraction = trimTimestampFraction
        self.partitionName = partitionName
        self.variations = variations
    }

    /// Every variation, with trimmed fractions (as System.Text.Json writes them).
    public static let realistic = WireFormat(trimTimestampFraction: true, variations: .all)

    /// The partitions `.partitions` spreads studies over, after `partitionName`.
    public static let otherPartitionNames = ["cardiology", "teaching_files"]
}

/// Forms of an entry that a client must read as the same entry. Each one applies to a share
/// of the rows, chosen per row from the seed.
public struct WireVariations: OptionSet, Sendable, Hashable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    /// A quarter of the rows with PascalCase keys (`"Sequence"`, `"StudyInstanceUid"`), as the docs' samples.
    public static let pascalCaseKeys = WireVariations(rawValue: 1 << 0)
    /// Some `action` and `state` values in lower case (`"create"`, `"current"`), as the docs and swagger show.
    public static let lowerCaseEnums = WireVariations(rawValue: 1 << 1)
    /// Some `action` and `state` values as enum numbers (Create 0, Delete 1, Update 2;
    /// Current 0, Replaced 1, Deleted 2).
    public static let numericEnums = WireVariations(rawValue: 1 << 2)
    /// Some timestamps with `Z`, and some in another zone (`+09:00`, `-05:00`): the same instant.
    public static let zones = WireVariations(rawValue: 1 << 3)
    /// Now and then one ordinary ASCII character of the study UID written as `\u00XX`.
    public static let asciiEscapes = WireVariations(rawValue: 1 << 4)
    /// Studies spread over three partitions (`partitionName`, then `WireFormat.otherPartitionNames`).
    public static let partitions = WireVariations(rawValue: 1 << 5)
    /// `filePath` (`DICOM/<partition>/<watermark>_<instance>.dcm`, as with an external store) on some rows.
    public static let filePaths = WireVariations(rawValue: 1 << 6)

    public static let all: WireVariations = [.pascalCaseKeys, .lowerCaseEnums, .numericEnums, .zones,
                                             .asciiEscapes, .partitions, .filePaths]
}

// MARK: - Writing entries

/// The keys of an entry in one casing, each with the punctuation before it.
struct EntryKeys {
    let sequence: StaticString
    let partitionName: StaticString
    let filePath: StaticString
    let studyInstanceUid: StaticString
    let seriesInstanceUid: StaticString
    let sopInstanceUid: StaticString
    let action: StaticString
    let timestamp: StaticString
    let state: StaticString
    let metadata: StaticString

    static let camel = EntryKeys(
        sequence: "{\"sequence\":", partitionName: ",\"partitionName\":", filePath: ",\"filePath\":",
        studyInstanceUid: ",\"studyInstanceUid\":", seriesInstanceUid: ",\"seriesInstanceUid\":",
        sopInstanceUid: ",\"sopInstanceUid\":", action: ",\"action\":", timestamp: ",\"timestamp\":",
        state: ",\"state\":", metadata: ",\"metadata\":")
    static let pascal = EntryKeys(
        sequence: "{\"Sequence\":", partitionName: ",\"PartitionName\":", filePath: ",\"FilePath\":",
        studyInstanceUid: ",\"StudyInstanceUid\":", seriesInstanceUid: ",\"SeriesInstanceUid\":",
        sopInstanceUid: ",\"SopInstanceUid\":", action: ",\"Action\":", timestamp: ",\"Timestamp\":",
        state: ",\"State\":", metadata: ",\"Metadata\":")
}

/// How one enum value is spelled.
enum EnumSpelling { case csharp, lowerCase, number }

/// How a row with a persistent defect is broken.
enum RowDefect { case unknownAction, unknownState, timestampWithoutZone }

/// Every per-row choice of the wire form.
struct RowStyle {
    var keys = EntryKeys.camel
    var action = EnumSpelling.csharp
    var state = EnumSpelling.csharp
    var zone = FeedTime.Zone.utcOffset
    /// Index (in UTF-8 bytes) of the study UID's character written as `\u00XX`.
    var escapedStudyCharacter: Int?
    var partitionName: String
    var filePath: String?
    var defect: RowDefect?

    /// The style of a row: fixed by the seed and the row's sequence (the partition by its study).
    init(_ r: RowSnapshot, format: WireFormat, seed: UInt64) {
        partitionName = format.partitionName
        let v = format.variations
        if v.contains(.partitions) {
            var study = SplitMix64(seed: SplitMix64.mix(seed ^ 0x9A27_0000_0000_0000 ^ UInt64(UInt32(bitPattern: r.studyIndex))))
            let p = study.unit()
            if p >= 0.6 { partitionName = WireFormat.otherPartitionNames[p < 0.85 ? 0 : 1] }
        }
        guard !v.isEmpty || r.row.isUnreadable else { return }
        var h = SplitMix64(seed: SplitMix64.mix(seed ^ 0x57E1_0000_0000_0000 ^ (UInt64(bitPattern: r.row.sequence) &* 0x2545_F491_4F6C_DD1D)))
        if v.contains(.pascalCaseKeys) && h.unit() < 0.25 { keys = .pascal }
        action = Self.spelling(&h, v)
        state = Self.spelling(&h, v)
        if v.contains(.zones) {
            let p = h.unit()
            zone = p < 0.7 ? .utcOffset : p < 0.8 ? .zulu : p < 0.9 ? .offset(minutes: 9 * 60) : .offset(minutes: -5 * 60)
        }
        if v.contains(.asciiEscapes) && h.unit() < 0.1 {
            escapedStudyCharacter = h.below(max(1, r.studyUID.utf8.count))
        }
        if v.contains(.filePaths) && h.unit() < 0.4 {
            filePath = "DICOM/" + partitionName + "/" + String(r.row.originalWatermark) + "_" + String(r.row.instance + 1) + ".dcm"
        }
        if r.row.isUnreadable {
            defect = [RowDefect.unknownAction, .unknownState, .timestampWithoutZone][h.below(3)]
        }
    }

    private static func spelling(_ h: inout SplitMix64, _ v: WireVariations) -> EnumSpelling {
        let p = h.unit()
        if v.contains(.lowerCaseEnums) && p < 0.25 { return .lowerCase }
        if v.contains(.numericEnums) && p >= 0.85 { return .number }
        return .csharp
    }
}

extension ChangeFeedStore {
    /// Writes one entry object. `broken` is `InjectedFault.badEntry`'s form: `sequence` as a
    /// string, no `studyInstanceUid` and no metadata.
    func encode(_ r: RowSnapshot, into w: inout JSONWriter, format: WireFormat, bulkDataBase: String, broken: Bool = false) {
        let style = RowStyle(r, format: format, seed: seed)
        let keys = style.keys
        w.raw(keys.sequence)
        if broken { w.byte(34) }
        w.int(r.row.sequence)
        if broken { w.byte(34) }
        w.raw(keys.partitionName)
        w.string(style.partitionName)
        if let path = style.filePath {
            w.raw(keys.filePath)
            w.string(path)
        }
        if !broken {
            w.raw(keys.studyInstanceUid)
            if let k = style.escapedStudyCharacter {
                w.string(r.studyUID, escapingASCIIAt: k)
            } else {
                w.string(r.studyUID)
            }
        }
        w.raw(keys.seriesInstanceUid)
        w.string(r.seriesUID)
        w.raw(keys.sopInstanceUid)
        w.string(r.sopUID)

        w.raw(keys.action)
        if style.defect == .unknownAction {
            w.raw("\"Archive\"")
        } else {
            switch style.action {
            case .csharp: w.raw(r.row.action == 0 ? "\"Create\"" : r.row.action == 1 ? "\"Delete\"" : "\"Update\"")
            case .lowerCase: w.raw(r.row.action == 0 ? "\"create\"" : r.row.action == 1 ? "\"delete\"" : "\"update\"")
            case .number: w.int(Int64(r.row.action))
            }
        }
        w.raw(keys.timestamp)
        w.byte(34)
        FeedTime.write(r.row.ticks, into: &w, trimFraction: format.trimTimestampFraction,
                       zone: style.defect == .timestampWithoutZone ? .missing : style.zone)
        w.byte(34)
        w.raw(keys.state)
        if style.defect == .unknownState {
            w.raw("\"Purged\"")
        } else {
            let number: Int64 = r.state == .current ? 0 : r.state == .replaced ? 1 : 2
            switch style.state {
            case .csharp: w.raw(number == 0 ? "\"Current\"" : number == 1 ? "\"Replaced\"" : "\"Deleted\"")
            case .lowerCase: w.raw(number == 0 ? "\"current\"" : number == 1 ? "\"replaced\"" : "\"deleted\"")
            case .number: w.int(number)
            }
        }
        if !broken, let inst = r.instance {
            w.raw(keys.metadata)
            DicomMetadata.write(inst, seed: seed, bulkDataBase: bulkDataBase, into: &w)
        }
        w.byte(125)
    }
}
