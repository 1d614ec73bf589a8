import FeedModel
import Foundation

/// Runs the Azure CLI: locating it, building argument arrays, forcing plain output,
/// and turning what it prints into tokens, accounts or ``TokenError``s.
public struct AzCLI: Sendable {
    /// Default limit for one az run.
    public static let defaultTimeout: Duration = .seconds(60)

    /// Set for every az we start; the rest of the user's environment is inherited untouched.
    /// `AZURE_CORE_NO_COLOR` guarantees plain `ERROR:`-prefixed messages even if a stream
    /// is a terminal. Telemetry and other settings stay as the user configured them.
    public static let environmentOverrides: [String: String?] = [
        "AZURE_CORE_NO_COLOR": "true"
    ]

    public var locator: AzLocator
    public var runner: any ProcessRunning
    public var timeout: Duration
    /// Zone used to read the zone-less `expiresOn` of old az versions (az inherits ours).
    public var localTimeZone: TimeZone
    /// Extra variables for the child (tests use it to talk to fake az scripts).
    public var extraEnvironment: [String: String?]
    public var now: @Sendable () -> Date

    public init(
        locator: AzLocator = AzLocator(),
        runner: any ProcessRunning = SubprocessRunner(),
        timeout: Duration = AzCLI.defaultTimeout,
        localTimeZone: TimeZone = .current,
        extraEnvironment: [String: String?] = [:],
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.locator = locator
        self.runner = runner
        self.timeout = timeout
        self.localTimeZone = localTimeZone
        self.extraEnvironment = extraEnvironment
        self.now = now
    }

    /// Argument array of `az account get-access-token`. `=` joins option and value so a
    /// value starting with `-` cannot be taken for an option.
    public static func getAccessTokenArguments(resource: String, tenant: String?) -> [String] {
        var arguments = ["account", "get-access-token", "--resource=\(resource)"]
        if let tenant, !tenant.isEmpty { arguments.append("--tenant=\(tenant)") }
        arguments += ["--output", "json"]
        return arguments
    }

    /// `az account get-access-token --resource <resource> [--tenant <t>] --output json`.
    public func getAccessToken(resource: String = DicomService.audience, tenant: String? = nil)
        async throws(TokenError) -> AccessToken
    {
        let output = try await run(Self.getAccessTokenArguments(resource: resource, tenant: tenant))
        return try AzOutput.parseAccessToken(output.stdout, localTimeZone: localTimeZone, now: now())
    }

    /// `az account show --output json`.
    public func accountShow() async throws(TokenError) -> AccountInfo {
        let output = try await run(["account", "show", "--output", "json"])
        return try AzOutput.parseAccount(output.stdout)
    }

    /// Runs az with `arguments`; returns the output of a successful run, else the classified error.
    /// `onStderrLine` sees stderr lines as they arrive (for `az login --use-device-code`).
    public func run(
        _ arguments: [String],
        timeout: Duration? = nil,
        onStderrLine: (@Sendable (String) -> Void)? = nil
    ) async throws(TokenError) -> ProcessOutput {
        let path = try locator.locate()
        var environment = Self.environmentOverrides
        for (key, value) in extraEnvironment { environment[key] = value }
        let request = ProcessRequest(
            executablePath: path, arguments: arguments, environmentOverrides: environment,
            timeout: timeout ?? self.timeout)
        let output: ProcessOutput
        do {
            output = try await Self.runRetryingBusyText(runner, request, onStderrLine: onStderrLine)
        } catch {
            switch error {
            case .notFound(let p): throw .azNotFound(searched: p)
            case .notExecutable(let p): throw .azNotExecutable(path: p)
            case .launchFailed(let p, let reason): throw .launchFailed(path: p, reason: reason)
            case .timedOut: throw .timedOut(seconds: Self.seconds(request.timeout))
            case .cancelled: throw .cancelled
            }
        }
        guard output.status == .exited(0) else {
            throw AzOutput.classifyFailure(exitCode: output.status.code, stderrLines: output.stderrLines)
        }
        if output.stdoutTruncated { throw .badOutput(reason: "stdout is unreasonably long") }
        return output
    }

    /// ETXTBSY: the executable is open for writing somewhere (being installed or updated, or a
    /// descriptor inherited by another process's fork): a moment later it runs. Tried a few times.
    static func runRetryingBusyText(_ runner: any ProcessRunning, _ request: ProcessRequest,
                                    onStderrLine: (@Sendable (String) -> Void)?) async throws(ProcessRunError) -> ProcessOutput {
        var attempt = 0
        while true {
            do {
                return try await runner.run(request, onStderrLine: onStderrLine)
            } catch .launchFailed(let path, let reason) where reason.contains("Text file busy") && attempt < 5 {
                attempt += 1
                do { try await Task.sleep(for: .milliseconds(100 * attempt)) } catch { throw .cancelled }
                _ = path
            }
        }
    }

    static func seconds(_ duration: Duration) -> Double {
        let (s, attoseconds) = duration.components
        return Double(s) + Double(attoseconds) / 1e18
    }
}
