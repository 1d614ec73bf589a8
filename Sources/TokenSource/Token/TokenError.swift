import FeedModel
import Foundation

/// Why no token could be had. Every case has a user-facing ``message`` and an actionable
/// ``hint``; neither ever contains a token. Text copied from az's stderr is kept as az
/// wrote it (trimmed); sanitizing it for the terminal happens when it is drawn.
public enum TokenError: Error, Sendable, Equatable {
    /// No az executable. `searched` says where we looked (e.g. `az on PATH`, or a path from `--az`).
    case azNotFound(searched: String)
    /// The az path exists but cannot be executed.
    case azNotExecutable(path: String)
    /// az could not be started for another reason (bad interpreter line, ...).
    case launchFailed(path: String, reason: String)
    /// az says nobody is signed in.
    /// `azMessage` is az's own error text, e.g. `ERROR: Please run 'az login' to setup account.`
    case notLoggedIn(azMessage: String)
    /// Sign-in must be repeated interactively (expired refresh token, MFA, Conditional Access).
    /// `aadMessage` is az's error text, e.g. the `AADSTS700082: ...` line.
    case interactionRequired(aadMessage: String)
    /// The managed-identity endpoint answered an error (az words it `ERROR: 400, <text>` and
    /// suggests `az login`, but no sign-in fixes a managed identity's problem).
    case identityEndpointError(message: String)
    /// az did not finish in time; it was terminated.
    case timedOut(seconds: Double)
    /// az succeeded but printed something other than the expected JSON.
    case badOutput(reason: String)
    /// az failed; `stderrSummary` is its own error text, shortened.
    case failed(exitCode: Int32, stderrSummary: String)
    /// The request was cancelled by the app; az was terminated.
    case cancelled
    /// az answered with a token that has expired, or expires too soon to send (`secondsLeft`
    /// is negative once expired). az keeps handing it out from its cache; no request is sent with it.
    case staleToken(secondsLeft: Int)
    /// The token is for another audience than the DICOM service (`aud` claim), so the service
    /// refuses it (401). `expected` is the audience the service wants.
    case wrongAudience(audience: String, expected: String)
    /// The token was issued by another tenant than the service's (`tid` claim).
    case wrongTenant(tenant: String, expected: String)

    /// One or two sentences for the status line / error panel.
    public var message: String {
        switch self {
        case .azNotFound(let searched):
            return "The Azure CLI (az) was not found (looked for \(searched))."
        case .azNotExecutable(let path):
            return "The Azure CLI at \(path) is not an executable file."
        case .launchFailed(let path, let reason):
            return "Could not start the Azure CLI at \(path): \(reason)."
        case .notLoggedIn(let azMessage):
            return "The Azure CLI is not signed in: \(azMessage)"
        case .interactionRequired(let aadMessage):
            return "Azure sign-in needs to be renewed interactively: \(aadMessage)"
        case .identityEndpointError(let text):
            return "The managed identity endpoint refused a token: \(text)"
        case .timedOut(let seconds):
            return "The Azure CLI did not answer within \(Self.formatSeconds(seconds)); it was stopped."
        case .badOutput(let reason):
            return "The Azure CLI printed an unexpected answer: \(reason)."
        case .failed(let exitCode, let summary):
            return summary.isEmpty
                ? "The Azure CLI failed (exit status \(exitCode))."
                : "The Azure CLI failed (exit status \(exitCode)): \(summary)"
        case .cancelled:
            return "Getting a token was cancelled."
        case .staleToken(let left):
            return left <= 0
                ? "The Azure CLI returned a token that expired \(Self.formatDuration(-left)) ago; it was not used."
                : "The Azure CLI returned a token that expires in \(Self.formatDuration(left)), too soon to use."
        case .wrongAudience(let audience, let expected):
            return "The token is for \(audience), not for the DICOM service (\(expected)), so the service refuses it."
        case .wrongTenant(let tenant, let expected):
            return "The token comes from tenant \(tenant), but the service belongs to tenant \(expected)."
        }
    }

    /// Where advice is read: in the UI (name the keys) or in a shell (name the commands).
    public enum Advice: Sendable { case keys, shell }

    /// What the user can do about it, in the UI.
    public var hint: String { hint(.keys) }

    /// What the user can do about it: in the UI, or as shell advice for script mode.
    public func hint(_ advice: Advice) -> String {
        switch (self, advice) {
        case (.notLoggedIn, .shell), (.interactionRequired, .shell):
            return "Sign in with `az login` (or `az login --use-device-code` without a browser), then run the command again."
        case (.identityEndpointError, .shell):
            return "Check that this host has a managed identity assigned and that it may get tokens for the DICOM service "
                + "(--resource); or sign in as a user with `az login`."
        case (.staleToken, .keys):
            return "az keeps a stale token in its cache: run `az logout` and sign in again (l or L here). "
                + "dicomtui asks az again after 30 s, then 1, 2 and 5 minutes."
        case (.staleToken, .shell):
            return "az keeps a stale token in its cache: run `az logout`, then `az login`, and try again."
        case (.wrongAudience(_, let expected), _):
            return "Get a token for the DICOM service: --resource \(expected)"
                + (expected == DicomService.audience ? " (the default; drop --resource or fix the profile's resource)." : ".")
        case (.wrongTenant(_, let expected), .keys):
            return "Pass --tenant \(expected) (or set the profile's tenant), or sign in to that tenant (`az login --tenant \(expected)`)."
        case (.wrongTenant(_, let expected), .shell):
            return "Pass --tenant \(expected), or sign in to that tenant with `az login --tenant \(expected)`."
        default:
            return uiHint
        }
    }

    private var uiHint: String {
        switch self {
        case .azNotFound:
            return "Install the Azure CLI (https://learn.microsoft.com/cli/azure/install-azure-cli, "
                + "or `pip install azure-cli`), then put `az` on PATH, "
                + "or pass its path with --az /path/to/az or DICOMTUI_AZ=/path/to/az. "
                + "Use --demo to try dicomtui without Azure."
        case .azNotExecutable(let path):
            return "Check the path given with --az or DICOMTUI_AZ, or make it executable (chmod +x \(path))."
        case .launchFailed:
            return "Check that this file is the Azure CLI and that it runs from a shell (`az version`)."
        case .notLoggedIn:
            return "Press l to sign in with a device code (az login --use-device-code), or L to run az login here."
        case .interactionRequired:
            return "Press l to sign in again with a device code, or L to run az login here."
        case .identityEndpointError:
            return "Check that this host has a managed identity assigned and that it may get tokens for the DICOM service "
                + "(--resource); or sign in as a user instead with l (device code) or L (az login)."
        case .timedOut:
            return "Check the network and run `az account get-access-token` in a shell to see what it waits for."
        case .badOutput:
            return "Check that `az account get-access-token --output json` works in a shell; "
                + "your az may be too old or wrapped by another script."
        case .failed:
            return "Run `az account get-access-token` in a shell for the full error."
        case .cancelled:
            return "Try again."
        case .staleToken, .wrongAudience, .wrongTenant:
            return hint(.keys)
        }
    }

    /// True when signing in (`l`) would fix it.
    public var needsLogin: Bool {
        switch self {
        case .notLoggedIn, .interactionRequired, .staleToken, .wrongTenant: return true
        default: return false
        }
    }

    /// `45 s`, `2 min`, `3 h`: how token messages say a duration.
    public static func formatDuration(_ seconds: Int) -> String {
        if seconds < 120 { return "\(seconds) s" }
        if seconds < 7200 { return "\(seconds / 60) min" }
        return "\(seconds / 3600) h"
    }

    static func formatSeconds(_ seconds: Double) -> String {
        if seconds == seconds.rounded() { return "\(Int(seconds)) s" }
        return String(format: "%.1f s", seconds)
    }
}

extension TokenError: CustomStringConvertible, LocalizedError {
    public var description: String { message }
    public var errorDescription: String? { message }
    public var recoverySuggestion: String? { hint }
}
