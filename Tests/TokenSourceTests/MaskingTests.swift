import Foundation
import Testing

@testable import TokenSource

@Suite struct MaskingTests {
    static let secret = TestJWT.make(
        payloadJSON: #"{"aud":"https://dicom.healthcareapis.azure.com","exp":1795659336,"upn":"someone@contoso.example","tid":"tid-1"}"#,
        signature: "SIGNATUREsignatureSIGNATUREsignature_-Zq9")

    /// Pieces of the secret long enough that seeing one would be a leak.
    static var secretPieces: [String] {
        let parts = secret.split(separator: ".").map(String.init)
        return [secret, parts[1], parts[2], String(secret.dropFirst(4).prefix(12))]
    }

    static func assertNoLeak(_ text: String, _ label: String, sourceLocation: SourceLocation = #_sourceLocation) {
        for piece in secretPieces {
            // Compute first so a failure message does not itself print the secret.
            let leaks = text.contains(piece)
            #expect(!leaks, "\(label) leaks part of the token", sourceLocation: sourceLocation)
        }
    }

    @Test func everyTextualFormIsMasked() {
        let token = AccessToken(Self.secret, expiresOn: Date(timeIntervalSince1970: 1_795_659_336),
                                tenant: "tid-1", subscription: "sub-1")
        var dumped = ""
        dump(token, to: &dumped)
        var dumpedOptional = ""
        dump(Optional(token), to: &dumpedOptional)
        var dumpedArray = ""
        dump([token], to: &dumpedArray)
        let forms: [(String, String)] = [
            ("interpolation", "\(token)"),
            ("describing", String(describing: token)),
            ("reflecting", String(reflecting: token)),
            ("dump", dumped),
            ("dump optional", dumpedOptional),
            ("dump array", dumpedArray),
            ("array description", "\([token])"),
            ("mirror children", Mirror(reflecting: token).children.map { "\($0.label ?? ""): \($0.value)" }.joined()),
            ("print", { var s = ""; print(token, to: &s); debugPrint(token, to: &s); return s }()),
        ]
        for (label, text) in forms {
            Self.assertNoLeak(text, label)
        }
        // The masked form is what they show instead.
        #expect(token.masked == "\(Self.secret.prefix(4))…\(Self.secret.suffix(4))")
        #expect("\(token)".contains(token.masked))
        #expect(String(reflecting: token).contains(token.masked))
        #expect(dumped.contains(token.masked))
        // The one accessor does expose it.
        #expect(token.authorizationHeaderValue == "Bearer " + Self.secret)
    }

    @Test func shortSecretsAreFullyHidden() {
        let token = AccessToken("abcdefghij", expiresOn: Date())
        #expect(token.masked == "…")
        #expect(!"\(token)".contains("abcd"))
        #expect(!String(reflecting: token).contains("ghij"))
    }

    @Test func errorsAroundTokensDoNotLeak() {
        // Every TokenError's text, built from realistic inputs, stays token-free.
        let errors: [TokenError] = [
            .azNotFound(searched: "az on PATH"), .azNotExecutable(path: "/x/az"),
            .launchFailed(path: "/x/az", reason: "Exec format error"), .notLoggedIn(azMessage: "ERROR: Please run 'az login' to setup account."),
            .interactionRequired(aadMessage: "AADSTS700082: expired"), .timedOut(seconds: 60),
            .badOutput(reason: "stdout is not JSON (42 bytes)"), .failed(exitCode: 1, stderrSummary: "boom"), .cancelled,
        ]
        for error in errors {
            #expect(!error.message.isEmpty)
            #expect(!error.hint.isEmpty)
            Self.assertNoLeak(error.message + error.hint + "\(error)", "\(error)")
        }
    }

    @Test func hintsAreActionable() {
        let notFound = TokenError.azNotFound(searched: "az on PATH")
        #expect(notFound.hint.contains("--az"))
        #expect(notFound.hint.contains("DICOMTUI_AZ"))
        #expect(notFound.hint.contains("install"))
        #expect(TokenError.notLoggedIn(azMessage: "").hint.contains("az login"))
        #expect(TokenError.notLoggedIn(azMessage: "ERROR: Please run 'az login' to setup account.").message.contains("Please run 'az login'"))
        #expect(TokenError.timedOut(seconds: 0.5).message.contains("0.5 s"))
        #expect(TokenError.timedOut(seconds: 60).message.contains("60 s"))
    }
}
