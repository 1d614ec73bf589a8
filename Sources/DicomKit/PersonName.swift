import Foundation

/// A DICOM person name (PS3.5 6.2, value representation PN) as people read it.
public enum PersonName {
    /// `Yamada^Tarou=山田^太郎` → `Yamada, Tarou`: the first group present, its caret-separated
    /// parts (family, given, middle, prefix, suffix) made readable.
    public static func readable(_ pn: String) -> String {
        let group = pn.split(separator: "=", omittingEmptySubsequences: true).first.map(String.init) ?? pn
        let parts = group.split(separator: "^", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        guard parts.count > 1 else { return group }
        let family = parts[0], given = parts[1]
        let rest = parts.dropFirst(2).filter { !$0.isEmpty }
        var out = family
        if !given.isEmpty { out += family.isEmpty ? given : ", " + given }
        if !rest.isEmpty { out += " " + rest.joined(separator: " ") }
        return out
    }
}
