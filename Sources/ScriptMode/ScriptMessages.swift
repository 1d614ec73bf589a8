import ChangeFeedClient
import TokenSource

/// Error texts for script mode: the UI's messages, with hints that name commands instead of keys.
public enum ScriptMessages {
    public static func hint(for error: TokenError) -> String {
        switch error {
        case .notLoggedIn, .interactionRequired:
            return "Sign in with `az login` (or `az login --use-device-code` without a browser), then run the command again."
        default:
            return error.hint
        }
    }

    public static func hint(for error: ChangeFeedError, token: TokenError?) -> String? {
        switch error {
        case .noToken:
            return token.map { hint(for: $0) } ?? "Check that `az account get-access-token` works in a shell."
        case .unauthorized:
            return "A fresh token was refused too: check that --resource is the service's audience, that --tenant is the "
                + "service's tenant, and that this identity may use the service (`dicomtui token` shows who you are)."
        default:
            return error.hint
        }
    }

    /// `message` then, on its own line, `hint`.
    public static func failure(_ error: ChangeFeedError, token: TokenError?) -> String {
        let message: String
        if case .noToken = error, let token { message = "no token: " + token.message } else { message = error.message }
        guard let hint = hint(for: error, token: token) else { return message }
        return message + "\n" + hint
    }
}
