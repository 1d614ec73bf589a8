// libFuzzer target `dicom-json`: DICOM JSON metadata (PS3.18 F.2) as the detail view builds
// its tree, RawJSON and JSONValue. Built and run by scripts/fuzz; not part of CI.
import FuzzDriver
import DicomKit
import FeedModel
import Foundation

private func check(_ data: Data) {
    // What the strict reader keeps, the tree reader reads, and the other way round.
    let raw = RawJSON(parsing: data)
    guard (raw == nil) == (JSONValue(parsing: data) == nil) else { fatalError("RawJSON and JSONValue disagree on \(data as NSData)") }
    guard let raw else { return }
    let json = raw.value
    // Written compact (as `feed` writes metadata) and written from the tree, it reads the same.
    var compact: [UInt8] = []
    JSONText.appendCompact(raw, to: &compact)
    guard !compact.contains(0x0A), RawJSON(parsing: Data(compact))?.value == json else { fatalError("appendCompact changed the value") }
    guard RawJSON(json).value == json else { fatalError("JSONValue does not round-trip") }
    // A member read alone is the member of the tree.
    if case .object(let o) = json {
        for (k, v) in o.prefix(8) where raw.member(k)?.value != v { fatalError("member \(k) differs from the tree's") }
    }

    let tree = MetadataTree(json: json)
    _ = MetadataTree.summary(of: json)
    _ = MetadataTree.summary(of: raw)
    // The tree is a well-formed pre-order: parents come first, descendants follow their node.
    for (i, node) in tree.nodes.enumerated() {
        guard node.id == i else { fatalError("node \(i) has id \(node.id)") }
        if let p = node.parent {
            guard p < i, i <= p + tree.nodes[p].descendantCount, tree.nodes[p].depth < node.depth else {
                fatalError("node \(i) is not inside its parent \(p)")
            }
        } else if node.depth != 0 {
            fatalError("top-level node \(i) at depth \(node.depth)")
        }
        guard i + node.descendantCount < tree.count, node.childCount <= node.descendantCount else {
            fatalError("node \(i): \(node.descendantCount) descendants, \(node.childCount) children")
        }
        // Values stay on one line.
        for text in [node.value, node.name, node.keyword, node.vr] where text.unicodeScalars.contains(where: { $0 == "\n" || $0 == "\r" }) {
            fatalError("node \(i) has a line break in \(text.debugDescription)")
        }
        _ = tree.ancestors(of: i)
    }
    let collapsedAll = Set(tree.nodes.indices.filter { tree.nodes[$0].hasChildren })
    let top = tree.visibleNodes(collapsed: collapsedAll)
    guard top.allSatisfy({ tree.nodes[$0].parent == nil }) else { fatalError("a collapsed tree shows nested nodes") }
    guard tree.visibleNodes(collapsed: []).count == tree.count else { fatalError("an expanded tree hides nodes") }
    // Search finds a node by its own value.
    if let node = tree.nodes.last, !node.value.isEmpty {
        guard tree.search(node.value).contains(node.id) else { fatalError("search does not find \(node.value.debugDescription)") }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ bytes: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    check(bytes.map { Data(bytes: $0, count: size) } ?? Data())
    return 0
}

@_cdecl("fuzz_dicom_json_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv, fuzzOne)
}
