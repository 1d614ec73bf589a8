import Foundation
import Testing

@testable import TokenSource

#if canImport(Glibc)
import Glibc
#endif

/// One test's world: a throwaway `AZURE_CONFIG_DIR` (and `HOME`), the stand-in service of
/// Fixtures/azure_standin.py on 127.0.0.1, and an ``AzCLI`` that runs the real az there.
///
/// Every process started for the test carries a marker variable; ``close()`` stops the service
/// and then checks /proc that no process with the marker is left (an orphaned az or service
/// fails the test). It also fails the test if az tried to reach anything outside 127.0.0.1:
/// az's HTTP(S) proxy is the service's trap listener, which records such attempts.
final class Lab: @unchecked Sendable {
    enum Profile {
        /// Nothing in the config dir but versionCheck.json: nobody is signed in.
        case fresh
        /// A managed-identity account in azureProfile.json, as the doc's part 3 seeds it.
        case managedIdentity
    }

    struct Options {
        var profile: Profile = .fresh
        /// Start the stand-in service at all.
        var service = true
        /// Serve HTTPS with a fresh self-signed certificate (sign-in and resource manager).
        var tls = false
        /// Point IDENTITY_ENDPOINT and friends at the service.
        var managedIdentityEndpoint = false
        /// `STATUS:MESSAGE` answered by the managed-identity endpoint.
        var managedIdentityError: String? = nil
        var deviceCodeLifetime = 900
        var tokenLifetime = 3600
    }

    static let tenant = "72f988bf-0000-4000-8000-000000000001"
    static let subscription = "00000000-1111-4222-8333-444444444444"
    static let identityHeader = "standin-identity-header"
    static let markerVariable = "DICOMTUI_REALAZ_MARKER"

    let root: URL
    let configDir: URL
    let stateDir: URL
    let marker = UUID().uuidString
    let runner = RecordingRunner()
    private(set) var environment: [String: String?] = [:]
    private(set) var service: StandIn?
    private let seededUpdateTime: String
    private var closed = false

    var cli: AzCLI {
        AzCLI(
            locator: AzLocator(explicitPath: RealAz.path, environment: [:]), runner: runner,
            timeout: .seconds(60), extraEnvironment: environment)
    }

    init(_ options: Options = Options()) async throws {
        let az = try #require(RealAz.path, "DICOMTUI_REAL_AZ is not set")
        #expect(FileManager.default.isExecutableFile(atPath: az), "DICOMTUI_REAL_AZ=\(az) is not an executable file")
        let version = try #require(RealAz.version, """
            cannot tell the azure-cli version of \(az) (no azure_cli-*.dist-info next to it); \
            set DICOMTUI_REAL_AZ_VERSION
            """)

        root = FileManager.default.temporaryDirectory.appendingPathComponent("dicomtui-realaz-\(marker)")
        configDir = root.appendingPathComponent("azure")
        stateDir = root.appendingPathComponent("standin")
        for dir in [configDir, stateDir] {
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        }

        // Without a fresh versionCheck.json for the installed version, az's first command checks for
        // updates on the internet. `update_time` is local time and must be under a day old.
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = .current
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss.SSSSSS"
        seededUpdateTime = formatter.string(from: Date())
        let versionCheck: [String: Any] = [
            "versions": ["azure-cli": ["local": version], "core": ["local": version], "telemetry": ["local": "1.1.0"]],
            "update_time": seededUpdateTime,
        ]
        try JSONSerialization.data(withJSONObject: versionCheck)
            .write(to: configDir.appendingPathComponent("versionCheck.json"))
        if case .managedIdentity = options.profile {
            try Self.managedIdentityProfile.write(
                to: configDir.appendingPathComponent("azureProfile.json"), atomically: true, encoding: .utf8)
        }

        // The inherited environment minus anything that would steer az elsewhere.
        var env: [String: String?] = [:]
        let steering: Set<String> = [
            "ACC_CLOUD", "BROWSER", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR",
            "ALL_PROXY", "all_proxy",
        ]
        for key in RealAz.environment.keys
        where key.hasPrefix("AZURE_") || key.hasPrefix("MSI_") || key.hasPrefix("IDENTITY_")
            || key.hasPrefix("IMDS_") || key.lowercased().hasSuffix("_proxy") || steering.contains(key)
        {
            env.updateValue(nil, forKey: key)
        }
        env["AZURE_CONFIG_DIR"] = configDir.path
        env["HOME"] = root.path
        env["AZURE_CORE_COLLECT_TELEMETRY"] = "false"
        env[Self.markerVariable] = marker
        environment = env

        if options.service {
            var arguments = [
                "--device-code-lifetime", "\(options.deviceCodeLifetime)",
                "--token-lifetime", "\(options.tokenLifetime)",
                "--identity-header", Self.identityHeader,
            ]
            if options.tls { arguments.append("--tls") }
            if let error = options.managedIdentityError { arguments += ["--mi-error", error] }
            let service = try await StandIn.start(state: stateDir, arguments: arguments, marker: marker)
            self.service = service
            // Anything az sends to a host other than 127.0.0.1 goes to the trap instead.
            let trap = "http://127.0.0.1:\(service.trapPort)"
            for key in ["HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"] { environment[key] = trap }
            environment["NO_PROXY"] = "127.0.0.1,localhost"
            environment["no_proxy"] = "127.0.0.1,localhost"
            if let bundle = service.caBundle {
                environment["REQUESTS_CA_BUNDLE"] = bundle
                environment["AZURE_CORE_INSTANCE_DISCOVERY"] = "false"
            }
            if options.managedIdentityEndpoint {
                environment["IDENTITY_ENDPOINT"] = "\(service.baseURL)/msi/token"
                environment["IDENTITY_HEADER"] = Self.identityHeader
                environment["AZURE_POD_IDENTITY_AUTHORITY_HOST"] = service.baseURL
            }
        } else {
            // No service: a proxy nobody listens on (the discard port) still keeps az from going out.
            for key in ["HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"] { environment[key] = "http://127.0.0.1:9" }
            environment["NO_PROXY"] = "127.0.0.1,localhost"
            environment["no_proxy"] = "127.0.0.1,localhost"
        }
    }

    deinit {
        if !closed { service?.stop() }
        try? FileManager.default.removeItem(at: root)
    }

    static let managedIdentityProfile = """
        {"subscriptions": [{"id": "\(subscription)", "name": "Test Subscription", "state": "Enabled",
          "user": {"name": "systemAssignedIdentity", "type": "servicePrincipal", "assignedIdentityInfo": "MSI"},
          "isDefault": true, "tenantId": "\(tenant)", "environmentName": "AzureCloud",
          "homeTenantId": "\(tenant)", "managedByTenants": []}]}
        """

    /// Makes the stand-in refuse connections from now on (the endpoint is "down").
    func stopService() {
        service?.stop()
    }

    /// Writes a control file the service reads (`decision`: approve/decline; `refresh`: revoke).
    func control(_ name: String, _ value: String) throws {
        let tmp = stateDir.appendingPathComponent(".\(name).tmp")
        try value.write(to: tmp, atomically: false, encoding: .utf8)
        guard rename(tmp.path, stateDir.appendingPathComponent(name).path) == 0 else {
            throw CocoaError(.fileWriteUnknown)
        }
    }

    /// What the service handled so far, in order.
    func requests() -> [ServiceRequest] {
        guard let text = try? String(contentsOf: stateDir.appendingPathComponent("requests.jsonl"), encoding: .utf8)
        else { return [] }
        return text.split(separator: "\n").compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8))) .flatMap { $0 as? [String: Any] }
                .map(ServiceRequest.init)
        }
    }

    /// Waits until `condition` holds for the service's log.
    func waitForRequests(
        timeout: Duration = .seconds(15), _ what: String, _ condition: ([ServiceRequest]) -> Bool
    ) async throws {
        let deadline = ContinuousClock.now + timeout
        while !condition(requests()) {
            guard ContinuousClock.now < deadline else {
                Issue.record("timed out after \(timeout) waiting for: \(what)")
                throw LabError.timedOut(what)
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Stops the service; fails the test if a marked process survives, if az tried to reach
    /// anything but 127.0.0.1, or if az ran its online update check.
    func close(sourceLocation: SourceLocation = #_sourceLocation) {
        guard !closed else { return }
        closed = true
        service?.stop()
        let trapped = requests().filter(\.trapped)
        #expect(trapped.isEmpty, "az tried to reach outside 127.0.0.1: \(trapped.map(\.summary))",
                sourceLocation: sourceLocation)
        let survivors = ProcessScan.waitUntilGone(marker: marker, variable: Self.markerVariable, timeout: 5)
        #expect(survivors.isEmpty, "processes left running: \(survivors)", sourceLocation: sourceLocation)
        for pid in survivors { kill(pid, SIGKILL) }
        let check = (try? String(contentsOf: configDir.appendingPathComponent("versionCheck.json"), encoding: .utf8)) ?? ""
        #expect(check.contains(seededUpdateTime), "az rewrote versionCheck.json (an online update check?): \(check)",
                sourceLocation: sourceLocation)
    }
}

enum LabError: Error {
    case timedOut(String)
    case serviceDidNotStart(String)
}

/// One line of the stand-in's requests.jsonl.
struct ServiceRequest: @unchecked Sendable {
    let raw: [String: Any]
    init(_ raw: [String: Any]) { self.raw = raw }

    var method: String { raw["method"] as? String ?? "" }
    var path: String { raw["path"] as? String ?? "" }
    var status: Int { raw["status"] as? Int ?? 0 }
    var error: String? { raw["error"] as? String }
    var trapped: Bool { raw["trap"] as? Bool ?? false }
    var query: [String: String] { raw["query"] as? [String: String] ?? [:] }
    var form: [String: String] { raw["form"] as? [String: String] ?? [:] }
    var headers: [String: String] { raw["headers"] as? [String: String] ?? [:] }
    var issued: [String: Any] { raw["issued"] as? [String: Any] ?? [:] }
    var grantType: String? { form["grant_type"] }
    var summary: String { "\(method) \(path) \(raw["host"] as? String ?? "") -> \(status)" }
}

/// The Python stand-in service, one per test.
final class StandIn: @unchecked Sendable {
    let process: Process
    let port: Int
    let trapPort: Int
    let baseURL: String
    let caBundle: String?
    private let lock = NSLock()
    private var stopped = false

    private init(process: Process, ready: [String: Any]) {
        self.process = process
        port = ready["port"] as? Int ?? 0
        trapPort = ready["trap_port"] as? Int ?? 0
        baseURL = ready["base_url"] as? String ?? ""
        caBundle = ready["ca_bundle"] as? String
    }

    static func start(state: URL, arguments: [String], marker: String) async throws -> StandIn {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: RealAz.python)
        process.arguments = [RealAz.fixtures.appendingPathComponent("azure_standin.py").path,
                             "--state", state.path, "--max-lifetime", "300"] + arguments
        var env = RealAz.environment
        for key in env.keys where key.lowercased().hasSuffix("_proxy") { env[key] = nil }
        env[Lab.markerVariable] = marker
        process.environment = env
        let log = state.appendingPathComponent("service.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        try? handle.close()

        let readyFile = state.appendingPathComponent("ready.json")
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline {
            if let data = try? Data(contentsOf: readyFile),
                let ready = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
            {
                return StandIn(process: process, ready: ready)
            }
            if !process.isRunning { break }
            try await Task.sleep(for: .milliseconds(25))
        }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        let output = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        throw LabError.serviceDidNotStart("the stand-in service did not start: \(output)")
    }

    /// SIGTERM, up to 3 s, then SIGKILL; always reaped. (`waitUntilExit` runs the run loop that
    /// updates `isRunning`; polling `isRunning` alone would not see the exit.)
    func stop() {
        lock.lock()
        defer { lock.unlock() }
        guard !stopped else { return }
        stopped = true
        let pid = process.processIdentifier
        let watchdog = DispatchWorkItem { kill(pid, SIGKILL) }
        DispatchQueue.global().asyncAfter(deadline: .now() + 3, execute: watchdog)
        kill(pid, SIGTERM)
        process.waitUntilExit()
        watchdog.cancel()
    }
}

/// A ``ProcessRunning`` that runs for real and keeps every ``ProcessOutput``, so tests can see
/// az's exit status and raw stderr behind the ``TokenError`` that AzCLI makes of them.
final class RecordingRunner: ProcessRunning, @unchecked Sendable {
    private let real = SubprocessRunner()
    private let lock = NSLock()
    private var outputs: [ProcessOutput] = []

    func run(_ request: ProcessRequest, onStderrLine: (@Sendable (String) -> Void)?)
        async throws(ProcessRunError) -> ProcessOutput
    {
        let output = try await real.run(request, onStderrLine: onStderrLine)
        lock.withLock { outputs.append(output) }
        return output
    }

    var last: ProcessOutput? {
        lock.lock()
        defer { lock.unlock() }
        return outputs.last
    }

    var count: Int {
        lock.lock()
        defer { lock.unlock() }
        return outputs.count
    }
}

/// Finds live processes by an environment marker in /proc (Linux).
enum ProcessScan {
    static func pids(marker: String, variable: String) -> [Int32] {
        let needle = Array("\(variable)=\(marker)".utf8)
        var found: [Int32] = []
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = Int32(entry), pid != getpid() else { continue }
            // Zombies are already dead; their parent reaps them.
            if let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")"),
                stat[stat.index(close, offsetBy: 2)...].hasPrefix("Z")
            {
                continue
            }
            guard let environ = FileManager.default.contents(atPath: "/proc/\(pid)/environ") else { continue }
            if environ.split(separator: 0).contains(where: { Array($0) == needle }) { found.append(pid) }
        }
        return found
    }

    static func waitUntilGone(marker: String, variable: String, timeout: TimeInterval) -> [Int32] {
        let deadline = Date().addingTimeInterval(timeout)
        var left = pids(marker: marker, variable: variable)
        while !left.isEmpty && Date() < deadline {
            usleep(50_000)
            left = pids(marker: marker, variable: variable)
        }
        return left
    }
}

extension AccessToken {
    /// The raw secret, through the one accessor that exposes it.
    var rawForTest: String { String(authorizationHeaderValue.dropFirst("Bearer ".count)) }
}
