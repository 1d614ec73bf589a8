import FeedModel
import Foundation

// The page decoder of before issue 13, kept as the tests' oracle: Foundation's `JSONDecoder`
// through `Codable`, an entry's keys matched by their lowercased names. The app reads pages with
// `PageDecoder` (one pass over the bytes); `PageDecoderOracleTests` checks that both read every
// page the same way (the same entries, the same elements unreadable with the same salvage).

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
        var sequence: Int64, partitionName: String?, filePath: String?, studyInstanceUid: String, seriesInstanceUid: String
        var sopInstanceUid: String, action: ChangeFeedAction, state: ChangeFeedState, timestamp: Timestamp, metadata: RawJSON?
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
        if let k = keys["metadata"] { metadata = try c.decodeIfPresent(JSONValue.self, forKey: k).map(RawJSON.init) } else { metadata = nil }
        self.init(sequence: sequence, partitionName: partitionName, filePath: filePath, studyInstanceUid: studyInstanceUid,
                  seriesInstanceUid: seriesInstanceUid, sopInstanceUid: sopInstanceUid, action: action, timestamp: timestamp,
                  state: state, metadata: metadata)
    }
}

extension JSONValue: Decodable {
    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null; return }
        if let b = try? c.decode(Bool.self) { self = .bool(b); return }
        if let n = try? c.decode(Double.self) { self = .number(n); return }
        if let s = try? c.decode(String.self) { self = .string(s); return }
        if let a = try? c.decode([JSONValue].self) { self = .array(a); return }
        self = .object(try c.decode([String: JSONValue].self))
    }
}

public enum CodableOracle {
    /// A page as the Codable path read it; nil when that path failed the whole page.
    public static func decodePage(_ data: Data) -> [EntryResult]? {
        guard let items = try? JSONDecoder().decode([Lossy].self, from: data) else { return nil }
        var readable = 0
        return items.enumerated().map { i, item in
            switch item.result {
            case .success(let e):
                readable += 1
                return .entry(e)
            case .failure(var bad):
                bad.afterEntries = readable
                return .undecodable(index: i, bad)
            }
        }
    }

    /// One element: an entry, or why it did not decode.
    struct Lossy: Decodable {
        let result: Result<ChangeFeedEntry, UnreadableEntry>
        init(from decoder: Decoder) throws {
            do {
                result = .success(try ChangeFeedEntry(from: decoder))
            } catch let e as EntryDecodingError {
                result = .failure(salvage(from: decoder, reason: e.message))
            } catch {
                result = .failure(salvage(from: decoder, reason: "\(error)"))
            }
        }
    }

    /// Reads what it can of an element that failed to decode as an entry; never throws.
    static func salvage(from decoder: Decoder, reason: String) -> UnreadableEntry {
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
