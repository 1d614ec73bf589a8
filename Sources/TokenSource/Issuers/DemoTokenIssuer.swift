import FeedModel
import Foundation

/// The demo's ``TokenIssuer``: mints JWT-shaped demo tokens for the built-in emulator. They look like Entra ID
/// access tokens (header, payload with realistic claims, a random "signature") but are
/// not signed by anyone; the emulator checks only `aud` and `exp`. Each call mints a new one;
/// nothing is cached here (that is `TokenKeeper`'s job).
public struct DemoTokenIssuer: TokenIssuer {
    /// Who the demo tokens are for.
    public struct Identity: Sendable, Equatable {
        public var tenantId: String
        public var objectId: String
        public var userPrincipalName: String
        public var displayName: String
        public var subscriptionId: String
        public var subscriptionName: String

        public init(
            tenantId: String, objectId: String, userPrincipalName: String, displayName: String,
            subscriptionId: String, subscriptionName: String
        ) {
            self.tenantId = tenantId
            self.objectId = objectId
            self.userPrincipalName = userPrincipalName
            self.displayName = displayName
            self.subscriptionId = subscriptionId
            self.subscriptionName = subscriptionName
        }

        public static let demoUser = Identity(
            tenantId: "d1c0d1c0-7e4a-4c1b-9f00-000000000001",
            objectId: "d1c0d1c0-7e4a-4c1b-9f00-0000000000a1",
            userPrincipalName: "demo.user@contoso.example",
            displayName: "Demo User",
            subscriptionId: "d1c0d1c0-7e4a-4c1b-9f00-00000000005b",
            subscriptionName: "Demo Subscription")
    }

    /// The Azure CLI's public client id, as real az-issued tokens carry it in `appid`.
    static let azureCLIClientId = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"

    public let resource: String
    public let lifetime: TimeInterval
    public let identity: Identity
    private let now: @Sendable () -> Date

    /// - Parameters:
    ///   - resource: becomes the `aud` claim.
    ///   - lifetime: seconds from minting to `exp` (default one hour).
    ///   - now: the clock (injectable for tests and for demoing expiry).
    public init(
        resource: String = DicomService.audience,
        lifetime: TimeInterval = 60 * 60,
        identity: Identity = .demoUser,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.resource = resource
        self.lifetime = lifetime
        self.identity = identity
        self.now = now
    }

    /// A new token, issued now. Never fails.
    public func token() async -> AccessToken {
        Self.mint(resource: resource, identity: identity, issuedAt: now(), lifetime: lifetime)
    }

    public func account() -> AccountInfo? {
        AccountInfo(
            userName: identity.userPrincipalName, userType: "user", tenantId: identity.tenantId,
            tenantDisplayName: "Contoso (demo)", tenantDefaultDomain: "contoso.example",
            homeTenantId: identity.tenantId, subscriptionId: identity.subscriptionId,
            subscriptionName: identity.subscriptionName, state: "Enabled", environmentName: "Demo")
    }

    public var description: String {
        "Demo token for \(identity.userPrincipalName) (unsigned, built-in emulator only)"
    }

    /// Builds one demo token: `base64url(header).base64url(payload).base64url(random 256 bytes)`.
    public static func mint(
        resource: String, identity: Identity = .demoUser, issuedAt: Date, lifetime: TimeInterval
    ) -> AccessToken {
        let iat = Int(issuedAt.timeIntervalSince1970.rounded(.down))
        let exp = iat + Int(lifetime.rounded())
        let header = Header(alg: "RS256", typ: "JWT", kid: "dicomtui-demo")
        let payload = Payload(
            aud: resource, iss: "https://sts.windows.net/\(identity.tenantId)/",
            iat: iat, nbf: iat, exp: exp,
            tid: identity.tenantId, oid: identity.objectId, upn: identity.userPrincipalName,
            unique_name: identity.userPrincipalName, name: identity.displayName,
            scp: "user_impersonation", appid: azureCLIClientId, idtyp: "user", ver: "1.0")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding these plain structs cannot fail.
        let headerData = (try? encoder.encode(header)) ?? Data()
        let payloadData = (try? encoder.encode(payload)) ?? Data()
        var generator = SystemRandomNumberGenerator()
        let signature = Data((0..<256).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
        let raw = [headerData, payloadData, signature].map(Base64URL.encode).joined(separator: ".")
        return AccessToken(
            raw, expiresOn: Date(timeIntervalSince1970: TimeInterval(exp)), expirySource: .explicit,
            tenant: identity.tenantId, subscription: identity.subscriptionId)
    }

    private struct Header: Encodable {
        var alg: String
        var typ: String
        var kid: String
    }

    private struct Payload: Encodable {
        var aud: String
        var iss: String
        var iat: Int
        var nbf: Int
        var exp: Int
        var tid: String
        var oid: String
        var upn: String
        var unique_name: String
        var name: String
        var scp: String
        var appid: String
        var idtyp: String
        var ver: String
    }
}

extension DemoTokenIssuer: SignInCapable {
    /// A simulated device-code sign-in: shows a code, "signs in" after `demoSignInDelay`.
    public func signInWithDeviceCode(onPrompt: @escaping @Sendable (DeviceCodePrompt) -> Void) async throws(TokenError) {
        let url = "https://microsoft.com/devicelogin"
        let code = "DEMO" + String(Int.random(in: 1000...9999))
        onPrompt(DeviceCodePrompt(url: url, code: code,
                                  message: "To sign in, use a web browser to open the page \(url) and enter the code \(code) to authenticate. (Demo: this signs in by itself.)"))
        do {
            try await Task.sleep(for: Self.demoSignInDelay)
        } catch {
            throw .cancelled
        }
    }

    public func interactiveSignInCommand() throws(TokenError) -> (path: String, arguments: [String]) {
        throw .launchFailed(path: "az", reason: "the demo has no Azure CLI to hand the terminal to; press l for the simulated device-code sign-in")
    }

    /// How long the simulated sign-in takes.
    public static let demoSignInDelay: Duration = .seconds(4)
}
