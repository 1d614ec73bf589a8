/// Facts of the DICOM service every layer shares, written once.
public enum DicomService {
    /// The audience (`aud`) of the service's tokens, and the resource they are asked for:
    /// `az account get-access-token --resource=https://dicom.healthcareapis.azure.com`.
    public static let audience = "https://dicom.healthcareapis.azure.com"
}

/// When a token counts as expiring, for the layers that keep or show it (the token keeper, the
/// core's header). A run's value comes from `Settings.refreshBefore` (`--refresh-before`).
public enum TokenTiming {
    /// Seconds: a token with less time left is replaced.
    public static let defaultRefreshBefore: Double = 300
}
