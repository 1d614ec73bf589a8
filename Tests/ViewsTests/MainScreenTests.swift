import AppCore
import FeedModel
import Foundation
import TerminalKit
import Testing
import Views

let t0 = Date(timeIntervalSince1970: 1_795_659_336)   // 2026-11-26 02:15:36 UTC
let utc = TimeZone(identifier: "UTC")!
let tokyo = TimeZone(identifier: "Asia/Tokyo")!

func entries(_ n: Int) -> [ChangeFeedEntry] {
    (1...n).map { i in
        let study = "1.2.826.0.1.3680043.8.498.10\(i / 10).2026112601"
        return ChangeFeedEntry(sequence: Int64(i * 3), studyInstanceUid: study,
                               seriesInstanceUid: study + ".\(i / 4)", sopInstanceUid: study + ".\(i / 4).\(i)",
                               action: [.create, .create, .update, .delete][i % 4],
                               timestamp: Timestamp(t0.addingTimeInterval(Double(i * 37) - 86_400)),
                               state: [.current, .replaced, .current, .deleted][i % 4])
    }
}

func state(rows: Int, cols: Int, zone: TimeZone = utc, demo: Bool = true) -> AppState {
    var s = AppState(serviceURL: "http://127.0.0.1:41234", apiVersion: .v2, isDemo: demo,
                     screenRows: rows, screenCols: cols, now: t0, timeZone: zone)
    _ = update(&s, .tokenAcquired(TokenSummary(expiresOn: t0.addingTimeInterval(3125), identity: "山田 太郎 <taro.yamada@contoso.example>",
                                               tenant: "72f988bf-0000-4000-8000-000000000001", masked: "eyJ0…Q1xw", source: "demo")))
    return s
}

@Suite struct MainScreenSnapshots {
    @Test func feed80x24() {
        var s = state(rows: 24, cols: 80)
        _ = update(&s, .latest(sequence: 90, timestamp: nil))
        _ = update(&s, .pageLoaded(entries: entries(30), unreadable: []))
        // The fetcher's last report: the status line says how many requests are in flight.
        _ = update(&s, .progress(FetchRate(pagesPerSecond: 0, entriesPerSecond: 0, fraction: nil, fractionIsEstimate: false,
                                           inFlight: 8, width: 8)))
        _ = update(&s, .input(.key(.char("j"))))
        _ = update(&s, .input(.key(.char("j"))))
        assertSnapshot(MainScreen.render(s, theme: Theme(color: true)), named: "feed-80x24")
    }

    @Test func feed120x40InTokyoTime() {
        var s = state(rows: 40, cols: 120, zone: tokyo)
        _ = update(&s, .pageLoaded(entries: entries(30), unreadable: [UnreadableEntry(reason: "bad"), UnreadableEntry(reason: "bad")]))
        _ = update(&s, .caughtUp)
        assertSnapshot(MainScreen.render(s, theme: Theme(color: true)), named: "feed-120x40-tokyo")
    }

    @Test func feedNarrow40x12() {
        var s = state(rows: 12, cols: 40)
        _ = update(&s, .pageLoaded(entries: entries(30), unreadable: []))
        _ = update(&s, .input(.key(.char("G"))))
        assertSnapshot(MainScreen.render(s, theme: Theme(color: true)), named: "feed-40x12")
    }

    @Test func tokenErrorShowsAzTextAndWhatToDo() {
        var s = AppState(serviceURL: "https://contoso-ws-dicom.dicom.azurehealthcareapis.com", apiVersion: .v2,
                         screenRows: 24, screenCols: 80, now: t0, timeZone: utc)
        _ = update(&s, .started)
        _ = update(&s, .tokenFailed(Problem("ERROR: Please run 'az login' to setup account.",
                                            hint: "Sign in with az login in another terminal, then press r.", signInHelps: true)))
        assertSnapshot(MainScreen.render(s, theme: Theme(color: true)), named: "token-error-80x24")
    }

    @Test func hostileAndJapaneseServerTextIsShownNotObeyed() {
        var s = state(rows: 24, cols: 80)
        _ = update(&s, .fetchStopped(Problem("403 Forbidden: 認証に失敗しました\u{1b}]52;c;cHduZWQ=\u{07}\u{1b}[2J\u{9b}31m\u{202e}evil",
                                             hint: "The identity needs the DICOM Data Reader role."), needsToken: false))
        let canvas = MainScreen.render(s, theme: Theme(color: true))
        assertSnapshot(canvas, named: "hostile-server-text-80x24")
        for row in canvas.lines() {
            #expect(!row.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x07 || $0.value == 0x9B || $0.value == 0x202E })
        }
    }

    @Test func tooSmall() {
        let s = state(rows: 6, cols: 30)
        assertSnapshot(MainScreen.render(s, theme: Theme(color: true)), named: "too-small-30x6")
    }

    @Test func expiredTokenCountsUp() {
        var s = state(rows: 24, cols: 100)
        _ = update(&s, .tick(t0.addingTimeInterval(3125 + 75)))
        let header = MainScreen.render(s, theme: Theme(color: true)).line(1)
        #expect(header.contains("✗ expired"))
        #expect(header.contains("1m 15s ago"))
    }
}

@Suite struct MainScreenProperties {
    @Test func selectedRowIsReversedAcrossTheWidth() {
        var s = state(rows: 24, cols: 80)
        _ = update(&s, .pageLoaded(entries: entries(10), unreadable: []))
        _ = update(&s, .input(.key(.char("j"))))
        let c = MainScreen.render(s, theme: Theme(color: true))
        let y = Layout.headerRows + 1
        #expect((0..<c.cols).allSatisfy { c[y, $0].style.reverse })
        #expect(!(0..<c.cols).contains { c[y + 1, $0].style.reverse })
    }

    @Test func monochromeHasNoColours() {
        var s = state(rows: 24, cols: 80)
        _ = update(&s, .pageLoaded(entries: entries(10), unreadable: []))
        let c = MainScreen.render(s, theme: Theme(color: false))
        #expect(c.cells.allSatisfy { $0.style.fg == nil && $0.style.bg == nil })
        let coloured = MainScreen.render(s, theme: Theme(color: true))
        #expect(coloured.cells.contains { $0.style.fg == .green })
    }

    @Test(arguments: [32, 40, 57, 80, 100, 133, 200])
    func noRowOverflowsAtAnyWidth(cols: Int) {
        var s = state(rows: 20, cols: cols)
        _ = update(&s, .pageLoaded(entries: entries(30), unreadable: []))
        let c = MainScreen.render(s, theme: Theme(color: true))
        for row in 0..<c.rows {
            let width = (0..<c.cols).reduce(0) { $0 + TextWidth.of(c[row, $1].text) }
            #expect(width <= cols)
        }
        // Every entry row shows its sequence number.
        for i in 0..<Layout.listRows(screenRows: 20) {
            #expect(c.line(Layout.headerRows + i).contains(String((i + 1) * 3)))
        }
    }

    @Test func headerShowsExpiryCountdownAndIdentityButNeverMoreThanTheMask() {
        let s = state(rows: 24, cols: 160)
        let canvas = MainScreen.render(s, theme: Theme(color: true))
        let header = canvas.line(1) + "\n" + canvas.line(2)
        #expect(header.contains("● valid"))
        #expect(header.contains("expires 03:07:41 (in 52m 05s)"))
        #expect(header.contains("taro.yamada@contoso.example"))
        #expect(header.contains("eyJ0…Q1xw"))
    }
}

@Suite struct SignInDialogSnapshots {
    @Test func waitingForTheUser80x24() {
        var s = state(rows: 24, cols: 80)
        _ = update(&s, .pageLoaded(entries: entries(30), unreadable: []))
        _ = update(&s, .input(.key(.char("l"))))
        _ = update(&s, .signInPrompt(url: "https://microsoft.com/devicelogin", code: "FAKE1234",
                                     message: "To sign in, use a web browser to open the page https://microsoft.com/devicelogin and enter the code FAKE1234 to authenticate."))
        _ = update(&s, .tick(t0.addingTimeInterval(75)))
        let c = MainScreen.render(s, theme: Theme(color: true))
        assertSnapshot(c, named: "sign-in-waiting-80x24")
        #expect(c.lines().contains { $0.contains("F A K E 1 2 3 4") })
        #expect(c.lines().contains { $0.contains("1m 15s") })
    }

    @Test func declinedShowsAzsMessage40x12() {
        var s = state(rows: 12, cols: 40)
        _ = update(&s, .input(.key(.char("l"))))
        _ = update(&s, .signInFailed(Problem("Azure sign-in needs to be renewed interactively: AADSTS70000: The user declined to authorize the application.",
                                             hint: "Run `az login` in another terminal to sign in again, then press r.")))
        assertSnapshot(MainScreen.render(s, theme: Theme(color: true)), named: "sign-in-declined-40x12")
    }
}
