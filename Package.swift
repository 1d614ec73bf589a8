// swift-tools-version:6.0
// dicomtui: a terminal UI for the DICOM change feed of Azure Health Data Services.
// One target per layer; see README.md, "Architecture".
import PackageDescription

let package = Package(
    name: "dicomtui",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "dicomtui", targets: ["dicomtui"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/swiftlang/swift-subprocess.git", from: "1.0.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/swiftcsv/SwiftCSV.git", from: "0.10.0"),
    ],
    targets: [
        // 1. ncursesw, seen from Swift: a module map and a shim header. Imported only by Terminal.
        .systemLibrary(
            name: "CNcursesw", path: "Sources/CNcursesw",
            providers: [.apt(["libncurses-dev"]), .brew(["ncurses"])]),
        // 2. The terminal vocabulary, pure Swift: Canvas (a grid of cells), Style, Key,
        //    display widths and the sanitizer every string passes through before it is drawn.
        .target(name: "TerminalKit"),
        // 3. The only code that calls curses: CursesTerminal, the in-memory MemoryTerminal,
        //    the wake pipe, signal routing and the crash guard.
        .target(name: "Terminal", dependencies: ["CNcursesw", "TerminalKit"]),
        // 4. The change-feed data model shared by client, emulator and core (entries, enums, timestamps, DICOM JSON).
        .target(name: "FeedModel"),
        // 5. The pure app core: state, events, update -> effects. No curses, no HTTP, no processes.
        .target(name: "AppCore", dependencies: ["FeedModel", "TerminalKit"]),
        // 6. Views: render AppState into a Canvas. No curses.
        .target(name: "Views", dependencies: ["AppCore", "FeedModel", "TerminalKit"]),
        // 7. The change-feed HTTP client and background fetcher.
        .target(name: "ChangeFeedClient", dependencies: [
            "FeedModel",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
        ]),
        // 8. Where tokens come from: the az CLI runner, JWT claims, the demo token source.
        .target(name: "TokenSource", dependencies: [
            .product(name: "Subprocess", package: "swift-subprocess"),
        ]),
        // 9. The change-feed API emulator (Hummingbird), with a deterministic DICOM dataset.
        .target(name: "Emulator", dependencies: [
            "FeedModel",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // 10. The configuration file (YAML, profiles) and the precedence flags > environment > file.
        //     Pure: the file is read in one place, everything else works on values.
        .target(name: "Config", dependencies: [
            "FeedModel", "ChangeFeedClient",
            .product(name: "Yams", package: "Yams"),
        ]),
        // 11. Script mode: entry writers (NDJSON, JSON, CSV), the token report, and the plain
        //     authorization source the `feed` command hands to the Fetcher. No terminal, no curses.
        .target(name: "ScriptMode", dependencies: ["FeedModel", "ChangeFeedClient", "TokenSource"]),
        // 12. Wiring: the run loop, the effects executor, options. Everything meets here.
        .target(name: "AppRuntime", dependencies: [
            "AppCore", "Views", "Terminal", "TerminalKit", "FeedModel",
            "ChangeFeedClient", "TokenSource", "Emulator", "ScriptMode", "Config",
        ]),
        // 13. The thin executable: argument parsing and a call into AppRuntime.
        .executableTarget(name: "dicomtui", dependencies: [
            "AppRuntime", "Config", "Emulator",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // Rerunnable measurements (memory per entry, fetch throughput), each against a peer.
        .executableTarget(name: "dicomtui-bench", dependencies: ["AppCore", "ChangeFeedClient", "Emulator", "FeedModel"]),

        .testTarget(name: "TerminalKitTests", dependencies: ["TerminalKit"]),
        .testTarget(name: "TerminalTests", dependencies: ["Terminal", "TerminalKit"]),
        .testTarget(name: "FeedModelTests", dependencies: ["FeedModel"]),
        .testTarget(name: "AppCoreTests", dependencies: ["AppCore", "FeedModel", "TerminalKit"]),
        .testTarget(name: "ViewsTests", dependencies: ["Views", "AppCore", "FeedModel", "TerminalKit", "Terminal"],
                    exclude: ["__Snapshots__"]),
        .testTarget(name: "TokenSourceTests", dependencies: ["TokenSource", "TestSupport"]),
        .testTarget(name: "EmulatorTests", dependencies: [
            "Emulator", "FeedModel",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
        ]),
        .testTarget(name: "ChangeFeedClientTests", dependencies: ["ChangeFeedClient", "Emulator", "FeedModel"]),
        // Drives the built dicomtui binary in a private tmux server (shared by the suites below).
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "EndToEndTests", dependencies: ["Emulator", "FeedModel", "TokenSource", "TestSupport"]),
        .testTarget(name: "ConfigTests", dependencies: ["Config", "FeedModel"]),
        // Runs the built binary's `token` and `feed` commands against an in-process emulator.
        .testTarget(name: "ScriptModeTests", dependencies: [
            "ScriptMode", "Emulator", "FeedModel", "TokenSource", "TestSupport",
            .product(name: "SwiftCSV", package: "SwiftCSV"),
        ]),
        // The real Azure CLI, offline: local managed-identity and sign-in services (Fixtures/).
        .testTarget(name: "RealAzTests", dependencies: ["TokenSource", "Emulator", "TestSupport"], exclude: ["Fixtures"]),
    ],
    swiftLanguageModes: [.v6]
)
