import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What `az login --use-device-code` asks the user to do: open `url`, enter `code`.
/// The text comes from Entra ID, not from az, so it is parsed loosely.
public struct DeviceCodePrompt: Sendable, Equatable {
    public var url: String
    public var code: String
    /// The whole line as az printed it.
    public var message: String

    public init(url: String, code: String, message: String) {
        self.url = url; self.code = code; self.message = message
    }

    /// Finds the sign-in URL and the code in a line such as
    /// `To sign in, use a web browser to open the page https://microsoft.com/devicelogin and enter the code FAKE1234 to authenticate.`
    public static func parse(_ line: String) -> DeviceCodePrompt? {
        let text = line.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let urlRange = text.range(of: #"https?://[^\s]+"#, options: .regularExpression) else { return nil }
        var url = String(text[urlRange])
        while let last = url.last, ".,;)".contains(last) { url.removeLast() }
        guard let codeRange = text.range(of: #"(?i)\bcode\s+([A-Z0-9][A-Z0-9-]{3,})"#, options: .regularExpression) else { return nil }
        let code = text[codeRange].split(separator: " ").last.map(String.init) ?? ""
        guard code.contains(where: \.isNumber) || code == code.uppercased() else { return nil }
        return DeviceCodePrompt(url: url, code: code, message: text)
    }
}

/// A token issuer that can sign the user in: from inside the UI with a device code, or by
/// handing the terminal to the CLI's own sign-in.
public protocol SignInCapable: Sendable {
    /// Runs a device-code sign-in. `onPrompt` is called once the code is known; returns when the
    /// user has signed in. Cancelling the task ends the sign-in (the child gets SIGTERM).
    func signInWithDeviceCode(onPrompt: @escaping @Sendable (DeviceCodePrompt) -> Void) async throws(TokenError)
    /// The program and arguments of an interactive sign-in that owns the terminal (`az login`).
    func interactiveSignInCommand() throws(TokenError) -> (path: String, arguments: [String])
}

extension AzCLI {
    /// `az login --use-device-code [--tenant=T] --output json`: the message goes to stderr as
    /// soon as the code is issued; az then waits (up to about 15 minutes) for the user.
    public static func deviceCodeLoginArguments(tenant: String?) -> [String] {
        var args = ["login", "--use-device-code"]
        if let tenant, !tenant.isEmpty { args.append("--tenant=\(tenant)") }
        return args + ["--output", "json"]
    }

    public func loginWithDeviceCode(tenant: String?, onPrompt: @escaping @Sendable (DeviceCodePrompt) -> Void)
        async throws(TokenError) {
        _ = try await run(Self.deviceCodeLoginArguments(tenant: tenant), timeout: .seconds(20 * 60)) { line in
            if let prompt = DeviceCodePrompt.parse(line) { onPrompt(prompt) }
        }
    }
}

extension AzTokenIssuer: SignInCapable {
    public func signInWithDeviceCode(onPrompt: @escaping @Sendable (DeviceCodePrompt) -> Void) async throws(TokenError) {
        try await cli.loginWithDeviceCode(tenant: tenant, onPrompt: onPrompt)
    }

    public func interactiveSignInCommand() throws(TokenError) -> (path: String, arguments: [String]) {
        var args = ["login"]
        if let tenant, !tenant.isEmpty { args.append("--tenant=\(tenant)") }
        return (try cli.locator.locate(), args)
    }
}

/// Runs a program in the foreground on the real terminal (stdin, stdout and stderr inherited)
/// and waits for it: for `az login` while the UI is suspended. Returns the exit status.
public enum ForegroundProcess {
    public static func run(path: String, arguments: [String]) -> Int32 {
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        // The child starts with nothing blocked and default handlers (Ctrl-C must reach it).
        var empty = sigset_t(), all = sigset_t()
        sigemptyset(&empty)
        sigfillset(&all)
        sigdelset(&all, SIGKILL)
        sigdelset(&all, SIGSTOP)
        posix_spawnattr_setsigmask(&attr, &empty)
        posix_spawnattr_setsigdefault(&attr, &all)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let argv = [path] + arguments
        var cArgs = argv.map { strdup($0) } + [nil]
        defer { for a in cArgs { free(a) } }
        var pid: pid_t = 0
        guard posix_spawn(&pid, path, nil, &attr, &cArgs, environ) == 0 else { return 127 }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }
}
