/// Reads an ISO 8601 text byte by byte: fixed-width digit groups and punctuation. Shared by
/// the three readers of times, which differ in what they accept (the service's timestamps,
/// the emulator's query binding, the app's --start-time and --end-time).
public struct ISOScanner {
    public let bytes: [UInt8]
    public var index = 0

    public init(_ text: String) { bytes = Array(text.utf8) }
    public init(bytes: [UInt8]) { self.bytes = bytes }

    public var atEnd: Bool { index >= bytes.count }
    /// The byte at the current position, nil at the end.
    public var current: UInt8? { index < bytes.count ? bytes[index] : nil }

    /// Exactly `n` decimal digits as a number, or nil (and no move) when they are not there.
    public mutating func digits(_ n: Int) -> Int? {
        guard index + n <= bytes.count else { return nil }
        var v = 0
        for k in 0..<n {
            let c = bytes[index + k]
            guard c >= 48 && c <= 57 else { return nil }
            v = v * 10 + Int(c - 48)
        }
        index += n
        return v
    }

    /// Steps over `byte` when it comes next.
    public mutating func accept(_ byte: UInt8) -> Bool {
        guard index < bytes.count, bytes[index] == byte else { return false }
        index += 1
        return true
    }
}
