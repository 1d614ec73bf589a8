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
        }
    }

    /// What the user can do about it.
    public var hint: String {
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
        }
    }

    /// True when signing in (`l`) would fix it.
    public var needsLogin: Bool {
        switch self {
        case .notLoggedIn, .interactionRequired: return true
        default: return false
        }
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
