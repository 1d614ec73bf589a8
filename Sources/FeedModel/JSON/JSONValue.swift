import Foundation

/// Any JSON value as a tree: what DICOM metadata becomes when something reads it (the detail
/// view, a list column, the filter). The feed keeps metadata as `RawJSON` bytes until then.
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public subscript(key: String) -> JSONValue? {
        if case .object(let o) = self { return o[key] }
        return nil
    }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var arrayValue: [JSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    public var objectValue: [String: JSONValue]? {
        if case .object(let o) = self { return o }
        return nil
    }

    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    /// Reads one JSON text (a value with optional space around it, after an optional UTF-8 byte
    /// order mark), checked strictly; nil when it is not one. An object's repeated key keeps its
    /// first value. (Also what the token source reads az's output and a token's claims with.)
    public init?(parsing bytes: Data) {
        guard let v = bytes.withUnsafeBytes({ raw -> JSONValue? in
            var r = JSONReader(raw)
            if raw.count >= 3 && raw[0] == 0xEF && raw[1] == 0xBB && raw[2] == 0xBF { r.i = 3 }
            guard let v = try? Self.read(&r, depth: 0) else { return nil }
            r.skipSpace()
            return r.atEnd ? v : nil
        }) else { return nil }
        self = v
    }

    static func read(_ r: inout JSONReader, depth: Int) throws(JSONSyntaxError) -> JSONValue {
        r.skipSpace()
        switch r.current {
        case 0x22:
            let s = try r.scanString(strict: true)
            guard let text = r.text(s) else { throw JSONSyntaxError(offset: s.start, "a string with a bad escape") }
            return .string(text)
        case 0x7B:
            guard depth < JSONReader.maxDepth else { throw r.error("at most \(JSONReader.maxDepth) levels of nesting") }
            r.i += 1
            var o: [String: JSONValue] = [:]
            r.skipSpace()
            if r.current == 0x7D { r.i += 1; return .object(o) }
            repeat {
                r.skipSpace()
                let k = try r.scanString(strict: true)
                guard let key = r.text(k) else { throw JSONSyntaxError(offset: k.start, "a key with a bad escape") }
                try r.expect(0x3A, "':' after a key")
                let v = try read(&r, depth: depth + 1)
                if o[key] == nil { o[key] = v }
            } while try r.more(before: 0x7D, in: "in an object")
            return .object(o)
        case 0x5B:
            guard depth < JSONReader.maxDepth else { throw r.error("at most \(JSONReader.maxDepth) levels of nesting") }
            r.i += 1
            var a: [JSONValue] = []
            r.skipSpace()
            if r.current == 0x5D { r.i += 1; return .array(a) }
            repeat {
                a.append(try read(&r, depth: depth + 1))
            } while try r.more(before: 0x5D, in: "in an array")
            return .array(a)
        case 0x74: try r.literal("true"); return .bool(true)
        case 0x66: try r.literal("false"); return .bool(false)
        case 0x6E: try r.literal("null"); return .null
        case 0x2D, 0x30...0x39:
            let start = r.i
            _ = try r.scanNumber()
            let text = String(decoding: UnsafeBufferPointer(start: r.base + start, count: r.i - start), as: UTF8.self)
            guard let d = Double(text), d.isFinite else { throw JSONSyntaxError(offset: start, "a number too large for a Double") }
            return .number(d)
        default:
            throw r.error("a value")
        }
    }
}
