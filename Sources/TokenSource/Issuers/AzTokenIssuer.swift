import FeedModel
import Foundation

/// The az ``TokenIssuer``: tokens from the Azure CLI. Each call runs `az account get-access-token` once, parses its
/// answer and returns it. Nothing is cached here: `TokenKeeper` (Authorization) decides when
/// to ask, and shares one call among concurrent callers.
public struct AzTokenIssuer: TokenIssuer {
    public let cli: AzCLI
    public let resource: String
    public let tenant: String?

    public init(
        resource: String = DicomService.audience,
        tenant: String? = nil,
        cli: AzCLI = AzCLI()
    ) {
        self.cli = cli
        self.resource = resource
        self.tenant = tenant
    }

    public func token() async throws(TokenError) -> AccessToken {
        try await cli.getAccessToken(resource: resource, tenant: tenant)
    }

    public func account() async throws(TokenError) -> AccountInfo? {
        try await cli.accountShow()
    }

    public var description: String {
        var text = "Azure CLI token for \(resource)"
        if let tenant { text += " (tenant \(tenant))" }
        return text
    }
}
