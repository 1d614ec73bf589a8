import AppCore
import FeedModel
import Foundation

/// Where the last run stopped reading, per service URL and API version, so the next run
/// continues from there. Kept in `$XDG_STATE_HOME/dicomtui/positions.json` (default
/// `~/.local/state`), readable by the user only. Only positions and times: never a token.
struct PositionStore {
    struct Saved: Codable, Equatable {
        var afterSequence: Int64
        /// Written by earlier versions (rows to skip at `startTime`); read and ignored: rows
        /// read again are recognised by sequence.
        var offset: Int64?
        /// Exact (7 fraction digits, UTC).
        var startTime: String?
        var savedAt: String
    }

    let file: URL

    init(file: URL) { self.file = file }

    static func standard(environment: [String: String] = ProcessInfo.processInfo.environment) -> PositionStore? {
        let base = environment["XDG_STATE_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? environment["HOME"].map { $0 + "/.local/state" }
        guard let base else { return nil }
        return PositionStore(file: URL(fileURLWithPath: base).appendingPathComponent("dicomtui/positions.json"))
    }

    static func key(_ url: String, _ version: APIVersion) -> String { "\(url) \(version.rawValue)" }

    func load() -> [String: Saved] {
        guard let data = try? Data(contentsOf: file) else { return [:] }
        return (try? JSONDecoder().decode([String: Saved].self, from: data)) ?? [:]
    }

    func position(for url: String, _ version: APIVersion) -> (FeedCursor.Start, savedAt: Date)? {
        guard let saved = load()[Self.key(url, version)] else { return nil }
        let start = saved.startTime.flatMap(Timestamp.parse)
        return (FeedCursor.Start(afterSequence: saved.afterSequence, startTime: start),
                Timestamp.parse(saved.savedAt)?.date ?? Date(timeIntervalSince1970: 0))
    }

    func save(_ point: FeedCursor.Start, for url: String, _ version: APIVersion, now: Date = Date()) throws {
        var all = load()
        all[Self.key(url, version)] = Saved(afterSequence: point.afterSequence, offset: nil,
                                            startTime: point.startTime?.iso,
                                            savedAt: Timestamp(now).format(fractionDigits: 0))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let dir = file.deletingLastPathComponent()
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try encoder.encode(all).write(to: file, options: .atomic)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file.path)
    }
}
