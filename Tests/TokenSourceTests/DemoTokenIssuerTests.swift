import Foundation
import Testing

@testable import TokenSource

@Suite struct DemoTokenIssuerTests {
    static let start = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func mintsARealisticJWTShape() async throws {
        let clock = ManualClock(Self.start)
        let source = DemoTokenIssuer(resource: "https://dicom.example", now: { clock.now })
        let token = await source.token()
        let raw = rawToken(token.authorizationHeaderValue)
        let parts = raw.split(separator: ".", omittingEmptySubsequences: false)
        #expect(parts.count == 3)
        #expect(raw.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." })

        let header = try #require(Base64URL.decode(parts[0]))
        let headerObject = try #require(try JSONSerialization.jsonObject(with: header) as? [String: Any])
        #expect(headerObject["alg"] as? String == "RS256")
        #expect(headerObject["typ"] as? String == "JWT")
        #expect(try #require(Base64URL.decode(parts[2])).count == 256)

        let payload = try #require(TestJWT.payload(of: raw))
        #expect(payload["aud"] as? String == "https://dicom.example")
        #expect(payload["iat"] as? Int == 1_800_000_000)
        #expect(payload["nbf"] as? Int == 1_800_000_000)
        #expect(payload["exp"] as? Int == 1_800_003_600)
        #expect(payload["upn"] as? String == "demo.user@contoso.example")
        #expect(payload["tid"] as? String == DemoTokenIssuer.Identity.demoUser.tenantId)
        #expect(payload["oid"] as? String == DemoTokenIssuer.Identity.demoUser.objectId)
        #expect((payload["iss"] as? String)?.hasPrefix("https://sts.windows.net/") == true)
        #expect(payload["name"] as? String == "Demo User")
        #expect(payload["scp"] != nil)

        #expect(token.expiresOn == Self.start.addingTimeInterval(3600))
        #expect(token.claims?.aud == "https://dicom.example")
        #expect(token.claims?.exp == token.expiresOn)
        #expect(token.claims?.identity == "demo.user@contoso.example")
        #expect(token.tenant == DemoTokenIssuer.Identity.demoUser.tenantId)
    }

    @Test func signaturesAreRandom() {
        let a = DemoTokenIssuer.mint(resource: "r", issuedAt: Self.start, lifetime: 60)
        let b = DemoTokenIssuer.mint(resource: "r", issuedAt: Self.start, lifetime: 60)
        #expect(!a.hasSameSecret(as: b))
        #expect(a.claims == b.claims)
    }

    @Test func negativeLifetimeMakesExpiredTokensForEmulatorTests() async {
        let source = DemoTokenIssuer(lifetime: -60, now: { Self.start })
        let token = await source.token()
        #expect(token.claims?.exp == Self.start.addingTimeInterval(-60))
        #expect(!token.isUsable(at: Self.start))
    }

    @Test func accountAndDescription() async throws {
        let source = DemoTokenIssuer()
        let account = try #require(source.account())
        #expect(account.userName == "demo.user@contoso.example")
        #expect(account.userType == "user")
        #expect(source.description.contains("demo.user@contoso.example"))
        let issuer: any TokenIssuer = source
        let token = try await issuer.token()
        #expect(!issuer.description.contains(token.masked))
    }
}
