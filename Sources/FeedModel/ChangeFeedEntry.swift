import Foundation

/// What happened to an instance: the `action` of a change-feed entry.
public enum ChangeFeedAction: String, Sendable, Hashable, CaseIterable {
    case create = "Create", delete = "Delete", update = "Update"

    /// Accepts any casing (`create`, `Create`) and the service's enum numbers (0, 1, 2).
    public init?(wire: String) {
        switch wire.lowercased() {
        case "create", "0": self = .create
        case "delete", "1": self = .delete
        case "update", "2": self = .update
        default: return nil
        }
    }
}

/// The instance's current status, rewritten on older rows as the instance changes.
public enum ChangeFeedState: String, Sendable, Hashable, CaseIterable {
    case current = "Current", replaced = "Replaced", deleted = "Deleted"

    public init?(wire: String) {
        switch wire.lowercased() {
        case "current", "0": self = .current
        case "replaced", "1": self = .replaced
        case "deleted", "2": self = .deleted
        default: return nil
        }
    }
}

/// One change-feed entry as the service sends it. Keys are matched case-insensitively
/// (the service writes camelCase, its docs show PascalCase).
public struct ChangeFeedEntry: Sendable, Equatable {
    public var sequence: Int64
    public var partitionName: String?
    public var filePath: String?
    public var studyInstanceUid: String
    public var seriesInstanceUid: String
    public var sopInstanceUid: String
    public var action: ChangeFeedAction
    /// Exact (100 ns ticks): see `Timestamp`.
    public var timestamp: Timestamp
    public var state: ChangeFeedState
    /// DICOM JSON (PS3.18 F.2) keyed by 8-hex tag; absent for deleted instances and with includeMetadata=false.
    public var metadata: JSONValue?

    public init(sequence: Int64, partitionName: String? = "Microsoft.Default", filePath: String? = nil,
                studyInstanceUid: String, seriesInstanceUid: String, sopInstanceUid: String,
                action: ChangeFeedAction, timestamp: Timestamp, state: ChangeFeedState, metadata: JSONValue? = nil) {
        self.sequence = sequence; self.partitionName = partitionName; self.filePath = filePath
        self.studyInstanceUid = studyInstanceUid; self.seriesInstanceUid = seriesInstanceUid
        self.sopInstanceUid = sopInstanceUid; self.action = action; self.timestamp = timestamp
        self.state = state; self.metadata = metadata
    }
}

/// Why an entry could not be read.
public struct EntryDecodingError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

extension ChangeFeedEntry: Decodable {
    struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    /// The service's own spelling of each field.
    static let fieldNames: Set<String> = ["sequence", "partitionName", "filePath", "studyInstanceUid", "seriesInstanceUid",
                                          "sopInstanceUid", "action", "timestamp", "state", "metadata"]

    /// The keys of an element by their lowercased names. When two keys differ only in case
    /// (`"studyInstanceUid"` and `"StudyInstanceUid"`), the service's spelling wins, else the
    /// one that sorts first: never the order of a dictionary, which differs from one decode to the
    /// next (a page read twice must read the same).
    static func fieldKeys(_ all: [AnyKey]) -> [String: AnyKey] {
        var keys: [String: AnyKey] = [:]
        keys.reserveCapacity(all.count)
        for k in all {
            let name = k.stringValue.lowercased()
            if let kept = keys[name] {
                let keptOwn = fieldNames.contains(kept.stringValue), newOwn = fieldNames.contains(k.stringValue)
                if keptOwn != newOwn ? keptOwn : kept.stringValue < k.stringValue { continue }
            }
            keys[name] = k
        }
        return keys
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: AnyKey.self)
        let keys = Self.fieldKeys(c.allKeys)
        func key(_ name: String) throws -> AnyKey {
            guard let k = keys[name.lowercased()] else {
                throw EntryDecodingError("missing field '\(name)'")
            }
            return k
        }
        func optionalString(_ name: String) throws -> String? {
            guard let k = keys[name.lowercased()] else { return nil }
            return try c.decodeIfPresent(String.self, forKey: k)
        }
        func enumText(_ name: String) throws -> String {
            let k = try key(name)
            if let s = try? c.decode(String.self, forKey: k) { return s }
            if let n = try? c.decode(Int.self, forKey: k) { return String(n) }
            throw EntryDecodingError("field '\(name)' is neither a string nor a number")
        }

        sequence = try c.decode(Int64.self, forKey: try key("sequence"))
        partitionName = try optionalString("partitionName")
        filePath = try optionalString("filePath")
        studyInstanceUid = try c.decode(String.self, forKey: try key("studyInstanceUid"))
        seriesInstanceUid = try c.decode(String.self, forKey: try key("seriesInstanceUid"))
        sopInstanceUid = try c.decode(String.self, forKey: try key("sopInstanceUid"))
        let actionText = try enumText("action")
        guard let a = ChangeFeedAction(wire: actionText) else { throw EntryDecodingError("unknown action '\(actionText)'") }
        action = a
        let stateText = try enumText("state")
        guard let s = ChangeFeedState(wire: stateText) else { throw EntryDecodingError("unknown state '\(stateText)'") }
        state = s
        let ts = try c.decode(String.self, forKey: try key("timestamp"))
        guard let time = Timestamp.parse(ts) else { throw EntryDecodingError("timestamp '\(ts)' is not ISO 8601 with a zone") }
        timestamp = time
        if let k = keys["metadata"] { metadata = try c.decodeIfPresent(JSONValue.self, forKey: k) } else { metadata = nil }
    }
}

/// The decoded result of one element of a page: an entry, or the reason it could not be read.
/// A bad entry never takes its page down with it.
public enum EntryResult: Sendable, Equatable {
    case entry(ChangeFeedEntry)
    /// `index` is the element's position in the page.
    case undecodable(index: Int, UnreadableEntry)
}

/// An element of a page that is not a readable entry: what could still be read of it (its
/// sequence, time and SOP instance UID, when those fields are intact) and why it failed.
/// The list keeps it as a marked row, so that nothing the service sent is silently dropped.
public struct UnreadableEntry: Error, Sendable, Equatable {
    public var sequence: Int64?
    public var timestamp: Timestamp?
    public var sopInstanceUid: String?
    public var reason: String
    /// How many readable entries of the same page come before it (where it goes in the list).
    public var afterEntries: Int
    /// The element's JSON text as the service sent it, when the page could be split into
    /// elements (script mode writes it through).
    public var raw: String?

    public init(sequence: Int64? = nil, timestamp: Timestamp? = nil, sopInstanceUid: String? = nil, reason: String,
                afterEntries: Int = 0, raw: String? = nil) {
        self.sequence = sequence; self.timestamp = timestamp; self.sopInstanceUid = sopInstanceUid
        self.reason = reason; self.afterEntries = afterEntries; self.raw = raw
    }

    /// Reads what it can of an element that failed to decode as an entry; never throws.
    public static func salvage(from decoder: Decoder, reason: String) -> UnreadableEntry {
        var u = UnreadableEntry(reason: reason)
        guard let c = try? decoder.container(keyedBy: ChangeFeedEntry.AnyKey.self) else {
            u.reason = reason
            return u
        }
        let keys = ChangeFeedEntry.fieldKeys(c.allKeys)
        if let k = keys["sequence"] {
            // A number, or a number written as a string (`"sequence":"42"`).
            u.sequence = (try? c.decode(Int64.self, forKey: k))
                ?? (try? c.decode(String.self, forKey: k)).flatMap { Int64($0.trimmingCharacters(in: .whitespaces)) }
        }
        if let k = keys["timestamp"], let text = try? c.decode(String.self, forKey: k) { u.timestamp = Timestamp.parse(text) }
        if let k = keys["sopinstanceuid"] { u.sopInstanceUid = try? c.decode(String.self, forKey: k) }
        return u
    }
}
