import TerminalKit

/// The list's columns, chosen to fit the width: wide terminals get every column and full
/// dates, narrow ones fewer UID columns and times only. Nothing wraps or overflows.
struct Columns: Equatable {
    enum Kind: Equatable { case sequence, time, action, state, study, series, sop }
    struct Column: Equatable {
        var kind: Kind
        var width: Int
        var title: String
    }
    var columns: [Column]
    var fullDates: Bool

    /// The narrowest a UID column may be: three columns need more room each to be worth it.
    static func uidMin(columns: Int) -> Int { columns >= 3 ? 18 : 10 }
    static let uidMax = 64

    /// Lays out columns for `width` cells, with `sequenceDigits` for the widest sequence.
    static func fit(width: Int, sequenceDigits: Int) -> Columns {
        let seq = max(3, sequenceDigits)
        let plans: [(Bool, [Kind])] = [
            (true, [.study, .series, .sop]),
            (true, [.study, .sop]),
            (false, [.study, .sop]),
            (false, [.sop]),
            (false, []),
        ]
        for (full, uids) in plans {
            let fixed = seq + (full ? 19 : 8) + 6 + 8 + 4   // four gaps between the fixed columns
            let room = width - fixed - uids.count             // one gap before each UID column
            if uids.isEmpty || room >= uids.count * uidMin(columns: uids.count) {
                var cols: [Column] = [
                    Column(kind: .sequence, width: seq, title: "SEQ"),
                    Column(kind: .time, width: full ? 19 : 8, title: "TIME"),
                    Column(kind: .action, width: 6, title: "ACTION"),
                    Column(kind: .state, width: 8, title: "STATE"),
                ]
                if !uids.isEmpty {
                    let each = min(uidMax, room / uids.count)
                    for k in uids {
                        let title = k == .study ? "STUDY UID" : k == .series ? "SERIES UID" : "SOP INSTANCE UID"
                        cols.append(Column(kind: k, width: each, title: title))
                    }
                }
                return Columns(columns: cols, fullDates: full)
            }
        }
        return Columns(columns: [], fullDates: false)
    }
}
