import Emulator
import Foundation

/// The emulator that `--demo` runs in-process on a loopback port. It checks tokens the way the
/// service does (audience and expiry), so the demo token issuer is exercised for real. Its
/// feed looks like a real one (`EmulatorOptions.demo`): timestamps that repeat and now and
/// then go back, every form the service may write and, when live, changes that commit late
/// or carry a timestamp in the past.
public struct DemoEmulator: Sendable {
    public let server: EmulatorServer
    public let baseURL: String

    /// The dataset `--demo` serves. `.generated` is the feed the UI tests and snapshots expect
    /// (with `Settings.demoEntries`, 2,000 entries). `.procedural` computes the entries on
    /// demand, the newest at now, so a demo of 10^8 entries (`--demo-entries 100000000`) starts at once.
    public static let defaultDataset: DatasetKind = .generated

    public static func start(entries: Int, audience: String, faults: String? = nil, liveInterval: TimeInterval = 0,
                             dataset: DatasetKind = defaultDataset) async throws -> DemoEmulator {
        var options = EmulatorOptions.demo(entries: entries, auth: .jwt(JWTRequirements(audience: audience)), dataset: dataset)
        if liveInterval > 0 { options.liveChangeInterval = .milliseconds(Int64(liveInterval * 1000)) }
        if let faults { options.faults = try FaultPlan(spec: faults) }
        let server = EmulatorServer(options: options)
        let url = try await server.start()
        return DemoEmulator(server: server, baseURL: url.absoluteString)
    }

    public func stop() async {
        await server.stop()
    }
}
