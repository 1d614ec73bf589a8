#!/usr/bin/env python3
"""Stand-ins for the Azure endpoints the real `az` talks to, on 127.0.0.1 only, for the
real-az tests (Tests/RealAzTests). Python standard library only (plus `openssl` for --tls).

One server answers:
  * the managed-identity endpoint, App Service protocol:
      GET /msi/token?api-version=2019-08-01&resource=R   (headers X-IDENTITY-HEADER, Metadata)
  * Entra ID sign-in (device code flow and refresh tokens), for any tenant segment T
    (`organizations`, a tenant id, `common`):
      GET  /T/v2.0/.well-known/openid-configuration
      POST /T/oauth2/v2.0/devicecode
      POST /T/oauth2/v2.0/token   (device_code grant: authorization_pending until the test
                                   decides; refresh_token grant)
  * the resource manager's lists (bearer token required):
      GET /tenants, GET /subscriptions

The test talks to it through files in the state directory (--state DIR):
  ready.json      written once the socket listens: {"port", "pid", "scheme", "base_url", "ca_bundle"}
  requests.jsonl  appended, one JSON object per request: method, path, query, form, selected
                  headers, status, and what was issued (tokens are test data, not secrets)
  decision        written by the test: "approve" or "decline"; read at every device-code poll
  refresh         written by the test: "revoke" makes refresh-token grants fail (AADSTS700082)

A second, plain-HTTP listener (trap_port in ready.json) is meant to be set as HTTP_PROXY and
HTTPS_PROXY for az (with NO_PROXY=127.0.0.1): any request az tries to send anywhere else
arrives there instead, is logged with "trap": true, and is refused. Tests assert there are none.

The process exits by itself when its parent goes away or after --max-lifetime seconds,
so a crashed test run leaves nothing behind.
"""

import argparse
import base64
import http.server
import json
import os
import random
import signal
import socketserver
import ssl
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid

TENANT = "72f988bf-0000-4000-8000-000000000001"
TENANT_DISPLAY_NAME = "Contoso Test"
TENANT_DOMAIN = "contoso.example"
SUBSCRIPTION = "00000000-1111-4222-8333-444444444444"
SUBSCRIPTION_NAME = "Test Subscription"
USER_NAME = "someone@contoso.example"
USER_DISPLAY_NAME = "Some One"
USER_OID = "5d5e1f5e-0000-4000-8000-00000000a11c"
MI_OID = "0b1d2e3f-0000-4000-8000-0000000000f1"
MI_APPID = "a1b2c3d4-0000-4000-8000-0000000000a1"
# Scopes MSAL adds to every request; they are not resources.
RESERVED_SCOPES = {"openid", "profile", "offline_access"}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def make_jwt(claims: dict) -> str:
    """An unsigned-looking JWT with a fake RS256 signature: az and dicomtui only decode it."""
    header = {"typ": "JWT", "alg": "RS256", "kid": "standin-key-1"}
    signature = b64url(b"standin-signature-" + uuid.uuid4().bytes)
    return ".".join([b64url(json.dumps(header).encode()), b64url(json.dumps(claims).encode()), signature])


def resource_of(scopes: str) -> str:
    """The v1 resource of a v2 scope list: `https://x/.default` -> `https://x`,
    `https://management.core.windows.net//.default` -> `https://management.core.windows.net/`."""
    for scope in scopes.split():
        if scope in RESERVED_SCOPES:
            continue
        return scope[: -len("/.default")] if scope.endswith("/.default") else scope
    return ""


def aad_error(code: int, error: str, text: str) -> dict:
    now = time.gmtime()
    return {
        "error": error,
        "error_description": "AADSTS%d: %s Trace ID: %s Correlation ID: %s Timestamp: %s"
        % (code, text, uuid.uuid4(), uuid.uuid4(), time.strftime("%Y-%m-%d %H:%M:%SZ", now)),
        "error_codes": [code],
        "timestamp": time.strftime("%Y-%m-%d %H:%M:%SZ", now),
        "trace_id": str(uuid.uuid4()),
        "correlation_id": str(uuid.uuid4()),
    }


class State:
    def __init__(self, args):
        self.args = args
        self.dir = args.state
        self.lock = threading.Lock()
        self.random = random.Random(20261126)  # deterministic user codes
        self.device_codes = {}  # device_code -> {user_code, expires_at, consumed}
        self.refresh_tokens = {}  # refresh token -> tenant
        self.access_tokens = set()
        self.base_url = ""

    def read_control(self, name: str) -> str:
        try:
            with open(os.path.join(self.dir, name), encoding="utf-8") as f:
                return f.read().strip()
        except FileNotFoundError:
            return ""

    def log(self, entry: dict):
        line = json.dumps(entry, sort_keys=True) + "\n"
        with self.lock:
            with open(os.path.join(self.dir, "requests.jsonl"), "a", encoding="utf-8") as f:
                f.write(line)

    def new_user_code(self) -> str:
        alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
        with self.lock:
            return "".join(self.random.choice(alphabet) for _ in range(9))


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "AzureStandIn/1.0"
    state: State = None  # set on the class before serving

    def log_message(self, format, *args):  # quiet: requests.jsonl is the log
        pass

    # -- plumbing

    def _read_form(self) -> dict:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8") if length else ""
        return {k: v[-1] for k, v in urllib.parse.parse_qs(body, keep_blank_values=True).items()}

    def _reply(self, status: int, payload, record: dict, issued=None):
        body = json.dumps(payload).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)
        record["status"] = status
        if issued is not None:
            record["issued"] = issued
        if status >= 400 and isinstance(payload, dict):
            record["error"] = payload.get("error") or payload.get("message")
        self.state.log(record)

    def _record(self, form=None) -> dict:
        url = urllib.parse.urlsplit(self.path)
        wanted = ("X-IDENTITY-HEADER", "Metadata", "Authorization", "User-Agent")
        return {
            "time": time.time(),
            "method": self.command,
            "path": url.path,
            "query": {k: v[-1] for k, v in urllib.parse.parse_qs(url.query).items()},
            "form": form or {},
            "headers": {h: self.headers[h] for h in wanted if self.headers.get(h) is not None},
        }

    # -- dispatch

    def do_GET(self):
        record = self._record()
        parts = [p for p in record["path"].split("/") if p]
        if record["path"] == "/msi/token":
            return self.managed_identity(record)
        if len(parts) == 4 and parts[1:] == ["v2.0", ".well-known", "openid-configuration"]:
            return self.openid_configuration(record, parts[0])
        if record["path"] in ("/tenants", "/subscriptions"):
            return self.resource_manager(record, parts[0])
        return self._reply(404, {"error": {"code": "NotFound", "message": "no route " + record["path"]}}, record)

    def do_POST(self):
        form = self._read_form()
        record = self._record(form)
        parts = [p for p in record["path"].split("/") if p]
        if len(parts) == 4 and parts[1:3] == ["oauth2", "v2.0"] and parts[3] == "devicecode":
            return self.device_code(record, parts[0], form)
        if len(parts) == 4 and parts[1:3] == ["oauth2", "v2.0"] and parts[3] == "token":
            return self.token(record, parts[0], form)
        return self._reply(404, {"error": "not_found", "error_description": "no route"}, record)

    # -- managed identity (App Service)

    def managed_identity(self, record):
        args = self.state.args
        if self.headers.get("X-IDENTITY-HEADER") != args.identity_header:
            return self._reply(401, {"statusCode": 401, "message": "Missing or wrong X-IDENTITY-HEADER"}, record)
        resource = record["query"].get("resource", "")
        if not resource:
            return self._reply(400, {"statusCode": 400, "message": "resource is required"}, record)
        if args.mi_error:
            status, _, message = args.mi_error.partition(":")
            return self._reply(int(status), {"statusCode": int(status), "message": message}, record)
        now = int(time.time())
        expires_on = now + args.token_lifetime
        token = make_jwt({
            "aud": resource, "iss": "https://sts.windows.net/%s/" % TENANT, "iat": now, "nbf": now,
            "exp": expires_on, "aio": "standin", "appid": MI_APPID, "appidacr": "2", "idp": "https://sts.windows.net/%s/" % TENANT,
            "idtyp": "app", "oid": MI_OID, "sub": MI_OID, "tid": TENANT, "ver": "1.0",
            "xms_mirid": "/subscriptions/%s/resourcegroups/rg/providers/Microsoft.Web/sites/standin" % SUBSCRIPTION,
            "uti": uuid.uuid4().hex,
        })
        issued = {"access_token": token, "expires_on": str(expires_on), "resource": resource,
                  "token_type": "Bearer", "client_id": MI_APPID}
        return self._reply(200, issued, record, issued=issued)

    # -- Entra ID

    def openid_configuration(self, record, tenant):
        base = "%s/%s" % (self.state.base_url, tenant)
        issuer_tenant = TENANT if tenant in ("organizations", "common", "consumers") else tenant
        config = {
            "token_endpoint": base + "/oauth2/v2.0/token",
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
            "jwks_uri": base + "/discovery/v2.0/keys",
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "issuer": "%s/%s/v2.0" % (self.state.base_url, issuer_tenant),
            "request_uri_parameter_supported": False,
            "userinfo_endpoint": self.state.base_url + "/oidc/userinfo",
            "authorization_endpoint": base + "/oauth2/v2.0/authorize",
            "device_authorization_endpoint": base + "/oauth2/v2.0/devicecode",
            "http_logout_supported": True,
            "frontchannel_logout_supported": True,
            "end_session_endpoint": base + "/oauth2/v2.0/logout",
            "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nonce", "preferred_username", "name", "tid", "ver", "oid"],
            "tenant_region_scope": "EU",
            "cloud_instance_name": "127.0.0.1",
        }
        return self._reply(200, config, record)

    def device_code(self, record, tenant, form):
        args = self.state.args
        user_code = self.state.new_user_code()
        device = b64url(os.urandom(48))
        with self.state.lock:
            self.state.device_codes[device] = {
                "user_code": user_code, "expires_at": time.time() + args.device_code_lifetime,
                "consumed": False, "tenant": tenant, "scope": form.get("scope", ""),
            }
        uri = self.state.base_url + "/devicelogin"
        issued = {
            "user_code": user_code, "device_code": device, "verification_uri": uri,
            "expires_in": args.device_code_lifetime, "interval": args.poll_interval,
            "message": "To sign in, use a web browser to open the page %s and enter the code %s to authenticate."
            % (uri, user_code),
        }
        return self._reply(200, issued, record, issued=issued)

    def token(self, record, tenant, form):
        grant = form.get("grant_type", "")
        if grant == "urn:ietf:params:oauth:grant-type:device_code":
            return self.device_code_grant(record, tenant, form)
        if grant == "refresh_token":
            return self.refresh_grant(record, tenant, form)
        return self._reply(400, aad_error(70003, "unsupported_grant_type",
                                          "The app requested an unsupported grant type '%s'." % grant), record)

    def device_code_grant(self, record, tenant, form):
        with self.state.lock:
            entry = self.state.device_codes.get(form.get("device_code", ""))
        if entry is None or entry["consumed"]:
            return self._reply(400, aad_error(70000, "invalid_grant",
                                              "The provided value for the 'device_code' is not valid."), record)
        if time.time() > entry["expires_at"]:
            return self._reply(400, aad_error(70020, "expired_token",
                                              "The provided value for the input parameter 'device_code' is not valid. "
                                              "This device code has expired."), record)
        decision = self.state.read_control("decision")
        if decision == "decline":
            entry["consumed"] = True
            return self._reply(400, aad_error(70000, "authorization_declined",
                                              "The user denied the authorization request."), record)
        if decision != "approve":
            return self._reply(400, aad_error(70016, "authorization_pending",
                                              "OAuth 2.0 device flow error. Authorization is pending. Continue polling."),
                               record)
        entry["consumed"] = True
        token_tenant = TENANT if entry["tenant"] in ("organizations", "common") else entry["tenant"]
        # The device_code grant carries no scope: the tokens are for what the devicecode request asked.
        return self.issue_user_tokens(record, token_tenant, dict(form, scope=entry["scope"]))

    def refresh_grant(self, record, tenant, form):
        with self.state.lock:
            known = form.get("refresh_token", "") in self.state.refresh_tokens
        if not known or self.state.read_control("refresh") == "revoke":
            return self._reply(400, aad_error(
                700082, "invalid_grant",
                "The refresh token has expired due to inactivity. The token was issued on 2026-01-01T00:00:00Z "
                "and was inactive for 90.00:00:00."), record)
        token_tenant = TENANT if tenant in ("organizations", "common") else tenant
        return self.issue_user_tokens(record, token_tenant, form)

    def issue_user_tokens(self, record, tenant, form):
        args = self.state.args
        client_id = form.get("client_id", "")
        scope = form.get("scope", "")
        resource = resource_of(scope)
        now = int(time.time())
        access = make_jwt({
            "aud": resource, "iss": "https://sts.windows.net/%s/" % tenant, "iat": now, "nbf": now,
            "exp": now + args.token_lifetime, "acr": "1", "amr": ["pwd", "mfa"], "appid": client_id,
            "appidacr": "0", "family_name": "One", "given_name": "Some", "idtyp": "user",
            "ipaddr": "127.0.0.1", "name": USER_DISPLAY_NAME, "oid": USER_OID, "puid": "10030000A1B2C3D4",
            "scp": "user_impersonation", "sub": "standin-sub-" + USER_OID[:8], "tid": tenant,
            "unique_name": USER_NAME, "upn": USER_NAME, "uti": uuid.uuid4().hex, "ver": "1.0",
        })
        id_token = make_jwt({
            "aud": client_id, "iss": "%s/%s/v2.0" % (self.state.base_url, tenant), "iat": now, "nbf": now,
            "exp": now + 3600, "name": USER_DISPLAY_NAME, "oid": USER_OID, "preferred_username": USER_NAME,
            "sub": "standin-sub-" + USER_OID[:8], "tid": tenant, "ver": "2.0",
        })
        refresh = "standin-rt-" + b64url(os.urandom(24))
        with self.state.lock:
            self.state.refresh_tokens[refresh] = tenant
            self.state.access_tokens.add(access)
        granted = [s for s in scope.split() if s not in RESERVED_SCOPES]
        issued = {
            "token_type": "Bearer", "scope": " ".join(granted), "expires_in": args.token_lifetime,
            "ext_expires_in": args.token_lifetime, "access_token": access, "refresh_token": refresh,
            "id_token": id_token, "client_info": b64url(json.dumps({"uid": USER_OID, "utid": tenant}).encode()),
        }
        record["resource"] = resource
        record["expires_at"] = now + args.token_lifetime
        return self._reply(200, issued, record, issued=issued)

    # -- resource manager

    def resource_manager(self, record, what):
        auth = self.headers.get("Authorization", "")
        token = auth[len("Bearer "):] if auth.startswith("Bearer ") else ""
        with self.state.lock:
            known = token in self.state.access_tokens
        if not known:
            return self._reply(401, {"error": {"code": "InvalidAuthenticationToken",
                                               "message": "The access token is invalid."}}, record)
        if what == "tenants":
            value = [{
                "id": "/tenants/" + TENANT, "tenantId": TENANT, "countryCode": "US",
                "displayName": TENANT_DISPLAY_NAME, "domains": [TENANT_DOMAIN], "tenantCategory": "Home",
                "defaultDomain": TENANT_DOMAIN, "tenantType": "AAD",
            }]
        else:
            value = [{
                "id": "/subscriptions/" + SUBSCRIPTION, "authorizationSource": "RoleBased", "managedByTenants": [],
                "subscriptionId": SUBSCRIPTION, "tenantId": TENANT, "displayName": SUBSCRIPTION_NAME,
                "state": "Enabled",
                "subscriptionPolicies": {"locationPlacementId": "Public_2014-09-01", "quotaId": "PayAsYouGo_2014-09-01",
                                         "spendingLimit": "Off"},
            }]
        return self._reply(200, {"value": value, "count": {"type": "Total", "value": len(value)}}, record)


class TrapHandler(http.server.BaseHTTPRequestHandler):
    """Stands where a proxy would: records what az tried to reach outside 127.0.0.1, refuses it."""
    protocol_version = "HTTP/1.0"
    state: State = None

    def log_message(self, format, *args):
        pass

    def _trap(self):
        self.state.log({"time": time.time(), "trap": True, "method": self.command, "path": self.path,
                        "host": self.headers.get("Host", "")})
        body = b"outside 127.0.0.1: refused by the test's proxy trap\n"
        self.send_response(403)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_CONNECT = _trap


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = False
    tls_context = None

    def finish_request(self, request, client_address):
        # TLS handshake in the request's own thread, so a stalled client cannot block accept().
        if self.tls_context is not None:
            request.settimeout(10)
            request = self.tls_context.wrap_socket(request, server_side=True)
        super().finish_request(request, client_address)


def make_certificate(directory: str):
    """A self-signed certificate for IP:127.0.0.1, valid two days, made with openssl."""
    cert = os.path.join(directory, "cert.pem")
    key = os.path.join(directory, "key.pem")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=30)
    return cert, key


def watch_parent(parent: int, deadline: float):
    while True:
        if os.getppid() != parent or time.time() > deadline:
            os._exit(0)
        time.sleep(0.25)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--state", required=True, help="state directory (ready.json, requests.jsonl, controls)")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free port)")
    parser.add_argument("--tls", action="store_true", help="HTTPS with a fresh self-signed certificate")
    parser.add_argument("--identity-header", default="standin-identity-header")
    parser.add_argument("--mi-error", default="", help="STATUS:MESSAGE answered by the managed-identity endpoint")
    parser.add_argument("--token-lifetime", type=int, default=3600)
    parser.add_argument("--device-code-lifetime", type=int, default=900)
    parser.add_argument("--poll-interval", type=int, default=1)
    parser.add_argument("--max-lifetime", type=float, default=600, help="exit after this many seconds regardless")
    args = parser.parse_args()

    os.makedirs(args.state, exist_ok=True)
    state = State(args)
    Handler.state = state
    server = Server(("127.0.0.1", args.port), Handler)
    port = server.server_address[1]
    ca_bundle = None
    scheme = "http"
    if args.tls:
        cert, key = make_certificate(args.state)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        server.tls_context = context
        ca_bundle = cert
        scheme = "https"
    state.base_url = "%s://127.0.0.1:%d" % (scheme, port)
    TrapHandler.state = state
    trap = Server(("127.0.0.1", 0), TrapHandler)
    threading.Thread(target=trap.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True).start()

    threading.Thread(target=watch_parent, args=(os.getppid(), time.time() + args.max_lifetime), daemon=True).start()
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    # A parent may spawn us with signals blocked (Foundation's Process passes its thread's mask on).
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT, signal.SIGHUP})

    ready = {"port": port, "pid": os.getpid(), "scheme": scheme, "base_url": state.base_url, "ca_bundle": ca_bundle,
             "trap_port": trap.server_address[1]}
    tmp = os.path.join(args.state, "ready.json.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(ready, f)
    os.replace(tmp, os.path.join(args.state, "ready.json"))
    server.serve_forever(poll_interval=0.2)


if __name__ == "__main__":
    sys.exit(main())
