import Config
import Foundation

/// The profiles of the configuration file the app started with, and how one of them becomes
/// the options of the UI: what switching profile (the `p` key) needs.
public struct ProfileCatalog: Sendable {
    public let file: ConfigFile
    /// The environment and flags of the start.
    public let environment: [String: String]
    public let flags: FlagSettings

    public init(file: ConfigFile, environment: [String: String], flags: FlagSettings) {
        self.file = file
        self.environment = environment
        self.flags = flags
    }

    /// Profile names in file order.
    public var names: [String] { file.profileNames }

    /// `base` with the service settings of profile `name`. A profile picked by the user wins over
    /// the URL, API version, resource, tenant, page size and parallelism given at the start
    /// (`--url`, `$DICOMTUI_URL`, …): otherwise every profile would show the same service. The az
    /// path (`--az`, `$DICOMTUI_AZ`) and the display options (colour, mouse, UTC) are kept.
    public func options(for name: String, base: UIOptions) -> UIOptions? {
        guard let profile = file.profile(named: name) else { return nil }
        var env = environment
        env[Resolution.urlVariable] = nil
        env[Resolution.profileVariable] = nil
        var keep = FlagSettings()
        keep.az = flags.az
        var o = base
        o.settings = Resolution.settings(profile: profile, file: file, environment: env, flags: keep, base: base.settings)
        o.settings.demo = false
        if o.theme == .mono { o.color = false }
        return o
    }
}
