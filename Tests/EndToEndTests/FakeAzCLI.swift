import Foundation
import TestSupport

/// A stand-in for the Azure CLI, written for these tests as a shell script. It keeps its
/// state in files next to itself, so a test can sign the user in or out, approve or decline a
/// device-code sign-in, and read back every call:
/// - `account get-access-token`: a fresh JWT valid for `lifetime` seconds (aud, exp, upn, tid,
///   oid), or az's "Please run 'az login'" error while signed out;
/// - `account show`: the account JSON;
/// - `login --use-device-code`: the device-code message on stderr, then waits until the test
///   writes `approve` (exit 0) or `decline` (az's AADSTS70000 error, exit 1); SIGTERM is recorded;
/// - `login`: signs in at once and says so on stdout (for the terminal hand-over).
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
        b64() { printf '%s' "$1" | base64 -w0 | tr '+/' '-_' | tr -d '='; }
        TENANT=72f988bf-0000-4000-8000-000000000001
        OID=0b6c8ad4-0000-4000-8000-00000000e2e0
        case "$1 $2" in
        "account get-access-token")
            if [ ! -e "$D/signed-in" ]; then echo "ERROR: Please run 'az login' to setup account." >&2; exit 1; fi
            now=$(date +%s); exp=$(( now + $(cat "$D/lifetime") ))
            payload="{\"aud\":\"https://dicom.healthcareapis.azure.com\",\"iat\":$now,\"nbf\":$now,\"exp\":$exp,\"tid\":\"$TENANT\",\"oid\":\"$OID\",\"upn\":\"$(cat "$D/upn")\",\"idtyp\":\"user\"}"
            token="$(b64 '{"alg":"RS256","typ":"JWT"}').$(b64 "$payload").$(b64 "sig-$now-$RANDOM")"
            printf '%s\n' "$token" >> "$D/issued"
            printf '{\n  "accessToken": "%s",\n  "expiresOn": "%s",\n  "expires_on": %s,\n  "subscription": "00000000-1111-4222-8333-444444444444",\n  "tenant": "%s",\n  "tokenType": "Bearer"\n}\n' \
                "$token" "$(date -d "@$exp" '+%Y-%m-%d %H:%M:%S.000000')" "$exp" "$TENANT"
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
