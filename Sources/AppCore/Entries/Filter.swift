import FeedModel

/// A parsed list filter. Terms are separated by spaces and every term must match:
/// - a plain word matches study, series and SOP instance UIDs, patient name and patient ID
///   (case-insensitive substring);
/// - `action:delete`, `state:current`, `modality:CT` narrow by field (`action:` and `state:`
///   take prefixes: `action:del`); `is:unreadable` keeps rows that did not decode;
/// - `a|b` matches either (`state:current|replaced`: alternatives after a field share it);
///   a leading `!` inverts a term (`!state:deleted`).
public struct FeedFilter: Sendable, Equatable {
    public enum Atom: Sendable, Equatable {
        case word(String)
        case actions(Set<ChangeFeedAction>)
        case states(Set<ChangeFeedState>)
        case modality(String)
        case unreadable
    }
    public struct Term: Sendable, Equatable {
        public var negated: Bool
        /// Any one of these.
        public var anyOf: [Atom]
    }
    public var terms: [Term]

    public static let help = "text, action:, state:, modality:, is:unreadable, a|b, !term"

    /// Whether the filter looks at what only an entry's metadata tells (patient name and ID,
    /// modality): a plain word or `modality:`, not negated-only field tests.
    public var usesMetadata: Bool {
        terms.contains { $0.anyOf.contains { atom in
            switch atom {
            case .word, .modality: true
            default: false
            }
        } }
    }

    /// Parses what the user typed: nil for nothing typed; throws what is wrong.
    public static func parse(_ text: String) throws(FilterError) -> FeedFilter? {
        let raw = text.split(whereSeparator: { $0 == " " || $0 == "\t" })
        if raw.isEmpty { return nil }
        var terms: [Term] = []
        for term in raw {
            var t = Substring(term.lowercased())
            let negated = t.hasPrefix("!")
            if negated { t = t.dropFirst() }
            var atoms: [Atom] = []
            var field: Substring?   // `state:cur|rep`: later alternatives share the field
            for alt in t.split(separator: "|") where !alt.isEmpty {
                if let colon = alt.firstIndex(of: ":"), colon != alt.startIndex {
                    field = alt[..<colon]
                    atoms.append(try atom(String(alt)))
                } else if let field {
                    atoms.append(try atom(field + ":" + alt))
                } else {
                    atoms.append(try atom(String(alt)))
                }
            }
            if atoms.isEmpty {
                if negated && t.isEmpty { continue }   // a lone "!" while typing
                throw FilterError("'\(term)' is empty")
            }
            terms.append(Term(negated: negated, anyOf: atoms))
        }
        return terms.isEmpty ? nil : FeedFilter(terms: terms)
    }

    /// True when every row this filter matches is surely matched by `old` too (the user typed
    /// on: a longer word, a narrower field value, another term), so only `old`'s matches need
    /// testing again.
    public func narrows(_ old: FeedFilter) -> Bool {
        guard terms.count >= old.terms.count, let last = old.terms.indices.last else { return false }
        for i in 0..<last where terms[i] != old.terms[i] { return false }
        let (a, b) = (old.terms[last], terms[last])
        if a == b { return true }
        guard !a.negated, !b.negated, a.anyOf.count == 1, b.anyOf.count == 1 else { return false }
        switch (a.anyOf[0], b.anyOf[0]) {
        case (.word(let x), .word(let y)): return y.hasPrefix(x)
        case (.actions(let x), .actions(let y)): return y.isSubset(of: x)
        case (.states(let x), .states(let y)): return y.isSubset(of: x)
        default: return false
        }
    }

    static func atom(_ t: String) throws(FilterError) -> Atom {
        guard let colon = t.firstIndex(of: ":"), colon != t.startIndex else { return .word(t) }
        let key = String(t[..<colon])
        let value = String(t[t.index(after: colon)...])
        if value.isEmpty { throw FilterError("'\(key):' needs a value, e.g. action:delete") }
        switch key {
        case "action":
            let hit = ChangeFeedAction.allCases.filter { $0.rawValue.lowercased().hasPrefix(value) }
            if hit.isEmpty { throw FilterError("no action '\(value)': create, update or delete") }
            return .actions(Set(hit))
        case "state":
            let hit = ChangeFeedState.allCases.filter { $0.rawValue.lowercased().hasPrefix(value) }
            if hit.isEmpty { throw FilterError("no state '\(value)': current, replaced or deleted") }
            return .states(Set(hit))
        case "modality":
            return .modality(value.uppercased())
        case "is" where "unreadable".hasPrefix(value):
            return .unreadable
        default:
            throw FilterError("unknown filter '\(key):' (use \(help))")
        }
    }
}

extension FeedFilter: CustomStringConvertible {
    /// The filter written back in its own grammar: `parse(description)` gives the same filter.
    public var description: String {
        terms.map { term in
            // A word that starts with "!" in a term that is not inverted (typed `|!x`) keeps the
            // empty alternative in front of it, or the "!" would invert the term.
            var lead = term.negated ? "!" : ""
            if !term.negated, case .word(let w)? = term.anyOf.first, w.hasPrefix("!") { lead = "|" }
            return lead + term.anyOf.map { atom in
                switch atom {
                case .word(let w): return w
                case .actions(let set):
                    return ChangeFeedAction.allCases.filter(set.contains).map { "action:" + $0.rawValue.lowercased() }.joined(separator: "|")
                case .states(let set):
                    return ChangeFeedState.allCases.filter(set.contains).map { "state:" + $0.rawValue.lowercased() }.joined(separator: "|")
                case .modality(let m): return "modality:" + m.lowercased()
                case .unreadable: return "is:unreadable"
                }
            }.joined(separator: "|")
        }.reduce("") { text, term in
            guard let last = text.last, let first = term.first else { return term }
            // Terms are split on the character " ": a space that would fuse with its neighbours
            // into one grapheme (a combining mark after it, a prepended mark before it) is no
            // separator, so those take a tab, which never fuses.
            return text + ((String(last) + " " + String(first)).count == 3 ? " " : "\t") + term
        }
    }
}

public struct FilterError: Error, Sendable, Equatable {
    public var message: String
    public init(_ message: String) { self.message = message }
}

/// The filter of the list (`/`): what is typed, what it matches so far.
public struct FilterState: Sendable, Equatable {
    public var text: String = ""
    /// The prompt is open (keys go to the text).
    public var editing = true
    /// The parsed filter; nil when the text is empty or does not parse (the list shows every row).
    public var query: FeedFilter?
    public var error: String?
    /// Store rows that match, ascending.
    public var matches: [Int32] = []

    /// Store rows examined so far (rows that arrive later are examined as they come).
    public var scanned = 0
    /// Rows a wider filter matched, still to test (typing narrowed the filter), and how far.
    public var candidates: [Int32]?
    public var candidateCursor = 0
    /// The store row selected when the filter opened (the selection stays near it).
    public var anchor: Int?

    public init(anchor: Int? = nil) { self.anchor = anchor }
}
