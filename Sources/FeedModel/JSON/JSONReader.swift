import Foundation

/// Why some bytes are not the JSON that was expected, and where.
public struct JSONSyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Byte offset from the start of the text.
    public var offset: Int
    public var message: String
    public init(offset: Int, _ message: String) { self.offset = offset; self.message = message }
    public var description: String { "\(message) at byte \(offset)" }
}

/// Where a JSON string's content lies in the bytes (between its quotes), and what it holds.
struct StringSpan {
    var start: Int
    var end: Int
    /// Holds a backslash escape (must be decoded, not just copied).
    var escaped: Bool
    /// Holds bytes above 0x7F (UTF-8 that must be validated when turned into text).
    var nonASCII: Bool
    /// Holds a raw control character (below 0x20), which JSON allows only escaped.
    var control: Bool
    var count: Int { end - start }
}

/// A position in JSON bytes, read forwards once: the one scanner under the page decoder, the
/// lazy metadata tree and the writers' pass-through.
///
/// The grammar of objects, arrays, strings and literals is always checked. What a value's text
/// holds is checked in one of two ways, as Foundation's `JSONDecoder` does for what it decodes
/// and what it skips:
/// - `strict` (metadata, which is kept and may be shown or written): numbers follow JSON's
///   grammar, escapes are valid (`\uD800` must be followed by its low half), text is UTF-8;
/// - lenient (fields nobody reads): a number is any run of number characters and a string ends
///   at its closing quote. The few fields that are read are checked when they are read.
/// A raw control character inside a string is accepted while skipping (as `JSONDecoder` does)
/// but makes the string unreadable as text (`text(_:)` is nil) and strict reading fails on it,
/// as `JSONDecoder` fails when it decodes such a string.
struct JSONReader {
    let base: UnsafePointer<UInt8>
    let count: Int
    var i: Int
    /// As `JSONDecoder`: deeper nesting is refused rather than recursed into.
    static let maxDepth = 512

    init(_ buffer: UnsafeRawBufferPointer, at start: Int = 0) {
        // An empty buffer may have no address; any valid pointer will do, nothing is read.
        base = buffer.baseAddress.map { $0.assumingMemoryBound(to: UInt8.self) } ?? UnsafePointer(Self.emptyByte)
        count = buffer.count
        i = start
    }
    nonisolated(unsafe) private static let emptyByte: UnsafeMutablePointer<UInt8> = .allocate(capacity: 1)

    @inline(__always) var atEnd: Bool { i >= count }
    /// The byte at the position, or 0 at the end (0 is never valid JSON outside a string).
    @inline(__always) var current: UInt8 { i < count ? base[i] : 0 }

    @inline(__always) mutating func skipSpace() {
        while i < count {
            let c = base[i]
            guard c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 else { return }
            i += 1
        }
    }

    func error(_ message: String) -> JSONSyntaxError {
        JSONSyntaxError(offset: i, i < count ? message : "unexpected end of the text (\(message))")
    }

    /// Steps over the byte `c` after any space, or fails.
    @inline(__always) mutating func expect(_ c: UInt8, _ what: String) throws(JSONSyntaxError) {
        skipSpace()
        guard i < count, base[i] == c else { throw error("expected \(what)") }
        i += 1
    }

    // MARK: - Strings

    /// Reads a string starting at its opening quote and steps past its closing one.
    mutating func scanString(strict: Bool) throws(JSONSyntaxError) -> StringSpan {
        guard current == 0x22 else { throw error("expected a string") }
        i += 1
        let start = i
        var high: UInt8 = 0
        var control = false
        var escaped = false
        while i < count {
            let c = base[i]
            if c == 0x22 {
                let span = StringSpan(start: start, end: i, escaped: escaped, nonASCII: high & 0x80 != 0, control: control)
                i += 1
                if strict && span.nonASCII && !Self.validUTF8(base + span.start, span.count) {
                    throw JSONSyntaxError(offset: span.start, "a string that is not UTF-8")
                }
                if strict && control { throw JSONSyntaxError(offset: span.start, "a control character not escaped in a string") }
                return span
            }
            if c < 0x20 { control = true }
            if c == 0x5C {   // backslash
                escaped = true
                if strict { try checkEscape() } else { i += 2 }
                continue
            }
            high |= c
            i += 1
        }
        i = count
        throw error("a string without its closing quote")
    }

    /// Checks the escape at the position (a backslash) and steps over it.
    private mutating func checkEscape() throws(JSONSyntaxError) {
        guard i + 1 < count else { i = count; throw error("an escape") }
        switch base[i + 1] {
        case 0x22, 0x5C, 0x2F, 0x62, 0x66, 0x6E, 0x72, 0x74: i += 2
        case 0x75:
            guard let u = hex4(at: i + 2) else { throw error("\\u and four hex digits") }
            i += 6
            if (0xD800...0xDBFF).contains(u) {
                guard i + 1 < count, base[i] == 0x5C, base[i + 1] == 0x75, let low = hex4(at: i + 2),
                      (0xDC00...0xDFFF).contains(low) else { throw error("the low half of a surrogate pair") }
                i += 6
            } else if (0xDC00...0xDFFF).contains(u) {
                throw error("a surrogate pair (a low half alone)")
            }
        default: throw error("a valid escape")
        }
    }

    func hex4(at k: Int) -> UInt32? {
        guard k + 4 <= count else { return nil }
        var v: UInt32 = 0
        for j in k..<k + 4 {
            let c = base[j]
            let d: UInt8
            switch c {
            case 0x30...0x39: d = c - 0x30
            case 0x41...0x46: d = c - 0x41 + 10
            case 0x61...0x66: d = c - 0x61 + 10
            default: return nil
            }
            v = v << 4 | UInt32(d)
        }
        return v
    }

    /// The text of a string, or nil when its escapes or its UTF-8 are not valid, or it holds a
    /// raw control character.
    func text(_ s: StringSpan) -> String? {
        if s.control { return nil }
        if !s.escaped {
            let bytes = UnsafeBufferPointer(start: base + s.start, count: s.count)
            return s.nonASCII ? String(validating: bytes, as: UTF8.self) : String(decoding: bytes, as: UTF8.self)
        }
        guard let bytes = unescaped(s) else { return nil }
        return String(validating: bytes, as: UTF8.self)
    }

    /// The bytes of a string with its escapes decoded, or nil when an escape is not valid.
    func unescaped(_ s: StringSpan) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(s.count)
        var k = s.start
        while k < s.end {
            let c = base[k]
            guard c == 0x5C else { out.append(c); k += 1; continue }
            guard k + 1 < s.end else { return nil }
            switch base[k + 1] {
            case 0x22: out.append(0x22)
            case 0x5C: out.append(0x5C)
            case 0x2F: out.append(0x2F)
            case 0x62: out.append(0x08)
            case 0x66: out.append(0x0C)
            case 0x6E: out.append(0x0A)
            case 0x72: out.append(0x0D)
            case 0x74: out.append(0x09)
            case 0x75:
                guard k + 6 <= s.end, var scalar = hex4(at: k + 2) else { return nil }
                k += 6
                if (0xD800...0xDBFF).contains(scalar) {
                    guard k + 6 <= s.end, base[k] == 0x5C, base[k + 1] == 0x75, let low = hex4(at: k + 2),
                          (0xDC00...0xDFFF).contains(low) else { return nil }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    k += 6
                } else if (0xDC00...0xDFFF).contains(scalar) {
                    return nil
                }
                guard let u = Unicode.Scalar(scalar) else { return nil }
                out.append(contentsOf: UTF8.encode(u)!)
                continue
            default: return nil
            }
            k += 2
        }
        return out
    }

    /// Whether `n` bytes are well-formed UTF-8 (no overlongs, no surrogates, at most U+10FFFF).
    static func validUTF8(_ p: UnsafePointer<UInt8>, _ n: Int) -> Bool {
        var k = 0
        while k < n {
            let c = p[k]
            if c < 0x80 { k += 1; continue }
            let need: Int
            var lo: UInt8 = 0x80, hi: UInt8 = 0xBF
            switch c {
            case 0xC2...0xDF: need = 1
            case 0xE0: need = 2; lo = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: need = 2
            case 0xED: need = 2; hi = 0x9F
            case 0xF0: need = 3; lo = 0x90
            case 0xF1...0xF3: need = 3
            case 0xF4: need = 3; hi = 0x8F
            default: return false
            }
            guard k + need < n else { return false }   // the continuation bytes are all there
            let second = p[k + 1]
            guard second >= lo && second <= hi else { return false }
            var j = 2
            while j <= need {
                guard p[k + j] & 0xC0 == 0x80 else { return false }
                j += 1
            }
            k += need + 1
        }
        return true
    }

    // MARK: - Values

    /// After an element of an array or a member of an object: steps over the `,` before the
    /// next one (true: more follow) or over the closing `close` (false: the container ended). A
    /// comma right before the closing byte is accepted, as JSONDecoder accepts it.
    mutating func more(before close: UInt8, in what: String) throws(JSONSyntaxError) -> Bool {
        skipSpace()
        if current == 0x2C {
            i += 1
            skipSpace()
            if current == close { i += 1; return false }
            return true
        }
        if current == close { i += 1; return false }
        throw error("',' or '\(Character(UnicodeScalar(close)))' \(what)")
    }

    /// Steps over one value (after any space), checking it as described for the type.
    mutating func skipValue(strict: Bool, depth: Int = 0) throws(JSONSyntaxError) {
        skipSpace()
        guard i < count else { throw error("a value") }
        switch base[i] {
        case 0x22:
            _ = try scanString(strict: strict)
        case 0x7B:   // {
            guard depth < Self.maxDepth else { throw error("at most \(Self.maxDepth) levels of nesting") }
            i += 1
            skipSpace()
            if current == 0x7D { i += 1; return }
            repeat {
                skipSpace()
                _ = try scanString(strict: strict)
                try expect(0x3A, "':' after a key")
                try skipValue(strict: strict, depth: depth + 1)
            } while try more(before: 0x7D, in: "in an object")
        case 0x5B:   // [
            guard depth < Self.maxDepth else { throw error("at most \(Self.maxDepth) levels of nesting") }
            i += 1
            skipSpace()
            if current == 0x5D { i += 1; return }
            repeat {
                try skipValue(strict: strict, depth: depth + 1)
            } while try more(before: 0x5D, in: "in an array")
        case 0x74: try literal("true")
        case 0x66: try literal("false")
        case 0x6E: try literal("null")
        case 0x2D, 0x30...0x39:
            if strict { try scanFiniteNumber() } else {
                while i < count, Self.isNumberByte(base[i]) { i += 1 }
            }
        default:
            throw error("a value")
        }
    }

    @inline(__always) static func isNumberByte(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || c == 0x2D || c == 0x2B || c == 0x2E || c == 0x45 || c == 0x65
    }

    mutating func literal(_ word: StaticString) throws(JSONSyntaxError) {
        let n = word.utf8CodeUnitCount
        guard i + n <= count, memcmp(base + i, word.utf8Start, n) == 0 else { throw error("\(word)") }
        i += n
    }

    /// Steps over a number in JSON's grammar (`-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`);
    /// returns whether it has a fraction or an exponent.
    mutating func scanNumber() throws(JSONSyntaxError) -> Bool {
        func digit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }
        if current == 0x2D { i += 1 }
        guard digit(current) else { throw error("a digit") }
        if current == 0x30 { i += 1 } else { while digit(current) { i += 1 } }
        var real = false
        if current == 0x2E {
            i += 1
            guard digit(current) else { throw error("a digit after '.'") }
            while digit(current) { i += 1 }
            real = true
        }
        if current == 0x45 || current == 0x65 {
            i += 1
            if current == 0x2B || current == 0x2D { i += 1 }
            guard digit(current) else { throw error("a digit in the exponent") }
            while digit(current) { i += 1 }
            real = true
        }
        if i < count && Self.isNumberByte(base[i]) { throw error("the end of the number") }
        return real
    }

    /// A number that also fits a Double (as JSONDecoder requires of a number it decodes): only
    /// one with an exponent or very many digits can fail that, so only those are converted.
    mutating func scanFiniteNumber() throws(JSONSyntaxError) {
        let start = i
        var exponent = false
        _ = try scanNumber()
        for k in start..<i where base[k] == 0x45 || base[k] == 0x65 { exponent = true }
        guard exponent || i - start > 300 else { return }
        let text = String(decoding: UnsafeBufferPointer(start: base + start, count: i - start), as: UTF8.self)
        guard let d = Double(text), d.isFinite else { throw JSONSyntaxError(offset: start, "a number too large for a Double") }
    }

    /// The number in `start..<end` as a whole number, when it is one: JSON's grammar, integral
    /// (`42`, `42.0`, `4.2e1`) and within Int64 (as `JSONDecoder` reads an `Int64`).
    func wholeNumber(_ start: Int, _ end: Int) -> Int64? {
        var r = JSONReader(UnsafeRawBufferPointer(start: base, count: end), at: start)
        guard let real = try? r.scanNumber(), r.i == end else { return nil }
        if !real {
            var k = start
            let negative = base[k] == 0x2D
            if negative { k += 1 }
            var v: Int64 = 0
            while k < end {
                let d = Int64(base[k] - 0x30)
                let (m, o1) = v.multipliedReportingOverflow(by: 10)
                let (s, o2) = negative ? m.subtractingReportingOverflow(d) : m.addingReportingOverflow(d)
                guard !o1, !o2 else { return nil }
                v = s
                k += 1
            }
            return v
        }
        guard let d = Double(String(decoding: UnsafeBufferPointer(start: base + start, count: end - start), as: UTF8.self)),
              d.rounded() == d, d >= -9.223372036854775808e18, d < 9.223372036854775808e18 else { return nil }
        return Int64(d)
    }
}
