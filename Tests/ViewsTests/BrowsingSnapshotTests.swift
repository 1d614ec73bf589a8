import AppCore
import FeedModel
import Foundation
import TerminalKit
import Testing
import Views

/// A hostile value: sets the window title, writes the clipboard, clears the screen, turns text
/// red with a C1 CSI and reverses the rest with a bidi override.
let hostile = "Evil\u{1b}]0;pwned\u{07}\u{1b}]52;c;cHduZWQ=\u{07}\u{1b}[2J\u{9b}31m\u{202e}reversed"

func dicomJSON(_ pairs: [(String, String, JSONValue)]) -> JSONValue {
    var o: [String: JSONValue] = [:]
    for (tag, vr, value) in pairs {
        var element: [String: JSONValue] = ["vr": .string(vr)]
        switch value {
        case .object(let extra): for (k, v) in extra { element[k] = v }
        default: element["Value"] = value
        }
        o[tag] = .object(element)
    }
    return .object(o)
}

/// Metadata with Japanese names in three groups, a hostile value, a sequence, bulk data and a
/// private tag.
func richMetadata(_ i: Int) -> JSONValue {
    let names: [(String, String, String)] = [
        ("Yamada^Tarou", "山田^太郎", "やまだ^たろう"), ("Kim^Minjun", "김^민준", ""), ("Wang^Fang", "王^芳", ""),
    ]
    let (alpha, ideo, phon) = names[i % names.count]
    var pn: [String: JSONValue] = ["Alphabetic": .string(alpha), "Ideographic": .string(ideo)]
    if !phon.isEmpty { pn["Phonetic"] = .string(phon) }
    return dicomJSON([
        ("00080005", "CS", .array([.string("ISO_IR 192")])),
        ("00080008", "CS", .array([.string("ORIGINAL"), .string("PRIMARY"), .string("AXIAL")])),
        ("00080060", "CS", .array([.string(["CT", "MR", "US"][i % 3])])),
        ("00081030", "LO", .array([.string(i == 2 ? hostile : "腹部 CT 造影 🩻")])),
        ("00081032", "SQ", .array([.object([
            "00080100": .object(["vr": .string("SH"), "Value": .array([.string("24627-2")])]),
            "00080102": .object(["vr": .string("SH"), "Value": .array([.string("LN")])]),
        ])])),
        ("00100010", "PN", .array([.object(pn)])),
        ("00100020", "LO", .array([.string("PID-\(1000 + i)")])),
        ("00280010", "US", .array([.number(512)])),
        ("00291010", "OB", .object(["InlineBinary": .string("AAECAwQFBgcICQ==")])),
        ("7FE00010", "OW", .object(["BulkDataURI": .string("https://ws-dicom.dicom.azurehealthcareapis.com/v2/studies/1/series/2/instances/3/frames/1")])),
    ])
}

func browsingState(rows: Int, cols: Int) -> AppState {
    var s = state(rows: rows, cols: cols)
    s.metadataWithPages = true
    var page = entries(30)
    for i in 0..<page.count where i % 2 == 0 { page[i].metadata = RawJSON(richMetadata(i / 2)) }
    _ = update(&s, .latest(sequence: 120, timestamp: nil))
    _ = update(&s, .pageLoaded(entries: page, unreadable: [
        UnreadableEntry(sequence: 91, sopInstanceUid: "1.2.3.\u{1b}[31mred", reason: "unknown action 'Move'", afterEntries: 30),
    ]))
    _ = update(&s, .caughtUp)
    return s
}

let sizes: [(rows: Int, cols: Int)] = [(24, 80), (40, 120), (12, 40)]

/// Every view draws inside its size, and nothing a server sent reaches the terminal as a control.
func checkSafeAndInside(_ c: Canvas, _ name: String) {
    for row in 0..<c.rows {
        let width = (0..<c.cols).reduce(0) { $0 + TextWidth.of(c[row, $1].text) }
        #expect(width <= c.cols, "\(name) row \(row) overflows")
        #expect(!c.line(row).unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) || $0.value == 0x202E },
                "\(name) row \(row) carries a control character")
    }
}

@Suite struct BrowsingSnapshots {
    @Test(arguments: sizes.indices)
    func listWithPatientsAnUnreadableRowAndFollow(size: Int) {
        let (rows, cols) = sizes[size]
        var s = browsingState(rows: rows, cols: cols)
        _ = update(&s, .input(.key(.char("f"))))
        let c = MainScreen.render(s, theme: Theme(color: true))
        let name = "list-\(cols)x\(rows)"
        assertSnapshot(c, named: name)
        checkSafeAndInside(c, name)
        #expect(c.line(0).contains("FOLLOW") || cols < 50)
        #expect(c.lines().contains { $0.contains("UNREADABLE") })
    }

    @Test(arguments: sizes.indices)
    func filterPromptWhileTyping(size: Int) {
        let (rows, cols) = sizes[size]
        var s = browsingState(rows: rows, cols: cols)
        _ = update(&s, .input(.key(.char("/"))))
        for ch in "山田 !state:del" { _ = update(&s, .input(.key(.char(ch)))) }
        let c = MainScreen.render(s, theme: Theme(color: true))
        let name = "filter-\(cols)x\(rows)"
        assertSnapshot(c, named: name)
        checkSafeAndInside(c, name)
        #expect(c.line(rows - 2).contains("/ 山田 !state:del"))
        #expect(s.visibleCount == 3, "entries 1, 13 and 25 carry 山田 and are not deleted")
    }

    @Test(arguments: sizes.indices)
    func keptFilterShowsCountsInTheHeader(size: Int) {
        let (rows, cols) = sizes[size]
        var s = browsingState(rows: rows, cols: cols)
        _ = update(&s, .input(.key(.char("/"))))
        for ch in "modality:ct" { _ = update(&s, .input(.key(.char(ch)))) }
        _ = update(&s, .input(.key(.enter)))
        let c = MainScreen.render(s, theme: Theme(color: true))
        assertSnapshot(c, named: "filter-kept-\(cols)x\(rows)")
        if cols >= 80 { #expect(c.line(0).contains("filtered 5 / 31")) }
    }

    @Test(arguments: sizes.indices)
    func detailWithJapaneseNamesAndAHostileValue(size: Int) {
        let (rows, cols) = sizes[size]
        var s = browsingState(rows: rows, cols: cols)
        // Entry 5 (index 4) carries the hostile study description.
        for _ in 0..<4 { _ = update(&s, .input(.key(.down))) }
        _ = update(&s, .input(.key(.enter)))
        #expect(s.detail?.tree != nil, "metadata loaded with the page is used at once")
        // Put the cursor on the description, a few lines into the metadata.
        let target = s.detailLines.firstIndex { $0.label == "Study Description" } ?? 0
        while s.detail!.cursor < target { _ = update(&s, .input(.key(.down))) }
        let c = MainScreen.render(s, theme: Theme(color: true))
        let name = "detail-\(cols)x\(rows)"
        assertSnapshot(c, named: name)
        checkSafeAndInside(c, name)
    }

    @Test func detailShowsEveryPartOfTheTree() {
        var s = browsingState(rows: 50, cols: 140)
        _ = update(&s, .input(.key(.enter)))
        let c = MainScreen.render(s, theme: Theme(color: true))
        assertSnapshot(c, named: "detail-140x50")
        let text = c.lines().joined(separator: "\n")
        #expect(text.contains("(0010,0010) PatientName"))
        #expect(c.lines().contains { $0.contains("Ideographic:") && $0.contains("山田^太郎") })
        #expect(c.lines().contains { $0.contains("Phonetic:") && $0.contains("やまだ^たろう") })
        #expect(text.contains("ORIGINAL \\ PRIMARY \\ AXIAL"))
        #expect(text.contains("InlineBinary, 10 bytes"))
        #expect(!text.contains("AAECAwQFBgcICQ=="), "no base64 on screen")
        #expect(text.contains("BulkDataURI"))
        #expect(text.contains("▾ (0008,1032) ProcedureCodeSequence"))
        #expect(text.contains("Private"))
    }

    @Test(arguments: sizes.indices)
    func detailSearch(size: Int) {
        let (rows, cols) = sizes[size]
        var s = browsingState(rows: rows, cols: cols)
        _ = update(&s, .input(.key(.enter)))
        _ = update(&s, .input(.key(.char("/"))))
        for ch in "code" { _ = update(&s, .input(.key(.char(ch)))) }
        let c = MainScreen.render(s, theme: Theme(color: true))
        let name = "detail-search-\(cols)x\(rows)"
        assertSnapshot(c, named: name)
        checkSafeAndInside(c, name)
        #expect(c.line(rows - 2).contains("search / code"))
    }

    @Test(arguments: sizes.indices)
    func helpOverlay(size: Int) {
        let (rows, cols) = sizes[size]
        var s = browsingState(rows: rows, cols: cols)
        _ = update(&s, .input(.key(.char("?"))))
        let c = MainScreen.render(s, theme: Theme(color: true))
        let name = "help-\(cols)x\(rows)"
        assertSnapshot(c, named: name)
        checkSafeAndInside(c, name)
        #expect(c.lines().contains { $0.contains("Keys") })
    }

    @Test(arguments: [32, 40, 50, 64, 80, 100, 120, 160, 220])
    func theHintBarKeepsHelpAtEveryWidth(cols: Int) {
        var s = browsingState(rows: 20, cols: cols)
        let list = MainScreen.render(s, theme: Theme(color: true))
        #expect(list.line(19).hasPrefix(" ? help"))
        _ = update(&s, .input(.key(.enter)))
        let detail = MainScreen.render(s, theme: Theme(color: true))
        #expect(detail.line(19).hasPrefix(" ? help"))
        checkSafeAndInside(detail, "detail at \(cols)")
    }

    @Test func monochromeDetailAndListHaveNoColours() {
        var s = browsingState(rows: 24, cols: 100)
        _ = update(&s, .input(.key(.char("f"))))
        let list = MainScreen.render(s, theme: Theme(color: false))
        #expect(list.cells.allSatisfy { $0.style.fg == nil && $0.style.bg == nil })
        _ = update(&s, .input(.key(.enter)))
        _ = update(&s, .input(.key(.char("/"))))
        _ = update(&s, .input(.key(.char("a"))))
        let detail = MainScreen.render(s, theme: Theme(color: false))
        #expect(detail.cells.allSatisfy { $0.style.fg == nil && $0.style.bg == nil })
    }
}

@Suite struct ProfileSnapshots {
    func production(rows: Int, cols: Int) -> AppState {
        var s = browsingState(rows: rows, cols: cols)
        s.profiles = ["staging", "prod-westeurope", "dev"]
        s.profileName = "prod-westeurope"
        s.production = true
        s.isDemo = false
        return s
    }

    @Test(arguments: sizes.indices)
    func productionIsLoudAndThePickerListsProfiles(size: Int) {
        let (rows, cols) = sizes[size]
        var s = production(rows: rows, cols: cols)
        let plain = MainScreen.render(s, theme: Theme(color: true))
        #expect(plain.line(0).contains("PRODUCTION"))
        #expect((0..<cols).allSatisfy { plain[0, $0].style.bg == .red || plain[0, $0].style.bg == .white }, "the whole title bar is red")
        let mono = MainScreen.render(s, theme: Theme(color: false))
        #expect(mono.line(0).contains("PRODUCTION"), "monochrome still says it")
        _ = update(&s, .input(.key(.char("p"))))
        let c = MainScreen.render(s, theme: Theme(color: true))
        let name = "profiles-\(cols)x\(rows)"
        assertSnapshot(c, named: name)
        checkSafeAndInside(c, name)
        #expect(c.lines().contains { $0.contains("● prod-westeurope") })
    }
}

/// The token views at every size, with az's text carrying Japanese and a hostile sequence.
@Suite struct TokenViewSnapshots {
    @Test(arguments: sizes.indices)
    func signInDialog(size: Int) {
        let (rows, cols) = sizes[size]
        var s = browsingState(rows: rows, cols: cols)
        _ = update(&s, .input(.key(.char("l"))))
        _ = update(&s, .signInPrompt(url: "https://microsoft.com/devicelogin", code: "FAKE1234",
                                     message: "ブラウザーで https://microsoft.com/devicelogin を開き、コード FAKE1234 を入力してください。\u{1b}[2J"))
        _ = update(&s, .tick(t0.addingTimeInterval(42)))
        let c = MainScreen.render(s, theme: Theme(color: true))
        let name = "sign-in-\(cols)x\(rows)"
        assertSnapshot(c, named: name)
        checkSafeAndInside(c, name)
        #expect(c.lines().contains { $0.contains("F A K E") })
    }

    @Test(arguments: sizes.indices)
    func tokenError(size: Int) {
        let (rows, cols) = sizes[size]
        var s = AppState(serviceURL: "https://contoso-ws-dicom.dicom.azurehealthcareapis.com", apiVersion: .v2,
                         screenRows: rows, screenCols: cols, now: t0, timeZone: utc)
        _ = update(&s, .started)
        _ = update(&s, .tokenFailed(Problem("ERROR: AADSTS700082: 更新トークンの有効期限が切れています。\u{1b}]52;c;cHduZWQ=\u{07}",
                                            hint: "Press l to sign in again with a device code, or L to run az login here.",
                                            signInHelps: true)))
        let c = MainScreen.render(s, theme: Theme(color: true))
        let name = "token-error-ja-\(cols)x\(rows)"
        assertSnapshot(c, named: name)
        checkSafeAndInside(c, name)
        #expect(c.lines().joined().contains("sign in"))
    }
}

@Suite struct AnyFeedSizeSnapshots {
    /// The whole-feed search (`F`): the filter, how far the scan is, the matches with the
    /// selection on the newest; the rest of the screen under it.
    @Test(arguments: sizes.indices)
    func wholeFeedSearch(size: Int) {
        let (rows, cols) = sizes[size]
        var s = browsingState(rows: rows, cols: cols)
        s.reach.olderExists = true   // the list begins after sequence 0 in this state: say older ones exist
        _ = update(&s, .input(.key(.char("/"))))
        for ch in "action:delete" { _ = update(&s, .input(.key(.char(ch)))) }
        _ = update(&s, .input(.key(.enter)))
        while s.filterPending { _ = update(&s, .filterStep) }
        _ = update(&s, .input(.key(.char("F"))))
        let c = MainScreen.render(s, theme: Theme(color: true))
        let name = "search-\(cols)x\(rows)"
        assertSnapshot(c, named: name)
        checkSafeAndInside(c, name)
        #expect(c.lines().contains { $0.contains("Search the whole feed") })
        #expect(c.lines().contains { $0.contains("searching…") } || cols < 60)
    }

    /// The row above the list while older entries are not loaded, and while they load.
    @Test func theOlderEntriesRow() {
        var s = browsingState(rows: 24, cols: 100)
        s.reach.olderExists = true
        var c = MainScreen.render(s, theme: Theme(color: false))
        #expect(c.line(Layout.headerRows).contains("↑ older entries up to sequence 0 · scrolling up loads them"))
        s.reach.loadingOlder = true
        c = MainScreen.render(s, theme: Theme(color: false))
        #expect(c.line(Layout.headerRows).contains("↑ loading older entries"))
        assertSnapshot(c, named: "older-loading-100x24")
    }

    /// While `/latest` is asked again after a 503, finding the newest entries says so, with
    /// the error; the run that starts after it begins clean.
    @Test func findingTheNewestSaysItRetries() {
        var s = browsingState(rows: 24, cols: 140)
        s.reach.tailFirst = true
        s.reach.newerExists = true   // the list ends before the newest (a jump's neighbourhood)
        let effects = update(&s, .input(.key(.char("G"))))
        #expect(effects.contains { if case .probeLatest = $0 { true } else { false } })
        _ = update(&s, .fetchRetrying(Problem("503 Service Unavailable", hint: "The service is busy; dicomtui retries."), attempt: 2))
        let status = MainScreen.render(s, theme: Theme(color: false)).line(24 - 2)
        #expect(status.contains("finding the newest entries… retrying (attempt 2)"), "\(status)")
        #expect(status.contains("error: 503 Service Unavailable"), "\(status)")
        _ = update(&s, .latestProbed(sequence: 40, timestamp: nil, generation: s.reach.generation))
        #expect(s.fetch.retryAttempt == nil && s.fetch.problem == nil)
    }
}
