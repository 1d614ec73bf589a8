import AsyncHTTPClient
import ChangeFeedClient
import Config
import FeedModel
import Foundation
import TokenSource

/// The version `dicomtui --version` prints, and the User-Agent's.
public enum AppVersion {
    public static let string = "0.1.0"
}

/// Exit statuses of the commands (README, "Script mode"); the UI uses the same ones for the
/// same mistakes.
public enum ScriptExit {
    public static let ok: Int32 = 0
    /// A fatal error: no token, or the service refused (400, 401 twice, 403, 404, …).
    public static let failed: Int32 = 1
    /// `token`: a token was had but it expires within the refresh threshold (or has expired).
    public static let expiring: Int32 = 3
    /// `feed`: some elements the service sent did not decode; they were written through as
    /// `unreadable` records (sysexits EX_DATAERR). Not with --skip-unreadable.
    public static let unreadable: Int32 = 65
    /// A bad configuration: config file, profile, URL (sysexits EX_CONFIG).
    public static let config: Int32 = 78
}

/// One service to talk to: where, its token issuer, and the change-feed client for it.
public struct Service: Sendable {
    public let endpoint: ServiceEndpoint
    public let issuer: any TokenIssuer
    public let client: ChangeFeedClient
}

/// The one startup path of the UI and `feed`: from the resolved settings to a service to talk
/// to — the HTTP client, with `--demo` the emulator on a loopback port, the endpoint, the
/// token issuer and the client — and, once the command is done, the teardown.
public final class Connection: Sendable {
    public let http: HTTPClient
    public let demo: DemoEmulator?
    public let service: Service

    /// Why a command could not start, and the status it ends with.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public let description: String
        public let status: Int32
    }

    /// Starts everything `s` asks for; blocks until the demo emulator listens. `liveChanges`:
    /// let the demo emulator append changes (`feed` does so only when following).
    /// `command` names the command in the message for a missing URL (`dicomtui feed`).
    public static func open(_ s: Settings, liveChanges: Bool = true, command: String = "dicomtui",
                            configFile: String? = nil) throws(Failure) -> Connection {
        let http = ChangeFeedClient.makeHTTPClient()
        var demo: DemoEmulator?
        if s.demo {
            do {
                demo = try blocking { try await DemoEmulator.start(entries: s.demoEntries, audience: s.resource, faults: s.demoFaults,
                                                                   liveInterval: liveChanges ? s.demoLiveInterval : 0) }
            } catch {
                blockingVoid { try? await http.shutdown() }
                throw Failure(description: "could not start the demo emulator: \(error)", status: ScriptExit.failed)
            }
        }
        do {
            let service = try Self.service(s, url: demo?.baseURL, http: http, command: command, configFile: configFile)
            return Connection(http: http, demo: demo, service: service)
        } catch {
            let started = demo
            blockingVoid {
                await started?.stop()
                try? await http.shutdown()
            }
            throw error
        }
    }

    private init(http: HTTPClient, demo: DemoEmulator?, service: Service) {
        self.http = http; self.demo = demo; self.service = service
    }

    /// Another service on the same HTTP client (the UI's profile switch): never the demo.
    public func service(for s: Settings) throws(Failure) -> Service {
        var s = s
        s.demo = false
        return try Self.service(s, url: nil, http: http, command: "dicomtui", configFile: nil)
    }

    private static func service(_ s: Settings, url demoURL: String?, http: HTTPClient, command: String,
                                configFile: String?) throws(Failure) -> Service {
        guard let url = demoURL ?? s.url else {
            throw Failure(description: Resolution.missingURL(s, file: configFile, demo: "\(command) --demo"), status: ScriptExit.config)
        }
        let endpoint: ServiceEndpoint
        do {
            endpoint = try ServiceEndpoint(url)
        } catch {
            throw Failure(description: "\(error)", status: ScriptExit.config)
        }
        let client = ChangeFeedClient(endpoint: endpoint, apiVersion: s.apiVersion, http: http,
                                      userAgent: "dicomtui/\(AppVersion.string)")
        return Service(endpoint: endpoint, issuer: tokenIssuer(s), client: client)
    }

    /// Where tokens come from, for the UI, `token` and `feed` alike: the demo's own tokens, or az.
    public static func tokenIssuer(_ s: Settings) -> any TokenIssuer {
        if s.demo { return DemoTokenIssuer(resource: s.resource, lifetime: s.demoTokenLifetime) }
        return AzTokenIssuer(resource: s.resource, tenant: s.tenant,
                             cli: AzCLI(locator: AzLocator(explicitPath: s.az), timeout: .milliseconds(Int64(s.azTimeout * 1000))))
    }

    /// Stops the demo emulator and the HTTP client.
    public func close() {
        let demo = self.demo, http = self.http
        blockingVoid {
            await demo?.stop()
            try? await http.shutdown()
        }
    }
}
