/// Writes JSON text into a byte buffer: what `feed` prints and what a tree is kept as.
///
/// Output is safe to show on a terminal and is still the same data: besides the escapes JSON
/// requires (`"`, `\`, control characters), DEL, C1 controls, bidirectional overrides and
/// isolates, and the line and paragraph separators are written as `\uXXXX`.
public enum JSONText {
    /// Whether a character is one a terminal may obey or that reorders text (besides C0).
    public static func isInvisible(_ v: UInt32) -> Bool {
        (0x7F...0x9F).contains(v) || (0x200E...0x200F).contains(v) || (0x202A...0x202E).contains(v)
            || (0x2066...0x2069).contains(v) || v == 0x2028 || v == 0x2029
    }

    /// A string, quoted and escaped.
    public static func appendString(_ s: String, to out: inout [UInt8]) {
        out.append(0x22)
        var s = s
        s.withUTF8 { appendContent($0.baseAddress, $0.count, raw: false, to: &out) }
        out.append(0x22)
    }

    /// A compact copy of one JSON value that was checked when read (`RawJSON`): space between
    /// tokens dropped (so it fits on one NDJSON line), the service's escapes and numbers kept
    /// as they are, and what `appendString` escapes escaped inside strings too.
    public static func appendCompact(_ raw: RawJSON, to out: inout [UInt8]) {
        raw.bytes.withUnsafeBytes { b in
            guard let base = b.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return }
            let n = b.count
            out.reserveCapacity(out.count + n)
            var k = 0
            while k < n {
                let c = base[k]
                if c == 0x22 {
                    // The content, up to its closing quote, in the same pass that writes it.
                    out.append(0x22)
                    k += 1 + appendContent(base + k + 1, n - k - 1, raw: true, to: &out)
                    out.append(0x22)
                    k += 1
                } else {
                    if c != 0x20 && c != 0x0A && c != 0x0D && c != 0x09 { out.append(c) }
                    k += 1
                }
            }
        }
    }

    private static let hexDigits: [UInt8] = Array("0123456789ABCDEF".utf8)
    private static let lowerHexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    private static func appendEscape(_ v: UInt32, lower: Bool, to out: inout [UInt8]) {
        let digits = lower ? lowerHexDigits : hexDigits
        out.append(0x5C); out.append(0x75)
        out.append(digits[Int(v >> 12 & 0xF)]); out.append(digits[Int(v >> 8 & 0xF)])
        out.append(digits[Int(v >> 4 & 0xF)]); out.append(digits[Int(v & 0xF)])
    }

    /// The content of a string (UTF-8, between its quotes). `raw`: the bytes are JSON string
    /// content already (a backslash starts an escape, copied as it is) and it ends at the first
    /// quote not escaped; otherwise they are text (a backslash is a backslash) and all `n` are
    /// content. Returns the bytes of content read.
    @discardableResult
    static func appendContent(_ p: UnsafePointer<UInt8>?, _ n: Int, raw: Bool, to out: inout [UInt8]) -> Int {
        guard let p else { return 0 }
        var k = 0
        var run = 0   // start of the bytes not yet copied
        func flush(_ upTo: Int) {
            if upTo > run { out.append(contentsOf: UnsafeBufferPointer(start: p + run, count: upTo - run)) }
        }
        while k < n {
            let c = p[k]
            if c >= 0x20 && c < 0x7F && c != 0x22 && c != 0x5C { k += 1; continue }
            if raw {
                if c == 0x5C {
                    k += min(2, n - k)   // an escape: the backslash and what it escapes go through
                    continue
                }
                if c == 0x22 {           // the closing quote
                    flush(k)
                    return k
                }
            }
            if c < 0x80 {
                flush(k)
                switch c {
                case 0x22: out.append(0x5C); out.append(0x22)
                case 0x5C: out.append(0x5C); out.append(0x5C)
                case 0x08: out.append(0x5C); out.append(0x62)
                case 0x0C: out.append(0x5C); out.append(0x66)
                case 0x0A: out.append(0x5C); out.append(0x6E)
                case 0x0D: out.append(0x5C); out.append(0x72)
                case 0x09: out.append(0x5C); out.append(0x74)
                case 0x7F: appendEscape(0x7F, lower: false, to: &out)
                default: appendEscape(UInt32(c), lower: true, to: &out)
                }
                k += 1
                run = k
                continue
            }
            // Non-ASCII: only C1 (C2 80–9F) and some of E2 80 xx / E2 81 xx are escaped.
            if c == 0xC2, k + 1 < n, p[k + 1] >= 0x80, p[k + 1] <= 0x9F {
                flush(k)
                appendEscape(UInt32(p[k + 1]), lower: false, to: &out)
                k += 2
                run = k
                continue
            }
            if c == 0xE2, k + 2 < n, p[k + 1] == 0x80 || p[k + 1] == 0x81 {
                let v = 0x2000 | UInt32(p[k + 1] & 0x0F) << 6 | UInt32(p[k + 2] & 0x3F)
                if isInvisible(v) {
                    flush(k)
                    appendEscape(v, lower: false, to: &out)
                    k += 3
                    run = k
                    continue
                }
            }
            k += 1
        }
        flush(n)
        return n
    }

    /// A tree, compact, with its object keys sorted (so that the same tree writes the same text).
    public static func append(_ value: JSONValue, to out: inout [UInt8]) {
        switch value {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .number(let d): out.append(contentsOf: number(d).utf8)
        case .string(let s): appendString(s, to: &out)
        case .array(let a):
            out.append(0x5B)
            for (i, v) in a.enumerated() {
                if i > 0 { out.append(0x2C) }
                append(v, to: &out)
            }
            out.append(0x5D)
        case .object(let o):
            out.append(0x7B)
            for (i, key) in o.keys.sorted().enumerated() {
                if i > 0 { out.append(0x2C) }
                appendString(key, to: &out)
                out.append(0x3A)
                append(o[key]!, to: &out)
            }
            out.append(0x7D)
        }
    }

    /// A number as JSON: whole numbers without a fraction (`512`, not `512.0`).
    static func number(_ d: Double) -> String {
        guard d.isFinite else { return "null" }
        if d.rounded() == d && abs(d) < 1e15 { return String(Int64(d)) }
        return "\(d)"
    }
}
