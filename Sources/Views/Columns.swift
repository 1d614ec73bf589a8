import TerminalKit

/// The list's columns, chosen to fit the width: wide terminals get every column and full
/// dates, narrow ones fewer columns and times only. Patient and modality appear once some
/// entry's metadata is known. Nothing wraps or overflows.
struct Columns: Equatable {
    enum Kind: Equatable { case sequence, time, action, state, modality, patient, study, series, sop }
    struct Column: Equatable {
        var kind: Kind
        var width: Int
        var title: String
    }
    var columns: [Column]
    var fullDates: Bool

    /// The narrowest a UID column may be: three columns need more room each to be worth it.
    static func uidMin(columns: Int) -> Int { columns >= 3 ? 22 : 10 }
    static let uidMax = 64
    static let modalityWidth = 5
    static let patientMin = 12
    static let patientMax = 24

    /// Lays out columns for `width` cells, with `sequenceDigits` for the widest sequence;
    /// `withSummary` adds modality and patient name.
    static func fit(width: Int, sequenceDigits: Int, withSummary: Bool = false) -> Columns {
        let seq = max(3, sequenceDigits)
        var plans: [(Bool, [Kind])] = [
            (true, [.modality, .patient, .study, .series, .sop]),
            (true, [.modality, .patient, .study, .sop]),
            (true, [.study, .series, .sop]),
            (true, [.modality, .patient, .sop]),
            (true, [.study, .sop]),
            (false, [.modality, .patient, .sop]),
            (false, [.study, .sop]),
            (false, [.patient, .sop]),
            (false, [.sop]),
            (false, [.patient]),
            (false, []),
        ]
        if !withSummary { plans = plans.filter { !$0.1.contains(.modality) && !$0.1.contains(.patient) } }
        for (full, extra) in plans {
            let fixed = seq + (full ? 19 : 8) + 6 + 8 + 4   // four gaps between the fixed columns
            let uids = extra.filter { $0 == .study || $0 == .series || $0 == .sop }
            var room = width - fixed - extra.count               // one gap before each extra column
            if extra.contains(.modality) { room -= modalityWidth }
            var patient = 0
            if extra.contains(.patient) {
                patient = uids.isEmpty ? min(patientMax, room) : min(patientMax, max(patientMin, room / (uids.count + 2)))
                room -= patient
                if patient < patientMin { continue }
            }
            guard uids.isEmpty || room >= uids.count * uidMin(columns: uids.count) else { continue }
            var cols: [Column] = [
                Column(kind: .sequence, width: seq, title: "SEQ"),
                Column(kind: .time, width: full ? 19 : 8, title: "TIME"),
                Column(kind: .action, width: 6, title: "ACTION"),
                Column(kind: .state, width: 8, title: "STATE"),
            ]
            let each = uids.isEmpty ? 0 : min(uidMax, room / uids.count)
            for k in extra {
                switch k {
                case .modality: cols.append(Column(kind: k, width: modalityWidth, title: "MOD"))
                case .patient: cols.append(Column(kind: k, width: patient, title: "PATIENT"))
                case .study: cols.append(Column(kind: k, width: each, title: "STUDY UID"))
                case .series: cols.append(Column(kind: k, width: each, title: "SERIES UID"))
                case .sop: cols.append(Column(kind: k, width: each, title: "SOP INSTANCE UID"))
                default: break
                }
            }
            return Columns(columns: cols, fullDates: full)
        }
        return Columns(columns: [], fullDates: false)
    }
}
