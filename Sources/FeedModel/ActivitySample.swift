/// How many rows of each action a sample holds.
public struct ActionCounts: Sendable, Hashable {
    public var create = 0
    public var delete = 0
    public var update = 0

    public init(create: Int = 0, delete: Int = 0, update: Int = 0) {
        self.create = create; self.delete = delete; self.update = update
    }

    public var total: Int { create + delete + update }

    public subscript(_ action: ChangeFeedAction) -> Int {
        get {
            switch action {
            case .create: create
            case .delete: delete
            case .update: update
            }
        }
        set {
            switch action {
            case .create: create = newValue
            case .delete: delete = newValue
            case .update: update = newValue
            }
        }
    }

    public static func + (a: ActionCounts, b: ActionCounts) -> ActionCounts {
        ActionCounts(create: a.create + b.create, delete: a.delete + b.delete, update: a.update + b.update)
    }

    /// The action with the most rows (ties go to delete, then update: the rarer news); nil when empty.
    public var dominant: ChangeFeedAction? {
        guard total > 0 else { return nil }
        let m = max(create, delete, update)
        if delete == m { return .delete }
        if update == m { return .update }
        return .create
    }
}

/// One probe's answer: the first row at or after the sequence it asked for.
public struct ProbePoint: Sendable, Hashable {
    public var sequence: Int64
    public var timestamp: Timestamp
    /// The actions of the rows the probe's answer held (a few rows from the same place); none
    /// known for the latest entry when it did not decode.
    public var actions: ActionCounts

    public init(sequence: Int64, timestamp: Timestamp, actions: ActionCounts = ActionCounts()) {
        self.sequence = sequence; self.timestamp = timestamp; self.actions = actions
    }

    public init(sequence: Int64, timestamp: Timestamp, action: ChangeFeedAction) {
        var c = ActionCounts()
        c[action] = 1
        self.init(sequence: sequence, timestamp: timestamp, actions: c)
    }
}

/// What the activity probes learnt about the feed: a few rows at spread sequence numbers, from
/// which the timeline draws the sequence-to-time curve (its slope is the rate of changes).
public struct ActivitySample: Sendable, Equatable {
    /// Sorted by sequence, no sequence twice; the first and the latest entries included when found.
    public var points: [ProbePoint]
    /// The feed's newest entry (`/changefeed/latest`).
    public var latest: ProbePoint
    /// Requests sent (`/latest` included) and probes that found no row (a gap wider than their window).
    public var requests: Int
    public var missing: Int
    /// How long the probes took, in seconds.
    public var elapsed: Double

    public init(points: [ProbePoint], latest: ProbePoint, requests: Int, missing: Int = 0, elapsed: Double = 0) {
        self.points = points; self.latest = latest; self.requests = requests; self.missing = missing; self.elapsed = elapsed
    }

    /// The oldest entry found (the first probe starts at the feed's start).
    public var first: ProbePoint { points.first ?? latest }
}

/// The probes' result: a sample, or why there is none.
public enum ActivityOutcome: Sendable, Equatable {
    case sample(ActivitySample)
    /// The feed has no entries (`/latest` answered 204).
    case empty
    /// The service does not answer the v1 API the probes use (404 or 400 for the version).
    case noV1(String)
    /// The probes failed otherwise (no token, 403, the network): the message.
    case failed(String)
}
