import AsyncHTTPClient
import Emulator
import FeedModel
import Foundation
import NIOCore
import Testing

/// A response read part by part, with the time each part arrived; `error` is what ended the
/// body early, if anything did.
struct StreamedAnswer {
    var status: Int
    var headers: [(String, String)]
    var parts: [(at: Duration, bytes: Data)]
    var error: (any Error)?

    var body: Data { parts.reduce(into: Data()) { $0.append($1.bytes) } }

    func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }
}

extension Harness {
    /// GET, keeping the body's parts apart; a failure while reading the body is returned, not thrown.
    func stream(_ pathAndQuery: String) async throws -> StreamedAnswer {
        let clock = ContinuousClock()
        let start = clock.now
        let request = HTTPClientRequest(url: base.absoluteString + pathAndQuery)
        let response = try await client.execute(request, timeout: .seconds(30))
        var answer = StreamedAnswer(status: Int(response.status.code),
                                    headers: response.headers.map { ($0.name, $0.value) }, parts: [])
        do {
            for try await buffer in response.body {
                answer.parts.append((clock.now - start, Data(buffer.readableBytesView)))
            }
        } catch {
            answer.error = error
        }
        return answer
    }

    /// GET with a short overall deadline.
    func get(_ pathAndQuery: String, timeout milliseconds: Int64) async throws -> HTTPAnswer {
        let request = HTTPClientRequest(url: base.absoluteString + pathAndQuery)
        let response = try await client.execute(request, timeout: .milliseconds(milliseconds))
        let body = try await response.body.collect(upTo: 64 << 20)
        return HTTPAnswer(status: Int(response.status.code), headers: response.headers.map { ($0.name, $0.value) },
                          body: Data(body.readableBytesView))
    }
}

@Suite("Fault injection")
struct FaultInjectionTests {
    static let page = "/v2/changefeed?limit=20"

    @Test("status: the next N requests get the code and body, then normal service resumes")
    func statusForNextN() async throws {
        try await withEmulator(EmulatorOptions(entries: 50)) { h async throws in
            h.server.faults.failNext(2, status: 503, body: "busy")
            for _ in 0..<2 {
                let a = try await h.get(Self.page)
                #expect(a.status == 503)
                #expect(a.text == "busy")
                #expect(a.header("Content-Type") == "text/plain; charset=utf-8")
            }
            #expect(h.server.faults.pendingCount == 0)
            #expect(try await h.get(Self.page).status == 200)
            #expect(h.server.faults.appliedCount == 2)
            #expect(h.server.requestLog.requests.map(\.status) == [503, 503, 200])
            #expect(h.server.requestLog.requests.map(\.fault) == [.status(503, body: "busy"), .status(503, body: "busy"), nil])
        }
    }

    @Test("429 with Retry-After in seconds, as a fixed HTTP date, and as an HTTP date relative to the response")
    func retryAfterForms() async throws {
        try await withEmulator(EmulatorOptions(entries: 50)) { h async throws in
            h.server.faults.failNext(1, status: 429, retryAfter: 3)
            // 1994-11-06T08:49:37Z, RFC 9110's example.
            h.server.faults.failNext(1, status: 429, retryAfter: .httpDate(Date(timeIntervalSince1970: 784_111_777)))
            h.server.faults.failNext(1, status: 503, retryAfter: .httpDateIn(seconds: 120))

            #expect(try await h.get(Self.page).header("Retry-After") == "3")
            let fixed = try await h.get(Self.page)
            #expect(fixed.status == 429)
            #expect(fixed.header("Retry-After") == "Sun, 06 Nov 1994 08:49:37 GMT")

            let before = Date()
            let relative = try await h.get(Self.page)
            let after = Date()
            #expect(relative.status == 503)
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "GMT")
            formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
            let date = try #require(formatter.date(from: relative.header("Retry-After") ?? ""))
            // 120 s after the moment the server answered (which is between before and after),
            // rounded down to the second.
            let ahead = date.timeIntervalSince(before)
            #expect(ahead > 119 - 1 && date.timeIntervalSince(after) <= 120, "Retry-After is \(ahead) s ahead")
            #expect(try await h.get(Self.page).header("Retry-After") == nil)
        }
    }

    @Test("HTTP dates are IMF-fixdate")
    func httpDateFormat() {
        #expect(RetryAfter.httpDate(Date(timeIntervalSince1970: 0)) == "Thu, 01 Jan 1970 00:00:00 GMT")
        #expect(RetryAfter.httpDate(Date(timeIntervalSince1970: 1_709_539_205)) == "Mon, 04 Mar 2024 08:00:05 GMT")
        #expect(RetryAfter.seconds(7).headerValue() == "7")
        #expect(RetryAfter.httpDateIn(seconds: 60).headerValue(now: Date(timeIntervalSince1970: 0))
                == "Thu, 01 Jan 1970 00:01:00 GMT")
    }

    @Test("reset: the client gets a network error and no response; the next request is served")
    func reset() async throws {
        try await withEmulator(EmulatorOptions(entries: 50)) { h async throws in
            #expect(try await h.get(Self.page).status == 200)     // a pooled connection to drop
            h.server.faults.enqueue(.reset)
            let error = await #expect(throws: (any Error).self) { try await h.get(Self.page) }
            // A TCP reset, not a timeout or an orderly close.
            #expect((error as? IOError)?.errnoCode == ECONNRESET, "\(String(describing: error))")
            #expect(try await h.get(Self.page).status == 200)
            let log = h.server.requestLog.requests
            #expect(log.map(\.status) == [200, 0, 200])
            #expect(log[1].fault == .reset)
        }
    }

    @Test("hang: the request is read but not answered; a client with a short timeout gives up")
    func hangUntilClientGivesUp() async throws {
        try await withEmulator(EmulatorOptions(entries: 50)) { h async throws in
            h.server.faults.enqueue(.hang(milliseconds: nil))
            let clock = ContinuousClock()
            let start = clock.now
            await #expect(throws: (any Error).self) { try await h.get(Self.page, timeout: 300) }
            let waited = clock.now - start
            #expect(waited >= .milliseconds(300) && waited < .seconds(30))
            // The server saw the request (logged with no status while it hangs). On a busy machine
            // the client may give up before the server has read it: wait for it a moment.
            for _ in 0..<100 where h.server.requestLog.requests.isEmpty { try await Task.sleep(for: .milliseconds(50)) }
            #expect(h.server.requestLog.requests.first?.status == 0)
            #expect(h.server.requestLog.requests.first?.fault == .hang(milliseconds: nil))
            #expect(try await h.get(Self.page).status == 200)
        }
    }

    @Test("hang for a time: nothing before it, then the connection is dropped without a response")
    func hangThenDrop() async throws {
        try await withEmulator(EmulatorOptions(entries: 50)) { h async throws in
            h.server.faults.enqueue(.hang(milliseconds: 400))
            let clock = ContinuousClock()
            let start = clock.now
            await #expect(throws: (any Error).self) { try await h.get(Self.page, timeout: 60_000) }
            let waited = clock.now - start
            // Dropped by the server after its 400 ms, not by the client's 60 s timeout (the bound
            // is loose: a loaded 2-core machine can be slow to wake the server's timer).
            #expect(waited >= .milliseconds(400) && waited < .seconds(30), "waited \(waited)")
            #expect(try await h.get(Self.page).status == 200)
        }
    }

    @Test("slow body: the right bytes and Content-Length, in several parts, taking at least the delays")
    func slowBody() async throws {
        try await withEmulator(EmulatorOptions(entries: 50)) { h async throws in
            let path = "/v2/changefeed?limit=10&includeMetadata=false"
            let truth = try await h.get(path).body
            #expect(truth.count > 2000)
            let chunks = (truth.count + 999) / 1000
            h.server.faults.enqueue(.slowBody(bytesPerChunk: 1000, delayMilliseconds: 60))
            let slow = try await h.stream(path)
            #expect(slow.error == nil)
            #expect(slow.status == 200)
            #expect(slow.body == truth)
            #expect(slow.header("Content-Length") == String(truth.count))
            #expect(slow.parts.count >= 3, "\(slow.parts.count) parts for \(chunks) chunks")
            // The server sleeps 60 ms before each chunk after the first: a lower bound, whatever the load.
            let last = slow.parts.last?.at ?? .zero
            #expect(last >= .milliseconds(60 * (chunks - 1)), "last part \(last) after the request")
        }
    }

    @Test("malformed JSON: 200, a JSON content type, and a body that is not JSON")
    func malformedJSON() async throws {
        try await withEmulator(EmulatorOptions(entries: 50)) { h async throws in
            h.server.faults.enqueue(.malformedJSON)
            let a = try await h.get(Self.page)
            #expect(a.status == 200)
            #expect(a.header("Content-Type") == "application/json; charset=utf-8")
            #expect(a.text == InjectedFault.malformedJSONBody)
            #expect(throws: (any Error).self) { try JSONSerialization.jsonObject(with: a.body) }
            #expect(try await h.get(Self.page).array().count == 20)
        }
    }

    @Test("truncated: the full Content-Length is announced, half the body arrives, then the connection ends")
    func truncatedBody() async throws {
        try await withEmulator(EmulatorOptions(entries: 50)) { h async throws in
            let truth = try await h.get(Self.page).body      // with metadata: tens of kilobytes
            #expect(truth.count > 20_000)
            h.server.faults.enqueue(.truncatedBody)
            let cut = try await h.stream(Self.page)
            #expect(cut.status == 200)
            #expect(cut.header("Content-Length") == String(truth.count))
            #expect(cut.error != nil, "the client must notice the body ended early")
            #expect(cut.body == truth.prefix(truth.count / 2))
            #expect((try? JSONSerialization.jsonObject(with: cut.body)) == nil, "half a page must not parse")
            #expect(try await h.get(Self.page).body == truth)
        }
    }

    @Test("bad entry: exactly the entry at the index is undecodable, the others are the store's truth")
    func badEntry() async throws {
        try await withEmulator(EmulatorOptions(entries: 50)) { h async throws in
            let truth = try await h.get(Self.page).array()
            let rows = h.store.entriesV2(limit: 20)
            #expect(truth.map { ($0["sequence"] as? NSNumber)?.int64Value } == rows.map(\.sequence))

            h.server.faults.enqueue(.badEntry(index: 5))
            let answer = try await h.get(Self.page)
            #expect(answer.status == 200)
            let page = try answer.array()
            #expect(page.count == truth.count)
            for (i, entry) in page.enumerated() where i != 5 {
                #expect(NSDictionary(dictionary: entry).isEqual(to: truth[i]), "entry \(i) changed")
            }
            let bad = page[5]
            #expect(bad["sequence"] as? String == String(rows[5].sequence))
            #expect(bad["studyInstanceUid"] == nil)
            #expect(bad["sopInstanceUid"] as? String == rows[5].sopInstanceUid)

            // With the shared model's decoder, exactly one entry fails.
            let objects = try #require(try JSONSerialization.jsonObject(with: answer.body) as? [Any])
            let failures = objects.indices.filter { i in
                let data = try! JSONSerialization.data(withJSONObject: objects[i])
                return (try? JSONDecoder().decode(ChangeFeedEntry.self, from: data)) == nil
            }
            #expect(failures == [5])
            #expect(throws: (any Error).self) { try JSONDecoder().decode([ChangeFeedEntry].self, from: answer.body) }
        }
    }

    @Test("bad entry: an index past the page breaks the last entry; on /latest it breaks the object")
    func badEntryClampedAndLatest() async throws {
        try await withEmulator(EmulatorOptions(entries: 50)) { h async throws in
            h.server.faults.enqueue(.badEntry(index: 999))
            let page = try await h.get("/v2/changefeed?limit=4").array()
            #expect(page.map { $0["sequence"] is String } == [false, false, false, true])

            h.server.faults.enqueue(.badEntry(index: 0))
            let latest = try await h.get("/v2/changefeed/latest").object()
            #expect(latest["sequence"] as? String == String(h.store.latest(.v2)!.sequence))
            #expect(latest["studyInstanceUid"] == nil)

            // An empty page stays empty (and uses up the fault).
            h.server.faults.enqueue(.badEntry(index: 0))
            #expect(try await h.get("/v1/changefeed?offset=100000").text == "[]")
            #expect(h.server.faults.pendingCount == 0)
        }
    }

    @Test("targeting: a page fault lets /latest through and waits for the next page request, and vice versa")
    func targeting() async throws {
        try await withEmulator(EmulatorOptions(entries: 50)) { h async throws in
            h.server.faults.failNext(1, status: 503, target: .page)
            h.server.faults.failNext(1, status: 500, target: .latest)
            #expect(try await h.get("/v1/changefeed/latest").status == 500)
            #expect(try await h.get("/v1/changefeed/latest").status == 200)
            #expect(h.server.faults.pendingCount == 1)
            #expect(try await h.get("/v1/changefeed").status == 503)
            #expect(try await h.get("/v1/changefeed").status == 200)

            // Unknown paths are matched only by `.any` faults.
            h.server.faults.enqueue(.malformedJSON, target: .page)
            #expect(try await h.get("/nowhere").status == 404)
            h.server.faults.enqueue(.status(418), target: .any)
            #expect(try await h.get("/v2/changefeed").text == InjectedFault.malformedJSONBody)
            #expect(try await h.get("/nowhere").status == 418)
        }
    }

    @Test("queued faults apply in order, each to one request, then stop")
    func counts() async throws {
        try await withEmulator(EmulatorOptions(entries: 50)) { h async throws in
            h.server.faults.enqueue(.malformedJSON, times: 3)
            h.server.faults.enqueue(.badEntry(index: 0), times: 2)
            #expect(h.server.faults.pendingCount == 5)
            var texts: [String] = []
            for _ in 0..<6 { texts.append(try await h.get(Self.page).text) }
            #expect(texts.prefix(3).allSatisfy { $0 == InjectedFault.malformedJSONBody })
            let broken = try texts.dropFirst(3).map { t -> Bool in
                let page = try #require(try JSONSerialization.jsonObject(with: Data(t.utf8)) as? [[String: Any]])
                return page[0]["sequence"] is String
            }
            #expect(broken == [true, true, false])
            #expect(h.server.faults.pendingCount == 0)
            #expect(h.server.faults.appliedCount == 5)
        }
    }

    @Test("periodic: every Nth matching request fails, other targets are not counted; reset stops it")
    func periodic() async throws {
        try await withEmulator(EmulatorOptions(entries: 50)) { h async throws in
            h.server.faults.every(3, .status(503), target: .page)
            var pages: [Int] = []
            for _ in 0..<7 {
                pages.append(try await h.get("/v1/changefeed").status)
                #expect(try await h.get("/v1/changefeed/latest").status == 200)
            }
            #expect(pages == [200, 200, 503, 200, 200, 503, 200])
            // A queued fault takes precedence, and the request still counts.
            h.server.faults.failNext(1, status: 429)
            #expect(try await h.get("/v1/changefeed").status == 429)
            #expect(try await h.get("/v1/changefeed").status == 503)
            h.server.faults.reset()
            for _ in 0..<4 { #expect(try await h.get("/v1/changefeed").status == 200) }
        }
    }

    @Test("existing uses keep working: .delay(0) lets one request through, then failNext")
    func legacyDelay() async throws {
        try await withEmulator(EmulatorOptions(entries: 50)) { h async throws in
            h.server.faults.enqueue(.delay(milliseconds: 0))
            h.server.faults.failNext(1, status: 404, body: "The requested resource was not found.")
            #expect(try await h.get("/v2/changefeed/latest").status == 200)
            let a = try await h.get(Self.page)
            #expect(a.status == 404)
            #expect(a.text == "The requested resource was not found.")
        }
    }

    @Test("EmulatorOptions.faults: a spec queues its faults and latency when the server is created")
    func optionsSpec() async throws {
        var options = EmulatorOptions(entries: 50)
        options.faults = try FaultPlan(spec: "503x2@page,latency=120")
        try await withEmulator(options) { h async throws in
            #expect(h.server.faults.pendingCount == 2)
            #expect(h.server.faults.addedLatencyMilliseconds == 120)
            let clock = ContinuousClock()
            let start = clock.now
            #expect(try await h.get("/v2/changefeed/latest").status == 200)
            #expect(clock.now - start >= .milliseconds(120))
            #expect(try await h.get(Self.page).status == 503)
            #expect(try await h.get(Self.page).status == 503)
            #expect(try await h.get(Self.page).status == 200)
        }
    }

    @Test("limit: requests over the limit get 429 'too many concurrent requests' with Retry-After: 1 at once; then service resumes")
    func concurrencyLimit() async throws {
        var options = EmulatorOptions(entries: 50)
        options.faults = try FaultPlan(spec: "limit=2,latency=1500")
        try await withEmulator(options) { h async throws in
            let started = ContinuousClock.now
            let answers = try await withThrowingTaskGroup(of: (HTTPAnswer, Duration).self) { group in
                for _ in 0..<5 {
                    group.addTask { (try await h.get(Self.page), ContinuousClock.now - started) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let served = answers.filter { $0.0.status == 200 }
            let refused = answers.filter { $0.0.status == 429 }
            #expect(served.count == 2, "\(answers.map(\.0.status))")
            #expect(refused.count == 3)
            // Refused at once: a request over the limit came while both served ones were in flight
            // (each waits the 1.5 s latency), and its answer did not wait for them.
            let firstServed = served.map(\.1).min() ?? .zero
            for (a, after) in refused {
                #expect(a.text == "too many concurrent requests")
                #expect(a.header("Retry-After") == "1")
                #expect(after < firstServed, "refused at once, not after the latency")
            }
            #expect(h.server.requestLog.requests.filter { $0.fault == FaultInjector.overLimit }.count == 3)
            // The two in flight have been answered: the next requests are served.
            #expect(try await h.get(Self.page).status == 200)
            h.server.faults.reset()
            #expect(h.server.faults.concurrencyLimit == nil)
        }
    }
}

@Suite("Fault specs")
struct FaultSpecTests {
    @Test("the example spec parses to its faults, in order")
    func example() throws {
        let plan = try FaultPlan(spec: "503x2,429:retry=3,reset,hang=5000,slow,malformed,empty,truncated,bad-entry=5,latency=50")
        #expect(plan.rules == [
            .init(.status(503), repeat: .next(2)),
            .init(.status(429, retryAfter: 3)),
            .init(.reset),
            .init(.hang(milliseconds: 5000)),
            .init(.slowBody(bytesPerChunk: FaultPlan.defaultSlowBytes,
                            delayMilliseconds: FaultPlan.defaultSlowDelayMilliseconds)),
            .init(.malformedJSON),
            .init(.emptyBody),
            .init(.truncatedBody),
            .init(.badEntry(index: 5)),
        ])
        #expect(plan.latencyMilliseconds == 50)
    }

    @Test("repeats, targets, options and defaults")
    func variants() throws {
        #expect(try FaultPlan(spec: "503%20@page").rules == [.init(.status(503), target: .page, repeat: .every(20))])
        #expect(try FaultPlan(spec: " HANG x3 @Latest , bad-entry ").rules == [
            .init(.hang(milliseconds: nil), target: .latest, repeat: .next(3)),
            .init(.badEntry(index: 0)),
        ])
        #expect(try FaultPlan(spec: "slow=512/100@any").rules == [.init(.slowBody(bytesPerChunk: 512, delayMilliseconds: 100))])
        #expect(try FaultPlan(spec: "429:retry-date=30").rules
                == [.init(.statusRetryAfter(429, retryAfter: .httpDateIn(seconds: 30)))])
        #expect(try FaultPlan(spec: "delay=250x2").rules == [.init(.delay(milliseconds: 250), repeat: .next(2))])
        #expect(try FaultPlan(spec: "").isEmpty)
        #expect(try FaultPlan(spec: "latency=0").latencyMilliseconds == 0)
    }

    @Test("limit=N parses, writes back, and is not an empty plan")
    func limitSpec() throws {
        let plan = try FaultPlan(spec: "503%9@page,limit=4,latency=50")
        #expect(plan.concurrencyLimit == 4 && plan.latencyMilliseconds == 50 && plan.rules.count == 1)
        #expect(try FaultPlan(spec: plan.description) == plan)
        #expect(try FaultPlan(spec: "limit=1").isEmpty == false)
    }

    @Test("description writes a spec that parses back to the same plan")
    func roundTrip() throws {
        let spec = "503x2,429:retry=3,reset,hang,hang=5000@latest,slow=512/100,malformed%7@page,emptyx2@latest,truncated,bad-entry=5,429:retry-date=9,delay=10,latency=50"
        let plan = try FaultPlan(spec: spec)
        #expect(plan.description == spec)
        #expect(try FaultPlan(spec: plan.description) == plan)
    }

    @Test("bad specs throw, naming the item and the reason", arguments: [
        ("5033", "5033", "not an HTTP status"),
        ("199", "199", "not an HTTP status"),
        ("boom", "boom", "unknown fault 'boom'"),
        ("503x0", "503x0", "at least 1"),
        ("503%", "503%", "'%' must be followed by a count"),
        ("503@pages", "503@pages", "unknown target 'pages'"),
        ("hang=soon", "hang=soon", "milliseconds"),
        ("slow=0/10", "slow=0/10", "BYTES/MS"),
        ("slow=10", "slow=10", "BYTES/MS"),
        ("bad-entry=-1", "bad-entry=-1", "entry index"),
        ("reset=1", "reset=1", "takes no value"),
        ("429:retry=x", "429:retry=x", "seconds"),
        ("429:wait=3", "429:wait=3", "unknown status option"),
        ("delay", "delay", "needs milliseconds"),
        ("latency=", "latency=", "milliseconds"),
        ("limit=0", "limit=0", "1 or more"),
        ("limit=many", "limit=many", "1 or more"),
        ("503,,reset", "", "empty item"),
        ("503,", "", "empty item"),
    ])
    func badSpecs(spec: String, item: String, reason: String) {
        do {
            let plan = try FaultPlan(spec: spec)
            Issue.record("'\(spec)' parsed as \(plan)")
        } catch {
            #expect(error.item == item)
            #expect(error.reason.contains(reason), "\(error.reason)")
            #expect(error.description.hasPrefix("bad fault spec '\(spec)': item '\(item)': "))
        }
    }
}

@Suite("Empty body fault")
struct EmptyBodyFaultTests {
    @Test("empty: 200, a JSON content type, no body; then normal service resumes", arguments: ["/v2/changefeed?limit=20", "/v1/changefeed/latest"])
    func emptyBody(path: String) async throws {
        try await withEmulator(EmulatorOptions(entries: 50)) { h async throws in
            h.server.faults.enqueue(.emptyBody)
            let a = try await h.get(path)
            #expect(a.status == 200)
            #expect(a.header("Content-Type") == "application/json; charset=utf-8")
            #expect(a.header("Content-Length") == "0")
            #expect(a.body.isEmpty)
            let b = try await h.get(path)
            #expect(b.status == 200 && !b.body.isEmpty)
            #expect(h.server.requestLog.requests.map(\.fault) == [.emptyBody, nil])
        }
    }

    @Test("the spec item 'empty' parses, takes no value, and writes back as 'empty'")
    func spec() throws {
        #expect(try FaultPlan(spec: "empty").rules == [.init(.emptyBody)])
        #expect(try FaultPlan(spec: "EMPTY x2 @page").rules == [.init(.emptyBody, target: .page, repeat: .next(2))])
        let plan = try FaultPlan(spec: "empty%3@latest,malformed,empty")
        #expect(plan.description == "empty%3@latest,malformed,empty")
        #expect(throws: FaultSpecError.self) { try FaultPlan(spec: "empty=1") }
        do {
            _ = try FaultPlan(spec: "empty=1")
        } catch {
            #expect(error.reason.contains("takes no value"))
            #expect(error.description.contains("empty"))
        }
        do {
            _ = try FaultPlan(spec: "vacant")
        } catch {
            #expect(error.reason.contains("malformed, empty, truncated"))
        }
    }
}
