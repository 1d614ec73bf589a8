import ChangeFeedClient
import FeedModel
import Foundation

public enum Resolution {
    /// Environment variables that override the file.
    public static let profileVariable = "DICOMTUI_PROFILE"
    public static let urlVariable = "DICOMTUI_URL"
    public static let azVariable = "DICOMTUI_AZ"

    /// Applies flags > environment > the chosen profile > defaults. The profile is `flags.profile`,
    /// else `$DICOMTUI_PROFILE`, else the file's `default-profile`, else the file's only profile,
    /// else none. A named profile that does not exist is an error that lists the known ones.
    /// `base` holds the settings that only flags set (the window, --follow, …).
    public static func resolve(file: ConfigFile?, environment: [String: String], flags: FlagSettings,
                               base: Settings = Settings()) throws(ConfigError) -> Settings {
        func env(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        var chosen: Profile?
        if let name = flags.profile ?? env(profileVariable) {
            let from = flags.profile != nil ? "--profile" : profileVariable
            guard let file else {
                throw ConfigError(file: nil, "\(from) names the profile '\(name)', but there is no configuration file "
                                  + "(looked for \(ConfigLocation.describeDefault(environment: environment))); create it or pass --config PATH")
            }
            guard let p = file.profile(named: name) else {
                throw ConfigError(file: file.path, "\(from) names the profile '\(name)', which the file does not define (\(file.knownProfilesText))")
            }
            chosen = p
        } else if let file {
            if let name = file.defaultProfile {
                chosen = file.profile(named: name)   // checked when parsed
            } else if file.profiles.count == 1 {
                chosen = file.profiles[0]
            }
        }
        return settings(profile: chosen, file: file, environment: environment, flags: flags, base: base)
    }

    /// What to say when no service URL was given: how to give one, and, when the configuration
    /// file has several profiles and none was chosen, which there are and how to choose.
    /// `demo` names the command's demo form (`dicomtui --demo`).
    public static func missingURL(_ s: Settings, file: String?, demo: String) -> String {
        if s.profileName == nil && s.profiles.count > 1 {
            return "no service URL: the configuration file\(file.map { " \($0)" } ?? "") has \(s.profiles.count) profiles "
                + "(\(s.profiles.joined(separator: ", "))) and no default-profile. Choose one with --profile NAME "
                + "(or DICOMTUI_PROFILE=NAME), or add `default-profile: NAME` to the file."
        }
        return "no service URL. Pass --url https://<workspace>-<service>.dicom.azurehealthcareapis.com, "
            + "set DICOMTUI_URL or a profile's url in the configuration file; or try `\(demo)`, which needs no Azure."
    }

    /// The settings for one given profile of `file` (the UI's profile switch uses this with the
    /// same environment and flags it started with; pass an empty FlagSettings to let the profile's
    /// own values win over the flags of the start). The settings a profile cannot hold are
    /// `base`'s.
    public static func settings(profile: Profile?, file: ConfigFile?, environment: [String: String], flags: FlagSettings,
                                base: Settings = Settings()) -> Settings {
        func env(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        var fromEnvironment = Settings.Layer()
        fromEnvironment.url = env(urlVariable)
        fromEnvironment.az = env(azVariable)
        var s = base
        s.profiles = file?.profileNames ?? []
        s.profileName = profile?.name
        s.production = profile?.production ?? false
        s.take([flags.layer, fromEnvironment, profile?.layer ?? Settings.Layer()])
        return s
    }
}

/// Where the configuration file is, and the one place it is read.
public enum ConfigLocation {
    /// `$XDG_CONFIG_HOME/dicomtui/config.yaml`, else `~/.config/dicomtui/config.yaml`.
    public static func defaultPath(environment: [String: String]) -> String? {
        if let xdg = environment["XDG_CONFIG_HOME"], xdg.hasPrefix("/") {
            return xdg + "/dicomtui/config.yaml"
        }
        guard let home = environment["HOME"], !home.isEmpty else { return nil }
        return home + "/.config/dicomtui/config.yaml"
    }

    static func describeDefault(environment: [String: String]) -> String {
        defaultPath(environment: environment) ?? "$XDG_CONFIG_HOME/dicomtui/config.yaml"
    }

    /// Reads and parses the file: `explicitPath` (from --config) must exist; the default file may
    /// be missing (nil then).
    public static func load(explicitPath: String?, environment: [String: String]) throws(ConfigError) -> ConfigFile? {
        let path: String
        if let explicitPath {
            path = explicitPath
        } else if let p = defaultPath(environment: environment) {
            path = p
        } else {
            return nil
        }
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            let missing = !FileManager.default.fileExists(atPath: path)
            if missing && explicitPath == nil { return nil }
            let why = missing ? "no such file" : "cannot be read as UTF-8 text (\((error as NSError).localizedDescription))"
            throw ConfigError(file: path, "\(why)\(explicitPath != nil ? " (given with --config)" : "")")
        }
        return try ConfigFile.parse(text, path: path)
    }
}

/// URL problems, with the same rules as the client (`https://`, or `http://` to loopback).
enum URLCheck {
    static func problem(_ text: String) -> String? {
        do {
            _ = try ServiceEndpoint(text)
            return nil
        } catch {
            return error.description
        }
    }
}
