import Config
import FeedModel
import Foundation
import Testing

/// Parsing of the configuration file and the precedence flags > environment > file.
@Suite struct ConfigTests {
    let path = "/home/me/.config/dicomtui/config.yaml"

    let twoProfiles = """
        # dicomtui profiles
        default-profile: staging
        profiles:
          staging:
            url: https://contoso-staging.dicom.azurehealthcareapis.com
            api-version: v1
            page-size: 50
            parallel: 2
            refresh-before: 10m
            theme: mono
          prod:
            url: https://contoso-prod.dicom.azurehealthcareapis.com
            tenant: 72f988bf-0000-4000-8000-000000000001
            az: /opt/az/bin/az
            resource: https://dicom.healthcareapis.azure.com
            production: true
        """

    @Test func parsesProfilesInFileOrder() throws {
        let file = try ConfigFile.parse(twoProfiles, path: path)
        #expect(file.defaultProfile == "staging")
        #expect(file.profileNames == ["staging", "prod"])
        let staging = try #require(file.profile(named: "staging"))
        #expect(staging.apiVersion == .v1)
        #expect(staging.pageSize == 50)
        #expect(staging.parallel == 2)
        #expect(staging.refreshBefore == 600)
        #expect(staging.theme == .mono)
        #expect(staging.production == false)
        #expect(staging.line == 4)
        let prod = try #require(file.profile(named: "prod"))
        #expect(prod.production)
        #expect(prod.az == "/opt/az/bin/az")
        #expect(prod.tenant == "72f988bf-0000-4000-8000-000000000001")
    }

    @Test func defaultProfileIsUsedWhenNoneIsNamed() throws {
        let file = try ConfigFile.parse(twoProfiles, path: path)
        let s = try Resolution.resolve(file: file, environment: [:], flags: FlagSettings())
        #expect(s.profileName == "staging")
        #expect(s.url == "https://contoso-staging.dicom.azurehealthcareapis.com")
        #expect(s.apiVersion == .v1)
        #expect(s.theme == .mono)
        #expect(s.profiles == ["staging", "prod"])
        #expect(s.production == false)
    }

    @Test func environmentPicksTheProfileAndFlagsPickOverIt() throws {
        let file = try ConfigFile.parse(twoProfiles, path: path)
        let byEnv = try Resolution.resolve(file: file, environment: ["DICOMTUI_PROFILE": "prod"], flags: FlagSettings())
        #expect(byEnv.profileName == "prod")
        #expect(byEnv.production)
        #expect(byEnv.url == "https://contoso-prod.dicom.azurehealthcareapis.com")
        let byFlag = try Resolution.resolve(file: file, environment: ["DICOMTUI_PROFILE": "prod"],
                                            flags: FlagSettings(profile: "staging"))
        #expect(byFlag.profileName == "staging")
    }

    @Test func precedenceIsFlagsThenEnvironmentThenFile() throws {
        let file = try ConfigFile.parse(twoProfiles, path: path)
        let env = ["DICOMTUI_PROFILE": "prod", "DICOMTUI_URL": "https://env.dicom.azurehealthcareapis.com", "DICOMTUI_AZ": "/env/az"]
        let envOnly = try Resolution.resolve(file: file, environment: env, flags: FlagSettings())
        #expect(envOnly.url == "https://env.dicom.azurehealthcareapis.com")
        #expect(envOnly.az == "/env/az")
        #expect(envOnly.tenant == "72f988bf-0000-4000-8000-000000000001", "what the environment does not set comes from the file")
        var flags = FlagSettings()
        flags.url = "https://flag.dicom.azurehealthcareapis.com"; flags.apiVersion = .v1Prerelease; flags.tenant = "t-flag"
        flags.az = "/flag/az"; flags.refreshBefore = 42; flags.pageSize = 7; flags.parallel = 9; flags.theme = .mono
        let all = try Resolution.resolve(file: file, environment: env, flags: flags)
        #expect(all.url == "https://flag.dicom.azurehealthcareapis.com")
        #expect(all.az == "/flag/az")
        #expect(all.tenant == "t-flag")
        #expect(all.apiVersion == .v1Prerelease)
        #expect(all.refreshBefore == 42)
        #expect(all.pageSize == 7)
        #expect(all.parallel == 9)
        #expect(all.theme == .mono)
        #expect(all.profileName == "prod")
        #expect(all.production, "production belongs to the profile; flags do not unset it")
    }

    @Test func withoutAFileDefaultsAndEnvironmentApply() throws {
        let s = try Resolution.resolve(file: nil, environment: ["DICOMTUI_URL": "https://x.dicom.azurehealthcareapis.com", "DICOMTUI_AZ": ""],
                                       flags: FlagSettings())
        #expect(s.url == "https://x.dicom.azurehealthcareapis.com")
        #expect(s.az == nil, "an empty variable counts as unset")
        #expect(s.apiVersion == .v2)
        #expect(s.resource == "https://dicom.healthcareapis.azure.com")
        #expect(s.refreshBefore == 300)
        #expect(s.parallel == nil, "no --parallel, no profile key: adaptive")
        #expect(s.profileName == nil)
        #expect(s.profiles.isEmpty)
    }

    @Test func theOnlyProfileIsUsedWithoutDefaultProfile() throws {
        let file = try ConfigFile.parse("profiles:\n  lab:\n    url: http://127.0.0.1:8080\n", path: path)
        let s = try Resolution.resolve(file: file, environment: [:], flags: FlagSettings())
        #expect(s.profileName == "lab")
        #expect(s.url == "http://127.0.0.1:8080")
    }

    @Test func anUnknownProfileListsTheKnownOnes() throws {
        let file = try ConfigFile.parse(twoProfiles, path: path)
        let error = #expect(throws: ConfigError.self) {
            _ = try Resolution.resolve(file: file, environment: [:], flags: FlagSettings(profile: "qa"))
        }
        let text = try #require(error).description
        #expect(text.contains(path))
        #expect(text.contains("'qa'"))
        #expect(text.contains("known profiles: staging, prod"))
    }

    @Test func aProfileWithoutAFileSaysSo() throws {
        let error = #expect(throws: ConfigError.self) {
            _ = try Resolution.resolve(file: nil, environment: ["DICOMTUI_PROFILE": "prod", "HOME": "/home/me"], flags: FlagSettings())
        }
        let text = try #require(error).description
        #expect(text.contains("DICOMTUI_PROFILE"))
        #expect(text.contains("/home/me/.config/dicomtui/config.yaml"))
    }

    @Test func anUnknownDefaultProfileNamesItsLine() throws {
        let error = #expect(throws: ConfigError.self) {
            _ = try ConfigFile.parse("profiles:\n  a:\n    url: http://127.0.0.1:1\ndefault-profile: b\n", path: path)
        }
        #expect(error?.line == 4)
        #expect(error?.description.contains("known profiles: a") == true)
    }

    @Test func aYAMLSyntaxErrorNamesFileAndLine() throws {
        let text = "profiles:\n  dev:\n    url: http://127.0.0.1:8080\n    api-version: [v2\n"
        let error = #expect(throws: ConfigError.self) { _ = try ConfigFile.parse(text, path: path) }
        let e = try #require(error)
        #expect(e.file == path)
        #expect(e.line != nil && e.line! >= 4, "the unclosed list starts on line 4 (got \(String(describing: e.line)))")
        #expect(e.description.hasPrefix("config file \(path), line "))
        #expect(e.description.contains("YAML syntax error"))
    }

    @Test func anUnknownKeyNamesItsLineAndTheKnownKeys() throws {
        let text = "profiles:\n  dev:\n    url: http://127.0.0.1:8080\n    page_size: 10\n"
        let error = #expect(throws: ConfigError.self) { _ = try ConfigFile.parse(text, path: path) }
        let e = try #require(error)
        #expect(e.line == 4)
        #expect(e.message.contains("unknown key 'page_size'"))
        #expect(e.message.contains("page-size"))
    }

    @Test func anUnknownTopLevelKeyIsRefused() throws {
        let error = #expect(throws: ConfigError.self) { _ = try ConfigFile.parse("default_profile: dev\n", path: path) }
        #expect(error?.line == 1)
        #expect(error?.message.contains("unknown key 'default_profile'") == true)
    }

    @Test(arguments: [
        ("page-size: lots", "page-size must be a whole number"),
        ("parallel: 99", "parallel must be a whole number from 1 to 32"),
        ("production: maybe", "production must be true or false"),
        ("refresh-before: soon", "refresh-before must be a duration"),
        ("theme: neon", "theme must be color or mono"),
        ("api-version: v3", "api-version must be v1, v1.0-prerelease or v2"),
        ("url: ftp://example.com", "url is not usable"),
        ("url: http://dicom.example.com", "plain http:// is allowed only for loopback hosts"),
        ("tenant: [a, b]", "tenant must be a single value, not a list"),
        ("url:", "url has no value"),
    ])
    func aWrongValueNamesItsLine(line: String, expected: String) throws {
        let text = "default-profile: dev\nprofiles:\n  dev:\n    resource: https://dicom.healthcareapis.azure.com\n    \(line)\n"
        let error = #expect(throws: ConfigError.self) { _ = try ConfigFile.parse(text, path: path) }
        let e = try #require(error)
        #expect(e.line == 5, "\(e)")
        #expect(e.message.contains(expected), "\(e.message)")
        #expect(e.message.contains("profile 'dev'") || line.hasPrefix("tenant") || line == "url:", "\(e.message)")
    }

    @Test func aFileThatIsNotAMappingIsRefused() throws {
        let error = #expect(throws: ConfigError.self) { _ = try ConfigFile.parse("- a\n- b\n", path: path) }
        #expect(error?.message.contains("must be a mapping") == true)
    }

    @Test func anEmptyFileHasNoProfiles() throws {
        let file = try ConfigFile.parse("# nothing yet\n", path: path)
        #expect(file.profiles.isEmpty)
    }

    @Test func theDefaultPathFollowsXDG() {
        #expect(ConfigLocation.defaultPath(environment: ["XDG_CONFIG_HOME": "/x", "HOME": "/h"]) == "/x/dicomtui/config.yaml")
        #expect(ConfigLocation.defaultPath(environment: ["HOME": "/h"]) == "/h/.config/dicomtui/config.yaml")
        #expect(ConfigLocation.defaultPath(environment: ["XDG_CONFIG_HOME": "relative", "HOME": "/h"]) == "/h/.config/dicomtui/config.yaml",
                "a relative XDG_CONFIG_HOME is ignored, as the XDG spec says")
    }

    @Test func aMissingDefaultFileIsFineAMissingExplicitOneIsNot() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dicomtui-config-\(UUID().uuidString)").path
        #expect(try ConfigLocation.load(explicitPath: nil, environment: ["XDG_CONFIG_HOME": dir]) == nil)
        let error = #expect(throws: ConfigError.self) {
            _ = try ConfigLocation.load(explicitPath: dir + "/nope.yaml", environment: [:])
        }
        #expect(error?.description.contains("nope.yaml") == true)
        #expect(error?.description.contains("no such file") == true)
    }

    @Test func durations() {
        #expect(DurationText.seconds("90") == 90)
        #expect(DurationText.seconds("90s") == 90)
        #expect(DurationText.seconds("5m") == 300)
        #expect(DurationText.seconds("500ms") == 0.5)
        #expect(DurationText.seconds("2h") == 7200)
        #expect(DurationText.seconds("1d") == 86_400)
        #expect(DurationText.seconds("-5m") == nil)
        #expect(DurationText.seconds("soon") == nil)
    }

    /// Found by the `time` fuzz target (Fuzz/Corpus/time/crash-8523437a…): durations had no upper
    /// bound, and `refresh-before: 1e300` (or `--refresh-before 1e300`) crashed `dicomtui token`
    /// converting it to Int; `1e308d` was infinite. A century is the most a duration means.
    @Test func durationsAreBounded() throws {
        for text in ["2025999959003999", "1e300", "1e308d", "1e20ms", "36601d", "inf", "nan", "-0.5s"] {
            #expect(DurationText.seconds(text) == nil, "\(text)")
        }
        #expect(DurationText.seconds("36600d") == DurationText.maximum)
        #expect(DurationText.seconds("0") == 0)
        #expect(throws: ConfigError.self) {
            try ConfigFile.parse("profiles:\n  p:\n    refresh-before: 1e300\n", path: path)
        }
    }
}
