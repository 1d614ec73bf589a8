import Foundation
import Hummingbird
// NIOCore comes with Hummingbird; needed for the connection (`Channel`) a fault drops.
import NIOCore

/// The request context of the emulator: Hummingbird's basic one, plus the connection, so
/// that a fault can drop it.
struct EmulatorRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let connection: ConnectionControl

    init(source: ApplicationRequestContextSource) {
        coreContext = CoreRequestContextStorage(source: source)
        connection = ConnectionControl(channel: source.channel)
    }
}

/// The connection a request came on, as far as faults need it.
struct ConnectionControl: Sendable {
    let channel: any Channel

    /// False once either side has closed the connection.
    var isActive: Bool { channel.isActive }

    /// Drops the connection with an RST (`SO_LINGER` 0, then close), so the client sees
    /// "connection reset by peer" without any response. The returned response is never
    /// delivered: Hummingbird's attempt to write it fails on the closed channel, which it
    /// handles by giving up on the connection.
    func reset() async -> Response {
        if let sockets = channel as? any SocketOptionProvider {
            try? await sockets.setSoLinger(linger(l_onoff: 1, l_linger: 0)).get()
        }
        try? await channel.close().get()
        return Response(status: .internalServerError)
    }

    /// Half-closes the connection (FIN) once what was written so far has gone out.
    func finishOutput() async {
        try? await channel.close(mode: .output).get()
    }
}

/// Thrown from a body writer to make Hummingbird drop the connection mid-body.
struct InjectedTruncation: Error {}

/// An answer before it becomes a Hummingbird `Response`, so faults can rework its body.
struct Reply {
    var status: HTTPResponse.Status
    var headers: HTTPFields = HTTPFields()
    var body: [UInt8] = []

    var response: Response {
        Response(status: status, headers: headers,
                 body: body.isEmpty ? ResponseBody() : ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }

    /// The same head and `Content-Length`, with the body written `bytesPerChunk` at a time and
    /// `delayMilliseconds` before each chunk after the first.
    func slowResponse(bytesPerChunk: Int, delayMilliseconds: Int) -> Response {
        let body = self.body
        let size = max(1, bytesPerChunk)
        return Response(status: status, headers: headers, body: ResponseBody(contentLength: body.count) { writer in
            var start = 0
            while start < body.count {
                if start > 0 { try await Task.sleep(for: .milliseconds(delayMilliseconds)) }
                let end = min(body.count, start + size)
                try await writer.write(ByteBuffer(bytes: body[start..<end]))
                start = end
            }
            try await writer.finish(nil)
        })
    }

    /// The same head, announcing the full `Content-Length`, but only the first `count / 2`
    /// bytes of the body; then the connection is closed (FIN after the bytes, then Hummingbird
    /// closes the channel because the body writer threw).
    func truncatedResponse(connection: ConnectionControl) -> Response {
        let body = self.body
        return Response(status: status, headers: headers, body: ResponseBody(contentLength: body.count) { writer in
            let half = body.count / 2
            if half > 0 { try await writer.write(ByteBuffer(bytes: body[..<half])) }
            await connection.finishOutput()
            throw InjectedTruncation()
        })
    }
}
