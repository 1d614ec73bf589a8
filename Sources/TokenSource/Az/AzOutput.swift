import FeedModel
import Foundation

/// Pure parsing of what az prints: no processes here.
public enum AzOutput {
    /// Parses `az account get-access-token --output json`.
    ///
    /// Expiry, in order: `expires_on` (integer or numeric string, POSIX seconds); else
    /// `expiresOn` read as wall-clock time in `localTimeZone` (the az process's zone: it
    /// inherits ours); else the JWT `exp` claim; else five minutes from `now` (az promises
    /// at least that). `"N/A"` and `null` count as absent.
    ///
    /// Errors never quote stdout, since it may hold a token.
    public static func parseAccessToken(
        _ stdout: Data, localTimeZone: TimeZone = .current, now: Date = Date()
    ) throws(TokenError) -> AccessToken {
        let data = stripBOM(stdout)
        guard !data.allSatisfy(isJSONWhitespace) else {
            throw .badOutput(reason: "nothing on stdout")
        }
        guard let root = JSONValue(parsing: data) else {
            throw .badOutput(reason: "stdout is not JSON (\(data.count) bytes)")
        }
        guard case .object(let dict) = root else {
            throw .badOutput(reason: "stdout is JSON but not an object")
        }
        guard case .string(let raw)? = dict["accessToken"] else {
            throw .badOutput(reason: "the JSON has no accessToken string")
        }
        let token = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !token.isEmpty else { throw .badOutput(reason: "accessToken is empty") }
        guard token.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }) else {
            throw .badOutput(reason: "accessToken contains characters a bearer token cannot have")
        }
        if case .string(let type)? = dict["tokenType"], type.caseInsensitiveCompare("Bearer") != .orderedSame {
            throw .badOutput(reason: "tokenType is \(type.prefix(20)), not Bearer")
        }
        let tenant = nonEmptyString(dict["tenant"])
        let subscription = nonEmptyString(dict["subscription"])

        let expiry: (Date, ExpirySource)
        if let seconds = epochSeconds(dict["expires_on"]) {
            expiry = (Date(timeIntervalSince1970: seconds), .expiresOn)
        } else if let text = nonEmptyString(dict["expiresOn"]), let date = parseLocalTime(text, in: localTimeZone) {
            expiry = (date, .localTime)
        } else if let exp = TokenClaims(jwt: token)?.exp {
            expiry = (exp, .jwtClaim)
        } else {
            expiry = (now.addingTimeInterval(5 * 60), .assumed)
        }
        return AccessToken(
            token, expiresOn: expiry.0, expirySource: expiry.1, tenant: tenant, subscription: subscription)
    }

    /// Parses `az account show --output json`.
    public static func parseAccount(_ stdout: Data) throws(TokenError) -> AccountInfo {
        let data = stripBOM(stdout)
        guard case .object(let dict)? = JSONValue(parsing: data) else {
            throw .badOutput(reason: "az account show did not print a JSON object")
        }
        let user = dict["user"]?.objectValue ?? [:]
        return AccountInfo(
            userName: nonEmptyString(user["name"]), userType: nonEmptyString(user["type"]),
            tenantId: nonEmptyString(dict["tenantId"]),
            tenantDisplayName: nonEmptyString(dict["tenantDisplayName"]),
            tenantDefaultDomain: nonEmptyString(dict["tenantDefaultDomain"]),
            homeTenantId: nonEmptyString(dict["homeTenantId"]),
            subscriptionId: nonEmptyString(dict["id"]), subscriptionName: nonEmptyString(dict["name"]),
            state: nonEmptyString(dict["state"]), environmentName: nonEmptyString(dict["environmentName"]))
    }

    /// `expires_on` as an integer, a float, or a numeric string; anything else is absent.
    static func epochSeconds(_ value: JSONValue?) -> Double? {
        let seconds: Double?
        switch value {
        case .number(let n)?: seconds = n
        case .string(let s)?: seconds = Double(s.trimmingCharacters(in: .whitespaces))
        default: seconds = nil
        }
        // Plausible POSIX seconds only (not milliseconds, not negative).
        guard let seconds, seconds.isFinite, seconds > 0, seconds < 1e11 else { return nil }
        return seconds
    }

    /// `YYYY-MM-DD HH:MM:SS[.ffffff]` (also with `T`), read as wall-clock time in `zone`.
    static func parseLocalTime(_ text: String, in zone: TimeZone) -> Date? {
        let s = text.trimmingCharacters(in: .whitespaces)
        let scalars = Array(s.unicodeScalars)
        func digits(_ range: Range<Int>) -> Int? {
            guard range.upperBound <= scalars.count else { return nil }
            var value = 0
            for i in range {
                guard scalars[i].isASCII, let d = Int(String(scalars[i])) else { return nil }
                value = value * 10 + d
            }
            return value
        }
        guard scalars.count >= 19,
            scalars[4] == "-", scalars[7] == "-", scalars[10] == " " || scalars[10] == "T",
            scalars[13] == ":", scalars[16] == ":",
            let year = digits(0..<4), let month = digits(5..<7), let day = digits(8..<10),
            let hour = digits(11..<13), let minute = digits(14..<16), let second = digits(17..<19),
            (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        var fraction = 0.0
        if scalars.count > 19 {
            guard scalars[19] == ".", scalars.count > 20, scalars.count <= 29,
                let f = digits(20..<scalars.count)
            else { return nil }
            fraction = Double(f) / pow(10, Double(scalars.count - 20))
        }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let components = DateComponents(
            year: year, month: month, day: day, hour: hour, minute: minute, second: second)
        guard let date = calendar.date(from: components) else { return nil }
        return date.addingTimeInterval(fraction)
    }

    static func nonEmptyString(_ value: JSONValue?) -> String? {
        guard case .string(let s)? = value else { return nil }
        let trimmed = s.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.isEmpty || trimmed == "N/A" { return nil }
        return trimmed
    }

    private static func stripBOM(_ data: Data) -> Data {
        data.starts(with: [0xEF, 0xBB, 0xBF]) ? data.dropFirst(3) : data
    }

    private static func isJSONWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
    }
}

// MARK: - stderr

extension AzOutput {
    /// Longest summary we hand to the UI.
    static let summaryLimit = 600

    /// Turns a failed az run (non-zero exit) into a ``TokenError``, from stderr alone.
    public static func classifyFailure(exitCode: Int32, stderrLines: [String]) -> TokenError {
        let lines = stderrLines.map { $0.trimmingCharacters(in: .whitespaces) }
        let text = lines.joined(separator: "\n")

        if text.contains("Please run 'az login'")
            || text.contains("does not exist in MSAL token cache")
            || text.contains("Can't find token from MSAL cache")
        {
            return .notLoggedIn(azMessage: trim(errorBlock(stderrLines)))
        }
        // A managed-identity endpoint's error: `ERROR: 400, <its message>` (azure-cli.md). az
        // recommends `az login`, yet the identity, not a sign-in, is what is wrong.
        if let first = lines.first(where: { $0.hasPrefix("ERROR:") }).map(stripLevel),
           first.range(of: #"^[1-5][0-9][0-9], "#, options: .regularExpression) != nil {
            return .identityEndpointError(message: trim(first))
        }
        if text.contains("Interactive authentication is needed")
            || text.contains("Run the command below to authenticate interactively")
        {
            return .interactionRequired(aadMessage: trim(errorBlock(stderrLines)))
        }
        return .failed(exitCode: exitCode, stderrSummary: summarize(stderrLines))
    }

    /// The error text az printed: a collapsed traceback, else the `ERROR:` block, else the
    /// last few non-empty lines. Trimmed to ``summaryLimit`` characters.
    static func summarize(_ stderrLines: [String]) -> String {
        if let exceptionLine = tracebackLastLine(stderrLines) {
            var headline = stderrLines.first(where: { $0.hasPrefix("ERROR:") }).map(stripLevel) ?? ""
            if let range = headline.range(of: "Here is the traceback") {
                headline = String(headline[..<range.lowerBound])
            }
            headline = headline.trimmingCharacters(in: CharacterSet(charactersIn: " :"))
            if !headline.isEmpty {
                return trim("\(headline) \(exceptionLine)")
            }
            return trim(exceptionLine)
        }
        let block = errorBlock(stderrLines)
        if !block.isEmpty { return trim(block) }
        let tail = stderrLines.map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("WARNING:") }
            .suffix(3)
        return trim(tail.joined(separator: "\n"))
    }

    /// The message of the first `ERROR:` line plus its continuation lines (AADSTS text,
    /// `Trace ID:` ...), stopping at az's recommendation ("Run the command below ...",
    /// "Interactive authentication is needed ...") or the next log line.
    static func errorBlock(_ stderrLines: [String]) -> String {
        guard let start = stderrLines.firstIndex(where: { $0.hasPrefix("ERROR:") }) else { return "" }
        var block = [stripLevel(stderrLines[start])]
        for line in stderrLines[(start + 1)...] {
            let t = line.trimmingCharacters(in: .whitespaces)
            if t.isEmpty || t.hasPrefix("WARNING:") || t.hasPrefix("ERROR:") || isRecommendation(t) { break }
            block.append(t)
            if block.count >= 6 { break }
        }
        return block.joined(separator: "\n")
    }

    private static func isRecommendation(_ line: String) -> Bool {
        line.hasPrefix("Run the command below") || line.hasPrefix("Interactive authentication is needed")
            || line.hasPrefix("To re-authenticate") || line.hasPrefix("az login") || line.hasPrefix("az logout")
            || line.hasPrefix("To check existing issues") || line.hasPrefix("To open an issue")
    }

    /// For a Python traceback, the exception line that ends the last traceback block
    /// (e.g. `requests.exceptions.ConnectionError: ...`), or nil if there is no traceback.
    static func tracebackLastLine(_ stderrLines: [String]) -> String? {
        guard let start = stderrLines.lastIndex(where: { $0.hasPrefix("Traceback (most recent call last)") })
        else { return nil }
        for line in stderrLines[(start + 1)...] {
            if line.isEmpty || line.first == " " || line.first == "\t" { continue }
            let t = line.trimmingCharacters(in: .whitespaces)
            return t
        }
        return nil
    }

    private static func stripLevel(_ line: String) -> String {
        var s = Substring(line)
        if s.hasPrefix("ERROR:") { s = s.dropFirst("ERROR:".count) }
        return s.trimmingCharacters(in: .whitespaces)
    }

    static func trim(_ text: String) -> String {
        let t = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard t.count > summaryLimit else { return t }
        return String(t.prefix(summaryLimit - 1)) + "…"
    }
}
