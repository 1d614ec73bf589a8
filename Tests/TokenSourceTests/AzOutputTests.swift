import Foundation
import Testing

@testable import TokenSource

@Suite struct AccessTokenParsingTests {
    static let jwt = TestJWT.make(payloadJSON:
        #"{"aud":"https://dicom.healthcareapis.azure.com","exp":1795659000,"tid":"t-from-jwt","upn":"someone@contoso.example"}"#)
    static let utc = TimeZone(identifier: "UTC")!
    static let now = Date(timeIntervalSince1970: 1_795_655_000)

    static func json(_ fields: String) -> Data { Data("{\n\(fields)\n}".utf8) }

    @Test func currentFormWithExpiresOnInteger() throws {
        // Shape observed from azure-cli 2.91.0: keys sorted, expires_on an integer.
        let stdout = Self.json("""
              "accessToken": "\(Self.jwt)",
              "expiresOn": "2026-11-26 02:15:36.000000",
              "expires_on": 1795659336,
              "subscription": "00000000-1111-4222-8333-444444444444",
              "tenant": "72f988bf-0000-4000-8000-000000000001",
              "tokenType": "Bearer"
            """)
        // A zone far from UTC: expires_on must win over the local-time string.
        let token = try AzOutput.parseAccessToken(stdout, localTimeZone: TimeZone(identifier: "Pacific/Auckland")!)
        #expect(token.expiresOn == Date(timeIntervalSince1970: 1_795_659_336))
        #expect(token.expirySource == .expiresOn)
        #expect(token.tenant == "72f988bf-0000-4000-8000-000000000001")
        #expect(token.subscription == "00000000-1111-4222-8333-444444444444")
        #expect(token.authorizationHeaderValue == "Bearer \(Self.jwt)")
        #expect(token.claims?.identity == "someone@contoso.example")
    }

    @Test func expiresOnAsNumericString() throws {
        let stdout = Self.json(#""accessToken": "\#(Self.jwt)", "expires_on": "1795659336", "tokenType": "Bearer""#)
        let token = try AzOutput.parseAccessToken(stdout)
        #expect(token.expiresOn == Date(timeIntervalSince1970: 1_795_659_336))
        #expect(token.expirySource == .expiresOn)
        // No tenant field: the tid claim stands in.
        #expect(token.tenant == "t-from-jwt")
        #expect(token.subscription == nil)
    }

    @Test(arguments: [
        ("UTC", 1_795_659_336.114324),
        ("Europe/Berlin", 1_795_655_736.114324),  // UTC+1 in November
        ("America/New_York", 1_795_677_336.114324),  // UTC-5 in November
    ])
    func legacyExpiresOnIsLocalTime(zone: String, expected: Double) throws {
        // Pre-2.54 form: no expires_on, expiresOn is the az process's wall-clock time.
        let stdout = Self.json("""
              "accessToken": "\(Self.jwt)",
              "expiresOn": "2026-11-26 02:15:36.114324",
              "subscription": "s",
              "tenant": "t",
              "tokenType": "Bearer"
            """)
        let token = try AzOutput.parseAccessToken(stdout, localTimeZone: TimeZone(identifier: zone)!)
        #expect(token.expirySource == .localTime)
        #expect(abs(token.expiresOn.timeIntervalSince1970 - expected) < 0.001)
    }

    @Test func legacyExpiresOnWithoutFraction() throws {
        let stdout = Self.json(#""accessToken": "\#(Self.jwt)", "expiresOn": "2026-11-26 02:15:36""#)
        let token = try AzOutput.parseAccessToken(stdout, localTimeZone: Self.utc)
        #expect(token.expiresOn == Date(timeIntervalSince1970: 1_795_659_336))
    }

    @Test(arguments: [#""N/A""#, "null", #""""#, #""tomorrow""#])
    func absentExpiresOnFallsBackToJWTExp(value: String) throws {
        // Managed identity once printed "N/A", later null.
        let stdout = Self.json(#""accessToken": "\#(Self.jwt)", "expiresOn": \#(value), "tokenType": "Bearer""#)
        let token = try AzOutput.parseAccessToken(stdout, localTimeZone: Self.utc)
        #expect(token.expirySource == .jwtClaim)
        #expect(token.expiresOn == Date(timeIntervalSince1970: 1_795_659_000))
    }

    @Test func nullExpiresOnIntegerFallsBackToJWTExp() throws {
        let stdout = Self.json(#""accessToken": "\#(Self.jwt)", "expires_on": null"#)
        let token = try AzOutput.parseAccessToken(stdout)
        #expect(token.expirySource == .jwtClaim)
    }

    @Test func opaqueTokenWithoutExpiryAssumesFiveMinutes() throws {
        let stdout = Self.json(#""accessToken": "opaque-token-without-any-structure-1234""#)
        let token = try AzOutput.parseAccessToken(stdout, now: Self.now)
        #expect(token.expirySource == .assumed)
        #expect(token.expiresOn == Self.now.addingTimeInterval(300))
        #expect(token.claims == nil)
    }

    @Test func byteOrderMarkIsTolerated() throws {
        var stdout = Data([0xEF, 0xBB, 0xBF])
        stdout.append(Self.json(#""accessToken": "\#(Self.jwt)", "expires_on": 1795659336"#))
        #expect(try AzOutput.parseAccessToken(stdout).expirySource == .expiresOn)
    }

    @Test(arguments: [
        ("", "nothing on stdout"),
        ("   \n", "nothing on stdout"),
        ("WARNING: something\n", "not JSON"),
        ("[1, 2]", "not an object"),
        (#"{"tokenType": "Bearer"}"#, "no accessToken"),
        (#"{"accessToken": 12}"#, "no accessToken"),
        (#"{"accessToken": ""}"#, "empty"),
        (#"{"accessToken": "has space inside"}"#, "characters"),
        (#"{"accessToken": "abcdefghijklmnopqrstuvwxyz", "tokenType": "pop"}"#, "not Bearer"),
    ])
    func badOutputs(stdout: String, reasonContains: String) {
        #expect {
            try AzOutput.parseAccessToken(Data(stdout.utf8))
        } throws: { error in
            guard case .badOutput(let reason) = error as? TokenError else { return false }
            return reason.contains(reasonContains)
        }
    }

    @Test func badOutputNeverEchoesTheToken() {
        // Truncated JSON that contains a token: the error must not quote it.
        let secret = "eyJSECRETSECRETSECRETSECRETSECRET.eyJwYXlsb2FkIjoxfQ.c2ln"
        let stdout = Data(#"{"accessToken": "\#(secret)", "expires_on": 17956"#.utf8)
        do {
            _ = try AzOutput.parseAccessToken(stdout)
            Issue.record("expected an error")
        } catch {
            #expect(!error.message.contains("SECRET"))
            #expect(!error.hint.contains("SECRET"))
            #expect(!"\(error)".contains("SECRET"))
            #expect(!String(reflecting: error).contains("SECRET"))
        }
    }
}

@Suite struct AccountParsingTests {
    @Test func userAccount() throws {
        let stdout = """
            {
              "environmentName": "AzureCloud",
              "homeTenantId": "72f988bf-0000-4000-8000-000000000001",
              "id": "00000000-1111-4222-8333-444444444444",
              "isDefault": true,
              "managedByTenants": [],
              "name": "Test Subscription",
              "state": "Enabled",
              "tenantDefaultDomain": "contoso.example",
              "tenantDisplayName": "Contoso",
              "tenantId": "72f988bf-0000-4000-8000-000000000001",
              "user": {"name": "someone@contoso.example", "type": "user"}
            }
            """
        let account = try AzOutput.parseAccount(Data(stdout.utf8))
        #expect(account.userName == "someone@contoso.example")
        #expect(account.userType == "user")
        #expect(account.tenantId == "72f988bf-0000-4000-8000-000000000001")
        #expect(account.subscriptionId == "00000000-1111-4222-8333-444444444444")
        #expect(account.subscriptionName == "Test Subscription")
        #expect(account.environmentName == "AzureCloud")
        #expect(account.tenantDisplayName == "Contoso")
        #expect(account.summary == "someone@contoso.example (user) · Test Subscription · tenant Contoso · AzureCloud")
    }

    @Test func managedIdentityWithoutTenantFields() throws {
        let stdout = """
            {"environmentName": "AzureCloud", "id": "sub", "name": "Test Subscription",
             "tenantId": "tid", "user": {"name": "systemAssignedIdentity", "type": "servicePrincipal",
             "assignedIdentityInfo": "MSI"}}
            """
        let account = try AzOutput.parseAccount(Data(stdout.utf8))
        #expect(account.userName == "systemAssignedIdentity")
        #expect(account.userType == "servicePrincipal")
        #expect(account.tenantDisplayName == nil)
        #expect(account.summary == "systemAssignedIdentity (servicePrincipal) · Test Subscription · tenant tid · AzureCloud")
    }

    @Test func notAnObject() {
        #expect(throws: TokenError.self) { try AzOutput.parseAccount(Data("[]".utf8)) }
        #expect(throws: TokenError.self) { try AzOutput.parseAccount(Data("ERROR: x".utf8)) }
    }
}

@Suite struct StderrClassificationTests {
    static func classify(_ text: String, exit: Int32 = 1) -> TokenError {
        AzOutput.classifyFailure(exitCode: exit, stderrLines: text.components(separatedBy: "\n"))
    }

    @Test func notLoggedIn() {
        #expect(Self.classify("ERROR: Please run 'az login' to setup account.\n")
                == .notLoggedIn(azMessage: "Please run 'az login' to setup account."))
    }

    @Test func msalCacheMessagesMeanNotLoggedIn() {
        #expect(Self.classify("ERROR: User 'a@b.c' does not exist in MSAL token cache. Run `az login`.")
                == .notLoggedIn(azMessage: "User 'a@b.c' does not exist in MSAL token cache. Run `az login`."))
        guard case .notLoggedIn(let text) = Self.classify("ERROR: Can't find token from MSAL cache.\nTo re-authenticate, please run:\naz login") else {
            Issue.record("not classified as not logged in")
            return
        }
        #expect(text.contains("Can't find token from MSAL cache."))
    }

    @Test func refreshTokenExpired() {
        let stderr = """
            ERROR: AADSTS700082: The refresh token has expired due to inactivity. The token was issued on 2026-01-01.
            Trace ID: 0000 Correlation ID: 1111 Timestamp: 2026-11-26 01:00:00Z
            Run the command below to authenticate interactively; additional arguments may be added as needed:
            az logout
            az login --tenant "72f988bf-0000-4000-8000-000000000001" --scope "https://dicom.healthcareapis.azure.com/.default"
            """
        let error = Self.classify(stderr)
        guard case .interactionRequired(let aad) = error else {
            Issue.record("got \(error)")
            return
        }
        #expect(aad.hasPrefix("AADSTS700082: The refresh token has expired"))
        #expect(aad.contains("Trace ID: 0000"))
        #expect(!aad.contains("az logout"))
        #expect(!aad.contains("Run the command below"))
        #expect(error.needsLogin)
        #expect(error.hint.contains("az login"))
    }

    @Test func conditionalAccessOldWording() {
        let stderr = """
            ERROR: AADSTS50158: External security challenge not satisfied.
            Interactive authentication is needed. Please run:
            az login --scope https://graph.microsoft.com//.default
            """
        #expect(Self.classify(stderr) == .interactionRequired(aadMessage: "AADSTS50158: External security challenge not satisfied."))
    }

    @Test func tracebackCollapsesToLastLine() {
        var lines = ["ERROR: The command failed with an unexpected error. Here is the traceback:"]
        lines.append("Traceback (most recent call last):")
        for i in 0..<50 {
            lines.append("  File \"/opt/az/lib/python3.12/site-packages/module\(i).py\", line \(i), in f\(i)")
            lines.append("    call\(i)()")
        }
        lines.append("socket.gaierror: [Errno -3] Temporary failure in name resolution")
        lines.append("")
        lines.append("During handling of the above exception, another exception occurred:")
        lines.append("")
        lines.append("Traceback (most recent call last):")
        lines.append("  File \"/opt/az/x.py\", line 1, in g")
        lines.append("requests.exceptions.ConnectionError: HTTPSConnectionPool(host='login.microsoftonline.com', port=443)")
        lines.append("To check existing issues, please visit: https://github.com/Azure/azure-cli/issues")
        let error = AzOutput.classifyFailure(exitCode: 1, stderrLines: lines)
        guard case .failed(let code, let summary) = error else {
            Issue.record("got \(error)")
            return
        }
        #expect(code == 1)
        #expect(summary == "The command failed with an unexpected error. "
            + "requests.exceptions.ConnectionError: HTTPSConnectionPool(host='login.microsoftonline.com', port=443)")
    }

    @Test func plainErrorKeepsErrorLinesAndDropsWarnings() {
        let stderr = """
            WARNING: A newer version is available.
            ERROR: 400, Identity not found
            Run the command below to authenticate interactively; additional arguments may be added as needed:
            """
        // A managed-identity endpoint's status line: the identity is wrong, not a sign-in.
        #expect(Self.classify(stderr) == .identityEndpointError(message: "400, Identity not found"))
        #expect(Self.classify(stderr).hint.contains("managed identity"))
        #expect(!Self.classify(stderr).needsLogin)
        let bare = Self.classify("WARNING: noise\nERROR: (ResourceNotFound) The resource was not found.\nCode: ResourceNotFound", exit: 3)
        #expect(bare == .failed(exitCode: 3, stderrSummary: "(ResourceNotFound) The resource was not found.\nCode: ResourceNotFound"))
    }

    @Test func noErrorLineUsesTheLastLines() {
        let error = Self.classify("az: 'acount' is not in the 'az' command group.\n\nusage: az [-h]\n", exit: 2)
        #expect(error == .failed(exitCode: 2, stderrSummary: "az: 'acount' is not in the 'az' command group.\nusage: az [-h]"))
        #expect(Self.classify("", exit: 9) == .failed(exitCode: 9, stderrSummary: ""))
        #expect(TokenError.failed(exitCode: 9, stderrSummary: "").message.contains("exit status 9"))
    }

    @Test func longErrorsAreTrimmed() {
        let long = "ERROR: " + String(repeating: "x", count: 5000)
        guard case .failed(_, let summary) = Self.classify(long) else {
            Issue.record("expected failed")
            return
        }
        #expect(summary.count == AzOutput.summaryLimit)
        #expect(summary.hasSuffix("…"))
    }
}
