@testable import ChangeFeedClient
import Emulator
import TestSupport
import FeedModel
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import Testing

/// A tiny loopback HTTP server for redirect tests: answers each request with `handler`'s reply
/// and records the path and Authorization header it saw.
final class ScriptedServer: @unchecked Sendable {
    struct Reply: Sendable {
        var status: Int
        var location: String? = nil
        var body: String = ""
    }

    private let lock = NSLock()
    private var seen: [(path: String, authorization: String?)] = []
    private var group: ServiceGroup?
    private var task: Task<Void, Error>?
    private(set) var port = 0
    let handler: @Sendable (_ path: String, _ query: String?, _ port: Int) -> Reply

    init(_ handler: @escaping @Sendable (_ path: String, _ query: String?, _ port: Int) -> Reply) {
        self.handler = handler
    }

    var requests: [(path: String, authorization: String?)] { lock.withLock { seen } }
    var base: String { "http://127.0.0.1:\(port)" }

    func start() async throws {
        var logger = Logger(label: "scripted")
        logger.logLevel = .warning
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let responder = CallbackResponder<BasicRequestContext> { [self] request, _ in
            let path = request.uri.path
            lock.withLock { seen.append((path, request.headers[.authorization])) }
            let reply = handler(path, request.uri.query, lock.withLock { port })
            var headers = HTTPFields()
            if let location = reply.location { headers[.location] = location }
            if !reply.body.isEmpty { headers[.contentType] = "application/json" }
            return Response(status: HTTPResponse.Status(code: reply.status), headers: headers,
                            body: ResponseBody(byteBuffer: ByteBuffer(string: reply.body)))
        }
        let app = Application(responder: responder,
                              configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { channel in
                                  continuation.yield(channel.localAddress?.port ?? 0)
                                  continuation.finish()
                              },
                              logger: logger)
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: [app], logger: logger))
        self.group = group
        task = Task { try await group.run() }
        var it = ports.makeAsyncIterator()
        let p = await it.next() ?? 0
        lock.withLock { port = p }
    }

    func stop() async {
        await group?.triggerGracefulShutdown()
        _ = try? await task?.value
    }
}

/// Runs `body` with a client for `server` (started and stopped around it).
func withScripted<T>(_ servers: [ScriptedServer], version: APIVersion = .v2,
                     _ body: (ChangeFeedClient) async throws -> T) async throws -> T {
    for s in servers { try await s.start() }
    let http = ChangeFeedClient.makeHTTPClient()
    do {
        let client = ChangeFeedClient(endpoint: try ServiceEndpoint(servers[0].base), apiVersion: version, http: http,
                                      requestTimeout: .seconds(10))
        let result = try await body(client)
        try await http.shutdown()
        for s in servers { await s.stop() }
        return result
    } catch {
        try? await http.shutdown()
        for s in servers { await s.stop() }
        throw error
    }
}

@Suite struct RedirectTests {
    static let entry = #"{"sequence":7,"studyInstanceUid":"1","seriesInstanceUid":"2","sopInstanceUid":"3","action":"Create","timestamp":"2020-03-04T01:03:08Z","state":"Current"}"#

    @Test(arguments: [301, 302, 303, 307, 308])
    func aSameOriginRedirectIsFollowedWithTheToken(status: Int) async throws {
        let server = ScriptedServer { path, query, port in
            switch path {
            case "/old/v2/changefeed/latest": .init(status: status, location: "/v2/changefeed/latest?" + (query ?? ""))
            case "/old/v2/changefeed": .init(status: status, location: "http://127.0.0.1:\(port)/v2/changefeed?" + (query ?? ""))
            case "/v2/changefeed/latest": .init(status: 200, body: Self.entry)
            case "/v2/changefeed": .init(status: 200, body: "[" + Self.entry + "]")
            default: .init(status: 404)
            }
        }
        try await withScripted([server]) { _ in
            let http = ChangeFeedClient.makeHTTPClient()
            let client = ChangeFeedClient(endpoint: try ServiceEndpoint(server.base + "/old"), apiVersion: .v2, http: http)
            let latest = try await client.latest(authorization: "Bearer t")
            let page = try await client.page(PageQuery(offset: 0, limit: 10), authorization: "Bearer t")
            try await http.shutdown()
            #expect(latest?.sequence == 7)
            #expect(page.count == 1)
            #expect(server.requests.map(\.path) == ["/old/v2/changefeed/latest", "/v2/changefeed/latest",
                                                   "/old/v2/changefeed", "/v2/changefeed"])
            #expect(server.requests.allSatisfy { $0.authorization == "Bearer t" })
        }
    }

    @Test func aRedirectToAnotherPortIsNotFollowedAndNamesTheLocation() async throws {
        let elsewhere = ScriptedServer { _, _, _ in .init(status: 200, body: "[]") }
        let target = LockedBox("")
        let server = ScriptedServer { _, _, _ in .init(status: 302, location: target.value) }
        try await withScripted([server, elsewhere]) { client in
            target.value = elsewhere.base + "/v2/changefeed/latest?includeMetadata=false"
            do throws(ChangeFeedError) {
                _ = try await client.latest(authorization: "Bearer secret")
                Issue.record("the redirect was followed")
            } catch {
                #expect(error == .redirect(status: 302, location: target.value))
                #expect(error.message.contains(target.value))
            }
            #expect(elsewhere.requests.isEmpty, "the token never went to the other server")
            #expect(server.requests.count == 1)
        }
    }

    @Test(arguments: ["http://localhost:%d/v2/changefeed", "https://127.0.0.1:%d/v2/changefeed",
                      "http://evil.example/v2/changefeed", "//evil.example/v2/changefeed", "ftp://127.0.0.1:%d/x"])
    func aRedirectToAnotherOriginIsAnError(template: String) async throws {
        let server = ScriptedServer { _, _, port in .init(status: 307, location: template.replacingOccurrences(of: "%d", with: "\(port)")) }
        try await withScripted([server]) { client in
            do throws(ChangeFeedError) {
                _ = try await client.page(PageQuery(offset: 0, limit: 10), authorization: "Bearer t")
                Issue.record("followed \(template)")
            } catch {
                guard case .redirect(307, let location?) = error else {
                    Issue.record("expected a redirect error, got \(error)")
                    return
                }
                #expect(!location.isEmpty && !location.hasPrefix("/"), "absolute: \(location)")
            }
            #expect(server.requests.count == 1)
        }
    }

    @Test func aRedirectLoopStopsAfterAFewHops() async throws {
        let server = ScriptedServer { path, _, _ in .init(status: 302, location: path + "x") }
        try await withScripted([server]) { client in
            await #expect(throws: ChangeFeedError.self) {
                _ = try await client.latest(authorization: "Bearer t")
            }
            #expect(server.requests.count == ChangeFeedClient.maxRedirects + 1)
        }
    }

    @Test func aRedirectWithoutALocationIsAnError() async throws {
        let server = ScriptedServer { _, _, _ in .init(status: 301) }
        try await withScripted([server]) { client in
            do throws(ChangeFeedError) {
                _ = try await client.latest(authorization: "Bearer t")
                Issue.record("no error")
            } catch {
                #expect(error == .redirect(status: 301, location: nil))
            }
        }
    }

    @Test func redirectTargetsAreResolvedAndCompared() {
        let from = "http://127.0.0.1:8080/a/v2/changefeed?x=1"
        #expect(ChangeFeedClient.redirectTarget(from: from, location: "/v2/changefeed")?.sameOrigin == true)
        #expect(ChangeFeedClient.redirectTarget(from: from, location: "/v2/changefeed")?.url == "http://127.0.0.1:8080/v2/changefeed")
        #expect(ChangeFeedClient.redirectTarget(from: from, location: "changefeed/latest")?.url == "http://127.0.0.1:8080/a/v2/changefeed/latest")
        #expect(ChangeFeedClient.redirectTarget(from: from, location: "HTTP://127.0.0.1:8080/b")?.sameOrigin == true)
        #expect(ChangeFeedClient.redirectTarget(from: "https://h.example/x", location: "https://H.EXAMPLE:443/y")?.sameOrigin == true)
        #expect(ChangeFeedClient.redirectTarget(from: "https://h.example/x", location: "http://h.example/y")?.sameOrigin == false)
        #expect(ChangeFeedClient.redirectTarget(from: from, location: "http://127.0.0.1:8081/v2")?.sameOrigin == false)
        #expect(ChangeFeedClient.redirectTarget(from: from, location: "http://127.0.0.1/v2")?.sameOrigin == false)
    }
}

/// A value shared with a server handler.
final class LockedBox<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var v: T
    init(_ v: T) { self.v = v }
    var value: T {
        get { lock.withLock { v } }
        set { lock.withLock { v = newValue } }
    }
}

/// `ChangeFeedClient.entry(sequence:)`: one entry with its metadata, for the detail view.
@Suite struct EntryOnDemandTests {
    @Test(arguments: APIVersion.allCases)
    func anEntryComesWithTheMetadataOfItsInstance(version: APIVersion) async throws {
        try await withFeed(EmulatorOptions(entries: 300, seed: 44, auth: .bearerToken("t")), version: version) { feed in
            let all = feed.store.allEntries()
            let live = try #require(all.dropFirst(100).first { $0.state == .current })
            let gone = try #require(all.first { $0.state == .deleted }, "precondition: a deleted instance")
            for row in [live, gone, all[0], all[all.count - 1]] {
                let got = try #require(try await feed.client.entry(sequence: row.sequence, authorization: "Bearer t"))
                #expect(got.sequence == row.sequence)
                var withoutMetadata = got
                withoutMetadata.metadata = nil
                #expect(withoutMetadata == row.changeFeedEntry)
                if row.state == .deleted {
                    #expect(got.metadata == nil)
                } else {
                    let route = version.isSequenceMode ? version : .v1
                    let bytes = try #require(feed.store.metadataJSON(sopInstanceUid: row.sopInstanceUid,
                                                                     bulkDataBase: feed.base.absoluteString + "/" + route.rawValue))
                    #expect(got.metadata?.value == (try JSONDecoder().decode(JSONValue.self, from: Data(bytes))),
                            "the metadata reads as Foundation's JSONDecoder reads the emulator's bytes")
                }
            }
            // Every request went to a sequence-mode route of the same service.
            let expectedPath = "/" + (version.isSequenceMode ? version.rawValue : "v1") + "/changefeed"
            #expect(feed.pageRequests.allSatisfy { $0.path == expectedPath && queryItems($0)["limit"] == "1"
                && queryItems($0)["includeMetadata"] == "true" })
        }
    }

    @Test func aSkippedOrUnknownSequenceIsNil() async throws {
        try await withFeed(EmulatorOptions(entries: 600, seed: 5, auth: .bearerToken("t"))) { feed in
            let all = feed.store.allEntries()
            let gapAt = try #require(zip(all, all.dropFirst()).first { $1.sequence - $0.sequence > 1 }).0.sequence + 1
            #expect(feed.store.entry(sequence: gapAt) == nil)
            #expect(try await feed.client.entry(sequence: gapAt, authorization: "Bearer t") == nil)
            #expect(try await feed.client.entry(sequence: all.last!.sequence + 1000, authorization: "Bearer t") == nil)
            #expect(try await feed.client.entry(sequence: 0, authorization: "Bearer t") == nil)
        }
    }

    @Test func aRefusedTokenIsAnError() async throws {
        try await withFeed(EmulatorOptions(entries: 20, seed: 5, auth: .bearerToken("t"))) { feed in
            await #expect(throws: ChangeFeedError.self) {
                _ = try await feed.client.entry(sequence: 1, authorization: "Bearer wrong")
            }
            return ()
        }
    }
}
