import FeedModel
import Foundation
import TestSupport
import Testing
import TokenSource

/// Issue 11, defect 5: command-line edges found by trying every one a new user could hit.
@Suite struct CommandLineEdgeTests {
    /// `--limit -5` said "Missing value for '--limit <n>'": a negative number is a value.
    @Test func negativeNumbersAreValuesThatGetTheirOwnMessage() async throws {
        let box = try Sandbox()
        for (args, message) in [(["feed", "--demo", "--limit", "-5"], "--limit must be 0 or more."),
                                (["feed", "--demo", "--parallel", "-1"], "--parallel takes 1 to 32 (got -1)."),
                                (["feed", "--demo", "--page-size", "-3"], "--page-size must be at least 1."),
                                (["feed", "--demo", "--since", "-5m"], "--since '-5m' is not a duration"),
                                (["--demo", "--late-window", "-1s"], "--late-window takes a duration")] {
            let run = try await box.runAsync(args)
            #expect(run.status == 64, "\(args): \(run.stderr)")
            #expect(run.stderr.contains(message), "\(args): \(run.stderr)")
            #expect(!run.stderr.contains("Missing value"), "\(args): \(run.stderr)")
        }
    }

    /// Without `--parallel` the number of requests in flight adapts; the help of the UI and of
    /// `feed` says so (from `Settings`), and says that a number pins it.
    @Test func parallelsHelpSaysTheDefaultAdapts() async throws {
        let box = try Sandbox()
        for args in [["--help"], ["feed", "--help"]] {
            let run = try await box.runAsync(args)
            let help = run.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
            #expect(help.contains("--parallel <n> Page requests kept in flight while loading, 1 to 32; a number pins it (default: adaptive, 4 to 32"),
                    "\(args): \(run.stdout)")
        }
    }

    /// The UI exited 2 and `feed` 78 for the same bad URL: one status for one error.
    @Test func aBadURLIsAConfigurationErrorForTheUIAndForFeed() async throws {
        let box = try Sandbox()
        for url in ["ftp://x.example", "http://dicom.example.com", "not a url"] {
            let ui = try await box.runAsync(["--url", url])
            let feed = try await box.runAsync(["feed", "--url", url])
            #expect(ui.status == 78, "\(url): \(ui.stderr)")
            #expect(feed.status == 78, "\(url): \(feed.stderr)")
        }
        let none = [try await box.runAsync([]), try await box.runAsync(["feed"])]
        #expect(none.map(\.status) == [78, 78], "no URL at all: \(none.map(\.stderr))")
        #expect(none.allSatisfy { $0.stderr.contains("no service URL") })
    }

    /// A URL with a user name and password was accepted. Refused, without repeating the password.
    @Test func aURLWithCredentialsIsRefused() async throws {
        let box = try Sandbox()
        let url = "https://alice:S3cretPassw0rd@ws-dicom.dicom.azurehealthcareapis.com"
        for args in [["--url", url], ["feed", "--url", url], ["feed", "--url", "https://alice@ws-dicom.dicom.azurehealthcareapis.com"]] {
            let run = try await box.runAsync(args)
            #expect(run.status == 78, "\(args): \(run.stderr)")
            #expect(run.stderr.contains("carries a user name or password"), "\(run.stderr)")
            #expect(!run.stderr.contains("S3cretPassw0rd"))
        }
        let config = try box.write("url: \(url)\n", to: "creds.yaml")
        let fromFile = try await box.runAsync(["feed", "--config", config])
        #expect(fromFile.status == 78, "\(fromFile.stderr)")
        #expect(!fromFile.stderr.contains("S3cretPassw0rd"), "\(fromFile.stderr)")
    }

    /// Two profiles and no default-profile answered "no service URL": now it asks to choose.
    @Test func severalProfilesAndNoDefaultAskToChooseOne() async throws {
        let box = try Sandbox()
        let config = try box.write("""
            profiles:
              staging:
                url: https://staging-dicom.dicom.azurehealthcareapis.com
              prod:
                url: https://prod-dicom.dicom.azurehealthcareapis.com
            """, to: "two.yaml")
        for args in [["--config", config], ["feed", "--config", config]] {
            let run = try await box.runAsync(args)
            #expect(run.status == 78, "\(args): \(run.stderr)")
            #expect(run.stderr.contains("2 profiles (staging, prod) and no default-profile"), "\(run.stderr)")
            #expect(run.stderr.contains("--profile NAME"), "\(run.stderr)")
        }
        // --demo needs no service: the profiles do not stand in its way.
        let demo = try await box.runAsync(["feed", "--config", config, "--demo", "--demo-entries", "3"])
        #expect(demo.status == 0, "\(demo.stderr)")
    }

    /// `feed` retried an unknown host forever, so a cron job with a typo never ended. A one-shot
    /// run gives up after --give-up-after (default 2m).
    @Test func aOneShotRunGivesUpOnAHostThatNeverAnswers() async throws {
        let box = try Sandbox()
        let token = DemoTokenIssuer.mint(resource: DicomService.audience, issuedAt: Date(), lifetime: 3600)
        let az = try box.fakeAz(token: token)
        let start = Date()
        let run = try await box.runAsync(["feed", "--url", "https://no-such-host.invalid", "--az", az, "--give-up-after", "3s"])
        let took = Date().timeIntervalSince(start)
        #expect(run.status == 1, "\(run.stderr)")
        #expect(run.stderr.contains("gave up after"), "\(run.stderr)")
        #expect(run.stderr.contains("--give-up-after"), "\(run.stderr)")
        #expect(took < 30, "took \(took) s")

        let bad = try await box.runAsync(["feed", "--demo", "--give-up-after", "soon"])
        #expect(bad.status == 64)
        #expect(bad.stderr.contains("--give-up-after takes a duration"), "\(bad.stderr)")
    }
}
