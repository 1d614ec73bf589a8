// libFuzzer target `az`: what dicomtui reads from az (access-token and account JSON, stderr,
// the device-code prompt) and the claims of a JWT. Built and run by scripts/fuzz; not part of CI.
import FuzzDriver
import Foundation
@testable import TokenSource

private let zone = TimeZone(identifier: "Europe/Berlin")!
private let now = Date(timeIntervalSince1970: 1_764_000_000)

private func check(_ data: Data) {
    // az account get-access-token: never crashes; a token it accepts can go into a header.
    if let token = try? AzOutput.parseAccessToken(data, localTimeZone: zone, now: now) {
        let value = token.authorizationHeaderValue.dropFirst("Bearer ".count)
        guard !value.isEmpty, value.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }) else {
            fatalError("an access token that cannot go into an Authorization header")
        }
        guard token.expiresOn.timeIntervalSince1970.isFinite else { fatalError("an expiry that is not a time") }
        _ = (token.masked, token.description)
    }
    _ = try? AzOutput.parseAccount(data)

    let text = String(decoding: data, as: UTF8.self)
    // A JWT: its claims read the same as its payload read directly.
    let claims = TokenClaims(jwt: text)
    if let claims {
        let segments = text.split(separator: ".", omittingEmptySubsequences: false)
        guard let payload = Base64URL.decode(segments[1]), TokenClaims(payload: payload) == claims else {
            fatalError("TokenClaims(jwt:) and TokenClaims(payload:) disagree")
        }
        _ = claims.identity
    }
    // The input as a payload, in a token: the claims are the payload's.
    if !data.isEmpty, data.count <= 48 * 1024 {
        let segment = Base64URL.encode(data)
        guard Base64URL.decode(Substring(segment)) == data else { fatalError("base64url does not round-trip") }
        guard TokenClaims(jwt: "eyJhbGciOiJub25lIn0.\(segment).sig") == TokenClaims(payload: data) else {
            fatalError("a token's claims are not its payload's")
        }
    }
    _ = AzOutput.parseLocalTime(text, in: zone)

    // stderr of a failed run, and a device-code sign-in line.
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    let failure = AzOutput.classifyFailure(exitCode: 1, stderrLines: lines)
    _ = "\(failure)"
    guard AzOutput.summarize(lines).count <= AzOutput.summaryLimit else { fatalError("an az summary over the limit") }
    for line in lines.prefix(8) {
        if let prompt = DeviceCodePrompt.parse(line) {
            guard prompt.url.hasPrefix("http"), !prompt.code.isEmpty else { fatalError("a device-code prompt without URL or code") }
        }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ bytes: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    check(bytes.map { Data(bytes: $0, count: size) } ?? Data())
    return 0
}

@_cdecl("fuzz_az_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv, fuzzOne)
}
