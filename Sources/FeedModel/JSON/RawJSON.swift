import Foundation

/// One JSON value kept as the bytes the service sent, checked (strictly: see `JSONReader`) but
/// not turned into a tree: an entry's DICOM metadata. Reading a page costs one pass over it;
/// `feed` writes it through; the tree (`value`) is built only when something reads it, and a
/// member (`member(_:)`) can be read without building the rest.
///
/// The bytes are a slice of the page's body (no copy): holding one entry's metadata holds its
/// page's body.
public struct RawJSON: Sendable, Hashable, CustomStringConvertible {
    /// The value's text, without space around it.
    public let bytes: Data

    /// Bytes already checked to be one JSON value.
    init(checked bytes: Data) { self.bytes = bytes }

    /// Checks that `text` is one JSON value (space around it is dropped); nil when it is not.
    public init?(parsing text: Data) {
        guard let range = text.withUnsafeBytes({ raw -> Range<Int>? in
            var r = JSONReader(raw)
            r.skipSpace()
            let start = r.i
            guard (try? r.skipValue(strict: true)) != nil else { return nil }
            let end = r.i
            r.skipSpace()
            return r.atEnd ? start..<end : nil
        }) else { return nil }
        bytes = text[text.startIndex + range.lowerBound ..< text.startIndex + range.upperBound]
    }

    /// The compact text of a tree (keys sorted).
    public init(_ value: JSONValue) {
        var out: [UInt8] = []
        JSONText.append(value, to: &out)
        bytes = Data(out)
    }

    /// The tree. The bytes were checked when they were read, so this does not fail (`.null`
    /// stands for what cannot happen).
    public var value: JSONValue { JSONValue(parsing: bytes) ?? .null }

    /// The value of `key` when this is an object (its first, when the key is repeated), read
    /// without building the tree of the other members.
    public func member(_ key: String) -> RawJSON? { members([key])[key] }

    /// The values of those keys that this object has (each key's first value), in one pass over
    /// the object and without building the tree of any member.
    public func members(_ keys: [String]) -> [String: RawJSON] {
        let wanted = keys.map { Array($0.utf8) }
        var found: [String: RawJSON] = [:]
        bytes.withUnsafeBytes { raw in
            var r = JSONReader(raw)
            r.skipSpace()
            guard r.current == 0x7B else { return }
            r.i += 1
            while found.count < keys.count {
                r.skipSpace()
                guard r.current == 0x22, let k = try? r.scanString(strict: false) else { return }
                let key: [UInt8]? = k.escaped ? r.unescaped(k) : nil
                let match = wanted.firstIndex { w in
                    if let key { return key == w }
                    return k.count == w.count && memcmp(r.base + k.start, w, k.count) == 0
                }
                guard (try? r.expect(0x3A, "':'")) != nil else { return }
                r.skipSpace()
                let start = r.i
                guard (try? r.skipValue(strict: false)) != nil else { return }
                if let match, found[keys[match]] == nil {
                    let b = bytes.startIndex
                    found[keys[match]] = RawJSON(checked: bytes[b + start ..< b + r.i])
                }
                r.skipSpace()
                guard r.current == 0x2C else { return }
                r.i += 1
            }
        }
        return found
    }

    /// The element of an array of exactly one element (how WADO-RS wraps a dataset), else nil.
    public var onlyElement: RawJSON? {
        bytes.withUnsafeBytes { raw -> RawJSON? in
            var r = JSONReader(raw)
            r.skipSpace()
            guard r.current == 0x5B else { return nil }
            r.i += 1
            r.skipSpace()
            let start = r.i
            guard r.current != 0x5D, (try? r.skipValue(strict: false)) != nil else { return nil }
            let end = r.i
            r.skipSpace()
            if r.current == 0x2C { r.i += 1; r.skipSpace() }
            guard r.current == 0x5D else { return nil }
            let b = bytes.startIndex
            return RawJSON(checked: bytes[b + start ..< b + end])
        }
    }

    public subscript(key: String) -> JSONValue? { member(key)?.value }

    public var text: String { String(decoding: bytes, as: UTF8.self) }
    public var description: String { text }

    /// The same JSON value: the same bytes, or texts that read as the same tree (space, key
    /// order, escapes and number spelling aside).
    public static func == (a: RawJSON, b: RawJSON) -> Bool {
        a.bytes == b.bytes || a.value == b.value
    }

    public func hash(into h: inout Hasher) { h.combine(value) }
}
