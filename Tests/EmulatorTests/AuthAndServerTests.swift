import AsyncHTTPClient
import Emulator
import FeedModel
import Foundation
import Testing

@Suite("Auth")
struct AuthTests {
    static let challenge = #"Bearer authorization_uri="https://login.microsoftonline.com/common", resource_id="https://dicom.healthcareapis.azure.com", realm="https://dicom.healthcareapis.azure.com""#

    @Test("no token → 401, empty body, the Bearer challenge")
    func missingToken() async throws {
        try await withEmulator(EmulatorOptions(entries: 20, auth: .bearerToken("s3cret"))) { h async throws in
            let a = try await h.get("/v2/changefeed")
            #expect(a.status == 401)
            #expect(a.body.isEmpty)
            #expect(a.header("WWW-Authenticate") == Self.challenge)
            // Another scheme counts as no token.
            #expect(try await h.get("/v2/changefeed", authorization: "Basic czNjcmV0").header("WWW-Authenticate") == Self.challenge)
        }
    }

    @Test("exact bearer token: right → 200, wrong → 401 invalid_token")
    func exactToken() async throws {
        try await withEmulator(EmulatorOptions(entries: 20, auth: .bearerToken("s3cret"))) { h async throws in
            #expect(try await h.get("/v1/changefeed", authorization: "Bearer s3cret").status == 200)
            #expect(try await h.get("/v1/changefeed", authorization: "bearer s3cret").status == 200)
            let wrong = try await h.get("/v1/changefeed", authorization: "Bearer nope")
            #expect(wrong.status == 401)
            #expect(wrong.header("WWW-Authenticate") == Self.challenge + #", error="invalid_token""#)
        }
    }

    @Test("auth is checked before the query: a bad query without a token is 401, not 400")
    func authBeforeValidation() async throws {
        try await withEmulator(EmulatorOptions(entries: 20, auth: .bearerToken("s3cret"))) { h async throws in
            #expect(try await h.get("/v1/changefeed?limit=0").status == 401)
            #expect(try await h.get("/v1/changefeed?limit=0", authorization: "Bearer s3cret").status == 400)
            #expect(try await h.get("/nowhere").status == 404)
        }
    }

    @Test("JWT: right audience and future exp → 200 (aud may be an array)")
    func jwtValid() async throws {
        try await withEmulator(EmulatorOptions(entries: 20, auth: .jwt(JWTRequirements()))) { h async throws in
            let exp = Date().timeIntervalSince1970 + 3600
            let token = try makeJWT(["aud": AuthPolicy.defaultAudience, "exp": exp])
            #expect(try await h.get("/v2/changefeed", authorization: "Bearer \(token)").status == 200)
            let multi = try makeJWT(["aud": ["api://other", AuthPolicy.defaultAudience], "exp": exp])
            #expect(try await h.get("/v2/changefeed", authorization: "Bearer \(multi)").status == 200)
        }
    }

    @Test("JWT: expired → 401 with error_description about expiry")
    func jwtExpired() async throws {
        try await withEmulator(EmulatorOptions(entries: 20, auth: .jwt(JWTRequirements()))) { h async throws in
            // 2024-03-04T08:00:00Z
            let token = try makeJWT(["aud": AuthPolicy.defaultAudience, "exp": 1_709_539_200])
            let a = try await h.get("/v2/changefeed", authorization: "Bearer \(token)")
            #expect(a.status == 401)
            #expect(a.body.isEmpty)
            #expect(a.header("WWW-Authenticate") == Self.challenge
                    + #", error="invalid_token", error_description="The token expired at '03/04/2024 08:00:00'""#)
        }
    }

    @Test("JWT: wrong audience → 401 naming the audience; custom audience and tenant show in the challenge")
    func jwtAudience() async throws {
        let requirements = JWTRequirements(audience: "https://dicom.example", tenant: "contoso.onmicrosoft.com")
        try await withEmulator(EmulatorOptions(entries: 20, auth: .jwt(requirements))) { h async throws in
            let exp = Date().timeIntervalSince1970 + 3600
            let wrong = try makeJWT(["aud": AuthPolicy.defaultAudience, "exp": exp])
            let a = try await h.get("/v2/changefeed", authorization: "Bearer \(wrong)")
            #expect(a.status == 401)
            #expect(a.header("WWW-Authenticate") == #"Bearer authorization_uri="https://login.microsoftonline.com/contoso.onmicrosoft.com", resource_id="https://dicom.example", realm="https://dicom.example", error="invalid_token", error_description="The audience 'https://dicom.healthcareapis.azure.com' is invalid""#)
            let right = try makeJWT(["aud": "https://dicom.example", "exp": exp])
            #expect(try await h.get("/v2/changefeed", authorization: "Bearer \(right)").status == 200)
            #expect(try await h.get("/v2/changefeed", authorization: "Bearer not.a-jwt").status == 401)
        }
    }

    @Test("the auth policy can be switched while running")
    func switchPolicy() async throws {
        try await withEmulator(EmulatorOptions(entries: 20)) { h async throws in
            #expect(try await h.get("/v2/changefeed/latest").status == 200)
            h.server.authPolicy = .bearerToken("t")
            #expect(try await h.get("/v2/changefeed/latest").status == 401)
            #expect(try await h.get("/v2/changefeed/latest", authorization: "Bearer t").status == 200)
        }
    }
}

@Suite("Server")
struct ServerTests {
    @Test("start binds an ephemeral loopback port; stop closes it")
    func lifecycle() async throws {
        let server = EmulatorServer(options: EmulatorOptions(entries: 10))
        let url = try await server.start()
        let port = try #require(server.port)
        #expect(port > 0)
        #expect(url.absoluteString == "http://127.0.0.1:\(port)")
        #expect(server.baseURL == url)
        await #expect(throws: EmulatorServerError.self) { try await server.start() }
        await server.stop()
        #expect(server.port == nil)
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            _ = try await client.execute(HTTPClientRequest(url: url.absoluteString + "/v2/changefeed"), timeout: .seconds(5))
            Issue.record("the server still answers after stop()")
        } catch {
            // Connection refused: expected.
        }
        try await client.shutdown()
    }

    @Test("run() serves in the foreground, reports its URL once listening, and ends when cancelled")
    func foregroundRun() async throws {
        let server = EmulatorServer(options: EmulatorOptions(entries: 15, seed: 4, logLevel: .critical))
        let (urls, continuation) = AsyncStream<URL>.makeStream()
        let running = Task { try await server.run { url in continuation.yield(url) } }
        var iterator = urls.makeAsyncIterator()
        let url = try #require(await iterator.next())
        #expect(server.port == url.port)
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            let response = try await client.execute(HTTPClientRequest(url: url.absoluteString + "/v1/changefeed/latest"),
                                                    timeout: .seconds(10))
            #expect(response.status.code == 200)
            _ = try await response.body.collect(upTo: 1 << 20)
        } catch {
            Issue.record(error)
        }
        try await client.shutdown()
        running.cancel()
        _ = try? await running.value
        #expect(server.port == nil)
    }

    @Test("a port already in use makes start() throw instead of hanging")
    func portInUse() async throws {
        let first = EmulatorServer(options: EmulatorOptions(entries: 1))
        _ = try await first.start()
        let second = EmulatorServer(options: EmulatorOptions(port: try #require(first.port), entries: 1))
        await #expect(throws: EmulatorServerError.self) { try await second.start() }
        await first.stop()
    }

    @Test("the request log counts requests and keeps the last query")
    func requestLog() async throws {
        try await withEmulator(EmulatorOptions(entries: 20)) { h async throws in
            _ = try await h.get("/v1/changefeed?offset=3&limit=4")
            _ = try await h.get("/v2/changefeed?limit=0")
            #expect(h.server.requestLog.count == 2)
            #expect(h.server.requestLog.lastQuery == "limit=0")
            #expect(h.server.requestLog.last?.status == 400)
            #expect(h.server.requestLog.requests.first?.path == "/v1/changefeed")
        }
    }

    @Test("fault injection: the next N responses get a status, with Retry-After; then normal service")
    func injectedStatus() async throws {
        try await withEmulator(EmulatorOptions(entries: 20)) { h async throws in
            h.server.faults.failNext(2, status: 503)
            h.server.faults.failNext(1, status: 429, retryAfter: 7)
            #expect(try await h.get("/v2/changefeed").status == 503)
            #expect(try await h.get("/v2/changefeed").status == 503)
            let throttled = try await h.get("/v2/changefeed")
            #expect(throttled.status == 429)
            #expect(throttled.header("Retry-After") == "7")
            #expect(try await h.get("/v2/changefeed").status == 200)
            #expect(h.server.faults.pendingCount == 0)
        }
    }

    @Test("fault injection: added latency delays answers")
    func injectedLatency() async throws {
        try await withEmulator(EmulatorOptions(entries: 20)) { h async throws in
            h.server.faults.addedLatencyMilliseconds = 300
            let clock = ContinuousClock()
            let start = clock.now
            #expect(try await h.get("/v2/changefeed/latest").status == 200)
            #expect(clock.now - start >= .milliseconds(300))
        }
    }

    @Test("live changes option appends generated rows while running")
    func liveChanges() async throws {
        var options = EmulatorOptions(entries: 100, seed: 3)
        options.liveChangeInterval = .milliseconds(20)
        try await withEmulator(options) { h async throws in
            let before = h.store.count
            // Poll (bounded): on a loaded 2-core machine the first append can take a while.
            let deadline = ContinuousClock.now + .seconds(10)
            while h.store.count == before && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(h.store.count > before)
            let latest = try await h.get("/v1/changefeed/latest").object()
            #expect((latest["sequence"] as? NSNumber)?.int64Value ?? 0 > 100)
        }
    }

    @Test("paging a whole v2 feed through HTTP returns every row exactly once, in order")
    func fullPaging() async throws {
        try await withEmulator(EmulatorOptions(entries: 5000, seed: 21)) { h async throws in
            let sequences = try await h.allV2Pages().flatMap { try $0.sequences() }
            #expect(sequences == h.store.entriesV2(limit: Int.max).map(\.sequence))
            #expect(sequences.count == 5000)
        }
    }
}
