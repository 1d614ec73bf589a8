/// Query-string binding the way the service's ASP.NET Core controller does it: names match
/// case-insensitively, the first value of a repeated name wins, `+` is a space, and every
/// failure becomes a 400 whose plain-text body is
/// `The query parameter '{key}' is invalid. {reason}`.
struct QueryParameters: Sendable {
    private(set) var items: [(name: String, value: String)] = []

    init(_ rawQuery: String?) {
        guard let rawQuery, !rawQuery.isEmpty else { return }
        for part in rawQuery.split(separator: "&", omittingEmptySubsequences: true) {
            if let eq = part.firstIndex(of: "=") {
                items.append((Self.decode(part[..<eq]), Self.decode(part[part.index(after: eq)...])))
            } else {
                items.append((Self.decode(part), ""))
            }
        }
    }

    /// The first value for `name`, compared case-insensitively (ASCII).
    func first(_ name: String) -> String? {
        let wanted = name.lowercased()
        return items.first { $0.name.lowercased() == wanted }?.value
    }

    /// Form decoding: `+` is a space, `%XX` is a byte; malformed escapes stay as they are.
    static func decode(_ s: Substring) -> String {
        guard s.contains(where: { $0 == "%" || $0 == "+" }) else { return String(s) }
        var out: [UInt8] = []
        let u = Array(s.utf8)
        var i = 0
        func hex(_ c: UInt8) -> UInt8? {
            switch c {
            case 48...57: return c - 48
            case 65...70: return c - 55
            case 97...102: return c - 87
            default: return nil
            }
        }
        while i < u.count {
            let c = u[i]
            if c == 43 {
                out.append(32)
            } else if c == 37, i + 2 < u.count, let h = hex(u[i + 1]), let l = hex(u[i + 2]) {
                out.append(h << 4 | l)
                i += 2
            } else {
                out.append(c)
            }
            i += 1
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// A 400 with its plain-text message.
struct BadRequest: Error, Sendable, Equatable {
    var message: String

    /// `key` is the model-state key: the parameter name for v1 (`limit`), the options
    /// property for v2 (`Limit`), and empty for the v2 time-range check.
    init(key: String, reason: String) {
        var reason = reason
        if reason.contains("<"), reason.contains(">") { reason = Self.htmlEncode(reason) }
        message = "The query parameter '\(key)' is invalid. \(reason)"
    }

    static func htmlEncode(_ s: String) -> String {
        var out = ""
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }
}

struct V1Parameters: Sendable, Equatable {
    var offset: Int64 = 0
    var limit: Int = 10
    var includeMetadata = true
}

struct V2Parameters: Sendable, Equatable {
    var startTicks: Int64 = FeedTime.minTicks
    var endTicks: Int64 = FeedTime.maxTicks
    var offset: Int64 = 0
    var limit: Int = 100
    var includeMetadata = true
}

enum QueryBinding {
    /// A parameter's value as the service would convert it.
    enum Converted<T> {
        case absent
        case value(T)
        case failed(reason: String)
    }

    /// `isProperty` picks ASP.NET's message form: properties of an options class name the
    /// property ("… is not valid for Limit."), plain action parameters do not.
    static func integer(_ q: QueryParameters, _ name: String, displayName: String, isProperty: Bool) -> Converted<Int64> {
        guard let raw = q.first(name) else { return .absent }
        let trimmed = raw.trimmingASCIIWhitespace()
        if trimmed.isEmpty { return .failed(reason: "The value '\(raw)' is invalid.") }
        guard let v = Int64(trimmed.hasPrefix("+") ? String(trimmed.dropFirst()) : trimmed) else {
            return .failed(reason: notValid(raw, displayName, isProperty))
        }
        return .value(v)
    }

    static func boolean(_ q: QueryParameters, _ name: String, displayName: String, isProperty: Bool) -> Converted<Bool> {
        guard let raw = q.first(name) else { return .absent }
        let trimmed = raw.trimmingASCIIWhitespace()
        if trimmed.isEmpty { return .failed(reason: "The value '\(raw)' is invalid.") }
        switch trimmed.lowercased() {
        case "true": return .value(true)
        case "false": return .value(false)
        default: return .failed(reason: notValid(raw, displayName, isProperty))
        }
    }

    static func notValid(_ raw: String, _ name: String, _ isProperty: Bool) -> String {
        isProperty ? "The value '\(raw)' is not valid for \(name)." : "The value '\(raw)' is not valid."
    }

    static func range(_ name: String, _ lo: Int64, _ hi: Int64) -> String {
        "The field \(name) must be between \(lo) and \(hi)."
    }

    /// v1 and v1.0-prerelease: `long offset = 0` (0…long.Max), `int limit = 10` (1…100),
    /// `bool includeMetadata = true`. Binding errors first, then range validation.
    static func bindV1(_ q: QueryParameters) -> Result<V1Parameters, BadRequest> {
        var p = V1Parameters()
        let offset = integer(q, "offset", displayName: "offset", isProperty: false)
        let limit = integer(q, "limit", displayName: "limit", isProperty: false)
        let include = boolean(q, "includeMetadata", displayName: "includeMetadata", isProperty: false)
        if case .failed(let reason) = offset { return .failure(BadRequest(key: "offset", reason: reason)) }
        if case .failed(let reason) = limit { return .failure(BadRequest(key: "limit", reason: reason)) }
        if case .value(let v) = limit, v < Int32.min || v > Int32.max {
            return .failure(BadRequest(key: "limit", reason: notValid(q.first("limit") ?? "", "limit", false)))
        }
        if case .failed(let reason) = include { return .failure(BadRequest(key: "includeMetadata", reason: reason)) }
        if case .value(let v) = offset {
            guard v >= 0 else { return .failure(BadRequest(key: "offset", reason: range("offset", 0, Int64.max))) }
            p.offset = v
        }
        if case .value(let v) = limit {
            guard (1...100).contains(v) else { return .failure(BadRequest(key: "limit", reason: range("limit", 1, 100))) }
            p.limit = Int(v)
        }
        if case .value(let v) = include { p.includeMetadata = v }
        return .success(p)
    }

    /// v2: `WindowedPaginationOptions` (StartTime, EndTime with a mandatory zone; Offset ≥ 0;
    /// Limit 1…200) plus `bool includeMetadata = true`; then end must be after start.
    static func bindV2(_ q: QueryParameters) -> Result<V2Parameters, BadRequest> {
        var p = V2Parameters()
        for (name, key) in [("startTime", "StartTime"), ("endTime", "EndTime")] {
            guard let raw = q.first(name), !raw.trimmingASCIIWhitespace().isEmpty else { continue }
            switch FeedTime.parseQueryTime(raw) {
            case .ticks(let t):
                if key == "StartTime" { p.startTicks = t } else { p.endTicks = t }
            case .noZone:
                return .failure(BadRequest(key: key, reason: "Date and time value must specify a time zone."))
            case .invalid:
                // The binder records the FormatException itself, whose model-state message is empty.
                return .failure(BadRequest(key: key, reason: ""))
            }
        }
        let offset = integer(q, "offset", displayName: "Offset", isProperty: true)
        let limit = integer(q, "limit", displayName: "Limit", isProperty: true)
        let include = boolean(q, "includeMetadata", displayName: "includeMetadata", isProperty: false)
        if case .failed(let reason) = offset { return .failure(BadRequest(key: "Offset", reason: reason)) }
        if case .failed(let reason) = limit { return .failure(BadRequest(key: "Limit", reason: reason)) }
        if case .value(let v) = limit, v < Int32.min || v > Int32.max {
            return .failure(BadRequest(key: "Limit", reason: notValid(q.first("limit") ?? "", "Limit", true)))
        }
        if case .failed(let reason) = include { return .failure(BadRequest(key: "includeMetadata", reason: reason)) }
        if case .value(let v) = offset {
            guard v >= 0 else { return .failure(BadRequest(key: "Offset", reason: range("Offset", 0, Int64.max))) }
            p.offset = v
        }
        if case .value(let v) = limit {
            guard (1...200).contains(v) else { return .failure(BadRequest(key: "Limit", reason: range("Limit", 1, 200))) }
            p.limit = Int(v)
        }
        if case .value(let v) = include { p.includeMetadata = v }
        if p.endTicks <= p.startTicks {
            return .failure(BadRequest(
                key: "",
                reason: "The start time '\(FeedTime.format(p.startTicks))' must occur strictly before the end time '\(FeedTime.format(p.endTicks))'."))
        }
        return .success(p)
    }

    /// latest: only `bool includeMetadata = true`.
    static func bindLatest(_ q: QueryParameters) -> Result<Bool, BadRequest> {
        switch boolean(q, "includeMetadata", displayName: "includeMetadata", isProperty: false) {
        case .absent: return .success(true)
        case .value(let v): return .success(v)
        case .failed(let reason): return .failure(BadRequest(key: "includeMetadata", reason: reason))
        }
    }
}

extension String {
    func trimmingASCIIWhitespace() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
              let last = scalars.lastIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        return String(scalars[first...last])
    }
}
