/// Facts of the DICOM service every layer shares.
public enum DicomService {
    /// The audience (`aud`) of the service's tokens, and the resource they are asked for:
    /// `az account get-access-token --resource=https://dicom.healthcareapis.azure.com`.
    public static let audience = "https://dicom.healthcareapis.azure.com"
}
