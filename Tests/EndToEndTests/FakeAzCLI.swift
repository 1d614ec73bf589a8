import Foundation
import TestSupport

/// A stand-in for the Azure CLI, written for these tests as a shell script. It keeps its
/// state in files next to itself, so a test can sign the user in or out, approve or decline a
/// device-code sign-in, and read back every call:
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
/// Every call also records, in its directory: its arguments (`calls`, one line per call, and
/// `argv`, NUL-separated), and its own and its parent's (dicomtui's) `/proc` command line and
/// environment (`proc-*`), so a test can search them for the token.
struct FakeAzCLI {
    let dir: URL
    var path: String { dir.appendingPathComponent("az").path }

    init(in parent: URL, signedIn: Bool, lifetime: Int = 3600, upn: String = "e2e.tester@contoso.example") throws {
        dir = parent.appendingPathComponent("fake-az")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try String(lifetime).write(to: dir.appendingPathComponent("lifetime"), atomically: true, encoding: .utf8)
        try upn.write(to: dir.appendingPathComponent("upn"), atomically: true, encoding: .utf8)
        if signedIn { try signIn() }
        try writeExecutable(Self.script, to: path)
    }

    func signIn() throws { try "".write(to: dir.appendingPathComponent("signed-in"), atomically: true, encoding: .utf8) }
    func approve() throws { try "".write(to: dir.appendingPathComponent("approve"), atomically: true, encoding: .utf8) }
    func decline() throws { try "".write(to: dir.appendingPathComponent("decline"), atomically: true, encoding: .utf8) }

    enum Mode: String { case normal = "", garbled, failAfterOutput = "fail-after-output" }

    /// The `aud` claim of the tokens from now on (nil: the DICOM service's).
    func setAudience(_ audience: String?) throws {
        let file = dir.appendingPathComponent("audience")
        if let audience { try audience.write(to: file, atomically: true, encoding: .utf8) } else { try? FileManager.default.removeItem(at: file) }
    }

    func setMode(_ mode: Mode) throws {
        try mode.rawValue.write(to: dir.appendingPathComponent("mode"), atomically: true, encoding: .utf8)
    }

    func signOut() throws { try? FileManager.default.removeItem(at: dir.appendingPathComponent("signed-in")) }

    /// What the calls recorded about themselves (arguments, `/proc` command lines and
    /// environments of the fake and of its parent): file name and bytes.
    var recordings: [(name: String, bytes: Data)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return names.filter { $0 == "calls" || $0 == "argv" || $0.hasPrefix("proc-") }.sorted().compactMap { name in
            (try? Data(contentsOf: dir.appendingPathComponent(name))).map { (name, $0) }
        }
    }

    /// Every call's arguments, one line each.
    var calls: [String] { lines("calls") }
    /// Signals the fake received (`TERM` when dicomtui cancelled a sign-in).
    var signals: [String] { lines("signals") }
    /// Tokens issued, in order.
    var issuedTokens: [String] { lines("issued") }

    private func lines(_ name: String) -> [String] {
        ((try? String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8)) ?? "")
            .split(separator: "\n").map(String.init)
    }

    static let script = #"""
        #!/bin/bash
        D="$(cd "$(dirname "$0")" && pwd)"
        printf '%s\n' "$*" >> "$D/calls"
        printf '%s\0' "$@" >> "$D/argv"
        cat /proc/$$/cmdline > "$D/proc-$$-self-cmdline" 2>/dev/null
        cat /proc/$$/environ > "$D/proc-$$-self-environ" 2>/dev/null
        cat /proc/$PPID/cmdline > "$D/proc-$$-parent-cmdline" 2>/dev/null
        cat /proc/$PPID/environ > "$D/proc-$$-parent-environ" 2>/dev/null
        b64() { printf '%s' "$1" | base64 -w0 | tr '+/' '-_' | tr -d '='; }
        rnd() { head -c "$1" /dev/urandom | base64 -w0 | tr '+/' '-_' | tr -d '='; }
        TENANT=72f988bf-0000-4000-8000-000000000001
        OID=0b6c8ad4-0000-4000-8000-00000000e2e0
        AUD=https://dicom.healthcareapis.azure.com
        [ -s "$D/audience" ] && AUD="$(cat "$D/audience")"
        MODE="$(cat "$D/mode" 2>/dev/null)"
        case "$1 $2" in
        "account get-access-token")
            if [ ! -e "$D/signed-in" ]; then echo "ERROR: Please run 'az login' to setup account." >&2; exit 1; fi
            now=$(date +%s); exp=$(( now + $(cat "$D/lifetime") )); upn="$(cat "$D/upn")"; kid="$(rnd 20)"
            header="{\"typ\":\"JWT\",\"alg\":\"RS256\",\"x5t\":\"$kid\",\"kid\":\"$kid\"}"
            payload="{\"aud\":\"$AUD\",\"iss\":\"https://sts.windows.net/$TENANT/\",\"iat\":$now,\"nbf\":$now,\"exp\":$exp,\"acr\":\"1\",\"aio\":\"$(rnd 66)\",\"amr\":[\"pwd\",\"mfa\"],\"appid\":\"04b07795-8ddb-461a-bbee-02f9e1bf7b46\",\"appidacr\":\"0\",\"family_name\":\"Tester\",\"given_name\":\"E2E\",\"idtyp\":\"user\",\"ipaddr\":\"203.0.113.7\",\"name\":\"E2E Tester\",\"oid\":\"$OID\",\"puid\":\"10032001E2E0C0DE\",\"rh\":\"0.$(rnd 42).\",\"scp\":\"user_impersonation\",\"sub\":\"$(rnd 32)\",\"tid\":\"$TENANT\",\"unique_name\":\"$upn\",\"upn\":\"$upn\",\"uti\":\"$(rnd 16)\",\"ver\":\"1.0\",\"wids\":[\"b79fbf4d-3ef9-4689-8143-76b194e85509\"],\"xms_idrel\":\"1 20\",\"xms_tcdt\":1289241547}"
            token="$(b64 "$header").$(b64 "$payload").$(rnd 256)"
            printf '%s\n' "$token" >> "$D/issued"
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
            if [ ! -e "$D/signed-in" ]; then echo "ERROR: Please run 'az login' to setup account." >&2; exit 1; fi
            printf '{"environmentName":"AzureCloud","id":"00000000-1111-4222-8333-444444444444","isDefault":true,"name":"E2E Subscription","state":"Enabled","tenantId":"%s","user":{"name":"%s","type":"user"}}\n' "$TENANT" "$(cat "$D/upn")"
            ;;
        "login --use-device-code")
            trap 'echo TERM >> "$D/signals"; exit 143' TERM
            echo "To sign in, use a web browser to open the page https://microsoft.com/devicelogin and enter the code E2ECODE1 to authenticate." >&2
            for _ in $(seq 1 600); do
                if [ -e "$D/approve" ]; then rm -f "$D/approve"; touch "$D/signed-in"; echo "[]"; exit 0; fi
                if [ -e "$D/decline" ]; then
                    rm -f "$D/decline"
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
            echo "fake az login: you are signed in as $(cat "$D/upn")."
            touch "$D/signed-in"
            ;;
        *)
            echo "ERROR: fake az does not know '$*'" >&2; exit 2
            ;;
        esac
        """#
}
