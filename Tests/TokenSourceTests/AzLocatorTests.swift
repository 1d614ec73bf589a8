import Foundation
import Testing

@testable import TokenSource

/// An in-memory file system for the locator.
struct FakeFiles: FileInspecting {
    var entries: [String: FileKind]
    func kind(at path: String) -> FileKind { entries[path] ?? .missing }
}

@Suite struct AzLocatorTests {
    static let files = FakeFiles(entries: [
        "/opt/az/bin/az": .file(executable: true),
        "/usr/bin/az": .file(executable: true),
        "/usr/local/bin/az": .file(executable: false),
        "/home/me/bin/az-2.60": .file(executable: true),
        "/home/me/tools/az": .file(executable: true),
        "/home/me/dir": .directory,
        "./az": .file(executable: true),
        "bin/az": .file(executable: true),
    ])

    static func locate(explicit: String? = nil, _ env: [String: String]) throws(TokenError) -> String {
        try AzLocator(explicitPath: explicit, environment: env, files: files).locate()
    }

    @Test func explicitPathWinsOverEnvironmentAndPATH() throws {
        let env = ["DICOMTUI_AZ": "/opt/az/bin/az", "PATH": "/usr/bin"]
        #expect(try Self.locate(explicit: "/home/me/tools/az", env) == "/home/me/tools/az")
        #expect(try Self.locate(env) == "/opt/az/bin/az")
        #expect(try Self.locate(["PATH": "/usr/bin", "DICOMTUI_AZ": "  "]) == "/usr/bin/az")
    }

    @Test func pathSearchSkipsNonExecutableRelativeAndEmptyEntries() throws {
        #expect(try Self.locate(["PATH": "::.:bin:/usr/local/bin:/nowhere:/usr/bin/"]) == "/usr/bin/az")
        #expect(throws: TokenError.azNotExecutable(path: "/usr/local/bin/az")) {
            try Self.locate(["PATH": "/usr/local/bin:/nowhere"])
        }
        #expect(throws: TokenError.azNotFound(searched: "az on PATH")) { try Self.locate(["PATH": ".:/nowhere"]) }
        #expect(throws: TokenError.azNotFound(searched: "az on PATH")) { try Self.locate([:]) }
    }

    @Test func bareNameIsSearchedOnPATH() throws {
        #expect(try Self.locate(explicit: "az-2.60", ["PATH": "/usr/bin:/home/me/bin"]) == "/home/me/bin/az-2.60")
        #expect(throws: TokenError.azNotFound(searched: "az-2.61 on PATH")) {
            try Self.locate(explicit: "az-2.61", ["PATH": "/usr/bin:/home/me/bin"])
        }
    }

    @Test func explicitProblems() {
        #expect(throws: TokenError.azNotFound(searched: "/missing/az (from --az)")) {
            try Self.locate(explicit: "/missing/az", ["PATH": "/usr/bin"])
        }
        #expect(throws: TokenError.azNotFound(searched: "/missing/az (from DICOMTUI_AZ)")) {
            try Self.locate(["DICOMTUI_AZ": "/missing/az", "PATH": "/usr/bin"])
        }
        #expect(throws: TokenError.azNotExecutable(path: "/home/me/dir")) {
            try Self.locate(explicit: "/home/me/dir", [:])
        }
        #expect(throws: TokenError.azNotExecutable(path: "/usr/local/bin/az")) {
            try Self.locate(explicit: "/usr/local/bin/az", [:])
        }
    }

    @Test func relativeAndTildePathsAreHonouredWhenExplicit() throws {
        #expect(try Self.locate(explicit: "./az", [:]) == "./az")
        #expect(try Self.locate(explicit: "~/tools/az", ["HOME": "/home/me"]) == "/home/me/tools/az")
    }
}
