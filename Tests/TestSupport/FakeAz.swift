import Foundation
import TokenSource

/// A stand-in for the Azure CLI, written for the tests as a shell script `az` in a directory of
/// its own: the one fake az of every suite (the token source's process tests, the end-to-end and
/// script-mode suites). Every call first records itself in that directory:
/// - `calls`: its arguments joined by spaces, one line per call (`calls`);
/// - `argv`: the last call's arguments, one per line (`recordedArguments`);
/// - `env`: the last call's `AZURE_CORE_NO_COLOR`, `HOME` and `FAKE_MARKER`;
///
/// then runs its body: shell code given by the test, where `$HERE` is the directory, or one of
/// the presets `answering(_:)`, `notSignedIn()` and `azureCLI(signedIn:)`.
public final class FakeAz: Sendable {
    public let directory: URL
    public var path: String { directory.appendingPathComponent("az").path }
    public var argvFile: String { file("argv") }
    public var envFile: String { file("env") }
    /// Made here (no `parent` given): removed when the fake goes.
    private let ownsDirectory: Bool

    /// A fake whose calls run `body` under `shell`, in a new directory in `parent` (in the
    /// temporary directory, removed with the fake, when nil). `executable: false` leaves the
    /// script without its execute bits.
    public init(body: String, in parent: URL? = nil, shell: String = "/bin/sh", executable: Bool = true) throws {
        ownsDirectory = parent == nil
        directory = (parent ?? FileManager.default.temporaryDirectory)
            .appendingPathComponent("fake-az-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let script = """
            #!\(shell)
            HERE=\(Tmux.quote(directory.path))
            printf '%s\\n' "$*" >> "$HERE/calls"
            for arg in "$@"; do printf '%s\\n' "$arg"; done > "$HERE/argv"
            printf 'AZURE_CORE_NO_COLOR=%s\\nHOME=%s\\nFAKE_MARKER=%s\\n' "$AZURE_CORE_NO_COLOR" "$HOME" "$FAKE_MARKER" > "$HERE/env"
            \(body)
            """
        try writeExecutable(script, to: path)
        if !executable { try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path) }
    }

    deinit {
        if ownsDirectory { try? FileManager.default.removeItem(at: directory) }
    }

    /// A file in the fake's directory.
    public func file(_ name: String) -> String { directory.appendingPathComponent(name).path }

    public func read(_ path: String) -> String? {
        try? String(contentsOfFile: path, encoding: .utf8)
    }

    /// The last call's arguments.
    public var recordedArguments: [String]? {
        read(argvFile).map { $0.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init) }
    }

    /// Every call's arguments, one line each.
    public var calls: [String] { lines("calls") }

    private func lines(_ name: String) -> [String] {
        (read(file(name)) ?? "").split(separator: "\n").map(String.init)
    }
}

// MARK: - Fixed answers

extension DemoTokenIssuer.Identity {
    /// The user of the end-to-end tests: the one `FakeAz.azureCLI` signs in, and the identity
    /// of the tokens the tests mint for `FakeAz.answering`.
    public static let tester = DemoTokenIssuer.Identity(
        tenantId: "72f988bf-0000-4000-8000-000000000001", objectId: "0b6c8ad4-0000-4000-8000-00000000e2e0",
        userPrincipalName: "e2e.tester@contoso.example", displayName: "E2E Tester",
        subscriptionId: "00000000-1111-4222-8333-444444444444", subscriptionName: "Test Subscription")
}

extension FakeAz {
    /// Answers every call with `token` as `az account get-access-token --output json` prints it
    /// (az 2.54+, azure-cli.md 2.1).
    public static func answering(_ token: AccessToken, in parent: URL? = nil) throws -> FakeAz {
        let raw = String(token.authorizationHeaderValue.dropFirst("Bearer ".count))
        let json = """
            {
              "accessToken": "\(raw)",
              "expiresOn": "2099-01-01 00:00:00.000000",
              "expires_on": \(Int(token.expiresOn.timeIntervalSince1970)),
              "subscription": "00000000-1111-4222-8333-444444444444",
              "tenant": "\(token.tenant ?? "")",
              "tokenType": "Bearer"
            }
            """
        return try FakeAz(body: "cat <<'JSON'\n\(json)\nJSON\nexit 0\n", in: parent)
    }

    /// Fails every call the way az does when nobody is signed in (azure-cli.md 2.3).
    public static func notSignedIn(in parent: URL? = nil) throws -> FakeAz {
        try FakeAz(body: "echo \"ERROR: Please run 'az login' to setup account.\" >&2\nexit 1\n", in: parent)
    }
}

// MARK: - The Azure CLI with a sign-in state

extension FakeAz {
    /// A fake that keeps its state in files next to itself, so a test can sign the user in or
    /// out, approve or decline a device-code sign-in, and read back every call:
    /// - `account get-access-token`: a fresh token valid for `lifetime` seconds that looks like
    ///   Entra ID's (a JWT of about 1,500 characters: `x5t`/`kid` header, the usual claims, a
    ///   256-byte signature; random parts make every token unique), or az's "Please run 'az login'"
    ///   error while signed out. `setAudience` changes its `aud` (a token the service refuses);
    ///   `setMode(.garbled)` prints the answer cut short after the token, `.failAfterOutput` prints
    ///   it whole and then fails with an error (exit 1);
    /// - `account show`: the account JSON;
    /// - `login --use-device-code`: the device-code message on stderr, then waits until the test
    ///   writes `approve` (exit 0) or `decline` (az's AADSTS70000 error, exit 1); SIGTERM is recorded;
    /// - `login`: signs in at once and says so on stdout (for the terminal hand-over).
    ///
    /// Every call also records all its arguments (`argv-all`, NUL-separated), and its own and its
    /// parent's (dicomtui's) `/proc` command line and environment (`proc-*`), so a test can search
    /// them for the token (`recordings`).
    public static func azureCLI(in parent: URL? = nil, signedIn: Bool, lifetime: Int = 3600,
                                upn: String = DemoTokenIssuer.Identity.tester.userPrincipalName) throws -> FakeAz {
        let fake = try FakeAz(body: azureCLIScript, in: parent, shell: "/bin/bash")
        try String(lifetime).write(toFile: fake.file("lifetime"), atomically: true, encoding: .utf8)
        try upn.write(toFile: fake.file("upn"), atomically: true, encoding: .utf8)
        if signedIn { try fake.signIn() }
        return fake
    }

    public func signIn() throws { try touch("signed-in") }
    public func approve() throws { try touch("approve") }
    public func decline() throws { try touch("decline") }
    public func signOut() throws { try? FileManager.default.removeItem(atPath: file("signed-in")) }

    public enum Mode: String, Sendable { case normal = "", garbled, failAfterOutput = "fail-after-output" }

    /// The `aud` claim of the tokens from now on (nil: the DICOM service's).
    public func setAudience(_ audience: String?) throws {
        if let audience { try audience.write(toFile: file("audience"), atomically: true, encoding: .utf8) } else {
            try? FileManager.default.removeItem(atPath: file("audience"))
        }
    }

    public func setMode(_ mode: Mode) throws {
        try mode.rawValue.write(toFile: file("mode"), atomically: true, encoding: .utf8)
    }

    /// What the calls recorded about themselves (arguments, `/proc` command lines and
    /// environments of the fake and of its parent): file name and bytes.
    public var recordings: [(name: String, bytes: Data)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { ["calls", "argv", "argv-all"].contains($0) || $0.hasPrefix("proc-") }.sorted().compactMap { name in
            (try? Data(contentsOf: directory.appendingPathComponent(name))).map { (name, $0) }
        }
    }

    /// Signals the fake received (`TERM` when dicomtui cancelled a sign-in).
    public var signals: [String] { lines("signals") }
    /// Tokens issued, in order.
    public var issuedTokens: [String] { lines("issued") }

    private func touch(_ name: String) throws { try "".write(toFile: file(name), atomically: true, encoding: .utf8) }

    private static let azureCLIScript = #"""
        printf '%s\0' "$@" >> "$HERE/argv-all"
        cat /proc/$$/cmdline > "$HERE/proc-$$-self-cmdline" 2>/dev/null
        cat /proc/$$/environ > "$HERE/proc-$$-self-environ" 2>/dev/null
        cat /proc/$PPID/cmdline > "$HERE/proc-$$-parent-cmdline" 2>/dev/null
        cat /proc/$PPID/environ > "$HERE/proc-$$-parent-environ" 2>/dev/null
        b64() { printf '%s' "$1" | base64 -w0 | tr '+/' '-_' | tr -d '='; }
        rnd() { head -c "$1" /dev/urandom | base64 -w0 | tr '+/' '-_' | tr -d '='; }
        TENANT=\#(DemoTokenIssuer.Identity.tester.tenantId)
        OID=\#(DemoTokenIssuer.Identity.tester.objectId)
        AUD=https://dicom.healthcareapis.azure.com
        [ -s "$HERE/audience" ] && AUD="$(cat "$HERE/audience")"
        MODE="$(cat "$HERE/mode" 2>/dev/null)"
        case "$1 $2" in
        "account get-access-token")
            if [ ! -e "$HERE/signed-in" ]; then echo "ERROR: Please run 'az login' to setup account." >&2; exit 1; fi
            now=$(date +%s); exp=$(( now + $(cat "$HERE/lifetime") )); upn="$(cat "$HERE/upn")"; kid="$(rnd 20)"
            header="{\"typ\":\"JWT\",\"alg\":\"RS256\",\"x5t\":\"$kid\",\"kid\":\"$kid\"}"
            payload="{\"aud\":\"$AUD\",\"iss\":\"https://sts.windows.net/$TENANT/\",\"iat\":$now,\"nbf\":$now,\"exp\":$exp,\"acr\":\"1\",\"aio\":\"$(rnd 66)\",\"amr\":[\"pwd\",\"mfa\"],\"appid\":\"04b07795-8ddb-461a-bbee-02f9e1bf7b46\",\"appidacr\":\"0\",\"family_name\":\"Tester\",\"given_name\":\"E2E\",\"idtyp\":\"user\",\"ipaddr\":\"203.0.113.7\",\"name\":\"E2E Tester\",\"oid\":\"$OID\",\"puid\":\"10032001E2E0C0DE\",\"rh\":\"0.$(rnd 42).\",\"scp\":\"user_impersonation\",\"sub\":\"$(rnd 32)\",\"tid\":\"$TENANT\",\"unique_name\":\"$upn\",\"upn\":\"$upn\",\"uti\":\"$(rnd 16)\",\"ver\":\"1.0\",\"wids\":[\"b79fbf4d-3ef9-4689-8143-76b194e85509\"],\"xms_idrel\":\"1 20\",\"xms_tcdt\":1289241547}"
            token="$(b64 "$header").$(b64 "$payload").$(rnd 256)"
            printf '%s\n' "$token" >> "$HERE/issued"
            answer="$(printf '{\n  "accessToken": "%s",\n  "expiresOn": "%s",\n  "expires_on": %s,\n  "subscription": "00000000-1111-4222-8333-444444444444",\n  "tenant": "%s",\n  "tokenType": "Bearer"\n}' \
                "$token" "$(date -d "@$exp" '+%Y-%m-%d %H:%M:%S.000000')" "$exp" "$TENANT")"
            case "$MODE" in
            garbled) printf '%s' "${answer%%\"expiresOn\"*}" ;;
            fail-after-output)
                printf '%s\n' "$answer"
                echo "ERROR: The command failed with an unexpected error after printing its answer." >&2
                exit 1 ;;
            *) printf '%s\n' "$answer" ;;
            esac
            ;;
        "account show")
            if [ ! -e "$HERE/signed-in" ]; then echo "ERROR: Please run 'az login' to setup account." >&2; exit 1; fi
            printf '{"environmentName":"AzureCloud","id":"00000000-1111-4222-8333-444444444444","isDefault":true,"name":"E2E Subscription","state":"Enabled","tenantId":"%s","user":{"name":"%s","type":"user"}}\n' "$TENANT" "$(cat "$HERE/upn")"
            ;;
        "login --use-device-code")
            trap 'echo TERM >> "$HERE/signals"; exit 143' TERM
            echo "To sign in, use a web browser to open the page https://microsoft.com/devicelogin and enter the code E2ECODE1 to authenticate." >&2
            for _ in $(seq 1 600); do
                if [ -e "$HERE/approve" ]; then rm -f "$HERE/approve"; touch "$HERE/signed-in"; echo "[]"; exit 0; fi
                if [ -e "$HERE/decline" ]; then
                    rm -f "$HERE/decline"
                    echo "ERROR: AADSTS70000: The user declined to authorize the application." >&2
                    echo "Run the command below to authenticate interactively; additional arguments may be added as needed:" >&2
                    echo "az logout" >&2
                    echo "az login" >&2
                    exit 1
                fi
                sleep 0.1
            done
            echo "ERROR: AADSTS70020: The provided code has expired." >&2; exit 1
            ;;
        "login "*|"login")
            echo "fake az login: you are signed in as $(cat "$HERE/upn")."
            touch "$HERE/signed-in"
            ;;
        *)
            echo "ERROR: fake az does not know '$*'" >&2; exit 2
            ;;
        esac
        """#
}
