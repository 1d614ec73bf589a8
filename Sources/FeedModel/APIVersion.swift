/// The change-feed API versions the service serves. v1 and v1.0-prerelease page by sequence;
/// v2 pages by time window and offset.
public enum APIVersion: String, Sendable, Hashable, CaseIterable {
    case v1Prerelease = "v1.0-prerelease"
    case v1 = "v1"
    case v2 = "v2"

    /// True for the sequence-window versions.
    public var isSequenceMode: Bool { self != .v2 }
    /// The largest `limit` the service accepts.
    public var maxLimit: Int { self == .v2 ? 200 : 100 }
    /// The `limit` the service uses when none is given.
    public var defaultLimit: Int { self == .v2 ? 100 : 10 }

    /// Accepts `v2`, `2`, `v1.0-prerelease`, `1.0-prerelease`, `v1-prerelease`.
    public init?(argument: String) {
        let s = argument.lowercased().hasPrefix("v") ? String(argument.lowercased().dropFirst()) : argument.lowercased()
        switch s {
        case "1.0-prerelease", "1-prerelease": self = .v1Prerelease
        case "1", "1.0": self = .v1
        case "2", "2.0": self = .v2
        default: return nil
        }
    }
}
