import Foundation

/// Where each element of a JSON array starts and ends in the bytes of a response, without
/// decoding anything: so that an element that does not decode can be kept as the service sent
/// it (script mode writes it through). Nil when the bytes are not one JSON array.
enum JSONArrayElements {
    static func spans(in data: Data) -> [Range<Int>]? {
        data.withUnsafeBytes { raw -> [Range<Int>]? in
            let b = raw.bindMemory(to: UInt8.self)
            var i = 0
            func skipSpace() { while i < b.count, b[i] == 0x20 || b[i] == 0x0A || b[i] == 0x0D || b[i] == 0x09 { i += 1 } }
            /// Steps over one value (object, array, string or scalar).
            func skipValue() -> Bool {
                var depth = 0
                repeat {
                    guard i < b.count else { return false }
                    switch b[i] {
                    case 0x22:                                       // "
                        i += 1
                        while i < b.count, b[i] != 0x22 { i += b[i] == 0x5C ? 2 : 1 }
                        guard i < b.count else { return false }
                        i += 1
                    case 0x7B, 0x5B: depth += 1; i += 1               // { [
                    case 0x7D, 0x5D:                                 // } ]
                        guard depth > 0 else { return false }
                        depth -= 1; i += 1
                    case 0x2C where depth == 0: return false          // , where a value should start: no value
                    default:
                        if depth == 0 {
                            // A scalar: up to the next comma, bracket or space.
                            while i < b.count, ![0x2C, 0x5D, 0x7D, 0x20, 0x0A, 0x0D, 0x09].contains(b[i]) { i += 1 }
                            return true
                        }
                        i += 1
                    }
                } while depth > 0
                return true
            }
            skipSpace()
            guard i < b.count, b[i] == 0x5B else { return nil }   // [
            i += 1
            var spans: [Range<Int>] = []
            skipSpace()
            if i < b.count, b[i] == 0x5D { return spans }          // ]
            while i < b.count {
                skipSpace()
                let start = i
                guard skipValue() else { return nil }
                spans.append(start..<i)
                skipSpace()
                guard i < b.count else { return nil }
                if b[i] == 0x2C {                                   // ,
                    i += 1
                    // A comma before the closing bracket, as Foundation's JSONDecoder accepts it.
                    skipSpace()
                    if i < b.count, b[i] == 0x5D { return spans }
                    continue
                }
                if b[i] == 0x5D { return spans }                    // ]
                return nil
            }
            return nil
        }
    }
}
