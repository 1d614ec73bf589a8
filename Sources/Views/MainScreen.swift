import Foundation
import AppCore
import DicomKit
import FeedModel
import TerminalKit

/// Draws the whole screen for a state. Pure: the same state gives the same canvas.
public enum MainScreen {
    public static func render(_ state: AppState, theme: Theme) -> Canvas {
        var canvas = Canvas(rows: state.screenRows, cols: state.screenCols)
        if Layout.isTooSmall(rows: state.screenRows, cols: state.screenCols) {
            drawTooSmall(state, &canvas, theme)
            return canvas
        }
        drawTitle(state, &canvas, theme)
        drawToken(state, &canvas, theme)
        drawIdentity(state, &canvas, theme)
        TimelineStrip.draw(state, &canvas, theme)
        if state.detail != nil {
            DetailView.draw(state, &canvas, theme)
        } else {
            drawList(state, &canvas, theme)
        }
        drawStatus(state, &canvas, theme)
        drawHints(state, &canvas, theme)
        if state.profilePicker != nil {
            ProfilePicker.draw(state, &canvas, theme)
        }
        if state.search?.open == true {
            SearchView.draw(state, &canvas, theme)
        }
        if state.timeline.viewOpen {
            ActivityView.draw(state, &canvas, theme)
        }
        if state.helpOpen {
            HelpOverlay.draw(state, &canvas, theme)
        }
        if let signIn = state.signIn {
            SignInDialog.draw(signIn, now: state.now, into: &canvas, theme: theme)
        }
        return canvas
    }

    // MARK: - Header

    static func drawTitle(_ state: AppState, _ c: inout Canvas, _ t: Theme) {
        let bar = state.production ? t.productionBar : t.titleBar
        c.fill(row: 0, style: bar)
        var x = c.draw(" dicomtui ", row: 0, col: 0, style: bar)
        if state.production {
            x += c.draw(" PRODUCTION ", row: 0, col: x, style: t.productionBadge)
        }
        if let profile = state.profileName, c.cols - x > 40 {
            x += c.draw(" " + TextWidth.truncate(profile, to: 20) + " ", row: 0, col: x, style: t.profileBadge)
        }
        if state.isDemo {
            x += c.draw(" DEMO ", row: 0, col: x, style: t.demoBadge)
        }
        if state.follow.on {
            x += c.draw(" ● FOLLOW ", row: 0, col: x, style: t.followBadge)
        }
        if let f = state.filter, f.query != nil, c.cols - x > 30 {
            x += c.draw(" filtered \(Format.count(f.matches.count)) / \(Format.count(state.entries.count)) ",
                        row: 0, col: x, style: t.filterBadge)
        }
        let version = " \(state.apiVersion.rawValue) "
        let versionWidth = TextWidth.of(version)
        let urlRoom = c.cols - x - versionWidth - 1
        if urlRoom > 8 {
            x += c.draw(" " + TextWidth.truncateMiddle(state.serviceURL, to: urlRoom - 1), row: 0, col: x, style: bar)
        }
        if c.cols - versionWidth > x {
            c.draw(version, row: 0, col: c.cols - versionWidth, style: bar)
        }
    }

    static func drawToken(_ state: AppState, _ c: inout Canvas, _ t: Theme) {
        let status = state.token.status(at: state.now)
        let (mark, look): (String, TokenStatusLike) = switch status {
        case .valid: ("●", .good)
        case .expiringSoon: ("●", .warn)
        case .expired: ("✗", .bad)
        case .error: ("✗", .bad)
        case .acquiring: ("…", .neutral)
        case .none: ("○", .neutral)
        }
        var x = c.draw("Token ", row: 1, col: 0, style: t.label)
        x += c.draw("\(mark) \(status.label)", row: 1, col: x, style: t.tokenStyle(look))
        var parts: [(String, Style)] = []
        if let info = state.token.info {
            let left = info.expiresOn.timeIntervalSince(state.now)
            let when = Format.time(info.expiresOn, in: state.timeZone)
            let countdown = left >= 0 ? "in \(Format.countdown(left))" : "\(Format.countdown(-left)) ago"
            parts.append(("expires \(when) (\(countdown))", status == .valid ? t.plain : t.tokenStyle(look)))
            if state.token.acquiring { parts.append(("refreshing…", t.label)) }
            parts.append((info.masked, t.label))
        }
        if let problem = state.token.problem {
            parts.append((problem.message, t.error))
        } else if let notice = state.token.notice {
            parts.append((notice, t.label))
        }
        drawParts(parts, row: 1, from: x, &c, t)
    }

    /// Who the token belongs to, from its claims (and `az account show`): never the token.
    static func drawIdentity(_ state: AppState, _ c: inout Canvas, _ t: Theme) {
        let x = c.draw("Identity ", row: 2, col: 0, style: t.label)
        guard let info = state.token.info else {
            c.draw(state.token.acquiring ? "…" : "unknown until a token is obtained", row: 2, col: x, style: t.label)
            return
        }
        var parts: [(String, Style)] = [(info.identity, t.emphasis)]
        if let tenant = info.tenant { parts.append(("tenant \(shortID(tenant))", t.plain)) }
        if let oid = info.objectId { parts.append(("object \(shortID(oid))", t.label)) }
        if let account = info.account { parts.append((account, t.label)) }
        if let aud = info.audience { parts.append(("audience \(aud)", t.label)) }
        c.draw(parts[0].0, row: 2, col: x, maxWidth: c.cols - x, style: parts[0].1)
        drawParts(Array(parts.dropFirst()), row: 2, from: x + TextWidth.of(TextWidth.truncate(parts[0].0, to: c.cols - x)), &c, t)
    }

    /// Draws ` · `-separated parts after `x`, cutting the last that fits and dropping the rest.
    static func drawParts(_ parts: [(String, Style)], row: Int, from start: Int, _ c: inout Canvas, _ t: Theme) {
        var x = start
        for (text, style) in parts {
            let room = c.cols - x - 3
            if room < 6 { break }
            x += c.draw(" · ", row: row, col: x, style: t.label)
            x += c.draw(TextWidth.truncate(text, to: room), row: row, col: x, style: style)
        }
    }

    // MARK: - List

    static func drawList(_ state: AppState, _ c: inout Canvas, _ t: Theme) {
        let maxSeq = max(state.fetch.latestSequence ?? 0, state.entries.lastSequence ?? 0)
        let rows = state.listRows
        // The first row says what comes before the list's first entry, while older ones are not loaded.
        let first = Layout.headerRows + (state.showsOlderRow ? 1 : 0)
        if state.showsOlderRow { drawOlderRow(state, row: Layout.headerRows, &c, t) }
        let shown = (0..<rows).map { state.top + $0 }.filter { $0 < state.visibleCount }.map { state.entries[state.storeIndex(atVisible: $0)] }
        let withSummary = shown.contains { $0.patientName != nil || $0.modality != nil }
        let cols = Columns.fit(width: c.cols, sequenceDigits: String(maxSeq).count, withSummary: withSummary)
        var x = 0
        c.fill(row: Layout.headerRows - 1, style: t.heading)
        for col in cols.columns {
            let title = TextWidth.pad(col.title, to: col.width, alignRight: col.kind == .sequence)
            c.draw(title, row: Layout.headerRows - 1, col: x, style: t.heading)
            x += col.width + 1
        }
        if state.visibleCount == 0 {
            drawEmpty(state, &c, t, top: first, rows: rows)
            return
        }
        for (i, row) in shown.enumerated() {
            let index = state.top + i
            let y = first + i
            drawRow(row, cols, y: y, &c, t, zone: state.timeZone)
            if index == state.selected {
                c.restyle(row: y) { $0 = Style(bold: $0.bold, reverse: true) }
            }
        }
    }

    /// `↑ older entries before …`: loading, failed, or waiting for the view to come near.
    static func drawOlderRow(_ state: AppState, row y: Int, _ c: inout Canvas, _ t: Theme) {
        let before = state.origin.startTime.map { "before " + Format.dateTime($0, in: state.timeZone) }
            ?? "up to sequence \(Format.count(state.origin.afterSequence))"
        let (text, style): (String, Style)
        if state.reach.loadingOlder {
            (text, style) = ("↑ loading older entries (\(before))…", t.label)
        } else if let p = state.reach.olderProblem {
            (text, style) = ("↑ could not load older entries: \(p.message) · k at the top tries again", t.error)
        } else {
            (text, style) = ("↑ older entries \(before) · scrolling up loads them, g goes to the first", t.label)
        }
        c.draw(" " + text, row: y, col: 0, maxWidth: c.cols, style: style)
    }

    static func drawRow(_ e: FeedRow, _ cols: Columns, y: Int, _ c: inout Canvas, _ t: Theme, zone: TimeZone, left: Int = 0) {
        var x = left
        if let reason = e.unreadable {
            drawUnreadable(e, reason: reason, cols, y: y, &c, t, zone: zone, left: left)
            return
        }
        for col in cols.columns {
            let (text, style): (String, Style) = switch col.kind {
            case .modality: (e.modality ?? "", t.plain)
            case .patient: (e.patientName.map(PersonName.readable) ?? "", t.plain)
            case .sequence: (TextWidth.pad(String(e.sequence), to: col.width, alignRight: true), t.plain)
            case .time: (cols.fullDates ? Format.dateTime(e.timestamp, in: zone) : Format.time(e.timestamp, in: zone), t.plain)
            case .action: (e.action.rawValue, t.action(e.action))
            case .state: (e.state.rawValue, t.state(e.state))
            case .study: (uid(e.studyInstanceUid, col.width), t.plain)
            case .series: (uid(e.seriesInstanceUid, col.width), t.plain)
            case .sop: (uid(e.sopInstanceUid, col.width), t.plain)
            }
            c.draw(text, row: y, col: x, maxWidth: col.width, style: style)
            x += col.width + 1
        }
    }

    /// An element of a page that did not decode: marked, with the reason where the UIDs go.
    static func drawUnreadable(_ e: FeedRow, reason: String, _ cols: Columns, y: Int, _ c: inout Canvas, _ t: Theme, zone: TimeZone,
                               left: Int = 0) {
        var x = left
        var rest = 0
        for col in cols.columns {
            switch col.kind {
            case .sequence:
                c.draw(TextWidth.pad(e.sequenceKnown ? String(e.sequence) : "?", to: col.width, alignRight: true), row: y, col: x, style: t.error)
            case .time:
                // A time that could not be read is shown as unknown, never as a made-up one.
                let time = !e.timeKnown ? (cols.fullDates ? "time unknown" : "unknown")
                    : cols.fullDates ? Format.dateTime(e.timestamp, in: zone) : Format.time(e.timestamp, in: zone)
                c.draw(time, row: y, col: x, maxWidth: col.width, style: t.label)
            case .action:
                c.draw("UNREADABLE", row: y, col: x, maxWidth: c.cols - x, style: t.error)
            case .state:
                break
            default:
                if rest == 0 { rest = x }
            }
            x += col.width + 1
        }
        let start = rest == 0 ? min(c.cols, left + cols.columns.prefix(4).reduce(0) { $0 + $1.width + 1 }) : rest
        if start < c.cols {
            let sop = e.sopInstanceUid.isEmpty ? "" : " · \(e.sopInstanceUid)"
            c.draw(reason + sop, row: y, col: start, maxWidth: c.cols - start, style: t.label)
        }
    }

    static func drawEmpty(_ state: AppState, _ c: inout Canvas, _ t: Theme, top: Int, rows: Int) {
        var lines: [(String, Style)] = []
        if let f = state.filter, f.query != nil, !state.entries.isEmpty {
            lines.append(("No entry matches the filter '\(f.text)'", t.warning))
            lines.append(("\(Format.count(state.entries.count)) entries loaded\(state.fetch.phase == .fetching ? ", more coming" : ""). Esc clears the filter.", t.label))
            if let note = state.filterNamesNote {
                lines.append(("", t.plain))
                lines.append(contentsOf: wrap("Patient names, IDs and modality come from each entry's metadata: " + note + ".",
                                              width: c.cols - 4).map { ($0, t.emphasis) })
            }
        } else if let p = state.token.problem {
            lines.append(("Could not get a token", t.error))
            lines.append(contentsOf: wrap(p.message, width: c.cols - 4).map { ($0, t.plain) })
            if let hint = p.hint { lines.append(("", t.plain)); lines.append(contentsOf: wrap(hint, width: c.cols - 4).map { ($0, t.emphasis) }) }
        } else if let p = state.fetch.problem, state.fetch.phase == .stopped || state.fetch.retryAttempt != nil {
            lines.append((state.fetch.phase == .stopped ? "The change feed could not be read" : "Retrying the change feed", t.error))
            lines.append(contentsOf: wrap(p.message, width: c.cols - 4).map { ($0, t.plain) })
            if let hint = p.hint { lines.append(("", t.plain)); lines.append(contentsOf: wrap(hint, width: c.cols - 4).map { ($0, t.emphasis) }) }
        } else {
            switch state.fetch.phase {
            case .waiting: lines.append((state.token.acquiring ? "Getting a token…" : "Waiting for a token (r gets one, l signs in).", t.label))
            case .fetching: lines.append(("Loading the change feed…", t.label))
            case .idle:
                if state.origin.afterSequence > 0 {
                    lines.append(("No entries after sequence \(Format.count(state.origin.afterSequence)), where the last run stopped.", t.label))
                    lines.append(("f follows new entries; dicomtui --from-start reads the whole feed.", t.label))
                } else {
                    lines.append(("The change feed is empty.", t.label))
                }
            case .stopped: lines.append(("The fetcher has stopped.", t.label))
            }
        }
        let shown = Array(lines.prefix(rows))
        let start = top + max(0, (rows - shown.count) / 2)
        for (i, (text, style)) in shown.enumerated() {
            let w = TextWidth.of(text)
            c.draw(text, row: start + i, col: max(2, (c.cols - w) / 2), maxWidth: c.cols - 4, style: style)
        }
    }

    // MARK: - Footer

    static func drawStatus(_ state: AppState, _ c: inout Canvas, _ t: Theme) {
        let y = c.rows - 2
        c.fill(row: y, style: t.statusBar)
        let position = state.visibleCount == 0 ? "0 / \(Format.count(state.entries.count))" :
            "\(Format.count(state.selected + 1)) / \(Format.count(state.visibleCount))"
        // Where the view is in the whole feed, when there is room for it beside the status (a
        // message the user should read comes first).
        let whole = c.cols >= 90 && state.flash == nil
            ? feedPosition(state, withTime: c.cols >= 120).map { $0 + " · " } ?? "" : ""
        let right = " " + whole + position + " "
        let rightWidth = TextWidth.of(right)
        var left: String
        let f = state.fetch
        switch f.phase {
        case .waiting: left = "waiting for token"
        case .fetching where state.reach.seeking != nil:
            left = state.reach.seeking == .newest ? "finding the newest entries…" : "finding where that is…"
            if let attempt = f.retryAttempt { left += " retrying (attempt \(attempt))" }
        case .fetching:
            left = f.retryAttempt.map { "retrying (attempt \($0))" } ?? "fetching"
            if f.retryAttempt == nil, let rate = f.rate {
                if let fraction = rate.fraction { left += " \(rate.fractionIsEstimate ? "~" : "")\(Int((fraction * 100).rounded()))%" }
                if rate.pagesPerSecond > 0 { left += String(format: " · %.0f pages/s", rate.pagesPerSecond) }
                if rate.inFlight > 0 { left += " · \(rate.inFlight) in flight" }
            }
        case .idle:
            left = state.reach.newerExists ? "newer entries load as you scroll down (G: the newest)"
                : state.follow.on ? "at the end, polling every \(Format.seconds(state.follow.interval))" : "idle, at the end of the feed"
        case .stopped: left = "stopped"
        }
        func error(_ p: Problem) -> String { " · error: \(p.message)" + (p.hint.map { " — \($0)" } ?? "") }
        // While a request is retried, what failed comes first: the counts can wait.
        let retrying = f.phase == .fetching && f.retryAttempt != nil ? f.problem : nil
        if let p = retrying { left += error(p) }
        left += " · \(Format.count(state.entries.count)) loaded"
        if let latest = f.latestSequence { left += " · latest seq \(Format.count(latest))" }
        left += " · \(Format.count(f.pagesLoaded)) page\(f.pagesLoaded == 1 ? "" : "s")"
        let unreadable = state.entries.unreadableCount
        if unreadable > 0 { left += " · \(Format.count(unreadable)) unreadable" }
        if let note = TimelineStrip.cursorNote(state) {
            left = note
        } else if let flash = state.flash {
            left = flash
        } else if let p = f.problem, retrying == nil {
            left += error(p)
        } else if let p = state.token.problem, !state.entries.isEmpty {
            left += " · token: \(p.message)"
        }
        if state.follow.on && state.flash == nil { left = "following · " + left }
        if let s = state.search, !s.open, s.goesOn, state.flash == nil {
            left = "searching the feed: \(Format.count(s.found.count)) match\(s.found.count == 1 ? "" : "es") (F shows them) · " + left
        }
        if let f = state.filter, !f.editing, f.query != nil, state.flash == nil, state.detail == nil {
            left = "filter: \(f.text) · " + (state.filterNamesNote.map { $0 + " · " } ?? "") + left
        }
        if let d = state.detail, let s = d.search, !s.editing, !s.query.isEmpty, state.flash == nil {
            let which = s.current.map { "\($0 + 1)/" } ?? ""
            left = "search '\(s.query)': \(which)\(s.matches.count) match\(s.matches.count == 1 ? "" : "es") · " + left
        }
        let room = c.cols - rightWidth - 1
        c.draw(" " + TextWidth.truncate(left, to: room - 1), row: y, col: 0, maxWidth: room, style: t.statusBar)
        c.draw(right, row: y, col: c.cols - rightWidth, style: t.statusBar)
        if let text = state.seekPrompt {
            drawPrompt("go to :", text, note: "sequence, time (2026-11-20 14:00) or -2h", noteStyle: t.label, row: y, &c, t)
        } else if let f = state.filter, f.editing {
            let count = "\(Format.count(f.matches.count)) match\(f.matches.count == 1 ? "" : "es")"
            let working = (state.filterPending ? " · \(Int(state.filterProgress * 100))%…" : "")
                + (state.filterNamesNote.map { " · " + $0 } ?? "")
            drawPrompt("/", f.text, note: f.error.map { "✗ \($0)" } ?? count + working,
                       noteStyle: f.error == nil ? t.label : t.error, row: y, &c, t)
        } else if let s = state.detail?.search, s.editing {
            let note = s.query.isEmpty ? "tag, keyword, name or value" : s.matches.isEmpty ? "no match" : "\((s.current ?? 0) + 1)/\(s.matches.count)"
            drawPrompt("search /", s.query, note: note, noteStyle: s.matches.isEmpty && !s.query.isEmpty ? t.error : t.label, row: y, &c, t)
        }
    }

    /// Where the selected entry stands in the whole feed, not only in what is loaded:
    /// `seq 1,234,567 (42 %) · 2026-03-18 17:02:06`, the share from its sequence and the newest
    /// one's (sequences are close to a count of the rows: the service skips few), and its time.
    static func feedPosition(_ state: AppState, withTime: Bool = false) -> String? {
        guard let row = state.selectedStoreIndex, state.entries.sequenceKnown(at: row) else { return nil }
        let seq = state.entries.sequence(at: row)
        let newest = max(state.reach.newestSequence ?? 0, state.fetch.latestSequence ?? 0)
        let time = withTime && state.entries[row].timeKnown
            ? " · " + Format.dateTime(state.entries.timestamp(at: row), in: state.timeZone) : ""
        guard newest > 0 else { return "seq \(Format.count(seq))" + time }
        let share = min(100, max(0, Int((Double(seq) / Double(newest) * 100).rounded(.down))))
        return "seq \(Format.count(seq)) (\(share) %)" + time
    }

    /// A text prompt in the status line: `/ text▏   note`.
    static func drawPrompt(_ label: String, _ text: String, note: String, noteStyle: Style, row y: Int, _ c: inout Canvas, _ t: Theme) {
        c.fill(row: y, style: .plain)
        var x = c.draw(label + " ", row: y, col: 0, style: t.hintKey)
        let noteWidth = min(TextWidth.of(note) + 2, max(0, c.cols / 2))
        let room = max(1, c.cols - x - noteWidth - 1)
        // Show the end of a long text: that is where the user types.
        let shown = TextWidth.of(text) >= room ? TextWidth.suffix(text, fitting: room - 1) : text
        x += c.draw(shown, row: y, col: x, style: t.plain)
        x += c.draw("▏", row: y, col: x, style: t.hintKey)
        if noteWidth > 2 {
            c.draw(TextWidth.truncate(note, to: noteWidth - 2), row: y, col: c.cols - noteWidth + 1, style: noteStyle)
        }
    }

    /// The hint bar: `? help` always, then the view's most useful keys while they fit.
    static func drawHints(_ state: AppState, _ c: inout Canvas, _ t: Theme) {
        let y = c.rows - 1
        var x = 1
        x += c.draw("?", row: y, col: x, style: t.hintKey)
        x += c.draw(" help  ", row: y, col: x, style: t.hintText)
        for hint in KeyHelp.bar(for: state) {
            let need = TextWidth.of(hint.keys) + 1 + TextWidth.of(hint.action) + 2
            if x + need > c.cols { break }
            x += c.draw(hint.keys, row: y, col: x, style: t.hintKey)
            x += c.draw(" " + hint.action + "  ", row: y, col: x, style: t.hintText)
        }
    }

    static func drawTooSmall(_ state: AppState, _ c: inout Canvas, _ t: Theme) {
        let lines = ["Terminal too small", "\(state.screenCols)x\(state.screenRows), need \(Layout.minCols)x\(Layout.minRows)", "q quits"]
        let start = max(0, (c.rows - lines.count) / 2)
        for (i, line) in lines.enumerated() {
            let text = TextWidth.truncate(line, to: c.cols)
            c.draw(text, row: start + i, col: max(0, (c.cols - TextWidth.of(text)) / 2), style: i == 0 ? t.warning : t.plain)
        }
    }

    // MARK: - Helpers

    /// UIDs share their organisation root and differ at the end: keep more of the tail.
    static func uid(_ text: String, _ width: Int) -> String {
        TextWidth.truncateMiddle(text, to: width, headShare: 0.35)
    }

    static func shortID(_ id: String) -> String {
        id.count > 13 ? String(id.prefix(8)) + "…" : id
    }

    /// Greedy word wrap by display width. A word wider than the width (a URL, or Japanese,
    /// which has no spaces) is broken across lines, never cut.
    static func wrap(_ text: String, width: Int) -> [String] {
        guard width > 0 else { return [] }
        var lines: [String] = []
        for paragraph in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var line = ""
            for word in paragraph.split(separator: " ") {
                var w = String(word)
                if !line.isEmpty, TextWidth.of(line) + 1 + TextWidth.of(w) <= width {
                    line += " " + w
                    continue
                }
                if !line.isEmpty { lines.append(line) }
                // Break a word wider than a line into pieces that fit (whole glyphs only).
                while TextWidth.of(w) > width {
                    let head = TextWidth.prefix(w, fitting: width)
                    guard !head.isEmpty else { break }
                    lines.append(head)
                    w = String(w.dropFirst(head.count))
                }
                line = w
            }
            lines.append(line)
        }
        return lines
    }
}
