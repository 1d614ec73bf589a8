import AsyncHTTPClient
import Emulator
import Foundation

/// Starts the emulator in this process on a free loopback port, checking tokens like the
/// service (audience, expiry) unless `auth` says otherwise. Returns it and its base URL; the
/// caller stops it.
public func startEmulator(entries: Int, seed: UInt64 = 7,
                          auth: AuthPolicy = .jwt(JWTRequirements())) async throws -> (EmulatorServer, String) {
    let server = EmulatorServer(options: EmulatorOptions(port: 0, entries: entries, seed: seed, auth: auth))
    let url = try await server.start()
    return (server, url.absoluteString)
}

/// Starts an emulator (loopback, free port) serving `store` or a store made from `options`,
/// makes an HTTP client with `http`, runs `body` with the server, its base URL and the client,
/// and always shuts the client down and stops the server, whether `body` throws or not.
public func withEmulatorServer<T>(_ options: EmulatorOptions, store: ChangeFeedStore? = nil,
                                  http makeClient: () -> HTTPClient = { HTTPClient(eventLoopGroupProvider: .singleton) },
                                  _ body: (EmulatorServer, URL, HTTPClient) async throws -> T) async throws -> T {
    let server = EmulatorServer(options: options, store: store)
    let base = try await server.start()
    let http = makeClient()
    do {
        let result = try await body(server, base, http)
        try await http.shutdown()
        await server.stop()
        return result
    } catch {
        try? await http.shutdown()
        await server.stop()
        throw error
    }
}
