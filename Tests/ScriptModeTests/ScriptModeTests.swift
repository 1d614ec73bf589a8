import Emulator
import FeedModel
import Foundation
import ScriptMode
import SwiftCSV
import TestSupport
import Testing
import TokenSource

/// A private directory and environment for one test: no user configuration file leaks in.
struct Sandbox {
    let dir: URL
    var environment: [String: String]

    init() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("dicomtui-script-\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        environment = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
                       "HOME": dir.path, "XDG_CONFIG_HOME": dir.appendingPathComponent("config").path,
                       "XDG_STATE_HOME": dir.appendingPathComponent("state").path, "LANG": "C.UTF-8",
                       "SWIFT_BACKTRACE": "enable=no"]
    }

    /// Runs the binary on a thread of its own: waiting for a child never holds one of the task
    /// pool's few threads (on 2 cores, two blocked waits would stall every other test's timers),
    /// and an emulator in this process keeps answering.
    func runAsync(_ arguments: [String]) async throws -> CapturedRun {
        try await runCapturingOffPool([Build.dicomtui] + arguments, environment: environment)
    }

    func write(_ text: String, to name: String) throws -> String {
        let path = dir.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// The path of a fake `az` in the box whose `account get-access-token` prints `token` as az 2.54+ does.
    func fakeAz(token: AccessToken) throws -> String { try FakeAz.answering(token, in: dir).path }

    /// The path of a fake `az` in the box that nobody is signed in to.
    func fakeAzNotSignedIn() throws -> String { try FakeAz.notSignedIn(in: dir).path }
}

/// What the embedded demo emulator serves for `--demo --demo-entries n` (seed 1), in v2 feed order.
func demoEntries(_ n: Int, v1: Bool = false) -> [EmulatedEntry] {
    let store = ChangeFeedStore(options: EmulatorOptions.demo(entries: n).dataset)
    return v1 ? store.allEntries() : store.entriesV2(limit: n + 10)
}

func jsonObject(_ line: String) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not a JSON object: \(line)")
}

func expectSame(_ object: [String: Any], _ e: EmulatedEntry, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect((object["sequence"] as? NSNumber)?.int64Value == e.sequence, sourceLocation: sourceLocation)
    #expect(object["studyInstanceUid"] as? String == e.studyInstanceUid, sourceLocation: sourceLocation)
    #expect(object["seriesInstanceUid"] as? String == e.seriesInstanceUid, sourceLocation: sourceLocation)
    #expect(object["sopInstanceUid"] as? String == e.sopInstanceUid, sourceLocation: sourceLocation)
    #expect(object["action"] as? String == e.action.rawValue, sourceLocation: sourceLocation)
    #expect(object["state"] as? String == e.state.rawValue, sourceLocation: sourceLocation)
    #expect((object["partitionName"] as? String).map { (["Microsoft.Default"] + WireFormat.otherPartitionNames).contains($0) } == true,
            sourceLocation: sourceLocation)
    let ts = (object["timestamp"] as? String).flatMap(Timestamp.parse)
    #expect(ts == e.timestamp, "timestamp \(String(describing: object["timestamp"])) is not exactly \(e.timestampText)",
            sourceLocation: sourceLocation)
}

@Suite struct FeedCommandTests {
    @Test func ndjsonIsTheEmulatorsFeedLineByLine() async throws {
        let box = try Sandbox()
        let run = try await box.runAsync(["feed", "--demo", "--demo-entries", "450", "--page-size", "100"])
        #expect(run.status == 0, "\(run.stderr)")
        let expected = demoEntries(450)
        #expect(run.lines.count == expected.count)
        let objects = try run.lines.map(jsonObject)
        let sequences = objects.compactMap { ($0["sequence"] as? NSNumber)?.int64Value }
        #expect(sequences == expected.map(\.sequence), "same entries, same order")
        #expect(Set(sequences).count == sequences.count, "no duplicates")
        for (object, entry) in zip(objects, expected) { expectSame(object, entry) }
        #expect(objects.allSatisfy { $0["metadata"] == nil }, "no metadata unless asked")
        #expect(run.stderr.isEmpty, "no progress on stderr when it is not a terminal: \(run.stderr)")
    }

    /// A service that takes two requests at once: adaptive `feed` cuts back and says nothing
    /// about the 429s that cost (they are its probes), while `--parallel 8` keeps today's note
    /// for each retry.
    @Test func aConcurrencyLimitIsAbsorbedQuietlyUnlessParallelIsPinned() async throws {
        let box = try Sandbox()
        let common = ["feed", "--demo", "--demo-entries", "1000", "--page-size", "50", "--demo-faults", "limit=2,latency=30"]
        let expected = demoEntries(1000).map(\.sequence)

        let adaptive = try await box.runAsync(common)
        #expect(adaptive.status == 0, "\(adaptive.stderr)")
        #expect(try adaptive.lines.map(jsonObject).compactMap { ($0["sequence"] as? NSNumber)?.int64Value } == expected)
        #expect(adaptive.stderr.isEmpty, "no retry notes: \(adaptive.stderr)")

        let pinned = try await box.runAsync(common + ["--parallel", "8"])
        #expect(pinned.status == 0, "\(pinned.stderr)")
        #expect(try pinned.lines.map(jsonObject).compactMap { ($0["sequence"] as? NSNumber)?.int64Value } == expected)
        #expect(pinned.stderr.contains("429 Too Many Requests, retry after 1 s; try 2"), "\(pinned.stderr)")
    }

    @Test func v1WithATokenFromAzAndFromSequence() async throws {
        let (server, url) = try await startEmulator(entries: 300)
        defer { Task { await server.stop() } }
        let box = try Sandbox()
        let token = DemoTokenIssuer.mint(resource: DicomService.audience, issuedAt: Date(), lifetime: 3600)
        let az = try box.fakeAz(token: token)
        let run = try await box.runAsync(["feed", "--url", url, "--az", az, "--api-version", "v1", "--from", "120"])
        #expect(run.status == 0, "\(run.stderr)")
        let expected = server.store.allEntries().filter { $0.sequence > 120 }
        let objects = try run.lines.map(jsonObject)
        #expect(objects.count == expected.count)
        for (object, entry) in zip(objects, expected) { expectSame(object, entry) }
    }

    /// The service reads `offset + limit` rows for each v2 request: `feed` reads older entries
    /// in time windows, so no request it sends skips more than `--max-offset` rows.
    @Test func v2NeverSendsAnOffsetAboveMaxOffset() async throws {
        let (server, url) = try await startEmulator(entries: 2_500)
        defer { Task { await server.stop() } }
        let box = try Sandbox()
        let token = DemoTokenIssuer.mint(resource: DicomService.audience, issuedAt: Date(), lifetime: 3600)
        let az = try box.fakeAz(token: token)
        let run = try await box.runAsync(["feed", "--url", url, "--az", az, "--page-size", "40", "--max-offset", "120",
                                          "--late-window", "0s"])
        #expect(run.status == 0, "\(run.stderr)")
        let expected = server.store.entriesV2(limit: 3_000).map(\.sequence)
        #expect(try run.lines.map(jsonObject).compactMap { ($0["sequence"] as? NSNumber)?.int64Value } == expected)
        let offsets = server.requestLog.requests.filter { !$0.path.hasSuffix("/latest") }.map { request in
            (request.query ?? "").split(separator: "&").first { $0.hasPrefix("offset=") }.flatMap { Int($0.dropFirst(7)) } ?? -1
        }
        #expect(offsets.count >= 2_500 / 40 && offsets.allSatisfy { (0...120).contains($0) }, "\(offsets.max() ?? -1)")
    }

    @Test func csvRoundTrips() async throws {
        let box = try Sandbox()
        let run = try await box.runAsync(["feed", "--demo", "--demo-entries", "120", "--format", "csv", "--metadata"])
        #expect(run.status == 0, "\(run.stderr)")
        let csv = try CSV<Named>(string: run.stdout)
        #expect(csv.header == EntryWriter.fields + ["metadata", "unreadable"])
        let expected = demoEntries(120)
        #expect(csv.rows.count == expected.count)
        for (row, e) in zip(csv.rows, expected) {
            #expect(row["sequence"] == String(e.sequence))
            #expect(row["studyInstanceUid"] == e.studyInstanceUid)
            #expect(row["seriesInstanceUid"] == e.seriesInstanceUid)
            #expect(row["sopInstanceUid"] == e.sopInstanceUid)
            #expect(row["action"] == e.action.rawValue)
            #expect(row["state"] == e.state.rawValue)
            #expect(row["timestamp"].flatMap(Timestamp.parse) == e.timestamp, "exactly the service's tick")
            let metadata = row["metadata"] ?? ""
            if e.state == .deleted {
                #expect(metadata.isEmpty, "no metadata for a deleted instance")
            } else {
                // Quoted JSON with commas and quotes inside one field: it must come back whole.
                let object = try jsonObject(metadata)
                let study = (object["0020000D"] as? [String: Any])?["Value"] as? [String]
                #expect(study == [e.studyInstanceUid])
            }
        }
    }

    @Test func jsonIsOneArray() async throws {
        let box = try Sandbox()
        let run = try await box.runAsync(["feed", "--demo", "--demo-entries", "250", "--format", "json"])
        #expect(run.status == 0, "\(run.stderr)")
        let array = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [[String: Any]])
        #expect(array.count == 250)
        #expect(array.compactMap { ($0["sequence"] as? NSNumber)?.int64Value } == demoEntries(250).map(\.sequence))
    }

    @Test func anEmptyFeedIsAnEmptyArray() async throws {
        let box = try Sandbox()
        let run = try await box.runAsync(["feed", "--demo", "--demo-entries", "0", "--format", "json"])
        #expect(run.status == 0, "\(run.stderr)")
        let array = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [Any]
        #expect(array?.isEmpty == true)
    }

    @Test func limitStopsAfterNEntries() async throws {
        let box = try Sandbox()
        let run = try await box.runAsync(["feed", "--demo", "--demo-entries", "500", "--limit", "7", "--page-size", "5"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try run.lines.map(jsonObject).compactMap { ($0["sequence"] as? NSNumber)?.int64Value }
                == demoEntries(500).prefix(7).map(\.sequence))
    }

    @Test func followStreamsNewEntriesUntilSIGTERM() async throws {
        let box = try Sandbox()
        // The demo appends a change every second while following; wait (up to a minute) until three
        // have been written after the 20 entries of the dataset, then stop it as a service manager would.
        let script = """
            out="$1/follow.ndjson"
            "$0" feed --demo --demo-entries 20 --follow --interval 1s --demo-live 1s > "$out" 2> "$1/follow.err" &
            pid=$!
            for i in $(seq 1 300); do
                [ "$(wc -l < "$out")" -ge 23 ] && break
                sleep 0.2
            done
            kill -TERM $pid
            wait $pid
            echo "status=$?"
            cat "$out"
            """
        let run = try await runCapturingOffPool(["bash", "-c", script, Build.dicomtui, box.dir.path], environment: box.environment)
        #expect(run.lines.first == "status=0", "\(run.stdout)")
        let entries = run.lines.dropFirst().compactMap { line -> [String: Any]? in
            try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
        }
        #expect(entries.count == run.lines.count - 1, "every line is one JSON object")
        #expect(entries.count >= 23, "new entries arrived while following: \(entries.count)")
        // The demo's live changes commit late now and then: a late one is written when it is first
        // seen (after higher sequences), never twice.
        let sequences = entries.compactMap { $0["sequence"] as? Int }
        #expect(Set(sequences).count == sequences.count, "none twice")
        #expect(Array(sequences.prefix(20)) == demoEntries(20).map { Int($0.sequence) }, "the dataset first, in feed order")
    }

    /// Defect: an element that did not decode was skipped with one stderr line and exit 0, so a
    /// pipeline could not tell something was missing. It is written through, in its place, and
    /// the exit status says so.
    @Test(arguments: ["v2", "v1"])
    func anUnreadableElementIsWrittenThroughAndTheExitStatusSaysSo(version: String) async throws {
        let box = try Sandbox()
        // Element 3 of every page answer is broken, on every read: it stays unreadable.
        let run = try await box.runAsync(["feed", "--demo", "--demo-entries", "120", "--api-version", version, "--page-size", "50",
                               "--demo-faults", "bad-entry=3%1@page"])
        #expect(run.status == 65, "\(run.stderr)")
        let records = try run.lines.map(jsonObject)
        let bad = records.filter { $0["unreadable"] as? Bool == true }
        #expect(!bad.isEmpty)
        for record in bad {
            #expect((record["reason"] as? String)?.isEmpty == false)
            // The element as the service sent it, and what could be read of it.
            let raw = try #require(record["raw"] as? [String: Any])
            // (camelCase or PascalCase, as the service writes it)
            let rawSequence = raw.first { $0.key.lowercased() == "sequence" }?.value as? String
            #expect(rawSequence == (record["sequence"] as? NSNumber).map { "\($0)" })
            #expect(record["timestamp"].flatMap { $0 as? String }.flatMap(Timestamp.parse) != nil)
        }
        // Every row of the feed once: as an entry, or as an unreadable record with its sequence.
        let sequences = records.compactMap { ($0["sequence"] as? NSNumber)?.int64Value }
        #expect(Set(sequences) == Set(demoEntries(120, v1: version == "v1").map(\.sequence)))
        #expect(sequences.count == 120, "nothing twice")
        #expect(run.stderr.contains("written as an unreadable record"), "\(run.stderr)")
    }

    @Test func skipUnreadableLeavesThemOutAndSaysWhichOnStderr() async throws {
        let box = try Sandbox()
        let run = try await box.runAsync(["feed", "--demo", "--demo-entries", "120", "--page-size", "50", "--skip-unreadable",
                               "--demo-faults", "bad-entry=3%1@page"])
        #expect(run.status == 0, "\(run.stderr)")
        let records = try run.lines.map(jsonObject)
        #expect(records.allSatisfy { $0["unreadable"] == nil })
        let left = run.stderr.components(separatedBy: "was left out (--skip-unreadable)").count - 1
        #expect(left > 0 && records.count + left == 120, "\(run.stderr)")
    }

    @Test func csvMarksAnUnreadableRowWithItsReason() async throws {
        let box = try Sandbox()
        let run = try await box.runAsync(["feed", "--demo", "--demo-entries", "60", "--page-size", "50", "--format", "csv",
                               "--demo-faults", "bad-entry=3%1@page"])
        #expect(run.status == 65, "\(run.stderr)")
        let csv = try CSV<Named>(string: run.stdout)
        #expect(csv.header.last == "unreadable")
        let bad = csv.rows.filter { !($0["unreadable"] ?? "").isEmpty }
        #expect(!bad.isEmpty && csv.rows.count == 60)
        #expect(bad.allSatisfy { $0["action"] == "" && !($0["sequence"] ?? "").isEmpty })
    }

    /// Defect: an empty 200 from v1 `/latest` read as an empty feed (exit 0, nothing printed), and
    /// one HTML 200 stopped the run. Both are retried; only a 204 is an empty feed.
    @Test(arguments: ["v1", "v2"])
    func emptyAndHTMLAnswersAreRetriedNotTakenForAnEmptyFeed(version: String) async throws {
        let box = try Sandbox()
        let run = try await box.runAsync(["feed", "--demo", "--demo-entries", "300", "--api-version", version,
                               "--demo-faults", "200x2@latest,malformed@page"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.lines.count == 300)
        #expect(run.stderr.contains("not a change-feed page") && run.stderr.contains("try 2"), "\(run.stderr)")
    }

    @Test func anAnswerThatStaysHTMLStopsWithAClearMessage() async throws {
        let box = try Sandbox()
        let run = try await box.runAsync(["feed", "--demo", "--demo-entries", "300", "--demo-faults", "malformed%1@page"])
        #expect(run.status == 1)
        #expect(run.stdout.isEmpty)
        #expect(run.stderr.contains("5 answers in a row") && run.stderr.contains("--url"), "\(run.stderr)")
    }

    @Test func aClosedStdoutEndsQuietly() async throws {
        let box = try Sandbox()
        let script = "set -o pipefail; \"$0\" feed --demo --demo-entries 5000 --page-size 10 --parallel 1 | head -n 3; echo \"status=$?\""
        let run = try await runCapturingOffPool(["bash", "-c", script, Build.dicomtui], environment: box.environment)
        #expect(run.lines.count == 4, "\(run.stdout)")
        #expect(run.lines.last == "status=0", "\(run.stdout)")
        #expect(run.stderr.isEmpty, "nothing on stderr: \(run.stderr)")
    }

    @Test func aForbiddenServiceIsAFatalError() async throws {
        let box = try Sandbox()
        let run = try await box.runAsync(["feed", "--demo", "--demo-faults", "403x100"])
        #expect(run.status == 1)
        #expect(run.stdout.isEmpty)
        #expect(run.stderr.contains("403 Forbidden"), "\(run.stderr)")
        #expect(run.stderr.contains("DICOM Data Reader"), "the hint: \(run.stderr)")
    }

    @Test func aWrongURLIsAFatalError() async throws {
        let (server, url) = try await startEmulator(entries: 10)
        defer { Task { await server.stop() } }
        let box = try Sandbox()
        let az = try box.fakeAz(token: DemoTokenIssuer.mint(resource: DicomService.audience, issuedAt: Date(), lifetime: 3600))
        let run = try await box.runAsync(["feed", "--url", url + "/not-the-service", "--az", az, "--format", "json"])
        #expect(run.status == 1)
        #expect(run.stderr.contains("404"), "\(run.stderr)")
        #expect(run.stderr.contains("Check the service URL"), "\(run.stderr)")
    }

    @Test func aHostileErrorBodyNeverReachesTheTerminalAsControls() async throws {
        let (server, url) = try await startEmulator(entries: 10)
        defer { Task { await server.stop() } }
        server.faults.failNext(100, status: 403, body: "Forbidden\u{1b}]0;pwned\u{07}\u{1b}[2J\u{9b}31m\u{202e}evil")
        let box = try Sandbox()
        let az = try box.fakeAz(token: DemoTokenIssuer.mint(resource: DicomService.audience, issuedAt: Date(), lifetime: 3600))
        let run = try await box.runAsync(["feed", "--url", url, "--az", az])
        #expect(run.status == 1)
        #expect(run.stderr.contains("Forbidden"), "\(run.stderr)")
        #expect(!run.stderr.unicodeScalars.contains { ($0.value < 0x20 && $0 != "\n") || (0x7F...0x9F).contains($0.value) || $0.value == 0x202E },
                "\(run.stderr.debugDescription)")
    }

    @Test func noTokenIsAFatalErrorThatSaysWhatToDo() async throws {
        let box = try Sandbox()
        let az = try box.fakeAzNotSignedIn()
        let run = try await box.runAsync(["feed", "--url", "https://contoso.dicom.azurehealthcareapis.com", "--az", az])
        #expect(run.status == 1)
        #expect(run.stderr.contains("Please run 'az login'"), "az's own words: \(run.stderr)")
        #expect(run.stderr.contains("Sign in with `az login`"), "\(run.stderr)")
    }

    @Test func fromIsRefusedForV2() async throws {
        let box = try Sandbox()
        let run = try await box.runAsync(["feed", "--demo", "--from", "10"])
        #expect(run.status != 0)
        #expect(run.stderr.contains("--from SEQ needs --api-version v1"), "\(run.stderr)")
    }

    @Test func aPlainHTTPURLToARemoteHostIsRefused() async throws {
        let box = try Sandbox()
        let run = try await box.runAsync(["feed", "--url", "http://dicom.example.com"])
        #expect(run.status == 78)
        #expect(run.stderr.contains("plain http:// is allowed only for loopback hosts"), "\(run.stderr)")
    }

    @Test func theProfileSuppliesURLAndAz() async throws {
        let (server, url) = try await startEmulator(entries: 40)
        defer { Task { await server.stop() } }
        let box = try Sandbox()
        let az = try box.fakeAz(token: DemoTokenIssuer.mint(resource: DicomService.audience, issuedAt: Date(), lifetime: 3600))
        let config = try box.write("""
            default-profile: broken
            profiles:
              broken:
                url: https://nowhere.dicom.azurehealthcareapis.com
              lab:
                url: \(url)
                az: \(az)
                api-version: v1
            """, to: "config.yaml")
        var env = box
        env.environment["DICOMTUI_PROFILE"] = "lab"
        let run = try await env.runAsync(["feed", "--config", config])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try run.lines.map(jsonObject).count == server.store.allEntries().count)
    }
}

@Suite struct TokenCommandTests {
    @Test func jsonDescribesTheDemoToken() async throws {
        let box = try Sandbox()
        let run = try await box.runAsync(["token", "--demo", "--json"])
        #expect(run.status == 0, "\(run.stderr)")
        let o = try jsonObject(run.stdout)
        let identity = DemoTokenIssuer.Identity.demoUser
        #expect(o["state"] as? String == "valid")
        #expect(o["identity"] as? String == identity.userPrincipalName)
        #expect(o["upn"] as? String == identity.userPrincipalName)
        #expect(o["tenant"] as? String == identity.tenantId)
        #expect(o["objectId"] as? String == identity.objectId)
        #expect(o["audience"] as? String == DicomService.audience)
        #expect(o["refreshBefore"] as? Int == 300)
        let left = try #require(o["secondsLeft"] as? Int)
        #expect(left > 3000 && left <= 3600)
        #expect((o["expiresOn"] as? String).flatMap(Timestamp.parse) != nil)
        #expect((o["masked"] as? String)?.count == 9, "four characters, an ellipsis, four characters")
    }

    @Test func aTokenBelowTheThresholdExitsNonZero() async throws {
        let box = try Sandbox()
        let run = try await box.runAsync(["token", "--demo", "--demo-token-lifetime", "2m", "--json"])
        #expect(run.status == 3)
        #expect(try jsonObject(run.stdout)["state"] as? String == "expiring")
        #expect(run.stderr.contains("less than the refresh threshold of 300 s"), "\(run.stderr)")
        let lower = try await box.runAsync(["token", "--demo", "--demo-token-lifetime", "2m", "--refresh-before", "1m"])
        #expect(lower.status == 0, "\(lower.stderr)")
        #expect(lower.stdout.contains("valid"))
    }

    @Test func theTokenItselfIsNeverPrinted() async throws {
        let box = try Sandbox()
        let token = DemoTokenIssuer.mint(resource: DicomService.audience, issuedAt: Date(), lifetime: 3600)
        let raw = String(token.authorizationHeaderValue.dropFirst("Bearer ".count))
        let az = try box.fakeAz(token: token)
        for args in [["token", "--az", az], ["token", "--az", az, "--json"]] {
            let run = try await box.runAsync(args)
            #expect(run.status == 0, "\(run.stderr)")
            #expect(run.stdout.contains(token.masked))
            #expect(!run.stdout.contains(raw) && !run.stderr.contains(raw))
            // Not even a long piece of it.
            #expect(!run.stdout.contains(raw.dropFirst(20).prefix(40)))
        }
    }

    @Test func notSignedInSaysSoOnStderr() async throws {
        let box = try Sandbox()
        let run = try await box.runAsync(["token", "--az", try box.fakeAzNotSignedIn(), "--json"])
        #expect(run.status == 1)
        #expect(try jsonObject(run.stdout)["state"] as? String == "error")
        #expect(run.stderr.contains("not signed in"), "\(run.stderr)")
        #expect(run.stderr.contains("az login"), "\(run.stderr)")
        // Issue 11: the JSON's hint told a script to "Press l to sign in".
        let hint = try #require(try jsonObject(run.stdout)["hint"] as? String)
        #expect(hint.contains("`az login`"), "\(hint)")
        #expect(!hint.contains("Press"), "shell advice, not keys: \(hint)")
    }

    /// Issue 11: a token for another audience was reported as valid (exit 0).
    @Test func aTokenForAnotherAudienceIsNotValid() async throws {
        let box = try Sandbox()
        let az = try box.fakeAz(token: DemoTokenIssuer.mint(resource: "https://management.azure.com", issuedAt: Date(), lifetime: 3600))
        let run = try await box.runAsync(["token", "--az", az])
        #expect(run.status == 1, "\(run.stdout)\(run.stderr)")
        #expect(run.stdout.contains("state         wrong-audience") || run.stdout.contains("wrong-audience"), "\(run.stdout)")
        #expect(run.stdout.contains("not the DICOM service's: https://dicom.healthcareapis.azure.com"), "\(run.stdout)")
        #expect(run.stderr.contains("The token is for https://management.azure.com, not for the DICOM service (https://dicom.healthcareapis.azure.com)"),
                "\(run.stderr)")
        #expect(run.stderr.contains("--resource https://dicom.healthcareapis.azure.com"), "\(run.stderr)")

        let json = try await box.runAsync(["token", "--az", az, "--json"])
        #expect(json.status == 1)
        let object = try jsonObject(json.stdout)
        #expect(object["state"] as? String == "wrong-audience")
        #expect((object["hint"] as? String)?.contains("--resource https://dicom.healthcareapis.azure.com") == true)

        // Asked with --resource for another API, the mistake is the flag: still not valid.
        let flag = try await box.runAsync(["token", "--az", az, "--resource", "https://management.azure.com"])
        #expect(flag.status == 1, "\(flag.stderr)")

        // And a token for the DICOM service passes.
        let good = try box.fakeAz(token: DemoTokenIssuer.mint(resource: DicomService.audience, issuedAt: Date(), lifetime: 3600))
        #expect(try await box.runAsync(["token", "--az", good]).status == 0)
    }

    /// `--tenant` names the service's tenant: a token from another one is said to be wrong.
    @Test func aTokenFromAnotherTenantIsNotValid() async throws {
        let box = try Sandbox()
        let token = DemoTokenIssuer.mint(resource: DicomService.audience, issuedAt: Date(), lifetime: 3600)
        let az = try box.fakeAz(token: token)
        let tenant = "11111111-2222-4333-8444-555555555555"
        let run = try await box.runAsync(["token", "--az", az, "--tenant", tenant])
        #expect(run.status == 1)
        #expect(run.stderr.contains("comes from tenant \(token.claims?.tid ?? "?")"), "\(run.stderr)")
        #expect(run.stderr.contains("az login --tenant \(tenant)"), "\(run.stderr)")
    }

    /// `feed` after a 401: why, from the claims (the emulator wants another audience).
    @Test func feedSaysWhyTheServiceRefusedTheToken() async throws {
        let (server, url) = try await startEmulator(entries: 10, seed: 2, auth: .jwt(JWTRequirements(audience: "https://dicom.healthcareapis.azure.us")))
        defer { Task { await server.stop() } }
        let box = try Sandbox()
        let az = try box.fakeAz(token: DemoTokenIssuer.mint(resource: DicomService.audience, issuedAt: Date(), lifetime: 3600))
        let run = try await box.runAsync(["feed", "--url", url, "--az", az])
        #expect(run.status == 1)
        #expect(run.stderr.contains("401 Unauthorized: The token is for https://dicom.healthcareapis.azure.com, not for the DICOM service (https://dicom.healthcareapis.azure.us)"),
                "\(run.stderr)")
        #expect(run.stderr.contains("--resource https://dicom.healthcareapis.azure.us."), "\(run.stderr)")
    }

    /// `token` with an expired token from az: status 3, and the way out of az's stale cache.
    @Test func tokenSaysHowToGetRidOfAStaleToken() async throws {
        let box = try Sandbox()
        let az = try box.fakeAz(token: DemoTokenIssuer.mint(resource: DicomService.audience, issuedAt: Date().addingTimeInterval(-3720), lifetime: 3600))
        let run = try await box.runAsync(["token", "--az", az])
        #expect(run.status == 3)
        #expect(run.stdout.contains("state         expired") || run.stdout.contains("expired"), "\(run.stdout)")
        #expect(run.stderr.contains("expired 2 min ago"), "\(run.stderr)")
        #expect(run.stderr.contains("`az logout`, then `az login`"), "\(run.stderr)")
    }

    /// az handing out an expired token: `feed` sends nothing with it and says what to do.
    @Test func anExpiredTokenFromAzIsNotSent() async throws {
        let (server, url) = try await startEmulator(entries: 10, seed: 2)
        defer { Task { await server.stop() } }
        let box = try Sandbox()
        let az = try box.fakeAz(token: DemoTokenIssuer.mint(resource: DicomService.audience, issuedAt: Date().addingTimeInterval(-3720), lifetime: 3600))
        let run = try await box.runAsync(["feed", "--url", url, "--az", az])
        #expect(run.status == 1)
        #expect(server.requestLog.count == 0, "no request with an expired token")
        #expect(run.stderr.contains("returned a token that expired 2 min ago"), "\(run.stderr)")
        #expect(run.stderr.contains("`az logout`, then `az login`"), "\(run.stderr)")
    }

    @Test func aMissingAzSaysWhereItLooked() async throws {
        let box = try Sandbox()
        let run = try await box.runAsync(["token", "--az", box.dir.appendingPathComponent("no-az").path])
        #expect(run.status == 1)
        #expect(run.stderr.contains("no-az"), "\(run.stderr)")
    }
}

@Suite struct ConfigFileCommandTests {
    @Test func aBadConfigFileNamesFileLineAndProblem() async throws {
        let box = try Sandbox()
        let path = try box.write("profiles:\n  dev:\n    url: http://127.0.0.1:8080\n    paralel: 3\n", to: "bad.yaml")
        for args in [["token", "--demo"], ["feed", "--demo"], ["--demo"]] {
            let run = try await box.runAsync(args + ["--config", path])
            #expect(run.status == 78, "\(args)")
            #expect(run.stderr.contains("config file \(path), line 4: profile 'dev': unknown key 'paralel'"), "\(run.stderr)")
        }
    }

    @Test func aYAMLSyntaxErrorInTheDefaultFileNamesItsLine() async throws {
        let box = try Sandbox()
        let dir = box.dir.appendingPathComponent("config/dicomtui")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("config.yaml").path
        try "profiles:\n  dev:\n    url: \"http://127.0.0.1:8080\n".write(toFile: path, atomically: true, encoding: .utf8)
        let run = try await box.runAsync(["token", "--demo"])
        #expect(run.status == 78)
        #expect(run.stderr.contains("config file \(path), line "), "\(run.stderr)")
        #expect(run.stderr.contains("YAML syntax error"), "\(run.stderr)")
    }

    @Test func anUnknownProfileListsTheKnownOnes() async throws {
        let box = try Sandbox()
        let path = try box.write("profiles:\n  dev:\n    url: http://127.0.0.1:8080\n  prod:\n    url: https://p.dicom.azurehealthcareapis.com\n    production: true\n", to: "c.yaml")
        let run = try await box.runAsync(["token", "--demo", "--config", path, "--profile", "qa"])
        #expect(run.status == 78)
        #expect(run.stderr.contains("'qa'") && run.stderr.contains("known profiles: dev, prod"), "\(run.stderr)")
    }

    @Test func aMissingExplicitFileIsAnError() async throws {
        let box = try Sandbox()
        let run = try await box.runAsync(["token", "--demo", "--config", box.dir.appendingPathComponent("none.yaml").path])
        #expect(run.status == 78)
        #expect(run.stderr.contains("none.yaml") && run.stderr.contains("no such file"), "\(run.stderr)")
    }

    @Test func theProfilesRefreshThresholdApplies() async throws {
        let box = try Sandbox()
        let path = try box.write("profiles:\n  lab:\n    refresh-before: 1m\n", to: "c.yaml")
        let run = try await box.runAsync(["token", "--demo", "--demo-token-lifetime", "2m", "--config", path])
        #expect(run.status == 0, "the profile's 1m threshold, not the default 5m: \(run.stderr)")
        let flag = try await box.runAsync(["token", "--demo", "--demo-token-lifetime", "2m", "--config", path, "--refresh-before", "5m"])
        #expect(flag.status == 3, "the flag wins over the profile")
    }
}

@Suite struct CommandLineTests {
    @Test(arguments: ["bash", "zsh", "fish"])
    func completionsKnowTheSubcommands(shell: String) async throws {
        let box = try Sandbox()
        let run = try await box.runAsync(["--generate-completion-script", shell])
        #expect(run.status == 0)
        for word in ["feed", "token", "emulator", "format", "profile", "follow"] {
            #expect(run.stdout.contains(word), "\(shell) completion lacks \(word)")
        }
    }

    @Test func everySubcommandHasHelp() async throws {
        let box = try Sandbox()
        for (command, option) in [("token", "--json"), ("feed", "--follow"), ("emulator", "--latency")] {
            let run = try await box.runAsync([command, "--help"])
            #expect(run.status == 0)
            #expect(run.stdout.contains(option), "\(command) --help lacks \(option)")
        }
        #expect(try await box.runAsync(["--version"]).stdout.contains("0."))
    }
}
