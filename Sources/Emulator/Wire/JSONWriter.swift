/// A small append-only JSON byte writer. The emulator writes its wire JSON itself so that the
/// bytes are exactly what it wants (key order, escaping, timestamp form) and so that a page is
/// one pass over a byte array with no intermediate objects.
struct JSONWriter {
    var bytes: [UInt8]
    /// Escape every non-ASCII character and the HTML-sensitive ASCII characters as `\uXXXX`,
    /// as System.Text.Json's default encoder does (the service sets `Encoder = null`).
    let escapeNonASCII: Bool

    init(capacity: Int = 4096, escapeNonASCII: Bool) {
        bytes = []
        bytes.reserveCapacity(capacity)
        self.escapeNonASCII = escapeNonASCII
    }

    @inline(__always) mutating func raw(_ s: StaticString) {
        s.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    @inline(__always) mutating func byte(_ b: UInt8) { bytes.append(b) }

    /// Appends text that is known to need no escaping (digits, UIDs, fixed ASCII).
    @inline(__always) mutating func rawText(_ s: String) { bytes.append(contentsOf: s.utf8) }

    /// Appends a decimal integer (small strings are stored inline, so this does not allocate).
    @inline(__always) mutating func int(_ value: Int64) { bytes.append(contentsOf: String(value).utf8) }

    /// Appends a quoted, escaped JSON string.
    mutating func string(_ s: String) {
        bytes.append(34)
        escape(s)
        bytes.append(34)
    }

    /// Appends a quoted string in which the ASCII character at UTF-8 offset `position` is
    /// written as `\u00XX`, as any JSON encoder may (a decoder must read it back the same).
    mutating func string(_ s: String, escapingASCIIAt position: Int) {
        let u = Array(s.utf8)
        guard position >= 0, position < u.count, u[position] >= 0x20, u[position] < 0x7F else {
            string(s)
            return
        }
        bytes.append(34)
        escape(String(decoding: u[..<position], as: UTF8.self))
        hex16(UInt16(u[position]))
        escape(String(decoding: u[(position + 1)...], as: UTF8.self))
        bytes.append(34)
    }

    mutating func escape(_ s: String) {
        for scalar in s.unicodeScalars {
            let v = scalar.value
            if v < 0x80 {
                let b = UInt8(v)
                switch b {
                case 0x22:
                    if escapeNonASCII { hex16(0x22) } else { bytes.append(92); bytes.append(34) }
                case 0x5C: bytes.append(92); bytes.append(92)
                case 0x08: bytes.append(92); bytes.append(98)
                case 0x09: bytes.append(92); bytes.append(116)
                case 0x0A: bytes.append(92); bytes.append(110)
                case 0x0C: bytes.append(92); bytes.append(102)
                case 0x0D: bytes.append(92); bytes.append(114)
                case 0..<0x20, 0x7F: hex16(UInt16(b))
                case 0x26, 0x27, 0x2B, 0x3C, 0x3E, 0x60:   // & ' + < > `
                    if escapeNonASCII { hex16(UInt16(b)) } else { bytes.append(b) }
                default: bytes.append(b)
                }
            } else if escapeNonASCII {
                for unit in String(scalar).utf16 { hex16(unit) }
            } else {
                bytes.append(contentsOf: String(scalar).utf8)
            }
        }
    }

    private static let hexDigits: [UInt8] = Array("0123456789ABCDEF".utf8)

    @inline(__always) private mutating func hex16(_ unit: UInt16) {
        bytes.append(92); bytes.append(117)
        bytes.append(Self.hexDigits[Int(unit >> 12) & 0xF])
        bytes.append(Self.hexDigits[Int(unit >> 8) & 0xF])
        bytes.append(Self.hexDigits[Int(unit >> 4) & 0xF])
        bytes.append(Self.hexDigits[Int(unit) & 0xF])
    }
}
