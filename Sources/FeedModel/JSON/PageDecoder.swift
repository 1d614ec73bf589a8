import Foundation

/// Reads change-feed pages and entries straight from the response bytes, in one pass: the
/// fixed fields are read where they stand, `metadata` is checked and kept as `RawJSON`, and
/// nothing else is built. No `Codable` and no errors thrown per field.
///
/// What it accepts, field by field (changefeed-api.md):
/// - keys in any casing (the service writes camelCase, its docs PascalCase). When an element has
///   two keys for one field that differ only in case, the service's own spelling wins, else the
///   one that sorts first, else the first written: never what a dictionary's order happens to be;
/// - `sequence`: a whole number (`42`, also `42.0` or `4.2e1`, as JSONDecoder reads an Int64);
/// - `action` and `state`: names in any casing, or the service's enum numbers;
/// - `timestamp`: every form `Timestamp.parse` reads (0 to 7 fraction digits, `Z` or an offset);
/// - `partitionName`, `filePath`, `metadata`: optional, `null` as absent.
/// An element that is not a readable entry becomes `EntryResult.undecodable` with the reason,
/// what could still be read of it (sequence, time, SOP instance UID) and its text; the page
/// goes on. Only bytes that are not one JSON array (or, for `/latest`, one object) fail a page.
public enum PageDecoder {
    /// The fields, in the order they are checked (the first failing one is the reason given).
    enum Field: Int, CaseIterable {
        case sequence, partitionName, filePath, studyInstanceUid, seriesInstanceUid, sopInstanceUid, action, state,
             timestamp, metadata

        /// The service's spelling.
        var name: String {
            switch self {
            case .sequence: "sequence"
            case .partitionName: "partitionName"
            case .filePath: "filePath"
            case .studyInstanceUid: "studyInstanceUid"
            case .seriesInstanceUid: "seriesInstanceUid"
            case .sopInstanceUid: "sopInstanceUid"
            case .action: "action"
            case .state: "state"
            case .timestamp: "timestamp"
            case .metadata: "metadata"
            }
        }
        static let names: [[UInt8]] = allCases.map { Array($0.name.utf8) }
    }

    /// Where one field's key and value are in an element.
    struct Slot {
        var key: StringSpan
        var valueStart: Int
        var valueEnd: Int
        /// The metadata value is not valid JSON (strict reading): why.
        var invalid: JSONSyntaxError?
        /// A string value's content, found while scanning (read once, not again to decode it).
        var string: StringSpan?
    }

    /// A page: a JSON array of entries.
    public static func page(_ data: Data) -> Result<[EntryResult], JSONSyntaxError> {
        data.withUnsafeBytes { raw in
            var r = JSONReader(raw)
            var results: [EntryResult] = []
            var slots = [Slot?](repeating: nil, count: Field.allCases.count)
            var readable = 0
            do throws(JSONSyntaxError) {
                try r.expect(0x5B, "'[' (a JSON array of entries)")
                r.skipSpace()
                if r.current == 0x5D {
                    r.i += 1
                } else {
                    results.reserveCapacity(256)
                    repeat {
                        r.skipSpace()
                        let result = try element(&r, data: data, slots: &slots, index: results.count, readable: readable)
                        if case .entry = result { readable += 1 }
                        results.append(result)
                    } while try r.more(before: 0x5D, in: "between entries")
                }
                r.skipSpace()
                guard r.atEnd else { throw r.error("nothing after the array") }
                return .success(results)
            } catch {
                return .failure(error)
            }
        }
    }

    /// The body of `/changefeed/latest`: one entry object.
    public static func single(_ data: Data) -> Result<EntryResult, JSONSyntaxError> {
        data.withUnsafeBytes { raw in
            var r = JSONReader(raw)
            var slots = [Slot?](repeating: nil, count: Field.allCases.count)
            do throws(JSONSyntaxError) {
                r.skipSpace()
                guard r.current == 0x7B else { throw r.error("'{' (an entry object)") }
                let result = try element(&r, data: data, slots: &slots, index: 0, readable: 0)
                r.skipSpace()
                guard r.atEnd else { throw r.error("nothing after the object") }
                return .success(result)
            } catch {
                return .failure(error)
            }
        }
    }

    /// Reads one element at the position; throws only when the bytes are not JSON at all.
    static func element(_ r: inout JSONReader, data: Data, slots: inout [Slot?], index: Int,
                        readable: Int) throws(JSONSyntaxError) -> EntryResult {
        let start = r.i
        func text() -> String {
            String(decoding: UnsafeBufferPointer(start: r.base + start, count: r.i - start), as: UTF8.self)
        }
        guard r.current == 0x7B else {
            let kind: String
            switch r.current {
            case 0x5B: kind = "an array"
            case 0x22: kind = "a string"
            case 0x74, 0x66: kind = "a boolean"
            case 0x6E: kind = "null"
            default: kind = "a number"
            }
            try r.skipValue(strict: false)
            return .undecodable(index: index, UnreadableEntry(reason: "the element is \(kind), not an entry object",
                                                              afterEntries: readable, raw: text()))
        }
        for k in slots.indices { slots[k] = nil }
        /// A key that is not text (not UTF-8, a bad escape, a raw control character): as with
        /// `JSONDecoder`, nothing of the element can be read.
        var badKey = false
        r.i += 1
        r.skipSpace()
        if r.current == 0x7D {
            r.i += 1
        } else {
            repeat {
                r.skipSpace()
                let key = try r.scanString(strict: false)
                if (key.nonASCII || key.escaped || key.control) && r.text(key) == nil { badKey = true }
                try r.expect(0x3A, "':' after a key")
                r.skipSpace()
                let valueStart = r.i
                let field = match(key, r)
                var invalid: JSONSyntaxError?
                var string: StringSpan?
                if field == .metadata {
                    do throws(JSONSyntaxError) {
                        try r.skipValue(strict: true)
                    } catch {
                        // Not valid JSON to keep: read over it as the page's syntax allows.
                        invalid = error
                        r.i = valueStart
                        try r.skipValue(strict: false)
                    }
                } else if field != nil && r.current == 0x22 {
                    string = try r.scanString(strict: false)
                } else {
                    try r.skipValue(strict: false)
                }
                if let field {
                    let slot = Slot(key: key, valueStart: valueStart, valueEnd: r.i, invalid: invalid, string: string)
                    if let kept = slots[field.rawValue] {
                        if prefer(slot.key, over: kept.key, field: field, r) { slots[field.rawValue] = slot }
                    } else {
                        slots[field.rawValue] = slot
                    }
                }
            } while try r.more(before: 0x7D, in: "in an entry")
        }
        if badKey {
            return .undecodable(index: index, UnreadableEntry(reason: "a key of the element is not valid text (not UTF-8, a bad escape or a control character)",
                                                              afterEntries: readable, raw: text()))
        }
        switch entry(slots, r, data: data) {
        case .success(let e):
            return .entry(e)
        case .failure(let reason):
            var u = salvage(slots, r)
            u.reason = reason.message
            u.afterEntries = readable
            u.raw = text()
            return .undecodable(index: index, u)
        }
    }

    /// Which field a key names (any casing), if any.
    @inline(__always) static func match(_ key: StringSpan, _ r: JSONReader) -> Field? {
        if key.escaped {
            guard let bytes = r.unescaped(key) else { return nil }
            return bytes.withUnsafeBufferPointer { b in
                b.baseAddress.flatMap { match($0, b.count) }
            }
        }
        return match(r.base + key.start, key.count)
    }

    static func match(_ p: UnsafePointer<UInt8>, _ n: Int) -> Field? {
        // Few candidates share a length; compare the rest only for those.
        for (k, name) in Field.names.enumerated() where name.count == n {
            // `| 0x20` folds ASCII case: the names are letters only, and the only bytes that
            // fold to a lowercase letter are it and its capital.
            var same = true
            for j in 0..<n where p[j] | 0x20 != name[j] | 0x20 {
                same = false
                break
            }
            if same { return Field(rawValue: k) }
        }
        return nil
    }

    /// Between two keys for one field: the service's own spelling, else the smaller, else the first.
    static func prefer(_ new: StringSpan, over kept: StringSpan, field: Field, _ r: JSONReader) -> Bool {
        let own = Field.names[field.rawValue]
        let newBytes = r.unescaped(new) ?? [], keptBytes = r.unescaped(kept) ?? []
        let newOwn = newBytes == own, keptOwn = keptBytes == own
        if newOwn != keptOwn { return newOwn }
        return newBytes.lexicographicallyPrecedes(keptBytes)
    }

    struct Reason: Error { let message: String }

    /// The entry the fields make, or why they make none.
    static func entry(_ slots: [Slot?], _ r: JSONReader, data: Data) -> Result<ChangeFeedEntry, Reason> {
        func value(_ f: Field) -> (Int, Int)? { slots[f.rawValue].map { ($0.valueStart, $0.valueEnd) } }
        func kind(_ start: Int) -> String {
            switch r.base[start] {
            case 0x22: "a string"
            case 0x7B: "an object"
            case 0x5B: "an array"
            case 0x74, 0x66: "a boolean"
            case 0x6E: "null"
            default: "a number"
            }
        }
        func required(_ f: Field) -> Result<(Int, Int), Reason> {
            guard let v = value(f) else { return .failure(Reason(message: "missing field '\(f.name)'")) }
            return .success(v)
        }
        func string(_ f: Field, optional: Bool) -> Result<String?, Reason> {
            guard let slot = slots[f.rawValue] else {
                return optional ? .success(nil) : .failure(Reason(message: "missing field '\(f.name)'"))
            }
            let s = slot.valueStart
            if r.base[s] == 0x6E && optional { return .success(nil) }
            guard let span = slot.string else {
                return .failure(Reason(message: "field '\(f.name)' is \(kind(s)), not a string"))
            }
            guard let text = r.text(span) else {
                return .failure(Reason(message: "field '\(f.name)' is not a valid string (a bad escape or not UTF-8)"))
            }
            return .success(text)
        }
        /// A name or an enum number, as text.
        func enumText(_ f: Field) -> Result<String, Reason> {
            guard let (s, e) = value(f) else { return .failure(Reason(message: "missing field '\(f.name)'")) }
            if r.base[s] == 0x22 { return string(f, optional: false).map { $0 ?? "" } }
            if let n = r.wholeNumber(s, e) { return .success(String(n)) }
            return .failure(Reason(message: "field '\(f.name)' is neither a string nor a number"))
        }

        let sequence: Int64
        switch required(.sequence) {
        case .failure(let why): return .failure(why)
        case .success(let (s, e)):
            guard let n = r.wholeNumber(s, e) else {
                let what = r.base[s] == 0x2D || (r.base[s] >= 0x30 && r.base[s] <= 0x39)
                    ? "not a whole number that fits in 64 bits"
                    : "\(kind(s)), not a number"
                return .failure(Reason(message: "field 'sequence' is \(what)"))
            }
            sequence = n
        }
        let partitionName: String?, filePath: String?, study: String, series: String, sop: String
        switch string(.partitionName, optional: true) { case .failure(let why): return .failure(why); case .success(let v): partitionName = v }
        switch string(.filePath, optional: true) { case .failure(let why): return .failure(why); case .success(let v): filePath = v }
        switch string(.studyInstanceUid, optional: false) { case .failure(let why): return .failure(why); case .success(let v): study = v! }
        switch string(.seriesInstanceUid, optional: false) { case .failure(let why): return .failure(why); case .success(let v): series = v! }
        switch string(.sopInstanceUid, optional: false) { case .failure(let why): return .failure(why); case .success(let v): sop = v! }
        let action: ChangeFeedAction, state: ChangeFeedState
        switch enumText(.action) {
        case .failure(let why): return .failure(why)
        case .success(let text):
            guard let a = ChangeFeedAction(wire: text) else { return .failure(Reason(message: "unknown action '\(text)'")) }
            action = a
        }
        switch enumText(.state) {
        case .failure(let why): return .failure(why)
        case .success(let text):
            guard let s = ChangeFeedState(wire: text) else { return .failure(Reason(message: "unknown state '\(text)'")) }
            state = s
        }
        let timestamp: Timestamp
        if let span = slots[Field.timestamp.rawValue]?.string, !span.escaped, !span.nonASCII, !span.control,
           let t = Timestamp.parse(utf8: UnsafeBufferPointer(start: r.base + span.start, count: span.count)) {
            timestamp = t   // the usual case: read from the bytes, no text made
        } else {
            switch string(.timestamp, optional: false) {
            case .failure(let why): return .failure(why)
            case .success(let text):
                guard let t = Timestamp.parse(text!) else {
                    return .failure(Reason(message: "timestamp '\(text!)' is not ISO 8601 with a zone"))
                }
                timestamp = t
            }
        }
        var metadata: RawJSON?
        if let slot = slots[Field.metadata.rawValue] {
            if let bad = slot.invalid {
                return .failure(Reason(message: "field 'metadata' is not valid JSON (\(bad.message))"))
            }
            if r.base[slot.valueStart] != 0x6E {
                let b = data.startIndex
                metadata = RawJSON(checked: data[b + slot.valueStart ..< b + slot.valueEnd])
            }
        }
        return .success(ChangeFeedEntry(sequence: sequence, partitionName: partitionName, filePath: filePath,
                                        studyInstanceUid: study, seriesInstanceUid: series, sopInstanceUid: sop,
                                        action: action, timestamp: timestamp, state: state, metadata: metadata))
    }

    /// What can be read of an element that is not an entry: its sequence (a number, or a number
    /// written as a string), its time and its SOP instance UID.
    static func salvage(_ slots: [Slot?], _ r: JSONReader) -> UnreadableEntry {
        var u = UnreadableEntry(reason: "")
        func stringValue(_ f: Field) -> String? {
            slots[f.rawValue]?.string.flatMap { r.text($0) }
        }
        if let slot = slots[Field.sequence.rawValue] {
            u.sequence = r.wholeNumber(slot.valueStart, slot.valueEnd)
                ?? stringValue(.sequence).flatMap { Int64($0.trimmingCharacters(in: .whitespaces)) }
        }
        u.timestamp = stringValue(.timestamp).flatMap(Timestamp.parse)
        u.sopInstanceUid = stringValue(.sopInstanceUid)
        return u
    }
}
