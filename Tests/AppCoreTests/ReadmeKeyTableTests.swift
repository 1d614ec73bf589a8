import AppCore
import Foundation
import Testing

/// The README's key tables list every binding of `KeyTable`, and no key the table lacks: the
/// first table the list's keys and those that work everywhere, the second a row per other view.
@Suite struct ReadmeKeyTableTests {
    static let readme: String = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return (try? String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)) ?? ""
    }()

    /// The body rows of the markdown table whose header line is `header`, as cells.
    static func table(_ header: String) -> [[String]] {
        let lines = readme.components(separatedBy: "\n")
        guard let start = lines.firstIndex(of: header) else { return [] }
        return lines[(start + 2)...].prefix { $0.hasPrefix("|") }.map { line in
            line.split(separator: "|", omittingEmptySubsequences: false).dropFirst().dropLast()
                .map { $0.trimmingCharacters(in: .whitespaces) }
        }
    }

    /// The keys a cell names: its code spans (`` `j` `k` `` → j, k).
    static func names(in cell: String) -> Set<String> {
        Set(cell.split(separator: "`", omittingEmptySubsequences: false).enumerated().filter { $0.offset % 2 == 1 }.map { String($0.element) })
    }

    /// The keys a view binds, as the README names them.
    static func bound(_ views: KeyView...) -> Set<String> {
        Set(views.flatMap { KeyTable.bindings($0).flatMap(\.keys) }.map(KeyBinding.name))
    }

    @Test func theKeyTableListsTheListsKeysAndThoseThatWorkEverywhere() {
        let rows = Self.table("| key | does |")
        #expect(!rows.isEmpty, "README.md has no table headed | key | does |")
        let listed = rows.reduce(into: Set<String>()) { $0.formUnion(Self.names(in: $1.first ?? "")) }
        let bound = Self.bound(.list, .everywhere)
        #expect(bound.subtracting(listed).isEmpty, "bound but not in the README: \(bound.subtracting(listed).sorted())")
        #expect(listed.subtracting(bound).isEmpty, "in the README but not bound: \(listed.subtracting(bound).sorted())")
    }

    @Test(arguments: KeyView.allCases.filter { $0 != .list && $0 != .everywhere })
    func theOtherViewsTableListsEachViewsKeys(view: KeyView) throws {
        let rows = Self.table("| view | keys |").filter { $0.first?.hasPrefix(view.name) == true }
        try #require(rows.count == 1, "README.md's | view | keys | table needs one row for the \(view.name)")
        let listed = Self.names(in: rows[0].dropFirst().joined(separator: " "))
        let bound = Self.bound(view)
        #expect(bound.subtracting(listed).isEmpty, "\(view.name): bound but not in the README: \(bound.subtracting(listed).sorted())")
        #expect(listed.subtracting(bound).isEmpty, "\(view.name): in the README but not bound: \(listed.subtracting(bound).sorted())")
    }
}
