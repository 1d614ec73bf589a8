import FeedModel
import Foundation

/// Whether a token fits the service, from its claims: the audience (`aud`) and the tenant
/// (`tid`). The one place that compares them, for `dicomtui token` and for explaining a 401.
public enum Audience {
    /// Same audience: scheme and host case-insensitive, a trailing slash ignored.
    public static func same(_ a: String, _ b: String) -> Bool {
        normalized(a) == normalized(b)
    }

    /// An audience of the DICOM service: `https://dicom.healthcareapis.azure.com` and its
    /// sovereign-cloud siblings (`…azure.us`, `…azure.cn`).
    public static func isDicom(_ audience: String) -> Bool {
        guard let host = URLComponents(string: audience.trimmingCharacters(in: .whitespaces))?.host?.lowercased() else { return false }
        return host.hasPrefix("dicom.healthcareapis.")
    }

    /// The audience a DICOM service wants, given the configured `--resource`: that resource when
    /// it is a DICOM audience, else the documented one (a `--resource` naming another Azure API,
    /// such as `https://management.azure.com`, is the mistake to report).
    public static func expected(forResource resource: String) -> String {
        isDicom(resource) ? resource : DicomService.audience
    }

    /// Why a token with `claims` cannot be used for a service that wants `expected` (the
    /// audience) and, when known, `tenant`: nil when the claims show no problem, or the token
    /// is not a readable JWT (then only the service can tell).
    public static func problem(claims: TokenClaims?, expected: String, tenant: String? = nil) -> TokenError? {
        guard let claims else { return nil }
        if !claims.audiences.isEmpty, !claims.audiences.contains(where: { same($0, expected) }) {
            return .wrongAudience(audience: claims.aud ?? "", expected: expected)
        }
        if let tenant, !tenant.isEmpty, let tid = claims.tid, tid.lowercased() != tenant.lowercased() {
            return .wrongTenant(tenant: tid, expected: tenant)
        }
        return nil
    }

    /// The tenant in an authority URL (`https://login.microsoftonline.com/<tenant>[/…]`), as a
    /// 401 challenge's `authorization_uri` names it.
    public static func tenant(inAuthority authority: String) -> String? {
        guard let url = URLComponents(string: authority) else { return nil }
        let parts = url.path.split(separator: "/").map(String.init)
        guard let first = parts.first, !first.isEmpty else { return nil }
        // Not a tenant: the multi-tenant aliases.
        if ["common", "organizations", "consumers"].contains(first.lowercased()) { return nil }
        return first
    }

    static func normalized(_ s: String) -> String {
        var t = s.trimmingCharacters(in: .whitespaces).lowercased()
        while t.hasSuffix("/") { t.removeLast() }
        return t
    }
}
