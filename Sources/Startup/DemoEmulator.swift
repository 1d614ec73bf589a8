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

    /// The dataset `--demo` serves for `entries`: up to a million, `.generated` (built at start:
    /// the feed the UI and script tests know row by row, `--demo-entries 2000`); above that
    /// (and by default: `Settings.demoFeedSize`, 10^8), `.procedural`, computed on demand with
    /// the newest entry at now and the days' and weeks' rhythm, so it starts at once.
    public static func dataset(for entries: Int) -> DatasetKind {
        entries > 1_000_000 ? .procedural : .generated
    }

    public static func start(entries: Int, audience: String, faults: String? = nil, liveInterval: TimeInterval = 0,
                             dataset: DatasetKind? = nil) async throws -> DemoEmulator {
        let dataset = dataset ?? Self.dataset(for: entries)
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
