import Authorization
import FeedModel
import Foundation
import Synchronization
import Testing

@testable import TokenSource

extension RealAzSuite {
    /// The real az, signed in as a managed identity whose endpoint (App Service protocol) is the
    /// stand-in on 127.0.0.1; and the real az with nobody signed in.
    @Suite(.enabled(if: RealAz.isConfigured, RealAz.skipReason))
    struct ManagedIdentityTests {
        static let dicom = DicomService.audience

        static func managedIdentityLab(error: String? = nil, tokenLifetime: Int = 3600) async throws -> Lab {
            var options = Lab.Options()
            options.profile = .managedIdentity
            options.managedIdentityEndpoint = true
            options.managedIdentityError = error
            options.tokenLifetime = tokenLifetime
            return try await Lab(options)
        }

        @Test func tokenIsWhatTheEndpointIssued() async throws {
            let lab = try await Self.managedIdentityLab()
            defer { lab.close() }
            let source = AzTokenIssuer(cli: lab.cli)
            let acquired = Mutex<[AccessToken]>([])
            let keeper = TokenKeeper(issuer: source, observe: { change in
                if case .acquired(let token, _, _) = change { acquired.withLock { $0.append(token) } }
            })

            let header = try await keeper.authorization()
            let token = try #require(acquired.withLock { $0.last })

            let calls = lab.requests().filter { $0.path == "/msi/token" }
            try #require(calls.count == 1)
            let call = calls[0]
            // How the real az asks (App Service protocol).
            #expect(call.method == "GET")
            #expect(call.query == ["api-version": "2019-08-01", "resource": Self.dicom])
            #expect(call.headers["X-IDENTITY-HEADER"] == Lab.identityHeader)
            #expect(call.headers["Metadata"] == "true")
            #expect(call.status == 200)

            // The secret passes through untouched.
            let issued = try #require(call.issued["access_token"] as? String)
            #expect(token.rawForTest == issued)
            #expect(token.hasSameSecret(as: AccessToken(issued, expiresOn: .distantFuture)))

            // Expiry: az does not pass expires_on through. MSAL turns it into expires_in against its
            // clock (whole seconds), az adds that to its own clock a few ms later: equal, or one second
            // later when a second boundary falls between the two readings.
            let expiresOn = try #require((call.issued["expires_on"] as? String).flatMap(TimeInterval.init))
            #expect(token.expirySource == .expiresOn)
            let drift = token.expiresOn.timeIntervalSince1970 - expiresOn
            #expect(drift == 0 || drift == 1, "az's expires_on is \(drift) s after the endpoint's")

            // Claims decode; tenant and subscription come from az's JSON.
            let claims = try #require(token.claims)
            #expect(claims.aud == Self.dicom)
            #expect(claims.exp == Date(timeIntervalSince1970: expiresOn))
            #expect(claims.tid == Lab.tenant)
            #expect(claims.oid == "0b1d2e3f-0000-4000-8000-0000000000f1")
            #expect(claims.appid == "a1b2c3d4-0000-4000-8000-0000000000a1")
            #expect(claims.idtyp == "app")
            #expect(claims.identity == "app a1b2c3d4-0000-4000-8000-0000000000a1")
            #expect(token.tenant == Lab.tenant)
            #expect(token.subscription == Lab.subscription)
            // Masked everywhere.
            #expect(!"\(token)".contains(issued))
            #expect("\(token)".contains(token.masked))

            // Cached by the keeper: no second az run, no second request.
            let again = try await keeper.authorization()
            #expect(again == header)
            #expect(lab.runner.count == 1)

            // Forced: az runs again and, managed-identity tokens being cached in memory only, asks the
            // endpoint again, which issues a new token.
            await keeper.refresh()
            let forced = try #require(acquired.withLock { $0.last })
            #expect(lab.runner.count == 2)
            #expect(lab.requests().filter { $0.path == "/msi/token" }.count == 2)
            #expect(!forced.hasSameSecret(as: token))
            #expect(forced.claims?.aud == Self.dicom)
        }

        @Test func otherResourceAndTenantArgumentsReachTheEndpoint() async throws {
            let lab = try await Self.managedIdentityLab()
            defer { lab.close() }
            let token = try await lab.cli.getAccessToken(resource: "https://management.azure.com", tenant: Lab.tenant)
            #expect(token.claims?.aud == "https://management.azure.com")
            let call = try #require(lab.requests().last)
            #expect(call.query["resource"] == "https://management.azure.com")
            // With --tenant, az leaves `subscription` out of its JSON; the tenant is still there.
            #expect(token.subscription == nil)
            #expect(token.tenant == Lab.tenant)
            let stdout = try #require(lab.runner.last?.stdout)
            let json = try #require(try JSONSerialization.jsonObject(with: stdout) as? [String: Any])
            #expect(Set(json.keys) == ["accessToken", "expiresOn", "expires_on", "tenant", "tokenType"])
            #expect(json["expires_on"] is Int)
        }

        @Test func accountShowParsesTheRealOutput() async throws {
            let lab = try await Self.managedIdentityLab()
            defer { lab.close() }
            let account = try #require(try await AzTokenIssuer(cli: lab.cli).account())
            #expect(account == AccountInfo(
                userName: "systemAssignedIdentity", userType: "servicePrincipal", tenantId: Lab.tenant,
                homeTenantId: Lab.tenant, subscriptionId: Lab.subscription, subscriptionName: "Test Subscription",
                state: "Enabled", environmentName: "AzureCloud"))
            #expect(account.summary
                == "systemAssignedIdentity (servicePrincipal) · Test Subscription · tenant \(Lab.tenant) · AzureCloud")
            // `az account show` reads the profile only: no request at all.
            #expect(lab.requests().isEmpty)
            let output = try #require(lab.runner.last)
            #expect(output.status == .exited(0))
            #expect(output.stderrLines.isEmpty)
        }

        @Test func endpointAnsweringAnError() async throws {
            let lab = try await Self.managedIdentityLab(error: "400:Unable to load the proper Managed Identity.")
            defer { lab.close() }

            let error = await #expect(throws: TokenError.self) { try await lab.cli.getAccessToken() }

            let output = try #require(lab.runner.last)
            #expect(output.status == .exited(1))
            #expect(output.stdout.isEmpty)
            #expect(output.stderrLines == [
                "ERROR: 400, Unable to load the proper Managed Identity.",
                "Run the command below to authenticate interactively; additional arguments may be added as needed:",
                "az logout",
                "az login",
            ])
            // az words it as a sign-in problem (its recommendation is `az login`), but the identity is
            // what is wrong: AzOutput says so, with the endpoint's own text.
            #expect(error == .identityEndpointError(message: "400, Unable to load the proper Managed Identity."))
            #expect(error?.message
                == "The managed identity endpoint refused a token: 400, Unable to load the proper Managed Identity.")
            #expect(error?.needsLogin == false)
        }

        @Test func endpointDown() async throws {
            let lab = try await Self.managedIdentityLab()
            defer { lab.close() }
            let port = try #require(lab.service?.port)
            lab.stopService()  // nothing listens on the port any more: connection refused

            let started = ContinuousClock.now
            let error = await #expect(throws: TokenError.self) { try await lab.cli.getAccessToken() }
            let elapsed = ContinuousClock.now - started
            #expect(elapsed < .seconds(30), "a refused connection should fail fast, took \(elapsed)")

            let output = try #require(lab.runner.last)
            #expect(output.status == .exited(1))
            #expect(output.stdout.isEmpty)
            #expect(output.stderrLines.first == "ERROR: The command failed with an unexpected error. Here is the traceback:")
            #expect(output.stderrLines.contains("Traceback (most recent call last):"))
            #expect(output.stderrLines.count > 20, "a whole traceback: \(output.stderrLines.count) lines")

            // The app shows one line: az's headline and the exception, not the traceback.
            guard case .failed(let exitCode, let summary)? = error else {
                Issue.record("expected .failed, got \(String(describing: error))")
                return
            }
            #expect(exitCode == 1)
            let message = try #require(error?.message)
            #expect(!message.contains("\n"), "one line: \(message)")
            #expect(!message.contains("Traceback"))
            #expect(message.hasPrefix(
                "The Azure CLI failed (exit status 1): The command failed with an unexpected error. "
                    + "requests.exceptions.ConnectionError: HTTPConnectionPool(host='127.0.0.1', port=\(port)):"))
            #expect(summary.contains("/msi/token?api-version=2019-08-01&resource=https%3A%2F%2Fdicom.healthcareapis.azure.com"))
            #expect(summary.hasSuffix("[Errno 111] Connection refused\"))"))
            #expect(summary.count <= AzOutput.summaryLimit)
            #expect(error?.needsLogin == false)
        }

        @Test func freshConfigDirIsNotLoggedIn() async throws {
            var options = Lab.Options()
            options.service = false
            let lab = try await Lab(options)
            defer { lab.close() }
            let source = AzTokenIssuer(cli: lab.cli)
            let expected = TokenError.notLoggedIn(azMessage: "Please run 'az login' to setup account.")

            await #expect(throws: expected) { try await source.token() }
            #expect(lab.runner.last?.status == .exited(1))
            #expect(lab.runner.last?.stdout.isEmpty == true)
            #expect(lab.runner.last?.stderrLines == ["ERROR: Please run 'az login' to setup account."])
            #expect(expected.message == "The Azure CLI is not signed in: Please run 'az login' to setup account.")
            #expect(expected.hint.contains("Press l to sign in"))

            await #expect(throws: expected) { try await source.account() }
            #expect(lab.runner.last?.stderrLines == ["ERROR: Please run 'az login' to setup account."])
        }

        @Test func versionIsThePinnedOneAndNoUpdateCheckRuns() async throws {
            var options = Lab.Options()
            options.service = false
            let lab = try await Lab(options)
            defer { lab.close() }  // close() checks versionCheck.json was not rewritten
            let output = try await lab.cli.run(["version", "--output", "json"])
            let json = try #require(try JSONSerialization.jsonObject(with: output.stdout) as? [String: Any])
            #expect(json["azure-cli"] as? String == RealAz.version)
            #expect(json["azure-cli-core"] as? String == RealAz.version)
            if let pinned = RealAz.environment["AZURE_CLI_VERSION"], !pinned.isEmpty {
                #expect(RealAz.version == pinned)
            }
        }
    }
}
