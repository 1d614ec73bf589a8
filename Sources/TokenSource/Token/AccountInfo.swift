import Foundation

/// The signed-in account, from `az account show --output json`.
public struct AccountInfo: Sendable, Equatable {
    /// `user.name`: a user principal name, an app id, or e.g. `systemAssignedIdentity`.
    public var userName: String?
    /// `user.type`: `user` or `servicePrincipal`.
    public var userType: String?
    public var tenantId: String?
    public var tenantDisplayName: String?
    public var tenantDefaultDomain: String?
    public var homeTenantId: String?
    /// Subscription id (`id`).
    public var subscriptionId: String?
    /// Subscription name (`name`).
    public var subscriptionName: String?
    /// `state`, e.g. `Enabled`.
    public var state: String?
    /// `environmentName`, e.g. `AzureCloud`.
    public var environmentName: String?

    public init(
        userName: String? = nil, userType: String? = nil, tenantId: String? = nil,
        tenantDisplayName: String? = nil, tenantDefaultDomain: String? = nil, homeTenantId: String? = nil,
        subscriptionId: String? = nil, subscriptionName: String? = nil, state: String? = nil,
        environmentName: String? = nil
    ) {
        self.userName = userName
        self.userType = userType
        self.tenantId = tenantId
        self.tenantDisplayName = tenantDisplayName
        self.tenantDefaultDomain = tenantDefaultDomain
        self.homeTenantId = homeTenantId
        self.subscriptionId = subscriptionId
        self.subscriptionName = subscriptionName
        self.state = state
        self.environmentName = environmentName
    }

    /// One line for the header: `someone@contoso.example (user) · Test Subscription · AzureCloud`.
    public var summary: String {
        var parts: [String] = []
        if let userName {
            parts.append(userType.map { "\(userName) (\($0))" } ?? userName)
        }
        if let sub = subscriptionName ?? subscriptionId { parts.append(sub) }
        if let tenant = tenantDisplayName ?? tenantDefaultDomain ?? tenantId { parts.append("tenant \(tenant)") }
        if let environmentName { parts.append(environmentName) }
        return parts.isEmpty ? "unknown account" : parts.joined(separator: " · ")
    }
}
