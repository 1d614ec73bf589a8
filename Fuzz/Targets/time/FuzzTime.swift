// libFuzzer target `time`: the readers of times, durations and URLs: the service's timestamps
// (Timestamp, ISOScanner), --start-time/--end-time and --since (TimeWindow), durations in the
// configuration (DurationText), the service URL (ServiceEndpoint), a redirect's Location and
// Retry-After. Built and run by scripts/fuzz; not part of CI.
@testable import ChangeFeedClient
import FuzzDriver
import Config
import FeedModel
import Foundation

private let berlin = TimeZone(identifier: "Europe/Berlin")!
private let utc = TimeZone(identifier: "UTC")!
private let now = Date(timeIntervalSince1970: 1_764_000_000)

private func check(_ data: Data) {
    let text = String(decoding: data, as: UTF8.self)

    // Any tick count formats, and one in the service's range reads back to the tick.
    if data.count >= 8 {
        let ticks = data.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: Int64.self) }
        let t = Timestamp(ticks: ticks)
        let iso = t.iso, numeric = t.format(trimZeros: true, numericZone: true)
        if t >= .min && t <= .max {
            guard Timestamp.parse(iso) == t, Timestamp.parse(numeric) == t else { fatalError("\(ticks) ticks: \(iso) does not read back") }
        }
        _ = t.date
    }

    // The service's timestamps: the byte reader agrees with the string reader; what reads, prints and reads back.
    let parsed = Timestamp.parse(text)
    guard Timestamp.parse(utf8: data) == parsed else { fatalError("Timestamp.parse(utf8:) disagrees") }
    if let t = parsed {
        guard Timestamp.parse(t.iso) == t, Timestamp.parse(t.format(trimZeros: true, numericZone: true)) == t else {
            fatalError("\(text.debugDescription) read as \(t.ticks) ticks does not print and read back")
        }
    }

    // --start-time / --end-time: never crash; with a zone they agree with the service's reader.
    for zone in [utc, berlin] {
        if let t = try? TimeWindow.time(text, option: "--start-time", zone: zone) {
            _ = t.iso
            if let p = parsed, Timestamp.parse(t.iso) != nil, p != t {
                fatalError("--start-time \(text.debugDescription) is \(t.iso), the service's reader says \(p.iso)")
            }
        }
    }
    // --since and durations.
    if let d = try? TimeWindow.duration(text) {
        guard d.isFinite, d > 0, d <= 100 * 366 * 86_400 else { fatalError("--since \(text.debugDescription) is \(d) s") }
    }
    _ = try? TimeWindow.resolve(since: text, start: nil, end: nil, now: now, zone: berlin)
    if let d = DurationText.seconds(text) {
        // Durations become Int seconds, Duration and tick counts: a century is the most any option means.
        guard d.isFinite, d >= 0, d <= 100 * 366 * 86_400 else { fatalError("duration \(text.debugDescription) is \(d) s") }
    }

    // The service URL: what is accepted is a base URL that, given again, is the same service.
    if let e = try? ServiceEndpoint(text) {
        guard !e.baseURL.hasSuffix("/"), !e.host.isEmpty else { fatalError("endpoint \(e.baseURL.debugDescription)") }
        guard let again = try? ServiceEndpoint(e.baseURL), again == e else {
            fatalError("\(text.debugDescription) gives the base URL \(e.baseURL.debugDescription), which does not give itself")
        }
    }
    // A redirect's Location and Retry-After.
    if let target = ChangeFeedClient.redirectTarget(from: "https://ws-svc.dicom.azurehealthcareapis.com/v2/changefeed?offset=0", location: text),
       target.sameOrigin {
        guard URL(string: target.url)?.host?.lowercased() == "ws-svc.dicom.azurehealthcareapis.com" else {
            fatalError("a redirect to \(target.url.debugDescription) counted as the same origin")
        }
    }
    if let wait = ChangeFeedClient.retryAfter(text) {
        guard wait.isFinite, wait >= 0, wait <= ChangeFeedClient.maxRetryAfter else { fatalError("Retry-After \(text.debugDescription) is \(wait) s") }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ bytes: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    check(bytes.map { Data(bytes: $0, count: size) } ?? Data())
    return 0
}

@_cdecl("fuzz_time_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv, fuzzOne)
}
