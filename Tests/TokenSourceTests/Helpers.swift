import Foundation

/// Test-side JWT construction, independent of the code under test.
enum TestJWT {
    static func base64url(_ data: Data, padded: Bool = false) -> String {
        var s = data.base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
        if !padded { s = s.replacingOccurrences(of: "=", with: "") }
        return s
    }

    static func make(payloadJSON: String, padded: Bool = false, signature: String = "c2lnbmF0dXJl") -> String {
        let header = base64url(Data(#"{"alg":"RS256","typ":"JWT"}"#.utf8), padded: padded)
        let payload = base64url(Data(payloadJSON.utf8), padded: padded)
        return "\(header).\(payload).\(signature)"
    }

    /// Decodes the payload segment of a token for assertions.
    static func payload(of token: String) -> [String: Any]? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3 else { return nil }
        var s = String(parts[1]).replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while s.count % 4 != 0 { s += "=" }
        guard let data = Data(base64Encoded: s) else { return nil }
        return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
    }
}

/// Extracts the raw token from the one accessor that exposes it.
func rawToken(_ header: String) -> String {
    precondition(header.hasPrefix("Bearer "))
    return String(header.dropFirst("Bearer ".count))
}

/// A clock the test moves by hand.
final class ManualClock: @unchecked Sendable {
    private let lock = NSLock()
    private var current: Date

    init(_ start: Date) { current = start }

    var now: Date {
        lock.lock()
        defer { lock.unlock() }
        return current
    }

    func advance(_ seconds: TimeInterval) {
        lock.lock()
        current = current.addingTimeInterval(seconds)
        lock.unlock()
    }
}
