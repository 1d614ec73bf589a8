import ChangeFeedClient
import FeedModel
import Foundation

/// Every setting the UI, `feed` and `token` run with, resolved once: flags > environment >
/// configuration profile > the defaults written here (and nowhere else). A command adds only
/// what is truly its own (the UI its colours and mouse, `feed` its output format).
///
/// Adding an option: the flag (Sources/dicomtui), the config key (`ConfigFile.parseProfile`,
/// if a profile may set it), the value here (and in `Layer` if a profile may set it), its use.
public struct Settings: Sendable, Equatable {
    // MARK: The configuration profile
    /// The profile in use, if any.
    public var profileName: String?
    /// The profile is marked `production: true` (the UI draws its name in red).
    public var production = false
    /// Every profile of the file, in file order (what the UI's profile switch offers).
    public var profiles: [String] = []

    // MARK: Set by a profile, the environment or a flag (see `Layer`)
    public var url: String?
    public var apiVersion: APIVersion = .v2
    /// The resource tokens are asked for (`--resource`); also the audience a token must have.
    public var resource = DicomService.audience
    public var tenant: String?
    /// The az executable (`--az`, `$DICOMTUI_AZ`); nil: az on PATH.
    public var az: String?
    /// Seconds: a token with less time left counts as expiring and is replaced.
    public var refreshBefore: TimeInterval = TokenTiming.defaultRefreshBefore
    /// Entries per request; nil: the API version's maximum.
    public var pageSize: Int?
    /// Page requests kept in flight: nil adapts (`ConcurrencyController`: from 4, up to 32,
    /// fewer when the service pushes back); a number (`--parallel`, `parallel:`) pins it.
    public var parallel: Int?
    public var theme: ColorChoice = .color

    // MARK: Set by flags only
    /// Run against the built-in emulator with demo tokens (`--demo`).
    public var demo = false
    /// How long one az token request may take.
    public var azTimeout: TimeInterval = 60
    /// v2 time window (`--since`, `--start-time`, `--end-time`).
    public var startTime: Timestamp?
    public var endTime: Timestamp?
    /// Load metadata with every page (`--metadata`).
    public var includeMetadata = false
    /// Keep polling at the end of the feed (`--follow`), and how often.
    public var follow = false
    public var followInterval: TimeInterval = 5
    /// Seconds a row may take to appear after its timestamp (`--late-window`).
    public var lateWindow: TimeInterval = FeedCursor.defaultLateWindow
    /// v2: the most rows one request may skip (`--max-offset`); see `Fetcher.maxOffset`.
    public var maxOffset: Int64 = Fetcher.defaultMaxOffset
    /// The demo emulator: entries, faults, how often it appends a change (0: never), token lifetime.
    public var demoEntries = Settings.demoFeedSize
    /// A demo of the size of a real service's feed after a year or two (computed on demand).
    public static let demoFeedSize = 100_000_000
    public var demoFaults: String?
    public var demoLiveInterval: TimeInterval = 3
    public var demoTokenLifetime: TimeInterval = 3600

    public init() {}

    /// What `parallel` nil means, for help texts: `adaptive, 4 to 32`.
    public static var adaptiveParallelText: String {
        "adaptive, \(ConcurrencyController.initial) to \(ConcurrencyController.maximum)"
    }

    /// The settings a profile can hold and the environment and flags override; nil leaves
    /// the setting to the next source down.
    public struct Layer: Sendable, Equatable {
        public var url: String?
        public var apiVersion: APIVersion?
        public var resource: String?
        public var tenant: String?
        public var az: String?
        public var refreshBefore: TimeInterval?
        public var pageSize: Int?
        public var parallel: Int?
        public var theme: ColorChoice?
        public init() {}
    }

    /// Takes every layered setting from the first of `layers` (highest precedence first) that
    /// sets it, else from the defaults; the other settings stay as they are.
    mutating func take(_ layers: [Layer]) {
        func first<T>(_ key: KeyPath<Layer, T?>) -> T? { layers.lazy.compactMap { $0[keyPath: key] }.first }
        let d = Settings()
        url = first(\.url) ?? d.url
        apiVersion = first(\.apiVersion) ?? d.apiVersion
        resource = first(\.resource) ?? d.resource
        tenant = first(\.tenant) ?? d.tenant
        az = first(\.az) ?? d.az
        refreshBefore = first(\.refreshBefore) ?? d.refreshBefore
        pageSize = first(\.pageSize) ?? d.pageSize
        parallel = first(\.parallel) ?? d.parallel
        theme = first(\.theme) ?? d.theme
    }

    /// The fetcher these settings describe, from `start` (the UI's runs and `feed` alike).
    public func fetcher(client: ChangeFeedClient, tokens: any AuthorizationSource, from start: FeedCursor.Start) -> Fetcher {
        var fetcher = Fetcher(client: client, tokens: tokens, pageSize: pageSize, includeMetadata: includeMetadata)
        fetcher.start = start
        fetcher.endTime = endTime
        fetcher.lateWindow = lateWindow
        fetcher.maxOffset = maxOffset
        fetcher.parallel = parallel
        return fetcher
    }
}

/// What the command line said of the layered settings (nil: not given), and the profile it named.
@dynamicMemberLookup
public struct FlagSettings: Sendable, Equatable {
    public var profile: String?
    public var layer = Settings.Layer()
    public init(profile: String? = nil) { self.profile = profile }

    public subscript<T>(dynamicMember key: WritableKeyPath<Settings.Layer, T>) -> T {
        get { layer[keyPath: key] }
        set { layer[keyPath: key] = newValue }
    }
}

/// What a command runs with: the resolved settings plus what is its own. Its settings read as
/// its own properties (`options.parallel` for `options.settings.parallel`).
@dynamicMemberLookup
public protocol SettingsCarrier {
    var settings: Settings { get }
}

extension SettingsCarrier {
    public subscript<T>(dynamicMember key: KeyPath<Settings, T>) -> T { settings[keyPath: key] }
}
