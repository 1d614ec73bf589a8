// libFuzzer target `config`: the configuration file (YAML with profiles) and how its settings
// resolve. Built and run by scripts/fuzz; not part of CI.
@testable import Config
import FuzzDriver
import FeedModel
import Foundation

private func check(_ data: Data) {
    let text = String(decoding: data, as: UTF8.self)
    _ = DurationText.seconds(text)
    guard let file = try? ConfigFile.parse(text, path: "fuzz.yaml") else { return }
    // What the parser accepts is what the rest of the app relies on.
    if let wanted = file.defaultProfile, file.profile(named: wanted) == nil { fatalError("default-profile names no profile") }
    for p in file.profiles {
        if let url = p.url, URLCheck.problem(url) != nil { fatalError("profile \(p.name): an unusable url was accepted") }
        if let r = p.refreshBefore, !(r.isFinite && r >= 0 && r <= DurationText.maximum) { fatalError("profile \(p.name): refresh-before \(r)") }
        if let n = p.pageSize, n < 1 { fatalError("profile \(p.name): page-size \(n)") }
        if let n = p.parallel, !(1...32).contains(n) { fatalError("profile \(p.name): parallel \(n)") }
        _ = Resolution.settings(profile: p, file: file, environment: [:], flags: FlagSettings())
    }
    _ = try? Resolution.resolve(file: file, environment: [:], flags: FlagSettings())
    _ = file.knownProfilesText
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ bytes: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    check(bytes.map { Data(bytes: $0, count: size) } ?? Data())
    return 0
}

@_cdecl("fuzz_config_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv, fuzzOne)
}
