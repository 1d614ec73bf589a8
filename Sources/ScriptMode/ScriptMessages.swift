import ChangeFeedClient
import TokenSource

/// Error texts for script mode: the UI's messages, with hints that name commands instead of keys.
public enum ScriptMessages {
    public static func hint(for error: TokenError) -> String { error.hint(.shell) }

    public static func hint(for error: ChangeFeedError, token: TokenError?) -> String? {
        switch error {
        case .noToken:
            return token.map { hint(for: $0) } ?? "Check that `az account get-access-token` works in a shell."
        case .gaveUp(_, _, let last):
            return (hint(for: last, token: token).map { $0 + " " } ?? "")
                + "A run that is not following gives up after --give-up-after (default 2m; 0: never)."
        case .network:
            return "Check the network and the service URL (--url)."
        case .unauthorized:
            return "A fresh token was refused too: check that --resource is the service's audience, that --tenant is the "
                + "service's tenant, and that this identity may use the service (`dicomtui token` shows who you are)."
        default:
            return error.hint
        }
    }

    /// `message` then, on its own line, `hint`. `token`: why no token could be had, or (with a
    /// 401) why the service refused it.
    public static func failure(_ error: ChangeFeedError, token: TokenError?) -> String {
        let message: String
        switch (error, token) {
        case (.noToken, let token?): message = "no token: " + token.message
        case (.unauthorized, let why?): return "401 Unauthorized: " + why.message + "\n" + why.hint(.shell)
        default: message = error.message
        }
        guard let hint = hint(for: error, token: token) else { return message }
        return message + "\n" + hint
    }
}
