import DicomKit
import FeedModel
import Foundation

/// One line of the detail view: a field of the entry, a heading, a metadata node, or a message.
public struct DetailLine: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case heading
        case field
        /// A node of `DetailState.tree`.
        case node(Int)
        case message
        case problem
    }
    public var kind: Kind
    public var label: String
    public var value: String
    /// What `y` copies on this line (nil: nothing).
    public var copyText: String?

    public init(_ kind: Kind, _ label: String, _ value: String = "", copy: String? = nil) {
        self.kind = kind; self.label = label; self.value = value; self.copyText = copy
    }

    /// The text a search looks in (nodes are searched through the tree).
    var searchText: String { (label + " " + value).lowercased() }
}

extension RowSummary {
    /// What the list shows of an instance's metadata. The patient name keeps all its groups in
    /// DICOM's own form (`Yamada^Tarou=山田^太郎=やまだ^たろう`), so the filter finds a name by any of
    /// them; the list shows the first group present.
    public init(metadata: RawJSON) {
        let s = MetadataTree.summary(of: metadata)
        self.init(patientName: s.patientNameGroups ?? s.patientName, patientID: s.patientID, modality: s.modality)
    }
}

extension AppState {
    /// The lines of the open detail view: the entry's fields, then its metadata (or why there
    /// is none yet).
    public var detailLines: [DetailLine] {
        guard let d = detail, d.row < entries.count else { return [] }
        let row = entries[d.row]
        var lines: [DetailLine] = []
        var shown: ChangeFeedEntry?
        if case .loaded(let e) = d.load { shown = e }
        if let reason = row.unreadable {
            lines.append(DetailLine(.heading, "Unreadable element"))
            lines.append(DetailLine(.problem, "Reason", reason, copy: reason))
            lines.append(DetailLine(.field, "Sequence", row.sequenceKnown ? String(row.sequence) : "unknown",
                                    copy: row.sequenceKnown ? String(row.sequence) : nil))
            let time = row.timeKnown ? Format.preciseDateTime(row.timestamp, in: timeZone) : "unknown"
            lines.append(DetailLine(.field, "Timestamp", time, copy: row.timeKnown ? row.timestamp.iso : nil))
            if !row.sopInstanceUid.isEmpty {
                lines.append(DetailLine(.field, "SOP Instance UID", row.sopInstanceUid, copy: row.sopInstanceUid))
            }
            lines.append(DetailLine(.message, "The service sent this element of the page in a shape that is not a change-feed entry; the rest of the page was kept."))
            return lines
        }
        lines.append(DetailLine(.heading, "Change-feed entry"))
        func field(_ label: String, _ value: String?) {
            guard let value, !value.isEmpty else { return }
            lines.append(DetailLine(.field, label, value, copy: value))
        }
        field("Sequence", String(row.sequence))
        let stamp = Format.preciseDateTime(shown?.timestamp ?? row.timestamp, in: timeZone)
        field("Timestamp", stamp)
        field("Action", (shown?.action ?? row.action).rawValue)
        field("State", (shown?.state ?? row.state).rawValue)
        field("Partition", shown?.partitionName)
        field("Study Instance UID", row.studyInstanceUid)
        field("Series Instance UID", row.seriesInstanceUid)
        field("SOP Instance UID", row.sopInstanceUid)
        field("File path", shown?.filePath)
        switch d.load {
        case .loading:
            lines.append(DetailLine(.heading, "DICOM metadata"))
            lines.append(DetailLine(.message, "Loading the metadata…"))
        case .notFound:
            lines.append(DetailLine(.heading, "DICOM metadata"))
            lines.append(DetailLine(.message, "The service has no entry \(row.sequence) any more."))
        case .failed(let p):
            lines.append(DetailLine(.heading, "DICOM metadata"))
            lines.append(DetailLine(.problem, "Could not load it", p.message, copy: p.message))
            if let hint = p.hint { lines.append(DetailLine(.message, hint)) }
        case .unreadable(let why):
            lines.append(DetailLine(.problem, "Unreadable", why))
        case .loaded(let e):
            guard let tree = d.tree, !tree.isEmpty else {
                lines.append(DetailLine(.heading, "DICOM metadata"))
                lines.append(DetailLine(.message, e.state == .deleted || e.metadata == nil && e.action == .delete
                    ? "No metadata: the instance has been deleted."
                    : "The service sent no metadata for this entry."))
                return lines
            }
            let attributes = tree.nodes.filter { $0.depth == 0 }.count
            lines.append(DetailLine(.heading, "DICOM metadata (\(attributes) attributes\(e.state == .current ? "" : ", of the instance's current version"))"))
            for id in tree.visibleNodes(collapsed: d.collapsed) {
                let n = tree[id]
                lines.append(DetailLine(.node(id), n.name, n.value, copy: n.copyText.isEmpty ? nil : n.copyText))
            }
        }
        return lines
    }
}
