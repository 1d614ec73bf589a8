import FeedModel
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle

/// Everything `dicomtui emulator` (and `--demo`) needs to start an emulator.
public struct EmulatorOptions: Sendable {
    /// Always loopback by default; the emulator is not meant to be exposed.
    public var host: String
    /// 0 picks a free port; read it from `EmulatorServer.port` after `start()`.
    public var port: Int
    public var dataset: DatasetOptions
    public var auth: AuthPolicy
    public var wireFormat: WireFormat
    /// When set, one generated change is appended per interval while the server runs.
    public var liveChangeInterval: Duration?
    /// How those changes behave: `.plain` shows each at once, stamped with the clock;
    /// `.realistic` holds some back for a few changes and stamps some in the past.
    public var liveChanges: LiveChangeOptions
    public var logLevel: Logger.Level
    /// Faults queued (and latency set) when the server is created, e.g. from
    /// `try FaultPlan(spec: "503%20@page,latency=50")` for `--faults`. More can be added at
    /// run time through `EmulatorServer.faults`.
    public var faults: FaultPlan
    /// The cost of a v2 `offset`: a v2 page answer waits this many microseconds per row the
    /// offset skips (the service's SQL reads `OFFSET` rows before those it returns, so a large
    /// offset is slow). 0, the default: no wait. Also set by the fault spec term `offsetcost=US`.
    public var offsetCostMicroseconds: Double

    public init(host: String = "127.0.0.1", port: Int = 0, entries: Int = 2000, seed: UInt64 = 1,
                auth: AuthPolicy = .none, wireFormat: WireFormat = WireFormat(),
                liveChangeInterval: Duration? = nil, logLevel: Logger.Level = .warning,
                faults: FaultPlan = FaultPlan(), liveChanges: LiveChangeOptions = .plain,
                dataset: DatasetKind = .generated, offsetCostMicroseconds: Double = 0) {
        self.host = host
        self.port = port
        self.dataset = DatasetOptions(entryCount: entries, seed: seed, kind: dataset)
        self.auth = auth
        self.wireFormat = wireFormat
        self.liveChangeInterval = liveChangeInterval
        self.liveChanges = liveChanges
        self.logLevel = logLevel
        self.faults = faults
        self.offsetCostMicroseconds = offsetCostMicroseconds
    }
}

extension EmulatorOptions {
    /// What `--demo` serves: seed 1, a realistic timeline (`FeedShape.realistic`), every wire
    /// form (`WireFormat.realistic`) and, with an interval, live changes of which some commit
    /// late and some are stamped in the past (`LiveChangeOptions.realistic`). Tests that predict
    /// the demo's rows build their store from `demo(entries:).dataset`.
    /// `dataset: .procedural` serves `entries` computed on demand, the newest at now.
    public static func demo(entries: Int, auth: AuthPolicy = .none, liveChangeInterval: Duration? = nil,
                            dataset: DatasetKind = .generated) -> EmulatorOptions {
        var options = EmulatorOptions(port: 0, entries: entries, seed: 1, auth: auth, wireFormat: .realistic,
                                      liveChangeInterval: liveChangeInterval, liveChanges: .realistic, dataset: dataset)
        options.dataset.shape = .realistic
        return options
    }
}

public enum EmulatorServerError: Error, Sendable, CustomStringConvertible {
    case alreadyStarted
    case failedToStart(String)

    public var description: String {
        switch self {
        case .alreadyStarted: return "the emulator is already running"
        case .failedToStart(let why): return "the emulator could not start: \(why)"
        }
    }
}

/// The change-feed REST API on Hummingbird, in-process.
///
/// ```swift
/// let server = EmulatorServer(options: EmulatorOptions(entries: 2000, seed: 1))
/// let url = try await server.start()          // http://127.0.0.1:<port>
/// … GET \(url)/v2/changefeed?limit=200 …
/// await server.stop()
/// ```
public final class EmulatorServer: @unchecked Sendable {
    public let options: EmulatorOptions
    public let store: ChangeFeedStore
    public let requestLog = RequestLog()
    public let faults = FaultInjector()

    private let lock = NSLock()
    private var authenticator: Authenticator
    private var runTask: Task<Void, Error>?
    private var serviceGroup: ServiceGroup?
    private var liveTask: Task<Void, Never>?
    private var boundPort: Int?
    private var offsetCost: Double
    private var offsetDelay: Int64 = 0
    /// Microseconds v2 answers have waited for their offsets so far (what the cost model
    /// charged, whatever the machine's load added).
    public var offsetDelayMicroseconds: Int64 { lock.withLock { offsetDelay } }

    /// Generates `options.dataset` unless a store is given (e.g. `ChangeFeedStore.empty()`).
    public init(options: EmulatorOptions = EmulatorOptions(), store: ChangeFeedStore? = nil) {
        self.options = options
        self.store = store ?? ChangeFeedStore(options: options.dataset)
        self.authenticator = Authenticator(policy: options.auth)
        offsetCost = options.offsetCostMicroseconds > 0 ? options.offsetCostMicroseconds
            : options.faults.offsetCostMicroseconds ?? 0
        faults.apply(options.faults)
    }

    /// Microseconds a v2 page answer waits per row its `offset` skips (`EmulatorOptions.offsetCostMicroseconds`);
    /// may be changed while running.
    public var offsetCostMicroseconds: Double {
        get { lock.withLock { offsetCost } }
        set { lock.withLock { offsetCost = max(0, newValue) } }
    }

    /// The auth policy in force; may be changed while running.
    public var authPolicy: AuthPolicy {
        get { lock.withLock { authenticator.policy } }
        set { lock.withLock { authenticator.policy = newValue } }
    }

    /// The bound port while running.
    public var port: Int? { lock.withLock { boundPort } }

    /// `http://127.0.0.1:<port>` while running; append `/v2/changefeed` etc.
    public var baseURL: URL? {
        port.map { URL(string: "http://\(Self.urlHost(options.host)):\($0)")! }
    }

    /// Starts listening and returns once the socket is bound, with the base URL.
    @discardableResult
    public func start() async throws -> URL {
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        try lock.withLock {
            guard runTask == nil else { throw EmulatorServerError.alreadyStarted }
            let app = makeApplication { port in
                continuation.yield(port)
                continuation.finish()
            }
            let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: [app], logger: makeLogger()))
            serviceGroup = group
            runTask = Task {
                defer { continuation.finish() }
                try await group.run()
            }
        }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else {
            let task = lock.withLock { () -> Task<Void, Error>? in
                defer { runTask = nil }
                return runTask
            }
            do {
                try await task?.value
            } catch {
                throw EmulatorServerError.failedToStart(String(describing: error))
            }
            throw EmulatorServerError.failedToStart("the server stopped before listening")
        }
        lock.withLock { boundPort = port }
        startLiveChanges()
        return URL(string: "http://\(Self.urlHost(options.host)):\(port)")!
    }

    /// Stops listening (graceful shutdown: open connections are closed once idle) and waits
    /// for the server to finish; after 3 seconds it cancels whatever is still running.
    public func stop() async {
        let (task, group, live) = lock.withLock { () -> (Task<Void, Error>?, ServiceGroup?, Task<Void, Never>?) in
            defer {
                runTask = nil
                serviceGroup = nil
                liveTask = nil
                boundPort = nil
            }
            return (runTask, serviceGroup, liveTask)
        }
        live?.cancel()
        faults.releaseHangs()
        await group?.triggerGracefulShutdown()
        if let task {
            let watchdog = Task {
                try await Task.sleep(for: .seconds(3))
                task.cancel()
            }
            _ = try? await task.value
            watchdog.cancel()
        }
        await live?.value
    }

    /// Runs in the foreground until SIGINT or SIGTERM (for `dicomtui emulator`).
    /// `onReady` gets the base URL once listening.
    public func run(onReady: (@Sendable (URL) async -> Void)? = nil) async throws {
        let host = Self.urlHost(options.host)
        let app = makeApplication { [weak self] port in
            self?.lock.withLock { self?.boundPort = port }
            self?.startLiveChanges()
            await onReady?(URL(string: "http://\(host):\(port)")!)
        }
        defer {
            let live = lock.withLock { () -> Task<Void, Never>? in
                defer { liveTask = nil; boundPort = nil }
                return liveTask
            }
            live?.cancel()
        }
        try await app.runService()
    }

    private static func urlHost(_ host: String) -> String {
        host.contains(":") ? "[\(host)]" : host
    }

    private func startLiveChanges() {
        guard let interval = options.liveChangeInterval else { return }
        let store = self.store
        let live = options.liveChanges
        let task = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                if Task.isCancelled { break }
                store.appendGeneratedChanges(count: 1, live: live)
            }
        }
        lock.withLock { liveTask = task }
    }

    private func makeLogger() -> Logger {
        var logger = Logger(label: "dicomtui.emulator")
        logger.logLevel = options.logLevel
        return logger
    }

    private func makeApplication(onRunning: @escaping @Sendable (Int) async -> Void)
        -> Application<CallbackResponder<EmulatorRequestContext>> {
        let logger = makeLogger()
        let responder = CallbackResponder<EmulatorRequestContext> { [self] request, context in
            await self.respond(to: request, connection: context.connection)
        }
        return Application(
            responder: responder,
            configuration: ApplicationConfiguration(address: .hostname(options.host, port: options.port),
                                                    serverName: nil),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) },
            logger: logger)
    }

    // MARK: Request handling

    static let supportedVersions = "1.0-prerelease, 1.0, 2.0"
    static let deprecatedVersions = "1.0-prerelease"
    static let apiSupportedVersions = HTTPFields.Element.Name("api-supported-versions")!
    static let apiDeprecatedVersions = HTTPFields.Element.Name("api-deprecated-versions")!
    static let retryAfter = HTTPFields.Element.Name("Retry-After")!

    enum Route: Equatable {
        case feed(APIVersion)
        case latest(APIVersion)
    }

    /// `/v{version}/changefeed[/latest]`, case-insensitive, trailing slash allowed. The version
    /// segment accepts what an API-version route constraint does: `1.0-prerelease`,
    /// `1-prerelease`, `1`, `1.0`, `2`, `2.0`.
    static func route(_ path: String) -> Route? {
        var p = Substring(path.lowercased())
        while p.hasSuffix("/") { p = p.dropLast() }
        let parts = p.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 3 || parts.count == 4, parts[0].isEmpty, parts[2] == "changefeed",
              parts[1].hasPrefix("v") else { return nil }
        let version: APIVersion
        switch parts[1].dropFirst() {
        case "1.0-prerelease", "1-prerelease": version = .v1Prerelease
        case "1", "1.0": version = .v1
        case "2", "2.0": version = .v2
        default: return nil
        }
        if parts.count == 4 {
            return parts[3] == "latest" ? .latest(version) : nil
        }
        return .feed(version)
    }

    func respond(to request: Request, connection: ConnectionControl) async -> Response {
        let path = request.uri.path
        let query = request.uri.query
        let authorization = request.headers[.authorization]
        let route = Self.route(path)
        let kind: RequestKind
        switch route {
        case .feed: kind = .page
        case .latest: kind = .latest
        case nil: kind = .other
        }
        // Over the concurrency limit (`limit=N`): refused at once, as a throttling service does.
        guard faults.enter() else {
            let refusal = FaultInjector.overLimit
            requestLog.record(LoggedRequest(method: request.method.rawValue, path: path, query: query,
                                            authorization: authorization, status: 429, fault: refusal))
            var headers = HTTPFields()
            headers[Self.retryAfter] = "1"
            return text(.tooManyRequests, "too many concurrent requests", headers: headers).response
        }
        defer { faults.leave() }
        let (fault, latency) = faults.take(for: kind)
        if latency > 0 { try? await Task.sleep(for: .milliseconds(latency)) }
        func log(_ status: Int) {
            requestLog.record(LoggedRequest(method: request.method.rawValue, path: path, query: query,
                                            authorization: authorization, status: status, fault: fault))
        }

        let response: Response
        switch fault {
        case .status(let code, let body, let retryAfter):
            var headers = HTTPFields()
            if let retryAfter { headers[Self.retryAfter] = String(retryAfter) }
            response = text(HTTPResponse.Status(code: code), body, headers: headers).response
        case .statusRetryAfter(let code, let body, let retryAfter):
            var headers = HTTPFields()
            headers[Self.retryAfter] = retryAfter.headerValue()
            response = text(HTTPResponse.Status(code: code), body, headers: headers).response
        case .malformedJSON, .emptyBody:
            var headers = versionHeaders()
            headers[.contentType] = "application/json; charset=utf-8"
            let body = fault == .malformedJSON ? InjectedFault.malformedJSONBody : ""
            response = Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
        case .reset:
            log(0)
            return await connection.reset()
        case .hang(let ms):
            log(0)
            await hang(milliseconds: ms, connection: connection)
            return await connection.reset()
        case .delay(let ms):
            try? await Task.sleep(for: .milliseconds(ms))
            response = await answer(request, route: route, query: query, authorization: authorization).response
        case .slowBody(let bytes, let ms):
            response = await answer(request, route: route, query: query, authorization: authorization)
                .slowResponse(bytesPerChunk: bytes, delayMilliseconds: ms)
        case .truncatedBody:
            response = await answer(request, route: route, query: query, authorization: authorization)
                .truncatedResponse(connection: connection)
        case .badEntry(let index):
            response = await answer(request, route: route, query: query, authorization: authorization,
                                    badEntry: index).response
        case nil:
            response = await answer(request, route: route, query: query, authorization: authorization).response
        }
        log(Int(response.status.code))
        return response
    }

    /// Waits until `milliseconds` pass (nil: forever), the client closes the connection, the
    /// task is cancelled or the faults are reset (or the server stops).
    private func hang(milliseconds: Int?, connection: ConnectionControl) async {
        let generation = faults.currentHangGeneration
        let deadline = milliseconds.map { ContinuousClock.now + .milliseconds($0) }
        while !Task.isCancelled && connection.isActive && faults.currentHangGeneration == generation {
            var step = Duration.milliseconds(25)
            if let deadline {
                let left = deadline - ContinuousClock.now
                if left <= .zero { break }
                step = min(step, left)
            }
            try? await Task.sleep(for: step)
        }
    }

    private func answer(_ request: Request, route: Route?, query: String?, authorization: String?,
                        badEntry: Int? = nil) async -> Reply {
        guard let route else { return Reply(status: .notFound) }
        guard request.method == .get else {
            return Reply(status: .methodNotAllowed, headers: [.allow: "GET"])
        }
        let auth = lock.withLock { authenticator }
        if case .challenge(let value) = auth.check(authorization: authorization) {
            return Reply(status: .unauthorized, headers: [.wwwAuthenticate: value])
        }

        let parameters = QueryParameters(query)
        let storeQuery: ChangeFeedStore.Query
        let includeMetadata: Bool
        let version: APIVersion
        switch route {
        case .feed(let v):
            version = v
            if v.isSequenceMode {
                switch QueryBinding.bindV1(parameters) {
                case .failure(let bad): return text(.badRequest, bad.message, headers: versionHeaders())
                case .success(let p):
                    storeQuery = .v1(offset: p.offset, limit: p.limit)
                    includeMetadata = p.includeMetadata
                }
            } else {
                switch QueryBinding.bindV2(parameters) {
                case .failure(let bad): return text(.badRequest, bad.message, headers: versionHeaders())
                case .success(let p):
                    storeQuery = .v2(start: p.startTicks, end: p.endTicks, offset: p.offset, limit: p.limit)
                    includeMetadata = p.includeMetadata
                }
            }
        case .latest(let v):
            version = v
            switch QueryBinding.bindLatest(parameters) {
            case .failure(let bad): return text(.badRequest, bad.message, headers: versionHeaders())
            case .success(let include):
                storeQuery = .latest(v)
                includeMetadata = include
            }
        }

        if case .v2(let start, let end, let offset, _) = storeQuery, offset > 0 {
            // The service's SQL reads the rows the offset skips (as many as the window has).
            let cost = offsetCostMicroseconds
            if cost > 0 {
                let skipped = min(offset, store.v2WindowCount(startTicks: start, endTicks: end))
                let micros = min(Double(skipped) * cost, 3_600_000_000)
                lock.withLock { offsetDelay += Int64(micros) }
                if micros >= 1 { try? await Task.sleep(for: .microseconds(Int64(micros))) }
            }
        }
        guard let rows = store.snapshot(storeQuery, includeMetadata: includeMetadata) else {
            // latest on an empty feed: the controller returns 200 with null, which ASP.NET sends as 204.
            return Reply(status: .noContent, headers: versionHeaders())
        }
        let bulkBase = (baseURL?.absoluteString ?? "http://\(Self.urlHost(options.host))") + "/" + version.rawValue
        let format = options.wireFormat
        var w = JSONWriter(capacity: rows.count * (includeMetadata ? 2600 : 420) + 2, escapeNonASCII: format.escapeNonASCII)
        let broken = badEntry.map { min(max(0, $0), rows.count - 1) }
        if case .latest = storeQuery {
            store.encode(rows[0], into: &w, format: format, bulkDataBase: bulkBase, broken: broken != nil)
        } else {
            w.byte(91)
            for (i, row) in rows.enumerated() {
                if i > 0 { w.byte(44) }
                store.encode(row, into: &w, format: format, bulkDataBase: bulkBase, broken: i == broken)
            }
            w.byte(93)
        }
        var headers = versionHeaders()
        headers[.contentType] = "application/json; charset=utf-8"
        return Reply(status: .ok, headers: headers, body: w.bytes)
    }

    private func versionHeaders() -> HTTPFields {
        var headers = HTTPFields()
        headers[Self.apiSupportedVersions] = Self.supportedVersions
        headers[Self.apiDeprecatedVersions] = Self.deprecatedVersions
        return headers
    }

    private func text(_ status: HTTPResponse.Status, _ body: String, headers: HTTPFields = HTTPFields()) -> Reply {
        var headers = headers
        if !body.isEmpty { headers[.contentType] = "text/plain; charset=utf-8" }
        return Reply(status: status, headers: headers, body: Array(body.utf8))
    }
}
