import FeedModel
import Foundation
import TestSupport
import Testing

@testable import TokenSource

extension RealAzSuite {
    /// `az login --use-device-code` with the real az against the stand-in sign-in service (HTTPS,
    /// self-signed certificate for IP:127.0.0.1) registered as a custom cloud. The test plays the
    /// user: it reads the code from az's stderr while az waits, then approves or declines.
    @Suite(.enabled(if: RealAz.isConfigured, RealAz.skipReason))
    struct DeviceCodeLoginTests {
        static let loginArguments = ["login", "--use-device-code", "--output", "json"]

        static func signInLab(deviceCodeLifetime: Int = 900) async throws -> Lab {
            var options = Lab.Options()
            options.tls = true
            options.deviceCodeLifetime = deviceCodeLifetime
            let lab = try await Lab(options)
            try await registerCloud(lab)
            return lab
        }

        /// `az cloud register` + `az cloud set`, pointing Entra ID and the resource manager at the service.
        static func registerCloud(_ lab: Lab) async throws {
            let base = try #require(lab.service?.baseURL)
            _ = try await lab.cli.run([
                "cloud", "register", "--name", "LocalTest", "--skip-endpoint-discovery",
                "--endpoint-resource-manager", base + "/", "--endpoint-active-directory", base,
                "--endpoint-active-directory-resource-id", "https://management.core.windows.net/",
            ])
            let set = try await lab.cli.run(["cloud", "set", "--name", "LocalTest"])
            #expect(set.stderrLines == [
                "WARNING: Switched active cloud to 'LocalTest'.",
                "WARNING: Use 'az login' to log in to this cloud.",
                "WARNING: Use 'az account set' to set the active subscription.",
            ])
        }

        /// A running `az login --use-device-code`, its stderr lines as a stream.
        final class Login: @unchecked Sendable {
            let task: Task<Result<ProcessOutput, TokenError>, Never>
            let lines: AsyncStream<String>
            let started = ContinuousClock.now
            private let done: Flag

            init(_ lab: Lab, timeout: Duration = .seconds(60)) {
                let (lines, continuation) = AsyncStream.makeStream(of: String.self)
                let done = Flag()
                self.lines = lines
                self.done = done
                let cli = lab.cli
                task = Task {
                    defer {
                        done.set()
                        continuation.finish()
                    }
                    do throws(TokenError) {
                        return .success(try await cli.run(
                            DeviceCodeLoginTests.loginArguments, timeout: timeout,
                            onStderrLine: { continuation.yield($0) }))
                    } catch {
                        return .failure(error)
                    }
                }
            }

            var isFinished: Bool { done.isSet }

            /// The first stderr line, within `timeout`.
            func firstLine(timeout: Duration = .seconds(20)) async throws -> (line: String, after: Duration) {
                let lines = self.lines
                let line = try await within(timeout) {
                    for await line in lines { return line }
                    return nil
                }
                guard let line else {
                    Issue.record("no stderr line from az login within \(timeout)")
                    throw LabError.timedOut("the device-code message")
                }
                return (line, ContinuousClock.now - started)
            }

            func result(timeout: Duration = .seconds(30)) async throws -> Result<ProcessOutput, TokenError> {
                let task = self.task
                let outcome = try await within(timeout) { await task.value }
                guard let outcome else {
                    task.cancel()
                    Issue.record("az login did not finish within \(timeout)")
                    throw LabError.timedOut("az login")
                }
                return outcome
            }
        }

        final class Flag: @unchecked Sendable {
            private let lock = NSLock()
            private var value = false
            func set() {
                lock.lock()
                value = true
                lock.unlock()
            }
            var isSet: Bool {
                lock.lock()
                defer { lock.unlock() }
                return value
            }
        }

        /// Parses the device-code message into its URL and code.
        static func parse(_ line: String) -> (url: String, code: String)? {
            guard let match = line.firstMatch(of: /open the page (\S+) and enter the code (\S+) to authenticate\./)
            else { return nil }
            return (String(match.1), String(match.2))
        }

        /// Starts az login, checks the device-code message, waits until az is polling.
        static func startLogin(_ lab: Lab) async throws -> (Login, code: String) {
            let login = Login(lab)
            let (line, after) = try await login.firstLine()
            print("az login: device-code message on stderr after \(after)")

            let issued = try #require(lab.requests().first { $0.path.hasSuffix("/oauth2/v2.0/devicecode") })
            let userCode = try #require(issued.issued["user_code"] as? String)
            let port = try #require(lab.service?.port)
            // The whole line is the service's `message`, verbatim, with no prefix.
            #expect(line == issued.issued["message"] as? String)
            #expect(line == "To sign in, use a web browser to open the page https://127.0.0.1:\(port)/devicelogin"
                + " and enter the code \(userCode) to authenticate.")
            let parsed = try #require(parse(line))
            #expect(parsed.url == "https://127.0.0.1:\(port)/devicelogin")
            #expect(parsed.code == userCode)
            // az asked for the resource manager's scope, under `organizations`.
            #expect(issued.path == "/organizations/oauth2/v2.0/devicecode")
            #expect(issued.form["scope"] == "https://management.core.windows.net//.default offline_access openid profile")

            // az now waits, polling: the service has answered authorization_pending at least once.
            try await lab.waitForRequests("az polling the token endpoint") { requests in
                requests.contains { $0.grantType == "urn:ietf:params:oauth:grant-type:device_code"
                    && $0.error == "authorization_pending" }
            }
            #expect(!login.isFinished)
            return (login, userCode)
        }

        @Test func approvedLoginThenTokenThroughTheRefreshGrant() async throws {
            let lab = try await Self.signInLab()
            defer { lab.close() }
            let (login, _) = try await Self.startLogin(lab)

            let approved = ContinuousClock.now
            try lab.control("decision", "approve")
            let output = try await login.result().get()
            print("az login: exit \(output.status) \(ContinuousClock.now - approved) after approval, "
                + "\(ContinuousClock.now - login.started) in all")

            #expect(output.status == .exited(0))
            // stderr held the device-code message and nothing else.
            #expect(output.stderrLines.count == 1)
            // stdout: the JSON array of subscriptions, `cloudName` instead of `environmentName`.
            let accounts = try #require(try JSONSerialization.jsonObject(with: output.stdout) as? [[String: Any]])
            try #require(accounts.count == 1)
            let account = accounts[0]
            #expect(Set(account.keys) == [
                "cloudName", "homeTenantId", "id", "isDefault", "managedByTenants", "name", "state",
                "tenantDefaultDomain", "tenantDisplayName", "tenantId", "user",
            ])
            #expect(account["cloudName"] as? String == "LocalTest")
            #expect(account["id"] as? String == Lab.subscription)
            #expect(account["name"] as? String == "Test Subscription")
            #expect(account["tenantId"] as? String == Lab.tenant)
            #expect(account["tenantDisplayName"] as? String == "Contoso Test")
            #expect(account["isDefault"] as? Bool == true)
            #expect(account["user"] as? [String: String] == ["name": "someone@contoso.example", "type": "user"])

            // What az did after approval: tenants, then a token for the tenant, then subscriptions.
            let afterApproval = lab.requests().drop { $0.status != 200 || $0.grantType?.hasSuffix("device_code") != true }
            #expect(afterApproval.map { "\($0.method) \($0.path) \($0.grantType ?? "")" } == [
                "POST /organizations/oauth2/v2.0/token urn:ietf:params:oauth:grant-type:device_code",
                "GET /tenants ",
                "GET /\(Lab.tenant)/v2.0/.well-known/openid-configuration ",
                "POST /\(Lab.tenant)/oauth2/v2.0/token refresh_token",
                "GET /subscriptions ",
            ])

            // The app's token source now works, through MSAL's refresh-token grant for the DICOM scope.
            let source = AzTokenIssuer(cli: lab.cli)
            let token = try await source.token()
            let grant = try #require(lab.requests().last)
            #expect(grant.path == "/\(Lab.tenant)/oauth2/v2.0/token")
            #expect(grant.grantType == "refresh_token")
            #expect(grant.form["scope"] == "https://dicom.healthcareapis.azure.com/.default offline_access openid profile")
            #expect(token.rawForTest == grant.issued["access_token"] as? String)
            let issuedExpiry = try #require(grant.raw["expires_at"] as? Int)
            let drift = token.expiresOn.timeIntervalSince1970 - TimeInterval(issuedExpiry)
            #expect(drift == 0 || drift == 1, "az's expires_on is \(drift) s after the service's")
            #expect(token.claims?.aud == DicomService.audience)
            #expect(token.claims?.upn == "someone@contoso.example")
            #expect(token.claims?.identity == "someone@contoso.example")
            #expect(token.tenant == Lab.tenant)
            #expect(token.subscription == Lab.subscription)

            // Asking again runs az again (the issuer caches nothing), but MSAL answers from its token
            // cache: same token, no request.
            let requestsBefore = lab.requests().count
            let forced = try await source.token()
            #expect(lab.runner.count == 5)  // cloud register, cloud set, login, two get-access-token
            #expect(forced.hasSameSecret(as: token))
            #expect(lab.requests().count == requestsBefore)

            let shown = try #require(try await source.account())
            #expect(shown == AccountInfo(
                userName: "someone@contoso.example", userType: "user", tenantId: Lab.tenant,
                tenantDisplayName: "Contoso Test", tenantDefaultDomain: "contoso.example", homeTenantId: Lab.tenant,
                subscriptionId: Lab.subscription, subscriptionName: "Test Subscription", state: "Enabled",
                environmentName: "LocalTest"))

            // The refresh token stops working (90 days idle): a resource az has no cached token for fails.
            try lab.control("refresh", "revoke")
            let error = await #expect(throws: TokenError.self) {
                try await lab.cli.getAccessToken(resource: "https://storage.azure.com")
            }
            guard case .interactionRequired(let aad)? = error else {
                Issue.record("expected .interactionRequired, got \(String(describing: error))")
                return
            }
            #expect(aad.hasPrefix("AADSTS700082: The refresh token has expired due to inactivity."))
            #expect(error?.message.hasPrefix("Azure sign-in needs to be renewed interactively: AADSTS700082:") == true)
            let stderr = lab.runner.last?.stderrLines ?? []
            #expect(stderr.dropFirst() == [
                "Run the command below to authenticate interactively; additional arguments may be added as needed:",
                "az logout",
                "az login --tenant \"\(Lab.tenant)\" --scope \"https://storage.azure.com/.default\"",
            ])
        }

        @Test func declinedLogin() async throws {
            let lab = try await Self.signInLab()
            defer { lab.close() }
            let (login, _) = try await Self.startLogin(lab)

            try lab.control("decision", "decline")
            let result = try await login.result()
            guard case .failure(let error) = result else {
                Issue.record("az login succeeded after a decline")
                return
            }
            let output = try #require(lab.runner.last)
            #expect(output.status == .exited(1))
            #expect(output.stdout.isEmpty)
            try #require(output.stderrLines.count == 5)
            #expect(output.stderrLines[1].hasPrefix("ERROR: AADSTS70000: The user denied the authorization request. Trace ID: "))
            #expect(Array(output.stderrLines[2...]) == [
                "Run the command below to authenticate interactively; additional arguments may be added as needed:",
                "az logout",
                "az login",
            ])
            guard case .interactionRequired(let aad) = error else {
                Issue.record("expected .interactionRequired, got \(error)")
                return
            }
            #expect(aad == String(output.stderrLines[1].dropFirst("ERROR: ".count)))
            #expect(error.message.hasPrefix(
                "Azure sign-in needs to be renewed interactively: AADSTS70000: The user denied the authorization request."))
            // Still nobody signed in.
            await #expect(throws: TokenError.notLoggedIn(azMessage: "Please run 'az login' to setup account.")) {
                try await lab.cli.getAccessToken()
            }
        }

        @Test func expiredCode() async throws {
            let lab = try await Self.signInLab(deviceCodeLifetime: 3)
            defer { lab.close() }
            let (login, _) = try await Self.startLogin(lab)
            let result = try await login.result()
            guard case .failure(.interactionRequired(let aad)) = result else {
                Issue.record("expected .interactionRequired, got \(result)")
                return
            }
            #expect(aad.hasPrefix("AADSTS70020: The provided value for the input parameter 'device_code' is not valid. "
                + "This device code has expired."))
            #expect(lab.runner.last?.status == .exited(1))
        }

        @Test func cancellingTheLoginStopsAz() async throws {
            let lab = try await Self.signInLab()
            defer { lab.close() }  // also checks that no az process is left
            let (login, _) = try await Self.startLogin(lab)

            let cancelled = ContinuousClock.now
            login.task.cancel()
            let result = try await login.result(timeout: .seconds(10))
            let took = ContinuousClock.now - cancelled
            print("az login: cancelled (SIGTERM to its process group), ended \(took) later")
            // az dies on SIGTERM itself, well before the runner's 2 s grace ends in SIGKILL.
            #expect(took < .seconds(2))
            guard case .failure(.cancelled) = result else {
                Issue.record("expected .cancelled, got \(result)")
                return
            }
            // az is gone the moment run() returns (the runner reaps it), not merely later.
            let servicePid = lab.service?.process.processIdentifier
            let left = ProcessScan.pids(marker: lab.marker, variable: Lab.markerVariable).filter { $0 != servicePid }
            #expect(left.isEmpty, "az processes still there after cancellation: \(left)")
            // az no longer polls.
            let polls = lab.requests().count
            try await Task.sleep(for: .milliseconds(2500))  // more than two poll intervals (1 s)
            #expect(lab.requests().count == polls)
        }
    }
}
