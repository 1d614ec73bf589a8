/// The compact in-memory model behind the feed: patients, studies, series, instances and
/// change rows. Only identifiers and small numbers are stored; DICOM metadata is rebuilt on
/// demand from these records and the seed (see `DicomMetadata`).

struct PatientRecord: Sendable {
    /// Index into `NamePools.families` / `NamePools.givens`.
    var family: UInt16
    var given: UInt16
    var id: UInt32
    var birthDays: Int32   // days since 1970-01-01
}

struct StudyRecord: Sendable {
    var patient: Int32
    var uid: String
    var ticks: Int64
    var accession: UInt32
    var modality: UInt8
    var description: UInt8
    var physician: UInt8
    /// An earlier study of the same patient (ReferencedStudySequence), or -1.
    var priorStudy: Int32
}

struct SeriesRecord: Sendable {
    var study: Int32
    var uid: String
    var number: Int32
    var description: UInt8
    /// Generated instances of a series are contiguous: instance `n` is `firstInstance + n - 1`.
    var firstInstance: Int32
    var generatedCount: Int32
    var plannedCount: Int32
}

struct InstanceRecord: Sendable {
    var series: Int32
    var number: Int32
    /// The watermark every change row of this instance points at; 0 means NULL (deleted).
    var currentWatermark: Int64
    /// How many updates (bulk update) this instance has had; feeds the metadata.
    var version: Int32
}

/// One row of the change feed. `originalWatermark` against the instance's current watermark
/// gives the row's state.
struct ChangeRow: Sendable {
    var sequence: Int64
    var ticks: Int64
    var instance: Int32
    var action: UInt8   // 0 create, 1 delete, 2 update (the service's enum numbers)
    var flags: UInt8    // pendingFlag, unreadableFlag
    var originalWatermark: Int64

    /// The row's transaction has not committed: readers do not see it, nor its effect.
    static let pendingFlag: UInt8 = 1
    /// The wire always writes this row in a form no client can decode (its sequence stays readable).
    static let unreadableFlag: UInt8 = 2

    var isPending: Bool { flags & Self.pendingFlag != 0 }
    var isUnreadable: Bool { flags & Self.unreadableFlag != 0 }
}

/// An instance's watermark and metadata version, as someone sees it.
struct InstanceView: Sendable, Equatable {
    var watermark: Int64
    var version: Int32

    init(_ record: InstanceRecord) {
        watermark = record.currentWatermark
        version = record.version
    }
}

/// An instance with uncommitted rows: what it was before the first of them, and the effect
/// of each of its rows since (in sequence order). Readers see the effect of the last
/// committed one. (In SQL a second change to the instance would wait for the first one's
/// lock; the emulator lets them overlap and shows whichever committed last in sequence order.)
struct PendingJournal: Sendable {
    var base: InstanceView
    var changes: [(row: Int, after: InstanceView)] = []
}

struct NamePart: Sendable {
    var alphabetic: String
    var ideographic: String?
    var phonetic: String?
    /// "M" or "F" for given names.
    var sex: String
}

enum NamePools {
    /// Families 0..<japaneseFamilies have ideographic and phonetic forms.
    static let japaneseFamilies = 5
    static let japaneseGivens = 5
    static let families: [NamePart] = [
        NamePart(alphabetic: "Yamada", ideographic: "山田", phonetic: "やまだ", sex: ""),
        NamePart(alphabetic: "Suzuki", ideographic: "鈴木", phonetic: "すずき", sex: ""),
        NamePart(alphabetic: "Tanaka", ideographic: "田中", phonetic: "たなか", sex: ""),
        NamePart(alphabetic: "Satou", ideographic: "佐藤", phonetic: "さとう", sex: ""),
        NamePart(alphabetic: "Takahashi", ideographic: "高橋", phonetic: "たかはし", sex: ""),
        NamePart(alphabetic: "Müller", sex: ""),
        NamePart(alphabetic: "Smith", sex: ""),
        NamePart(alphabetic: "O'Brien", sex: ""),
        NamePart(alphabetic: "Núñez", sex: ""),
        NamePart(alphabetic: "Ødegård", sex: ""),
        NamePart(alphabetic: "Lefèvre", sex: ""),
        NamePart(alphabetic: "Kowalski", sex: ""),
        NamePart(alphabetic: "Nguyen", sex: ""),
        NamePart(alphabetic: "van der Berg", sex: ""),
    ]
    static let givens: [NamePart] = [
        NamePart(alphabetic: "Tarou", ideographic: "太郎", phonetic: "たろう", sex: "M"),
        NamePart(alphabetic: "Hanako", ideographic: "花子", phonetic: "はなこ", sex: "F"),
        NamePart(alphabetic: "Ichirou", ideographic: "一郎", phonetic: "いちろう", sex: "M"),
        NamePart(alphabetic: "Yuki", ideographic: "由紀", phonetic: "ゆき", sex: "F"),
        NamePart(alphabetic: "Kenji", ideographic: "健二", phonetic: "けんじ", sex: "M"),
        NamePart(alphabetic: "José", sex: "M"),
        NamePart(alphabetic: "John", sex: "M"),
        NamePart(alphabetic: "Seán", sex: "M"),
        NamePart(alphabetic: "Zoë", sex: "F"),
        NamePart(alphabetic: "Åse", sex: "F"),
        NamePart(alphabetic: "Hélène", sex: "F"),
        NamePart(alphabetic: "Anna", sex: "F"),
        NamePart(alphabetic: "Łukasz", sex: "M"),
    ]
    static let physicians: [String] = [
        "House^Gregory^^Dr", "Schneider^Eva^^Dr.med.", "Kimura^Akira", "Okafor^Chidi^^Dr", "Rossi^Giulia",
    ]
    static let manufacturers: [String] = ["SIEMENS", "GE MEDICAL SYSTEMS", "Philips", "CANON_MEC", "FUJIFILM Corporation"]
}

struct ProcedureCode: Sendable {
    var value: String
    var scheme: String
    var meaning: String
}

struct ModalityInfo: Sendable {
    var code: String
    var sopClass: String
    var studyDescriptions: [String]
    var seriesDescriptions: [String]
    var procedures: [ProcedureCode]
    var instances: ClosedRange<Int>
    var rows: Int
    var columns: Int
    var pixelSpacing: String
    var sliceThickness: String?
    var imageType3: String
    var windowCenters: [String]
    var windowWidths: [String]
}

enum Modalities {
    static let all: [ModalityInfo] = [
        ModalityInfo(code: "CT", sopClass: "1.2.840.10008.5.1.4.1.1.2",
                     studyDescriptions: ["CT Chest w/o contrast", "CT Abdomen Pelvis w/ contrast", "CT Head", "胸部CT 単純"],
                     seriesDescriptions: ["Axial 1.25mm", "Axial 5mm", "Coronal MPR", "Scout"],
                     procedures: [ProcedureCode(value: "24627-2", scheme: "LN", meaning: "CT Chest"),
                                  ProcedureCode(value: "24725-4", scheme: "LN", meaning: "CT Head")],
                     instances: 20...150, rows: 512, columns: 512, pixelSpacing: "0.703125",
                     sliceThickness: "1.25", imageType3: "AXIAL", windowCenters: ["40", "-600"], windowWidths: ["400", "1500"]),
        ModalityInfo(code: "MR", sopClass: "1.2.840.10008.5.1.4.1.1.4",
                     studyDescriptions: ["MRI Brain w/o contrast", "MRI Knee Left", "頭部MRI"],
                     seriesDescriptions: ["T1 SAG", "T2 AX", "FLAIR AX", "DWI b1000"],
                     procedures: [ProcedureCode(value: "24590-2", scheme: "LN", meaning: "MR Brain"),
                                  ProcedureCode(value: "24643-9", scheme: "LN", meaning: "MR Knee")],
                     instances: 15...90, rows: 256, columns: 256, pixelSpacing: "0.9375",
                     sliceThickness: "5", imageType3: "M", windowCenters: ["600", "700"], windowWidths: ["1200", "1400"]),
        ModalityInfo(code: "US", sopClass: "1.2.840.10008.5.1.4.1.1.6.1",
                     studyDescriptions: ["US Abdomen Complete", "US Thyroid"],
                     seriesDescriptions: ["Abdomen", "Thyroid transverse"],
                     procedures: [ProcedureCode(value: "24531-6", scheme: "LN", meaning: "US Abdomen")],
                     instances: 1...25, rows: 600, columns: 800, pixelSpacing: "0.12",
                     sliceThickness: nil, imageType3: "ABDOMINAL", windowCenters: ["127"], windowWidths: ["255"]),
        ModalityInfo(code: "CR", sopClass: "1.2.840.10008.5.1.4.1.1.1",
                     studyDescriptions: ["XR Chest PA", "XR Hand Right"],
                     seriesDescriptions: ["PA", "LAT"],
                     procedures: [ProcedureCode(value: "36643-5", scheme: "LN", meaning: "XR Chest 2 Views")],
                     instances: 1...3, rows: 2500, columns: 2048, pixelSpacing: "0.148",
                     sliceThickness: nil, imageType3: "", windowCenters: ["2048"], windowWidths: ["4096"]),
        ModalityInfo(code: "DX", sopClass: "1.2.840.10008.5.1.4.1.1.1.1",
                     studyDescriptions: ["DX Knee 3 views", "DX Spine Lumbar"],
                     seriesDescriptions: ["AP", "LAT", "Oblique"],
                     procedures: [ProcedureCode(value: "24674-4", scheme: "LN", meaning: "XR Knee")],
                     instances: 1...4, rows: 3008, columns: 3008, pixelSpacing: "0.139",
                     sliceThickness: nil, imageType3: "", windowCenters: ["8192"], windowWidths: ["16384"]),
        ModalityInfo(code: "MG", sopClass: "1.2.840.10008.5.1.4.1.1.1.2",
                     studyDescriptions: ["Screening Mammogram Bilateral"],
                     seriesDescriptions: ["L CC", "R CC", "L MLO", "R MLO"],
                     procedures: [ProcedureCode(value: "24606-6", scheme: "LN", meaning: "MG Breast Screening")],
                     instances: 1...2, rows: 4096, columns: 3328, pixelSpacing: "0.07",
                     sliceThickness: nil, imageType3: "", windowCenters: ["2047"], windowWidths: ["4095"]),
    ]
}
