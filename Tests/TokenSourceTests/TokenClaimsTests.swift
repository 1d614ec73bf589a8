import Foundation
import Testing

@testable import TokenSource

@Suite struct TokenClaimsTests {
    static let fullPayload = """
        {"aud":"https://dicom.healthcareapis.azure.com","iss":"https://sts.windows.net/t/","iat":1795655736,
         "nbf":1795655736,"exp":1795659336,"tid":"72f988bf-0000-4000-8000-000000000001","oid":"0000-oid",
         "upn":"someone@contoso.example","unique_name":"unique@contoso.example",
         "preferred_username":"preferred@contoso.example","appid":"04b07795-8ddb-461a-bbee-02f9e1bf7b46",
         "azp":"azp-id","name":"Some One","idtyp":"user","scp":"user_impersonation"}
        """

    @Test func decodesAllClaims() throws {
        let claims = try #require(TokenClaims(jwt: TestJWT.make(payloadJSON: Self.fullPayload)))
        #expect(claims.aud == "https://dicom.healthcareapis.azure.com")
        #expect(claims.exp == Date(timeIntervalSince1970: 1_795_659_336))
        #expect(claims.iat == Date(timeIntervalSince1970: 1_795_655_736))
        #expect(claims.tid == "72f988bf-0000-4000-8000-000000000001")
        #expect(claims.oid == "0000-oid")
        #expect(claims.upn == "someone@contoso.example")
        #expect(claims.uniqueName == "unique@contoso.example")
        #expect(claims.preferredUsername == "preferred@contoso.example")
        #expect(claims.appid == "04b07795-8ddb-461a-bbee-02f9e1bf7b46")
        #expect(claims.azp == "azp-id")
        #expect(claims.name == "Some One")
        #expect(claims.idtyp == "user")
        #expect(claims.identity == "someone@contoso.example")
    }

    @Test(arguments: [
        // Lengths chosen so the unpadded payload needs 0, 1 and 2 "=" characters.
        #"{"upn":"a@b.c"}"#, #"{"upn":"ab@b.c"}"#, #"{"upn":"abc@b.c"}"#,
    ])
    func paddingIsOptional(payload: String) throws {
        let unpadded = TestJWT.make(payloadJSON: payload, padded: false)
        let padded = TestJWT.make(payloadJSON: payload, padded: true)
        let a = try #require(TokenClaims(jwt: unpadded))
        let b = try #require(TokenClaims(jwt: padded))
        #expect(a == b)
        #expect(a.upn?.hasSuffix("@b.c") == true)
    }

    @Test func base64urlAlphabetIsUsed() throws {
        // "?>?" in the name makes standard base64 contain "/" and "+"; base64url has "_" and "-".
        let payload = #"{"name":"??>>??>>","upn":"x@y.z"}"#
        let token = TestJWT.make(payloadJSON: payload)
        #expect(token.contains("_") || token.contains("-"))
        let claims = try #require(TokenClaims(jwt: token))
        #expect(claims.name == "??>>??>>")
    }

    @Test func identityFallsBack() throws {
        let preferred = try #require(TokenClaims(jwt: TestJWT.make(payloadJSON:
            #"{"preferred_username":"p@x.example","unique_name":"u@x.example"}"#)))
        #expect(preferred.identity == "p@x.example")
        let unique = try #require(TokenClaims(jwt: TestJWT.make(payloadJSON: #"{"unique_name":"u@x.example"}"#)))
        #expect(unique.identity == "u@x.example")
        let app = try #require(TokenClaims(jwt: TestJWT.make(payloadJSON: #"{"appid":"1234","idtyp":"app"}"#)))
        #expect(app.identity == "app 1234")
        let v2app = try #require(TokenClaims(jwt: TestJWT.make(payloadJSON: #"{"azp":"5678"}"#)))
        #expect(v2app.identity == "app 5678")
        let nobody = try #require(TokenClaims(jwt: TestJWT.make(payloadJSON: #"{"oid":"x"}"#)))
        #expect(nobody.identity == nil)
    }

    @Test func audienceArrayAndWrongTypes() throws {
        let claims = try #require(TokenClaims(jwt: TestJWT.make(payloadJSON:
            #"{"aud":["https://a.example","https://b.example"],"exp":"soon","upn":42,"tid":null,"iat":true}"#)))
        #expect(claims.audiences == ["https://a.example", "https://b.example"])
        #expect(claims.aud == "https://a.example")
        #expect(claims.exp == nil)
        #expect(claims.iat == nil)
        #expect(claims.upn == nil)
        #expect(claims.tid == nil)
    }

    @Test(arguments: [
        "", "not a jwt", "a.b.c", "...", "eyJhbGciOiJSUzI1NiJ9", "eyJ.@@@@.sig",
        // payload is valid base64url but not JSON
        "eyJhbGciOiJSUzI1NiJ9.aGVsbG8gd29ybGQ.sig",
        // payload is JSON but not an object
        "eyJhbGciOiJSUzI1NiJ9.WzEsMiwzXQ.sig",
        // impossible base64 length (4n+1)
        "eyJhbGciOiJSUzI1NiJ9.eyJhY.sig",
        "a.b.c.d.e",
    ])
    func garbageGivesNil(token: String) {
        #expect(TokenClaims(jwt: token) == nil)
    }

    @Test func hugeInputGivesNil() {
        let huge = "eyJ0." + String(repeating: "A", count: 100_000) + ".sig"
        #expect(TokenClaims(jwt: huge) == nil)
    }
}
