/// A DICOM attribute tag: a group and an element number, ordered as DICOM orders them.
public struct DicomTag: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let group: UInt16
    public let element: UInt16

    public init(group: UInt16, element: UInt16) {
        self.group = group
        self.element = element
    }

    /// From the 32-bit form, group in the high half: `0x0010_0010`.
    public init(_ value: UInt32) {
        self.init(group: UInt16(truncatingIfNeeded: value >> 16), element: UInt16(truncatingIfNeeded: value))
    }

    /// From the eight hex digits DICOM JSON uses as keys ("00100010", any case), or from the
    /// punctuated form "(0010,0010)". Anything else gives nil.
    public init?(hex: String) {
        var digits: UInt32 = 0
        var count = 0
        var utf8 = Array(hex.utf8)
        if utf8.count == 11, utf8[0] == UInt8(ascii: "("), utf8[5] == UInt8(ascii: ","), utf8[10] == UInt8(ascii: ")") {
            utf8 = Array(utf8[1..<5]) + Array(utf8[6..<10])
        }
        for byte in utf8 {
            guard let nibble = DicomTag.nibble(byte), count < 8 else { return nil }
            digits = digits << 4 | UInt32(nibble)
            count += 1
        }
        guard count == 8 else { return nil }
        self.init(digits)
    }

    static func nibble(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        default: return nil
        }
    }

    /// The 32-bit form, group in the high half.
    public var value: UInt32 { UInt32(group) << 16 | UInt32(element) }

    /// "(0010,0010)": how DICOM writes a tag.
    public var text: String { "(\(Self.hex4(group)),\(Self.hex4(element)))" }

    /// "00100010": the form DICOM JSON uses as a key.
    public var hex: String { Self.hex4(group) + Self.hex4(element) }

    public var description: String { text }

    /// Odd groups hold private data elements, except groups 0001, 0003, 0005, 0007 and FFFF,
    /// which PS3.5 7.8.1 forbids.
    public var isPrivate: Bool {
        group & 1 == 1 && group > 0x0007 && group != 0xFFFF
    }

    /// (gggg,0010) to (gggg,00FF) in a private group: the elements that reserve a block.
    public var isPrivateCreator: Bool {
        isPrivate && (0x0010...0x00FF).contains(element)
    }

    /// (gggg,0000): the length of a group.
    public var isGroupLength: Bool { element == 0 }

    public static func < (a: DicomTag, b: DicomTag) -> Bool { a.value < b.value }

    private static let digits: [Character] = Array("0123456789ABCDEF")

    static func hex4(_ v: UInt16) -> String {
        String([digits[Int(v >> 12)], digits[Int(v >> 8 & 0xF)], digits[Int(v >> 4 & 0xF)], digits[Int(v & 0xF)]])
    }
}
