import AsyncHTTPClient
import Emulator
import FeedModel
import Foundation
import TestSupport
import Testing

/// One HTTP answer, fully read.
struct HTTPAnswer {
    var status: Int
    var headers: [(String, String)]
    var body: Data

    func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }

    var text: String { String(decoding: body, as: UTF8.self) }

    /// The body as a JSON array of objects (fails the test otherwise).
    func array(sourceLocation: SourceLocation = #_sourceLocation) throws -> [[String: Any]] {
        let value = try JSONSerialization.jsonObject(with: body)
        return try #require(value as? [[String: Any]], "not an array of objects: \(text.prefix(200))",
                            sourceLocation: sourceLocation)
    }

    func object(sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
        let value = try JSONSerialization.jsonObject(with: body)
        return try #require(value as? [String: Any], "not an object: \(text.prefix(200))", sourceLocation: sourceLocation)
    }

    /// Sequences of an array body.
    func sequences() throws -> [Int64] {
        try array().map { ($0["sequence"] as? NSNumber)?.int64Value ?? -1 }
    }
}

/// A started emulator plus a client; always stopped and shut down by `withEmulator`.
struct Harness {
    let server: EmulatorServer
    let client: HTTPClient
    let base: URL

    var store: ChangeFeedStore { server.store }

    /// GET `pathAndQuery` (already encoded as it should go on the wire).
    func get(_ pathAndQuery: String, authorization: String? = nil, method: String = "GET") async throws -> HTTPAnswer {
        var request = HTTPClientRequest(url: base.absoluteString + pathAndQuery)
        request.method = .init(rawValue: method)
        if let authorization { request.headers.add(name: "Authorization", value: authorization) }
        let response = try await client.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 64 << 20)
        return HTTPAnswer(status: Int(response.status.code),
                          headers: response.headers.map { ($0.name, $0.value) },
                          body: Data(body.readableBytesView))
    }
}

extension Harness {
    /// Every page of the whole v2 feed, as the docs page it: `limit` rows a page, the offset
    /// stepped by `limit` until a page comes back short.
    func allV2Pages(limit: Int = 200) async throws -> [HTTPAnswer] {
        var pages: [HTTPAnswer] = []
        var offset = 0
        while true {
            let page = try await get("/v2/changefeed?offset=\(offset)&limit=\(limit)&includeMetadata=false")
            pages.append(page)
            if try page.array().count < limit { return pages }
            offset += limit
        }
    }
}

func withEmulator<T>(_ options: EmulatorOptions = EmulatorOptions(entries: 600, seed: 11),
                     store: ChangeFeedStore? = nil,
                     _ body: (Harness) async throws -> T) async throws -> T {
    try await withEmulatorServer(options, store: store) { server, base, client in
        try await body(Harness(server: server, client: client, base: base))
    }
}

/// A JWT with this payload (header and signature are placeholders; the emulator does not verify them).
func makeJWT(_ claims: [String: Any]) throws -> String {
    func b64url(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }
    let header = b64url(Data(#"{"alg":"RS256","typ":"JWT"}"#.utf8))
    let payload = b64url(try JSONSerialization.data(withJSONObject: claims))
    return "\(header).\(payload).c2lnbmF0dXJl"
}

extension String {
    /// Percent-encodes for a query value (`+` becomes `%2B`, as the service's own tests do).
    var queryEncoded: String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~:")
        return addingPercentEncoding(withAllowedCharacters: allowed)!
    }
}

/// Independent oracle for `state`: from the actions of one instance in sequence order, the
/// state every row of it must read now.
func expectedStates(actions: [ChangeFeedAction]) -> [ChangeFeedState] {
    guard let last = actions.last else { return [] }
    if last == .delete { return actions.map { _ in .deleted } }
    return actions.indices.map { $0 == actions.count - 1 ? .current : .replaced }
}
