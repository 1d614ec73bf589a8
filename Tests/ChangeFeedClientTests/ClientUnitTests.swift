@testable import ChangeFeedClient
import FeedModel
import Foundation
import Testing

@Suite struct ServiceEndpointTests {
    @Test func httpsIsAccepted() throws {
        let e = try ServiceEndpoint("https://ws-dicom.dicom.azurehealthcareapis.com/")
        #expect(e.baseURL == "https://ws-dicom.dicom.azurehealthcareapis.com")
        #expect(!e.isLoopback)
    }

    @Test func aPastedChangeFeedURLMeansTheService() throws {
        #expect(try ServiceEndpoint("https://ws-dicom.dicom.azurehealthcareapis.com/v2/changefeed").baseURL
                == "https://ws-dicom.dicom.azurehealthcareapis.com")
        #expect(try ServiceEndpoint("https://x.example/v1.0-prerelease/changefeed/latest").baseURL == "https://x.example")
    }

    /// Found by the `time` fuzz target (Fuzz/Corpus/time/crash-88b60ae3…, `https://v1ps://v1....`,
    /// and crash-a991828b…, a tab left at the end once `/v0` was removed):
    /// removing the version left a base URL ending in "/" (`https://v1ps:/`), so page URLs got
    /// `//v2/changefeed`. A base URL never ends in "/" and, given again, is the same service.
    @Test(arguments: ["https://v1ps://v1....", "http://127.0.0.1/v1\t/v0", "https://x.example/v1/", "https://x.example/v1//changefeed/",
                      "https://x.example/v2/v1/changefeed", "https://x.example//"])
    func aBaseURLGivesItselfBack(text: String) throws {
        let e = try ServiceEndpoint(text)
        #expect(!e.baseURL.hasSuffix("/"), "\(e.baseURL)")
        #expect(try ServiceEndpoint(e.baseURL) == e)
    }

    @Test(arguments: ["http://127.0.0.1:8080", "http://localhost:1", "http://[::1]:9000"])
    func plainHTTPOnlyForLoopback(url: String) throws {
        #expect(try ServiceEndpoint(url).isLoopback)
    }

    @Test func plainHTTPToARemoteHostIsRefused() {
        #expect(throws: ServiceEndpoint.Invalid.plainHTTPToRemoteHost("ws-dicom.dicom.azurehealthcareapis.com")) {
            try ServiceEndpoint("http://ws-dicom.dicom.azurehealthcareapis.com")
        }
        #expect(throws: ServiceEndpoint.Invalid.self) { try ServiceEndpoint("ftp://x") }
        #expect(throws: ServiceEndpoint.Invalid.self) { try ServiceEndpoint("not a url") }
    }
}

@Suite struct PageDecodingTests {
    let good = #"{"sequence":%d,"studyInstanceUid":"1","seriesInstanceUid":"2","sopInstanceUid":"3","action":"Create","timestamp":"2020-03-04T01:03:08Z","state":"Current"}"#

    @Test func oneBadEntryDoesNotTakeThePageDown() throws {
        let page = "[" + String(format: good, 1) + #",{"sequence":"two"},"# + String(format: good, 3) + ",7]"
        let results = try ChangeFeedClient.decodePage(Data(page.utf8))
        #expect(results.count == 4)
        guard case .entry(let first) = results[0], case .undecodable(let i, _) = results[1],
              case .entry(let third) = results[2], case .undecodable(3, _) = results[3] else {
            Issue.record("unexpected shape \(results)")
            return
        }
        #expect(first.sequence == 1 && third.sequence == 3 && i == 1)
    }

    @Test func aBodyThatIsNotAnArrayIsMalformed() {
        for body in ["{\"sequence\":1}", "<html>", "[{\"sequence\":1", ""] {
            #expect(throws: ChangeFeedError.self) { try ChangeFeedClient.decodePage(Data(body.utf8)) }
        }
    }

    /// Found by the `page` fuzz target's property "JSON null, and only null, is an empty feed"
    /// (Fuzz/Corpus/page/latest-null-junk, latest-null-after-spaces): /latest's body was compared
    /// as its first 16 bytes trimmed of Unicode white space.
    @Test func onlyJSONNullFromLatestIsAnEmptyFeed() throws {
        for body in ["null", "  null\n", "\r\n\t" + String(repeating: " ", count: 40) + "null" + String(repeating: "\n", count: 40)] {
            #expect(try ChangeFeedClient.decodeLatest(Data(body.utf8)) == nil, "\(body.debugDescription)")
        }
        for body in ["null            x", "\u{A0}null", "nullnull", "null]", "\u{FEFF}null", "[null]"] {
            #expect(throws: ChangeFeedError.self, "\(body.debugDescription)") { try ChangeFeedClient.decodeLatest(Data(body.utf8)) }
        }
    }

    /// Found by the `page` fuzz target (Fuzz/Corpus/page/crash-57eb2c0f…, `[8,\n]`): JSONDecoder
    /// accepts a comma before the closing bracket, the old splitter did not, so an element that
    /// did not decode in such a page lost its raw text. The one-pass decoder keeps every
    /// element's text, and reads a trailing comma as JSONDecoder does.
    @Test func aTrailingCommaKeepsEachElementsText() throws {
        let eight = try ChangeFeedClient.decodePage(Data("\n[8,\n]".utf8))
        guard case .undecodable(0, let bad8)? = eight.first, eight.count == 1 else { Issue.record("\(eight)"); return }
        #expect(bad8.raw == "8")
        let mixed = try ChangeFeedClient.decodePage(Data("[ {\"a\":[1,2]} , \"x,]\" ,]".utf8))
        #expect(mixed.map { r -> String? in if case .undecodable(_, let u) = r { return u.raw } else { return nil } } == [#"{"a":[1,2]}"#, #""x,]""#])
        #expect(throws: ChangeFeedError.self) { try ChangeFeedClient.decodePage(Data("[,]".utf8)) }
        let page = Data(#"[{"sequence":7,"action":"Archive"},]"#.utf8)
        let results = try ChangeFeedClient.decodePage(page)
        guard case .undecodable(0, let bad)? = results.first else { Issue.record("\(results)"); return }
        #expect(bad.raw == #"{"sequence":7,"action":"Archive"}"#)
    }

    @Test func retryAfterInSecondsOrAsADate() {
        #expect(ChangeFeedClient.retryAfter("7") == 7)
        #expect(ChangeFeedClient.retryAfter(nil) == nil)
        #expect(ChangeFeedClient.retryAfter("soon") == nil)
        let future = ChangeFeedClient.retryAfter("Wed, 21 Oct 2099 07:28:00 GMT")
        #expect((future ?? 0) > 1_000_000)
    }

    /// Found by the `time` fuzz target (Fuzz/Corpus/time/crash-595ed055…): `Retry-After: 2200e2023`
    /// was an infinite wait, and the fetcher's `UInt64(delay * 1e9)` traps on it (as on any wait
    /// past 584 years). Waits are bounded; `nan` is not a wait.
    @Test func retryAfterIsBounded() {
        for text in ["2200e2023", "inf", "1e20", "Fri, 31 Dec 9999 23:59:59 GMT"] {
            #expect(ChangeFeedClient.retryAfter(text) == ChangeFeedClient.maxRetryAfter, "\(text)")
        }
        #expect(ChangeFeedClient.retryAfter("nan") == nil)
        #expect(ChangeFeedClient.retryAfter("-inf") == 0)
        #expect(UInt64(ChangeFeedClient.maxRetryAfter * 1_000_000_000) > 0)
    }

    /// Found by the `time` fuzz target (Fuzz/Corpus/time/crash-0df215c8…): Foundation's
    /// DateFormatter traps on "M" + U+0617 ("Incorrect range"), so a Retry-After header like that
    /// crashed dicomtui. HTTP dates are read by hand.
    @Test func retryAfterDatesAreReadWithoutDateFormatter() {
        for text in ["M\u{0617}", "Mon\u{0301}, 06 Nov 1994 08:49:37 GMT", "a\r\nb", "Sun, 06 Nov 1994 08:49:37 PST",
                     "Sun, 31 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 94 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT"] {
            #expect(ChangeFeedClient.retryAfter(text) == nil, "\(text.debugDescription)")
        }
        #expect(ChangeFeedClient.retryAfter("Sun, 06 Nov 1994 08:49:37 GMT") == 0)   // in the past: now
        #expect(ChangeFeedClient.httpDate("Sun, 06 Nov 1994 08:49:37 GMT") == Date(timeIntervalSince1970: 784_111_777))
        #expect(ChangeFeedClient.httpDate("wed, 21 OCT 2015 07:28:00 utc") == Date(timeIntervalSince1970: 1_445_412_480))
        let soon = ChangeFeedClient.retryAfter(Self.httpDate(Date().addingTimeInterval(120)))
        #expect(soon.map { (100...121).contains($0) } == true)
    }

    static func httpDate(_ date: Date) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "GMT")
        f.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return f.string(from: date)
    }

    @Test func timesAreEncodedSoPlusSurvives() {
        let s = ChangeFeedClient.encode([URLQueryItem(name: "startTime", value: "2026-01-01T00:00:00+09:00")])
        #expect(s == "startTime=2026-01-01T00:00:00%2B09:00")
    }

    @Test func errorsCarryActionableHints() {
        #expect(ChangeFeedError.forbidden("Authorization failed.").hint?.contains("DICOM Data Reader") == true)
        #expect(ChangeFeedError.notFound("").hint?.contains("--api-version") == true)
        #expect(ChangeFeedError.unauthorized(challenge: #"Bearer realm="x", error="invalid_token", error_description="The token expired""#)
            .message.contains("The token expired"))
        #expect(ChangeFeedError.server(status: 503, body: "").isRetryable)
        #expect(!ChangeFeedError.badRequest("x").isRetryable)
    }
}

@Suite struct NetworkProblemWordingTests {
    struct Raw: Error, CustomStringConvertible { let description: String }

    @Test(arguments: [
        ("connection reset (error set): Connection refused) (errno: 111)", "refused the connection"),
        ("NIOConnectionError: DNS A-record lookup failed: Name or service not known", "could not be resolved"),
        ("handshake failed: certificate verify failed", "TLS connection"),
        ("HTTPClientError.readTimeout", "did not answer in time"),
        ("connection reset by peer (errno: 104)", "was reset"),
        ("HTTPClientError.remoteConnectionClosed", "closed the connection"),
    ])
    func networkFailuresAreSaidPlainly(raw: String, plain: String) {
        let text = ChangeFeedClient.networkProblem(Raw(description: raw), host: "ws.example")
        #expect(text.contains(plain))
        #expect(text.contains(raw.prefix(20)), "the library's own words stay, in brackets")
    }

    @Test func anUnknownFailureKeepsItsOwnText() {
        #expect(ChangeFeedClient.networkProblem(Raw(description: "something odd"), host: "h") == "something odd")
    }
}

@Suite struct UnreadableSalvageTests {
    @Test func whatCanBeReadOfABadElementIsKept() throws {
        let body = """
            [{"sequence": 5, "timestamp": "2024-03-04T10:19:39.8097283+00:00", "sopInstanceUid": "1.2.3", "action": "Move",
              "state": "Current", "studyInstanceUid": "1", "seriesInstanceUid": "1.2"},
             {"Sequence": 6, "Action": "Create"},
             42]
            """
        let results = try ChangeFeedClient.decodePage(Data(body.utf8))
        guard case .undecodable(0, let a) = results[0], case .undecodable(1, let b) = results[1],
              case .undecodable(2, let c) = results[2] else {
            Issue.record("expected three unreadable elements: \(results)")
            return
        }
        #expect(a.sequence == 5 && a.sopInstanceUid == "1.2.3" && a.timestamp != nil)
        #expect(a.reason == "unknown action 'Move'")
        #expect(b.sequence == 6, "keys are matched case-insensitively here too")
        #expect(b.reason.contains("missing field"))
        #expect(c.sequence == nil && !c.reason.isEmpty)
    }
}
