import FeedModel
import Foundation
import Yams

/// How the UI is coloured: `color` (default) or `mono`.
public enum ColorChoice: String, Sendable, Equatable, CaseIterable {
    case color, mono
}

/// One named profile of the configuration file. A missing key is nil: the next source down
/// (environment, built-in default) decides.
@dynamicMemberLookup
public struct Profile: Sendable, Equatable {
    public var name: String
    /// The settings it gives (url, api-version, …).
    public var layer = Settings.Layer()
    /// A production service: the UI draws its name in red.
    public var production = false
    /// Where the profile starts in the file (1-based), for messages.
    public var line: Int?

    public init(name: String, line: Int? = nil) {
        self.name = name; self.line = line
    }

    public subscript<T>(dynamicMember key: WritableKeyPath<Settings.Layer, T>) -> T {
        get { layer[keyPath: key] }
        set { layer[keyPath: key] = newValue }
    }
}

/// A problem with the configuration: names the file and, when known, the line.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String?
    public var line: Int?
    public var message: String

    public init(file: String?, line: Int? = nil, _ message: String) {
        self.file = file; self.line = line; self.message = message
    }

    /// `config file /home/me/.config/dicomtui/config.yaml, line 7: unknown key 'urll' …`
    public var description: String {
        guard let file else { return message }
        if let line { return "config file \(file), line \(line): \(message)" }
        return "config file \(file): \(message)"
    }
}

/// The parsed configuration file:
///
/// ```yaml
/// default-profile: staging
/// profiles:
///   staging:
///     url: https://contoso-staging.dicom.azurehealthcareapis.com
///   prod:
///     url: https://contoso-prod.dicom.azurehealthcareapis.com
///     production: true
/// ```
public struct ConfigFile: Sendable, Equatable {
    /// The file it came from (for messages).
    public var path: String
    public var defaultProfile: String?
    /// In file order.
    public var profiles: [Profile]

    public init(path: String, defaultProfile: String? = nil, profiles: [Profile] = []) {
        self.path = path; self.defaultProfile = defaultProfile; self.profiles = profiles
    }

    /// The profile names in file order (what the UI's profile switch offers).
    public var profileNames: [String] { profiles.map(\.name) }

    public func profile(named name: String) -> Profile? { profiles.first { $0.name == name } }

    public static let topLevelKeys = ["default-profile", "profiles"]
    public static let profileKeys = ["url", "api-version", "resource", "tenant", "az", "refresh-before",
                                     "page-size", "parallel", "theme", "production"]

    /// Parses the text of a configuration file. `path` is used in messages only.
    public static func parse(_ text: String, path: String) throws(ConfigError) -> ConfigFile {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw Self.syntaxError(error, path: path)
        } catch {
            throw ConfigError(file: path, "not readable as YAML: \(error)")
        }
        var file = ConfigFile(path: path)
        guard let root else { return file }   // an empty file: no profiles
        guard let top = root.mapping else {
            throw ConfigError(file: path, line: root.mark?.line,
                              "the file must be a mapping with the keys \(list(topLevelKeys)), not \(kind(root))")
        }
        var defaultLine: Int?
        for (keyNode, value) in top {
            let key = try keyText(keyNode, path: path)
            switch key {
            case "default-profile":
                file.defaultProfile = try scalar(value, key: key, path: path)
                defaultLine = value.mark?.line
            case "profiles":
                guard let profiles = value.mapping else {
                    if value.scalar?.string.isEmpty == true && value.tag.rawValue == Tag.Name.null.rawValue { continue }
                    throw ConfigError(file: path, line: value.mark?.line,
                                      "'profiles' must be a mapping from profile names to their settings, not \(kind(value))")
                }
                for (nameNode, body) in profiles {
                    let name = try keyText(nameNode, path: path)
                    file.profiles.append(try parseProfile(name: name, body, line: nameNode.mark?.line, path: path))
                }
            default:
                throw ConfigError(file: path, line: keyNode.mark?.line,
                                  "unknown key '\(key)' (known top-level keys: \(list(topLevelKeys)))")
            }
        }
        if let wanted = file.defaultProfile, file.profile(named: wanted) == nil {
            throw ConfigError(file: path, line: defaultLine,
                              "default-profile '\(wanted)' is not a profile of this file (\(file.knownProfilesText))")
        }
        return file
    }

    /// `known profiles: dev, prod` or `it has no profiles`.
    public var knownProfilesText: String {
        profiles.isEmpty ? "it has no profiles" : "known profiles: " + profileNames.joined(separator: ", ")
    }

    // MARK: - Profiles

    static func parseProfile(name: String, _ body: Node, line: Int?, path: String) throws(ConfigError) -> Profile {
        var p = Profile(name: name, line: line)
        if body.scalar != nil, body.tag.rawValue == Tag.Name.null.rawValue { return p }   // `name:` with nothing under it
        guard let settings = body.mapping else {
            throw ConfigError(file: path, line: body.mark?.line ?? line,
                              "profile '\(name)' must be a mapping of settings (\(list(profileKeys))), not \(kind(body))")
        }
        for (keyNode, value) in settings {
            let key = try keyText(keyNode, path: path)
            let at = value.mark?.line ?? keyNode.mark?.line
            func bad(_ why: String) -> ConfigError {
                ConfigError(file: path, line: at, "profile '\(name)': \(key) \(why)")
            }
            switch key {
            case "url":
                let text = try scalar(value, key: key, path: path)
                if let why = URLCheck.problem(text) { throw bad("is not usable: \(why)") }
                p.url = text
            case "api-version":
                let text = try scalar(value, key: key, path: path)
                guard let v = APIVersion(argument: text) else {
                    throw bad("must be v1, v1.0-prerelease or v2 (got '\(text)')")
                }
                p.apiVersion = v
            case "resource":
                p.resource = try scalar(value, key: key, path: path)
            case "tenant":
                p.tenant = try scalar(value, key: key, path: path)
            case "az":
                p.az = try scalar(value, key: key, path: path)
            case "refresh-before":
                let text = try scalar(value, key: key, path: path)
                guard let seconds = DurationText.seconds(text) else {
                    throw bad("must be a duration such as 5m, 90s or 1h, or a number of seconds (got '\(text)')")
                }
                p.refreshBefore = seconds
            case "page-size":
                let text = try scalar(value, key: key, path: path)
                guard let n = Int(text), n >= 1 else { throw bad("must be a whole number of 1 or more (got '\(text)')") }
                p.pageSize = n
            case "parallel":
                let text = try scalar(value, key: key, path: path)
                guard let n = Int(text), (1...32).contains(n) else { throw bad("must be a whole number from 1 to 32 (got '\(text)')") }
                p.parallel = n
            case "theme":
                let text = try scalar(value, key: key, path: path)
                guard let t = ColorChoice(rawValue: text.lowercased()) else {
                    throw bad("must be \(ColorChoice.allCases.map(\.rawValue).joined(separator: " or ")) (got '\(text)')")
                }
                p.theme = t
            case "production":
                let text = try scalar(value, key: key, path: path)
                switch text.lowercased() {
                case "true": p.production = true
                case "false": p.production = false
                default: throw bad("must be true or false (got '\(text)')")
                }
            default:
                throw ConfigError(file: path, line: keyNode.mark?.line,
                                  "profile '\(name)': unknown key '\(key)' (known keys: \(list(profileKeys)))")
            }
        }
        return p
    }

    // MARK: - Nodes

    static func keyText(_ node: Node, path: String) throws(ConfigError) -> String {
        guard let s = node.scalar?.string else {
            throw ConfigError(file: path, line: node.mark?.line, "a key must be plain text, not \(kind(node))")
        }
        return s
    }

    /// A single value; lists, mappings and empty values are refused with the key's name.
    static func scalar(_ node: Node, key: String, path: String) throws(ConfigError) -> String {
        guard let s = node.scalar else {
            throw ConfigError(file: path, line: node.mark?.line, "\(key) must be a single value, not \(kind(node))")
        }
        let text = s.string.trimmingCharacters(in: .whitespaces)
        if text.isEmpty || (s.tag.rawValue == Tag.Name.null.rawValue && s.style == .plain && ["~", "null", ""].contains(text.lowercased())) {
            throw ConfigError(file: path, line: node.mark?.line, "\(key) has no value")
        }
        return text
    }

    static func kind(_ node: Node) -> String {
        switch node {
        case .scalar(let s): return "the value '\(s.string)'"
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        }
    }

    static func list(_ keys: [String]) -> String { keys.joined(separator: ", ") }

    static func syntaxError(_ error: YamlError, path: String) -> ConfigError {
        switch error {
        case .scanner(let context, let problem, let mark, _),
             .parser(let context, let problem, let mark, _),
             .composer(let context, let problem, let mark, _):
            var message = "YAML syntax error: \(problem)"
            if let context { message += " (\(context.text), from line \(context.mark.line))" }
            return ConfigError(file: path, line: mark.line, message)
        case .duplicatedKeysInMapping(let duplicates, let context):
            return ConfigError(file: path, line: context.mark.line,
                               "a key appears twice in the same mapping: \(duplicates.joined(separator: ", "))")
        case .reader(let problem, _, _, _):
            return ConfigError(file: path, "YAML syntax error: \(problem)")
        default:
            return ConfigError(file: path, "YAML syntax error: \(error)")
        }
    }
}

/// Durations as the command line and the file write them: `90`, `90s`, `5m`, `2h`, `1d`.
public enum DurationText {
    /// The longest duration any option means: a century. Durations become `Int` seconds,
    /// `Duration`s and tick counts, which trap on values like `1e300` (`--refresh-before 1e300`
    /// crashed `dicomtui token`).
    public static let maximum: TimeInterval = 100 * 366 * 86_400

    /// `90`, `90s`, `500ms`, `5m`, `2h`, `1d` as seconds; nil for anything else, and for more than `maximum`.
    public static func seconds(_ text: String) -> TimeInterval? {
        let t = text.trimmingCharacters(in: .whitespaces).lowercased()
        func bounded(_ s: Double) -> TimeInterval? { s >= 0 && s <= maximum ? s : nil }
        if t.hasSuffix("ms"), let n = Double(t.dropLast(2)) { return bounded(n / 1000) }
        guard let last = t.last else { return nil }
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86_400]
        if let unit = units[last], let n = Double(t.dropLast()) { return bounded(n * unit) }
        if let n = Double(t) { return bounded(n) }
        return nil
    }
}
